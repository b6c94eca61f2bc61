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
from warehouse.what_changed import METRICS, RegressionSettings, describe_change, flagged


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
