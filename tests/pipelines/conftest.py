"""A warehouse loaded by a real pipeline run against the simulator, shared by the report and
cookbook tests (session-scoped: one run for all of them)."""

from __future__ import annotations

import dagster as dg
import pytest

from assets.core import core_tables
from assets.fetch import job_payloads
from assets.intake import job_ledger
from assets.marts import mart_tables
from assets.report import jobs_report
from pipelines.resources import BedrockApiResource, InboxResource, WarehouseResource
from pipelines.simulator import DEMO_API_KEY, Clock, DataConfig, RateLimitConfig, Simulator
from tests.helpers import EPOCH, EPOCH_ISO, LoadedWarehouse


@pytest.fixture(scope="session")
def loaded_warehouse(tmp_path_factory: pytest.TempPathFactory) -> LoadedWarehouse:
    """Every asset (report included) materialized from a 1500-job simulator into tmp."""
    root = tmp_path_factory.mktemp("report")
    path = root / "warehouse" / "bedrock.duckdb"
    (root / "inbox").mkdir()
    # IDs a user might paste that never load, so the ledger shows more than `loaded`.
    unloadable = ["job_01UNKNOWN0000000000000000", "job 42"]
    simulator = Simulator(DataConfig(jobs=1500), clock=Clock.fixed(EPOCH),
                          rate_limit=RateLimitConfig(enabled=False))
    with simulator as sim, dg.instance_for_test() as instance:
        result = dg.materialize(
            [job_ledger, job_payloads, core_tables, mart_tables, jobs_report],
            instance=instance,
            resources={
                "bedrock": BedrockApiResource(base_url=sim.base_url, api_key=DEMO_API_KEY),
                "warehouse": WarehouseResource(path=str(path)),
                "inbox": InboxResource(path=str(root / "inbox")),
            },
            run_config={"ops": {
                "ops__job_ledger": {"config": {"discover": True, "ids": unloadable}},
                # The simulator's clock is fixed at EPOCH: "what changed" compares up to it.
                "mart_tables": {"config": {"regressions": {"window_end": EPOCH_ISO}}}}},
        )
        assert result.success
        [event] = [e for e in result.get_asset_materialization_events()
                   if e.asset_key == dg.AssetKey(["report", "jobs_report"])]
        metadata = dict(event.materialization.metadata)
    return LoadedWarehouse(path, metadata)
