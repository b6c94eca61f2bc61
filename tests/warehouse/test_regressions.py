"""marts.regressions flags only what got materially and significantly worse (exact test)."""

from __future__ import annotations

import math
from datetime import timedelta
from fractions import Fraction

import duckdb
import pytest

from tests.helpers import REGRESSION_NOW as NOW
from tests.helpers import job_bodies, load, loaded
from warehouse import refresh_marts
from warehouse.what_changed import (
    METRICS,
    RegressionSettings,
    describe_change,
    flagged,
    what_changed,
)


def exact_midp(x_c: int, n_c: int, x_b: int, n_b: int, weight: Fraction = Fraction(1, 2)) -> float:
    """Fisher's one-sided mid-p (or, with weight 1, p-value) in exact rational arithmetic."""
    total, hits = n_c + n_b, x_c + x_b

    def pmf(k: int) -> Fraction:
        return Fraction(math.comb(hits, k) * math.comb(total - hits, n_c - k),
                        math.comb(total, n_c))

    upper = sum((pmf(k) for k in range(x_c + 1, min(hits, n_c) + 1)), Fraction(0))
    return float(upper + pmf(x_c) * weight)


@pytest.mark.parametrize(("x_c", "n_c", "x_b", "n_b"), [
    (3, 4, 1, 4), (0, 10, 0, 20), (3, 10, 1, 20), (10, 10, 0, 10), (5, 50, 10, 300),
    (12, 60, 20, 840), (0, 40, 12, 400), (60, 1000, 400, 14000), (30, 200, 2, 2800),
])
def test_fisher_macro_matches_exact_arithmetic(con: duckdb.DuckDBPyConnection, x_c, n_c, x_b,
                                              n_b) -> None:
    got = con.execute("SELECT fisher_greater_midp(?, ?, ?, ?), fisher_greater(?, ?, ?, ?, 1.0)",
                      [x_c, n_c, x_b, n_b] * 2).fetchone()
    assert got[0] == pytest.approx(exact_midp(x_c, n_c, x_b, n_b), rel=1e-9, abs=1e-300)
    assert got[1] == pytest.approx(exact_midp(x_c, n_c, x_b, n_b, Fraction(1)), rel=1e-9,
                                   abs=1e-300)


def test_fisher_macro_known_values(con: duckdb.DuckDBPyConnection) -> None:
    # Fisher's lady tasting tea, 3 of 4 right: exact one-sided p = 17/70, mid-p = 9/70.
    assert con.execute("SELECT fisher_greater_midp(3, 4, 1, 4)").fetchone()[0] == pytest.approx(
        9 / 70, rel=1e-12)
    assert con.execute("SELECT fisher_greater(3, 4, 1, 4, 1.0)").fetchone()[0] == pytest.approx(
        17 / 70, rel=1e-12)
    # Nothing happened anywhere: no evidence either way.
    assert con.execute("SELECT fisher_greater_midp(0, 10, 0, 20)").fetchone()[0] == 0.5
    # An empty side has no test.
    assert con.execute("SELECT fisher_greater_midp(0, 0, 3, 20)").fetchone()[0] is None


