"""The whole asset graph against the simulator: loads, reruns cheaply, accounts for every ID."""

from __future__ import annotations

import dagster as dg

from assets.checks import ALL_CHECKS
from assets.core import core_tables
from assets.fetch import job_payloads
from assets.intake import job_ledger
from assets.marts import mart_tables
from pipelines.simulator import DataConfig, RateLimitConfig
from tests.helpers import home_ids, read_rows

ASSETS = [job_ledger, job_payloads, core_tables, mart_tables]


def _materialize(resources, instance, **ledger_config):
    return dg.materialize(
        [*ASSETS, *ALL_CHECKS], instance=instance, resources=resources,
        run_config={"ops": {"ops__job_ledger": {"config": ledger_config}}},
        raise_on_error=False,
    )


def test_whole_graph_materializes_and_reruns_fetch_only_in_flight_jobs(
        make_simulator, resources_for, warehouse_path, instance):
    sim = make_simulator(DataConfig(jobs=800), rate_limit=RateLimitConfig(enabled=False))
    result = _materialize(resources_for(sim), instance, discover=True)
    assert result.success
    now = sim.clock.now()
    visible = set(home_ids(sim))
    loaded_rows = read_rows(warehouse_path,
                            "SELECT job_id FROM ops.job_ledger WHERE outcome = 'loaded'")
    loaded = {row[0] for row in loaded_rows}
    assert loaded == visible
    assert read_rows(warehouse_path, "SELECT count(*) FROM core.jobs")[0][0] == len(visible)
    assert read_rows(warehouse_path,
                     "SELECT count(*) FROM marts.job_durations")[0][0] == len(visible)
    first = sim.stats_snapshot()["fetches"]
    assert set(first) == visible and set(first.values()) == {1}

    # The clock moves on; the rerun fetches exactly the jobs that were in flight.
    in_flight = {j.id for j in sim.store.by_id.values() if j.id in visible and j.ends_at > now}
    assert in_flight
    sim.clock.advance(600)
    sim.stats.reset()
    rerun = _materialize(resources_for(sim), instance, discover=False)
    assert rerun.success
    assert sim.stats_snapshot()["fetches"] == dict.fromkeys(in_flight, 1)
