"""A flag remembers since when it stands: new at the refresh that raises it, continued while a
refresh inside the window had raised it, new again a window later; a backdated refresh never
rewrites what later refreshes recorded, and a rolled-back refresh records nothing."""

from __future__ import annotations

from datetime import datetime, timedelta

import duckdb
import pytest

import warehouse.transform as transform
from tests.helpers import REGRESSION_NOW as NOW
from tests.helpers import job_bodies, load, loaded, table
from warehouse import LATEST_VERSION, connect, refresh_marts, schema_version
from warehouse.db import migrations, sql
from warehouse.what_changed import RegressionSettings, what_changed

KEY = ("compare", "failure_rate")


@pytest.fixture
def bad_days(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """compare fails 5% of the time for two weeks, then 25% on the day before NOW, and
    again on the day that ends two days after NOW."""
    window, baseline = NOW - timedelta(hours=24), NOW - timedelta(days=15)
    jobs = [*job_bodies("compare", 400, start=baseline, span=timedelta(days=14), failed_every=20),
            *job_bodies("compare", 80, start=window, span=timedelta(hours=23), failed_every=4),
            *job_bodies("compare", 80, start=NOW + timedelta(days=1), span=timedelta(hours=23),
                        failed_every=4)]
    load(con, [loaded(j["id"], j, wrap=True) for j in jobs])
    return con


def _flag(con: duckdb.DuckDBPyConnection) -> tuple:
    """(is_regression, first_flagged_at, window_end) of compare's failure rate."""
    return con.execute("SELECT is_regression, first_flagged_at, window_end FROM marts.regressions"
                       " WHERE job_type = ? AND metric = ?", list(KEY)).fetchone()


def _recorded(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    return table(con, "ops.regression_flags", "job_type, metric")


def _at(when: datetime) -> RegressionSettings:
    return RegressionSettings(window_end=when)


def test_new_then_continued_then_new_a_window_later(bad_days: duckdb.DuckDBPyConnection) -> None:
    con = bad_days
    refresh_marts(con, now=NOW)
    assert _flag(con) == (True, NOW, NOW)  # new: first flagged by this refresh
    assert _recorded(con) == [(*KEY, NOW, NOW)]
    assert what_changed(con)[1].endswith(" — new")
    # Not flagged rows have no first_flagged_at.
    assert con.execute("SELECT count(*) FROM marts.regressions WHERE NOT is_regression"
                       " AND first_flagged_at IS NOT NULL").fetchone()[0] == 0

    # An hour later the same change is still flagged: it continues, since NOW.
    later = NOW + timedelta(hours=1)
    refresh_marts(con, now=later)
    assert _flag(con) == (True, NOW, later)
    assert _recorded(con) == [(*KEY, NOW, later)]
    assert what_changed(con)[1].endswith(" — flagged since 2026-03-01 00:00 UTC")
    # The same refresh again changes nothing (idempotent).
    refresh_marts(con, now=later)
    assert _flag(con) == (True, NOW, later) and _recorded(con) == [(*KEY, NOW, later)]

    # A day later the bad day is baseline: nothing flagged, the record is kept.
    refresh_marts(con, now=NOW + timedelta(days=1))
    assert _flag(con)[0] is False and _flag(con)[1] is None
    assert _recorded(con) == [(*KEY, NOW, later)]

    # Two days later the second bad day is flagged; the last flag (NOW + 1 h) lies before
    # this window, so it is a new run of flags.
    again = NOW + timedelta(days=2)
    refresh_marts(con, now=again)
    assert _flag(con) == (True, again, again)
    assert _recorded(con) == [(*KEY, again, again)]


def test_a_flag_lapsed_for_a_refresh_continues_within_the_window(
        bad_days: duckdb.DuckDBPyConnection) -> None:
    con = bad_days
    refresh_marts(con, now=NOW)
    # A refresh with stricter settings in between does not flag it ...
    refresh_marts(con, now=NOW + timedelta(hours=1),
                  regression_settings=RegressionSettings(rate_min_ratio=10.0))
    assert _flag(con)[0] is False
    # ... the next one does, and the flag raised at NOW still lies in its window.
    refresh_marts(con, now=NOW + timedelta(hours=2))
    assert _flag(con) == (True, NOW, NOW + timedelta(hours=2))


def test_a_backdated_refresh_does_not_rewrite_later_flags(
        bad_days: duckdb.DuckDBPyConnection) -> None:
    con = bad_days
    refresh_marts(con, now=NOW)
    refresh_marts(con, now=NOW + timedelta(hours=1))
    recorded = _recorded(con)
    assert recorded == [(*KEY, NOW, NOW + timedelta(hours=1))]
    # "What changed as of" two hours before NOW: the bad day is mostly in that window and
    # flagged, new as of then (the recorded run starts later) ...
    before = NOW - timedelta(hours=2)
    refresh_marts(con, now=NOW + timedelta(hours=1), regression_settings=_at(before))
    assert _flag(con) == (True, before, before)
    # ... and as of a month before, nothing is flagged. Neither touches the record.
    refresh_marts(con, now=NOW + timedelta(hours=1), regression_settings=_at(NOW - timedelta(
        days=30)))
    assert _recorded(con) == recorded
    # Back at now, the flag continues the run the backdated refreshes left alone.
    refresh_marts(con, now=NOW + timedelta(hours=3))
    assert _flag(con) == (True, NOW, NOW + timedelta(hours=3))
    # A backdated refresh inside the run sees the run too.
    refresh_marts(con, now=NOW + timedelta(hours=3),
                  regression_settings=_at(NOW + timedelta(hours=2)))
    assert _flag(con) == (True, NOW, NOW + timedelta(hours=2))
    assert _recorded(con) == [(*KEY, NOW, NOW + timedelta(hours=3))]


def test_a_failed_refresh_records_no_flag(bad_days: duckdb.DuckDBPyConnection,
                                          monkeypatch) -> None:
    con = bad_days

    def broken(connection: duckdb.DuckDBPyConnection) -> None:
        connection.execute("SELECT * FROM no_such_table")

    monkeypatch.setattr(transform, "record_flags", broken)
    with pytest.raises(duckdb.CatalogException):
        refresh_marts(con, now=NOW)
    assert _recorded(con) == []
    assert con.execute("SELECT count(*) FROM marts.regressions").fetchone()[0] == 0


def test_a_schema_10_warehouse_is_upgraded_and_read_before_its_next_refresh(wh_path) -> None:
    with connect(wh_path, migrate_to=10) as con:
        assert schema_version(con) == 10
        con.execute("INSERT INTO marts.regressions (job_type, metric, window_start, window_end,"
                    " baseline_start, baseline_n, current_n, baseline_value, current_value,"
                    " ratio, p_value, is_material, is_regression) VALUES ('compare',"
                    " 'failure_rate', ?, ?, ?, 400, 80, 0.05, 0.25, 5.0, 1e-7, true, true)",
                    [NOW - timedelta(hours=24), NOW, NOW - timedelta(days=15)])
    with connect(wh_path) as con:
        assert schema_version(con) == LATEST_VERSION
        assert _recorded(con) == []
        # The mart has the new columns, empty until the next refresh; readers say what they
        # can (no baseline days, no flag status) rather than guess.
        assert con.execute("SELECT verdict, baseline_days_actual, first_flagged_at"
                           " FROM marts.regressions").fetchall() == [(None, None, None)]
        assert what_changed(con) == [
            "what changed (jobs created 2026-02-28 00:00 – 2026-03-01 00:00 UTC against the "
            "14 days before):",
            "  compare failure_rate: 5.0% → 25.0% (n 400 → 80, p=1e-07)"]


def test_a_migration_numbered_below_the_latest_is_still_applied(wh_path) -> None:
    """Branches take migration numbers in parallel: 11 may have been applied before 10 landed."""
    with connect(wh_path, migrate_to=9) as con:
        con.execute(sql("schema", "011_regression_flags"))
        con.execute("INSERT INTO ops.schema_version VALUES (11, '011_regression_flags', now())")
    with connect(wh_path) as con:
        assert sorted(v for (v,) in con.execute("SELECT version FROM ops.schema_version")
                      .fetchall()) == [version for version, _ in migrations()]
        assert _recorded(con) == []