@pytest.fixture
def scenario(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    window = NOW - timedelta(hours=24)
    baseline = window - timedelta(days=14)
    jobs = [
        # compare: 5% failed for two weeks, 25% in the last day -> a failure regression.
        *job_bodies("compare", 400, start=baseline, span=timedelta(days=14), failed_every=20),
        *job_bodies("compare", 80, start=window, span=timedelta(hours=23), failed_every=4),
        # parse: 5% failed before and after -> nothing.
        *job_bodies("parse", 400, start=baseline, span=timedelta(days=14), failed_every=20),
        *job_bodies("parse", 80, start=window, span=timedelta(hours=23), failed_every=20),
        # overlay.generate: running 10-16 s, then 30-36 s -> running and total p95 worse.
        *job_bodies("overlay.generate", 300, start=baseline, span=timedelta(days=14)),
        *job_bodies("overlay.generate", 60, start=window, span=timedelta(hours=23), running=30.0),
        # legend_parse: re-queued 1 in 50, then 1 in 4 -> re-queue share worse.
        *job_bodies("legend_parse", 300, start=baseline, span=timedelta(days=14),
                    requeued_every=50),
        *job_bodies("legend_parse", 60, start=window, span=timedelta(hours=23), requeued_every=4),
        # symbol_match: every job of the last day failed, but only 10 of them (too few).
        *job_bodies("symbol_match", 300, start=baseline, span=timedelta(days=14)),
        *job_bodies("symbol_match", 10, start=window, span=timedelta(hours=23), failed_every=1),
        # extract: a baseline, nothing in the last day.
        *job_bodies("extract", 200, start=baseline, span=timedelta(days=14)),
        # stitch: every job of the last day failed, 80 of them, but only 50 in the baseline.
        *job_bodies("stitch", 50, start=baseline, span=timedelta(days=14)),
        *job_bodies("stitch", 80, start=window, span=timedelta(hours=23), failed_every=1),
        # Older than the baseline and newer than now: outside both windows.
        *job_bodies("block_preprocess", 200, start=baseline - timedelta(days=3),
               span=timedelta(days=2), failed_every=1),
        *job_bodies("parse", 50, start=NOW + timedelta(minutes=1), span=timedelta(hours=1),
               failed_every=1),
    ]
    load(con, [loaded(j["id"], j, wrap=True) for j in jobs])
    refresh_marts(con, now=NOW)
    return con


def _flagged(con: duckdb.DuckDBPyConnection) -> set[tuple[str, str]]:
    return {(r["job_type"], r["metric"]) for r in flagged(con)}


def test_flags_exactly_what_got_worse(scenario: duckdb.DuckDBPyConnection) -> None:
    assert _flagged(scenario) == {
        ("compare", "failure_rate"),
        ("overlay.generate", "running_p95_seconds"),
        ("overlay.generate", "total_p95_seconds"),
        ("legend_parse", "requeue_share"),
    }


def test_row_figures_and_windows(scenario: duckdb.DuckDBPyConnection) -> None:
    row = scenario.execute(
        "SELECT window_start, window_end, baseline_start, baseline_n, current_n, baseline_hits,"
        " current_hits, baseline_value, current_value, ratio, p_value FROM marts.regressions"
        " WHERE job_type = 'compare' AND metric = 'failure_rate'").fetchone()
    assert row[:3] == (NOW - timedelta(hours=24), NOW, NOW - timedelta(days=15))
    assert row[3:7] == (400, 80, 20, 20)
    assert row[7] == pytest.approx(0.05) and row[8] == pytest.approx(0.25)
    assert row[9] == pytest.approx(5.0)
    # The exact test's p-value by default; the mid-p when asked.
    assert row[10] == pytest.approx(exact_midp(20, 80, 20, 400, Fraction(1)), rel=1e-9)
    assert row[10] < 1e-6
    refresh_marts(scenario, now=NOW, regression_settings=RegressionSettings(mid_p=True))
    mid = scenario.execute("SELECT p_value FROM marts.regressions WHERE job_type = 'compare'"
                           " AND metric = 'failure_rate'").fetchone()[0]
    assert mid == pytest.approx(exact_midp(20, 80, 20, 400), rel=1e-9) and mid < row[10]
    # Jobs outside both windows count nowhere.
    assert scenario.execute("SELECT count(*) FROM marts.regressions"
                            " WHERE job_type = 'block_preprocess'").fetchone()[0] == 0
    parse = scenario.execute("SELECT current_n, is_regression FROM marts.regressions"
                             " WHERE job_type = 'parse' AND metric = 'failure_rate'").fetchone()
    assert parse == (80, False)
    # Every type gets every metric it has data for, flagged or not.
    assert {r[0] for r in scenario.execute("SELECT metric FROM marts.regressions"
                                           " WHERE job_type = 'compare'").fetchall()} == set(
        METRICS)


def test_small_types_do_not_alarm_until_the_minimum_is_lowered(
        scenario: duckdb.DuckDBPyConnection) -> None:
    row = scenario.execute("SELECT current_n, current_value, p_value, is_regression"
                           " FROM marts.regressions WHERE job_type = 'symbol_match'"
                           " AND metric = 'failure_rate'").fetchone()
    assert row[0] == 10 and row[1] == 1.0 and row[2] < 0.01 and row[3] is False
    refresh_marts(scenario, now=NOW, regression_settings=RegressionSettings(min_current_n=10))
    assert ("symbol_match", "failure_rate") in _flagged(scenario)


def test_thresholds_and_windows_are_settings(scenario: duckdb.DuckDBPyConnection) -> None:
    # A 5x failure rate is not material when 6x is asked for.
    refresh_marts(scenario, now=NOW, regression_settings=RegressionSettings(rate_min_ratio=6.0))
    assert ("compare", "failure_rate") not in _flagged(scenario)
    # A window of the last 2 hours holds too few jobs for anything.
    refresh_marts(scenario, now=NOW, regression_settings=RegressionSettings(window_hours=2))
    assert _flagged(scenario) == set()
    # A day later the bad day is baseline; the window holds only the 50 failed parse jobs
    # that were in the future before.
    refresh_marts(scenario, now=NOW + timedelta(days=1))
    assert _flagged(scenario) == {("parse", "failure_rate")}


def test_describe_reads_like_an_alert(scenario: duckdb.DuckDBPyConnection) -> None:
    row = next(r for r in flagged(scenario) if r["metric"] == "failure_rate")
    assert describe_change(row).startswith("compare failure_rate: 5.0% → 25.0% (n 400 → 80, p=")
    assert describe_change(row).endswith("; baseline: 14.0 days of data) — new")


def _verdicts(con: duckdb.DuckDBPyConnection, metric: str = "failure_rate") -> dict[str, str]:
    return dict(con.execute("SELECT job_type, verdict FROM marts.regressions WHERE metric = ?",
                            [metric]).fetchall())


def test_every_row_has_its_verdict(scenario: duckdb.DuckDBPyConnection) -> None:
    assert _verdicts(scenario) == {
        "compare": "regression",  # 5% -> 25%, 80 jobs against 400
        "parse": "within noise",  # 5% before and after, enough jobs on both sides
        "overlay.generate": "within noise",
        "legend_parse": "within noise",  # its re-queue share is what got worse
        "symbol_match": "too few jobs",  # 10 jobs in the window (30 needed)
        "stitch": "too few jobs",  # 50 jobs in the baseline (100 needed)
        "extract": "no current data",  # no job in the window
    }
    assert _verdicts(scenario, "requeue_share")["legend_parse"] == "regression"
    # The verdict follows the settings' minimums.
    refresh_marts(scenario, now=NOW, regression_settings=RegressionSettings(min_baseline_n=50))
    assert _verdicts(scenario)["stitch"] == "regression"
    assert scenario.execute("SELECT DISTINCT verdict FROM marts.regressions WHERE is_regression"
                            ).fetchall() == [("regression",)]


def test_baseline_days_count_only_the_days_with_data(con: duckdb.DuckDBPyConnection) -> None:
    # The warehouse holds 6 of the 14 days of baseline: the figures say so.
    window = NOW - timedelta(hours=24)
    jobs = [*job_bodies("compare", 300, start=window - timedelta(days=6), span=timedelta(days=6),
                        failed_every=20),
            *job_bodies("compare", 80, start=window, span=timedelta(hours=23), failed_every=4),
            *job_bodies("parse", 40, start=window, span=timedelta(hours=23))]
    load(con, [loaded(j["id"], j, wrap=True) for j in jobs])
    refresh_marts(con, now=NOW)
    rows = con.execute("SELECT DISTINCT job_type, baseline_start, baseline_start_actual,"
                       " baseline_days_actual, verdict FROM marts.regressions"
                       " WHERE metric = 'failure_rate' ORDER BY job_type").fetchall()
    assert rows == [
        ("compare", NOW - timedelta(days=15), window - timedelta(days=6), 6.0, "regression"),
        ("parse", NOW - timedelta(days=15), None, 0.0, "too few jobs"),  # no baseline data
    ]
    lines = what_changed(con)
    assert lines[0] == ("what changed (jobs created 2026-02-28 00:00 – 2026-03-01 00:00 UTC "
                        "against the jobs before it; baseline: 6.0 days of data, of 14 "
                        "configured):")
    assert lines[1].startswith("  compare failure_rate: 5.0% → 25.0% ")
    assert "; baseline: 6.0 days of data) — new" in lines[1]


def test_defaults_flag_only_below_alpha_and_above_the_minimums(
        con: duckdb.DuckDBPyConnection) -> None:
    """The default settings, by behaviour: each case sits on one side of one default."""
    window, baseline = NOW - timedelta(hours=24), NOW - timedelta(days=15)

    def case(job_type: str, baseline_n: int, current_n: int, current_failed_every: int) -> list:
        return [*job_bodies(job_type, baseline_n, start=baseline, span=timedelta(days=14),
                            failed_every=20),
                *job_bodies(job_type, current_n, start=window, span=timedelta(hours=23),
                            failed_every=current_failed_every)]

    jobs = [*case("alpha_0.036", 400, 80, 9),  # 5% -> 11.25% (9 of 80): p = 0.036
            *case("alpha_0.016", 400, 80, 8),  # 10 of 80: p = 0.016
            *case("alpha_0.003", 400, 80, 7),  # 12 of 80: p = 0.0027
            *case("current_29", 400, 29, 2), *case("current_30", 400, 30, 2),
            *case("baseline_99", 99, 80, 2), *case("baseline_100", 100, 80, 2)]
    load(con, [loaded(j["id"], j, wrap=True) for j in jobs])
    refresh_marts(con, now=NOW)
    p_values = dict(con.execute("SELECT job_type, p_value FROM marts.regressions"
                                " WHERE metric = 'failure_rate'").fetchall())
    assert 0.01 < p_values["alpha_0.036"] < 0.05 and 0.01 < p_values["alpha_0.016"] < 0.05
    assert _verdicts(con) == {
        "alpha_0.036": "within noise", "alpha_0.016": "within noise",
        "alpha_0.003": "regression",
        "current_29": "too few jobs", "current_30": "regression",
        "baseline_99": "too few jobs", "baseline_100": "regression",
    }
    refresh_marts(con, now=NOW, regression_settings=RegressionSettings(alpha=0.05))
    assert _verdicts(con)["alpha_0.036"] == "regression"
