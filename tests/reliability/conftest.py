"""Fixtures for the reliability suite: pipeline runs against a simulator in tmp folders."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import duckdb
import pytest

from assets.checks import ALL_CHECKS
from assets.core import core_tables
from assets.fetch import job_payloads
from assets.intake import job_ledger
from assets.marts import mart_tables
from assets.publish import read_copy
from pipelines.resources import BedrockApiResource, InboxResource, WarehouseResource
from pipelines.simulator import DEMO_API_KEY

ASSETS = [job_ledger, job_payloads, core_tables, mart_tables, read_copy, *ALL_CHECKS]

# What "the same tables" means: every contract table, without the columns that
# record when we happened to fetch (those differ between any two runs).
COMPARED = {
    "core.jobs": "SELECT * EXCLUDE (fetched_at, payload_seq) FROM core.jobs",
    "core.job_events": "SELECT * FROM core.job_events",
    "core.job_status_transitions": "SELECT * FROM core.job_status_transitions",
    "marts.job_durations": "SELECT * FROM marts.job_durations",
    "marts.failure_rates": "SELECT * FROM marts.failure_rates",
    "marts.duration_stats": "SELECT * FROM marts.duration_stats",
    "marts.transition_matrix": "SELECT * FROM marts.transition_matrix",
    "marts.job_trees": "SELECT * FROM marts.job_trees",
    "raw.job_payloads": "SELECT job_id, payload_sha256 FROM raw.job_payloads",
    "ops.job_ledger": "SELECT job_id, outcome, is_terminal FROM ops.job_ledger",
}


def table_hashes(path: Path) -> dict[str, list[str]]:
    """Sorted row hashes of every compared table: equal means the same rows, duplicates too."""
    with duckdb.connect(str(path), read_only=True) as con:
        return {
            name: [row[0] for row in con.execute(
                f"SELECT md5(CAST(t AS VARCHAR)) AS h FROM ({query}) AS t ORDER BY h").fetchall()]
            for name, query in COMPARED.items()
        }


def run_pipeline(sim, warehouse_path: Path, inbox_path: Path, *, api_key: str = DEMO_API_KEY,
                 read_timeout: float = 30.0, max_attempts: int = 6, discover: bool = True,
                 instance: dg.DagsterInstance | None = None,
                 publish_every_seconds: float = 300.0, fetch: dict | None = None):
    resources = {
        "bedrock": BedrockApiResource(base_url=sim.base_url, api_key=api_key, workers=8,
                                      read_timeout=read_timeout, max_attempts=max_attempts),
        "warehouse": WarehouseResource(path=str(warehouse_path),
                                       publish_every_seconds=publish_every_seconds),
        "inbox": InboxResource(path=str(inbox_path)),
    }
    run_config: dict = {"ops": {"ops__job_ledger": {"config": {"discover": discover}}}}
    if fetch:
        run_config["ops"]["raw__job_payloads"] = {"config": fetch}
    with dg.instance_for_test() if instance is None else _nullcontext(instance) as inst:
        return dg.materialize(ASSETS, instance=inst, resources=resources, raise_on_error=False,
                              run_config=run_config)


class _nullcontext:
    def __init__(self, value):
        self.value = value

    def __enter__(self):
        return self.value

    def __exit__(self, *exc):
        return False


@pytest.fixture(name="run_pipeline")
def run_pipeline_fixture():
    """`run_pipeline(sim, warehouse, inbox, **options)`: the asset graph, materialized."""
    return run_pipeline


@pytest.fixture(name="table_hashes")
def table_hashes_fixture():
    """`table_hashes(path)`: sorted row hashes of every compared table."""
    return table_hashes


@pytest.fixture
def workspace(tmp_path: Path):
    """(warehouse path, inbox path) for one pipeline, under tmp."""
    def make(name: str) -> tuple[Path, Path]:
        root = tmp_path / name
        (root / "inbox").mkdir(parents=True)
        return root / "bedrock.duckdb", root / "inbox"
    return make
