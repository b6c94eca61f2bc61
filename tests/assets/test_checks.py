"""Asset checks: clean data passes every check; messy API data raises the warnings (and
only the warnings: core is repaired, so no blocking check fails); freshness and stuck jobs
count only fetches that worked, and stuck jobs are not judged from stale data."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import dagster as dg
import pytest

import warehouse
from assets.checks import ALL_CHECKS, freshness, stuck_jobs_check
from assets.core import core_tables
from assets.fetch import job_payloads
from assets.intake import job_ledger
from assets.marts import mart_tables
from pipelines.resources import WarehouseResource
from pipelines.simulator import DataConfig, RateLimitConfig, RenderConfig
from tests.helpers import failed_fetch, load, load_in_flight, loaded

ASSETS = [job_ledger, job_payloads, core_tables, mart_tables, *ALL_CHECKS]
WARNINGS = {"unknown_statuses", "messy_events", "status_disagrees"}


def _check_results(result) -> dict[str, bool]:
    return {e.asset_check_evaluation_data.check_name: e.asset_check_evaluation_data.passed
            for e in result.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"}


def test_clean_data_passes_every_check(make_simulator, resources_for, instance):
    sim = make_simulator(DataConfig(jobs=400), rate_limit=RateLimitConfig(enabled=False))
    result = dg.materialize(ASSETS, instance=instance, resources=resources_for(sim))
    assert result.success
    # Every check the code declares was evaluated, each once.
    evaluated = [e.asset_check_evaluation_data.check_name for e in result.all_events
                 if e.event_type_value == "ASSET_CHECK_EVALUATION"]
    assert sorted(evaluated) == sorted(key.name for c in ALL_CHECKS for key in c.check_keys)
    checks = _check_results(result)
    assert {name for name, passed in checks.items() if not passed} <= {"stuck_jobs"}


def test_messy_data_raises_the_warnings_not_the_blockers(make_simulator, resources_for,
                                                         instance):
    sim = make_simulator(DataConfig(jobs=400), rate_limit=RateLimitConfig(enabled=False),
                         render=RenderConfig(adversarial_share=0.6, seed=3))
    result = dg.materialize(ASSETS, instance=instance, resources=resources_for(sim))
    assert result.success  # warnings never stop the run
    failed = {name for name, passed in _check_results(result).items() if not passed}
    assert WARNINGS <= failed
    assert failed <= WARNINGS | {"stuck_jobs"}


def test_each_step_does_its_work_and_blocking_core_checks_run_before_the_marts(
        make_simulator, resources_for, instance, warehouse_path):
    sim = make_simulator(DataConfig(jobs=300), rate_limit=RateLimitConfig(enabled=False))
    result = dg.materialize(ASSETS, instance=instance, resources=resources_for(sim))
    assert result.success
    order = [(e.step_key, e.event_type_value) for e in result.all_events
             if e.event_type_value in ("STEP_START", "STEP_SUCCESS")]
    marts_start = order.index(("mart_tables", "STEP_START"))
    blocking = {"unique_jobs", "unique_events", "transitions_match_events"}
    for name in blocking:
        done = [i for i, (key, kind) in enumerate(order)
                if key and name in key and kind == "STEP_SUCCESS"]
        assert done and done[0] < marts_start, (name, order)
    # The core step reports what it derived: the payload_seq range and the jobs changed.
    core = {m.asset_key.path[-1]: m.metadata
            for m in result.asset_materializations_for_node("core_tables")}
    jobs = core["jobs"]
    assert jobs["payload_seq_from"].value == 1 and jobs["jobs_changed"].value > 0
    assert jobs["payload_seq_to"].value >= jobs["jobs_changed"].value
    assert jobs["dagster/row_count"].value == jobs["jobs_changed"].value
    # A second run with nothing new to fetch derives nothing (its core step reports so).
    again = dg.materialize(ASSETS, instance=instance, resources=resources_for(sim))
    second = {m.asset_key.path[-1]: m.metadata
              for m in again.asset_materializations_for_node("core_tables")}["jobs"]
    assert second["jobs_changed"].value == 0


HOUR = timedelta(hours=1)
MINUTE = timedelta(minutes=1)


def _metadata(result: dg.AssetCheckResult) -> dict:
    return {key: getattr(value, "value", value) for key, value in result.metadata.items()}


def test_the_stuck_check_says_stale_during_an_outage_and_judges_fresh_data(tmp_path):
    # The checks judge at the current time, so the data is placed around it.
    path, now = tmp_path / "bedrock.duckdb", datetime.now(UTC)
    last = now - 6 * HOUR
    jobs = {"job_a": last - 2 * HOUR, "job_b": last - 2 * HOUR, "job_c": last - 10 * MINUTE}
    with warehouse.connect(path) as con:
        load_in_flight(con, jobs, last)
        load(con, failed_fetch(list(jobs), now - HOUR))  # the API is down since
        warehouse.refresh_marts(con, now=now)
    result = stuck_jobs_check(warehouse=WarehouseResource(path=str(path)))
    assert not result.passed and result.severity == dg.AssetCheckSeverity.WARN
    assert result.description == (
        f"in-flight data is stale: last successful fetch {last:%Y-%m-%d %H:%M} UTC "
        "(6.0 h ago); stuck jobs cannot be judged until a fetch succeeds")
    assert _metadata(result) | {"fetch_age_seconds": 0} == {
        "stale": True, "last_successful_fetch": last.isoformat(), "fetch_age_seconds": 0,
        "in_flight": 3}
    # A fetch works again and finds all three still running (the same bodies): now they
    # are judged, and stuck, aged to that fetch.
    again = now - MINUTE
    with warehouse.connect(path) as con:
        load_in_flight(con, jobs, again)
        warehouse.refresh_marts(con, now=now)
    result = stuck_jobs_check(warehouse=WarehouseResource(path=str(path)))
    assert not result.passed and "stale" not in result.description
    found = _metadata(result)
    assert (found["failures"], found["stale"]) == (3, False)
    assert found["oldest_seconds"] == pytest.approx((again - last + 2 * HOUR).total_seconds(),
                                                    abs=1)


@pytest.mark.parametrize(("refetched", "passed"), [(HOUR + 59 * MINUTE, True),
                                                   (HOUR + 61 * MINUTE, False)])
def test_freshness_reads_the_ledger_not_raw(tmp_path, refetched, passed):
    # Loaded 3 h ago, then fetched again unchanged: raw's fetched_at stays 3 h old while
    # the ledger's loaded_at moves; within the 2 h window (docs/how-it-runs.md#defaults)
    # the data is fresh.
    path, now = tmp_path / "bedrock.duckdb", datetime.now(UTC)
    with warehouse.connect(path) as con:
        load_in_flight(con, {"job_a": now - 4 * HOUR}, now - 3 * HOUR)
        load_in_flight(con, {"job_a": now - 4 * HOUR}, now - refetched)
    result = freshness(warehouse=WarehouseResource(path=str(path)))
    assert result.passed is passed
    assert _metadata(result)["age_seconds"] == pytest.approx(refetched.total_seconds(), abs=60)


def test_freshness_fails_when_the_last_usable_payload_is_old(tmp_path):
    # Fetched 10 min ago, but the body was unusable (quarantined, yet stored in raw): the
    # last fetch that worked is 3 h old.
    path, now = tmp_path / "bedrock.duckdb", datetime.now(UTC)
    with warehouse.connect(path) as con:
        load_in_flight(con, {"job_a": now - 4 * HOUR}, now - 3 * HOUR)
        load(con, [loaded("job_a", "<html>502 Bad Gateway</html>", at=now - 10 * MINUTE)])
        assert con.execute("SELECT outcome FROM ops.job_ledger").fetchall() == [("quarantined",)]
    result = freshness(warehouse=WarehouseResource(path=str(path)))
    assert not result.passed
    assert _metadata(result)["age_seconds"] == pytest.approx(3 * 3600, abs=60)
