"""Intake and discovery as the assets run them: every ID accounted for, only new jobs listed."""

from __future__ import annotations

import dagster as dg

from assets.core import core_tables
from assets.fetch import job_payloads
from assets.intake import job_ledger
from assets.marts import mart_tables
from pipelines.bedrock import BedrockClient, ClientConfig
from pipelines.resources import WarehouseResource
from pipelines.services.intake import discover, utcnow
from pipelines.simulator import DEMO_API_KEY, DataConfig, RateLimitConfig
from tests.helpers import home_ids, home_jobs, read_rows

ASSETS = [job_ledger, job_payloads, core_tables, mart_tables]


def test_inbox_file_ids_all_end_with_one_outcome_and_the_file_is_moved(
        make_simulator, resources_for, warehouse_path, inbox_path, instance):
    sim = make_simulator(DataConfig(jobs=300), rate_limit=RateLimitConfig(enabled=False))
    mine = home_ids(sim)[:5]
    foreign = [j.id for j in sim.store.by_id.values()
               if j.organization_id != sim.store.home_organization_id][:2]
    lines = [*mine, mine[0], *foreign, "job_missing_1", "bad id", "../../etc/passwd", ""]
    (inbox_path / "ids.txt").write_text("\n".join(lines) + "\n")

    result = dg.materialize(ASSETS, instance=instance, resources=resources_for(sim),
                            run_config={"ops": {"ops__job_ledger": {"config": {
                                "inbox_files": ["ids.txt"], "discover": False}}}})
    assert result.success
    ledger = dict(read_rows(warehouse_path, "SELECT job_id, outcome FROM ops.job_ledger"))
    parents = {sim.store.get(i).parent_id for i in mine} - {None}
    assert {i: ledger[i] for i in mine} == dict.fromkeys(mine, "loaded")
    assert {i: ledger[i] for i in foreign} == dict.fromkeys(foreign, "forbidden")
    assert ledger["job_missing_1"] == "not_found"
    assert set(ledger) == {*mine, *foreign, *parents, "job_missing_1", "bad id",
                           "../../etc/passwd"}
    reasons = dict(read_rows(warehouse_path, "SELECT job_id, error_detail FROM ops.job_ledger "
                                             "WHERE outcome = 'invalid_id'"))
    assert reasons["bad id"].startswith("ids.txt line 10: ")
    assert reasons["../../etc/passwd"].startswith("ids.txt line 11: ")
    # Invalid IDs never reached the API; every valid one was fetched once.
    assert set(sim.stats_snapshot()["fetches"]) == {*mine, *foreign, *parents, "job_missing_1"}
    assert not (inbox_path / "ids.txt").exists()
    assert len(list((inbox_path / "processed").iterdir())) == 1


def test_discovery_registers_only_what_is_new(make_simulator, warehouse_path):
    sim = make_simulator(DataConfig(jobs=600, future_share=0.2),
                         rate_limit=RateLimitConfig(enabled=False))
    store = WarehouseResource(path=str(warehouse_path))
    client = BedrockClient(ClientConfig(base_url=sim.base_url, api_key=DEMO_API_KEY))
    with client:
        first, watermark = discover(client, store.connect, utcnow())
        assert first == len(home_jobs(sim)) and watermark is not None
        sim.clock.advance(3600)
        sim.stats.reset()
        second, later = discover(client, store.connect, utcnow())
    created_since = [j for j in sim.store.by_id.values()
                     if j.organization_id == sim.store.home_organization_id
                     and watermark.timestamp() < j.created_at <= sim.clock.now()]
    assert created_since and second == len(created_since) and later > watermark
    # The second listing asked only for the new jobs (plus the overlap), not everything.
    assert sim.stats_snapshot()["requests"]["/jobs"] <= len(created_since) // 100 + 2
    assert len(read_rows(warehouse_path, "SELECT * FROM ops.job_ledger")) == first + second


def test_rebuild_from_raw_makes_no_calls_and_gives_the_same_tables(
        make_simulator, resources_for, warehouse_path, instance):
    sim = make_simulator(DataConfig(jobs=400), rate_limit=RateLimitConfig(enabled=False))
    assert dg.materialize(ASSETS, instance=instance, resources=resources_for(sim)).success
    tables = ["core.jobs", "core.job_events", "core.job_status_transitions",
              "marts.job_durations", "marts.transition_matrix"]

    def rows(t):
        return sorted(map(repr, read_rows(warehouse_path, f"SELECT * EXCLUDE (payload) FROM {t}"
                                          if t == "core.jobs" else f"SELECT * FROM {t}")))

    before = {t: rows(t) for t in tables}
    sim.stats.reset()
    rebuilt = dg.materialize([core_tables, mart_tables], instance=instance,
                             resources=resources_for(sim),
                             run_config={"ops": {"core_tables": {"config": {"rebuild": True}}}})
    assert rebuilt.success
    assert sim.stats_snapshot()["total_requests"] == 0
    assert {t: rows(t) for t in tables} == before
