"""Contract: stuck means stuck, not "we could not look": a job's age in marts.stuck_jobs runs
to its last successful fetch, and in-flight data not fetched within the stuck floor is stale
(queries/in_flight_fetch.sql)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import duckdb

from tests.helpers import failed_fetch, load, load_in_flight
from warehouse import refresh_marts
from warehouse.stuck import in_flight_fetch

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
MINUTE = timedelta(minutes=1)


def _stuck(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[float, datetime]]:
    return {job_id: (age, last) for job_id, age, last in con.execute(
        "SELECT job_id, age_seconds, last_fetched_at FROM marts.stuck_jobs").fetchall()}


def test_a_fetch_outage_makes_no_job_stuck(con: duckdb.DuckDBPyConnection) -> None:
    last = NOW - 6 * HOUR  # the last fetch that worked
    # job_long had been running 2 h when last fetched (past the 1 h floor then);
    # job_short 30 min (not stuck then, and nobody has seen it since).
    load_in_flight(con, {"job_long": last - 2 * HOUR, "job_short": last - 30 * MINUTE}, last)
    # Then the API went down: every attempt since failed, and attempts are not loads.
    load(con, failed_fetch(["job_long", "job_short"], NOW - HOUR))
    refresh_marts(con, now=NOW)
    # Ages run to the last fetch (2 h, not 8 h); job_short's 6.5 h unseen make it nothing.
    assert _stuck(con) == {"job_long": (7200.0, last)}
    fetch = in_flight_fetch(con, NOW)
    assert (fetch.in_flight, fetch.last_fetched_at, fetch.age_seconds, fetch.is_stale) == (
        2, last, 6 * 3600.0, True)
    assert fetch.describe() == (
        "in-flight data is stale: last successful fetch 2026-03-01 06:00 UTC (6.0 h ago); "
        "stuck jobs cannot be judged until a fetch succeeds")


def test_with_fresh_data_a_stuck_job_is_aged_to_its_last_fetch(
        con: duckdb.DuckDBPyConnection) -> None:
    last = NOW - 10 * MINUTE
    load_in_flight(con, {"job_stuck": last - 2 * HOUR, "job_fine": last - 20 * MINUTE}, last)
    refresh_marts(con, now=NOW)
    assert _stuck(con) == {"job_stuck": (7200.0, last)}
    fetch = in_flight_fetch(con, NOW)
    assert not fetch.is_stale and fetch.age_seconds == 600.0 and fetch.describe() == ""


def test_an_unchanged_refetch_counts_and_the_ledger_comes_first(
        con: duckdb.DuckDBPyConnection) -> None:
    first, again = NOW - 3 * HOUR, NOW - 5 * MINUTE
    load_in_flight(con, {"job_a": first - 2 * HOUR}, first)
    # The same body again: raw stores nothing new, the ledger's loaded_at moves.
    load_in_flight(con, {"job_a": first - 2 * HOUR}, again)
    assert con.execute("SELECT count(*), max(fetched_at) FROM raw.job_payloads").fetchone() == (
        1, first)
    refresh_marts(con, now=NOW)
    assert _stuck(con) == {"job_a": (5 * 3600.0 - 300.0, again)}
    assert not in_flight_fetch(con, NOW).is_stale
    # Without the ledger's loaded_at, core's fetched_at (the body's first fetch) stands in.
    con.execute("UPDATE ops.job_ledger SET loaded_at = NULL")
    refresh_marts(con, now=NOW)
    assert _stuck(con) == {"job_a": (2 * 3600.0, first)}
    assert in_flight_fetch(con, NOW).is_stale


def test_a_refresh_as_of_a_past_moment_ages_jobs_to_that_moment(
        con: duckdb.DuckDBPyConnection) -> None:
    load_in_flight(con, {"job_a": NOW - 3 * HOUR}, NOW)
    refresh_marts(con, now=NOW - HOUR)
    assert _stuck(con) == {"job_a": (2 * 3600.0, NOW)}


def test_nothing_in_flight_is_never_stale(con: duckdb.DuckDBPyConnection) -> None:
    fetch = in_flight_fetch(con, NOW)
    assert (fetch.in_flight, fetch.last_fetched_at, fetch.is_stale) == (0, None, False)


def test_by_default_59_minutes_is_not_stuck_and_61_is(con: duckdb.DuckDBPyConnection) -> None:
    # The default floor (1 h, docs/how-it-runs.md#defaults); no history of the type, so
    # the threshold is the floor itself.
    last = NOW - 5 * MINUTE
    load_in_flight(con, {"job_59": last - 59 * MINUTE, "job_61": last - 61 * MINUTE}, last)
    refresh_marts(con, now=NOW)
    assert set(_stuck(con)) == {"job_61"}


def test_by_default_in_flight_data_is_stale_after_an_hour(
        con: duckdb.DuckDBPyConnection) -> None:
    load_in_flight(con, {"job_a": NOW - 2 * HOUR}, NOW)
    assert not in_flight_fetch(con, NOW + 59 * MINUTE).is_stale
    assert in_flight_fetch(con, NOW + 61 * MINUTE).is_stale
