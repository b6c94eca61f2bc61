"""The production instance (deploy/dagster.yaml) on a real PostgreSQL server runs the pipeline."""

from __future__ import annotations

import shutil

import dagster as dg
import duckdb
import pytest

from assets.core import core_tables
from assets.fetch import job_payloads
from assets.intake import job_ledger
from assets.marts import mart_tables
from pipelines.instance import WAREHOUSE_POOL
from pipelines.simulator import DataConfig, RateLimitConfig
from tests.helpers import ROOT, cli_environment, home_ids, ingest_together

DEPLOY_YAML = ROOT / "deploy" / "dagster.yaml"


def test_pipeline_materializes_on_the_postgres_instance(
        postgres, tmp_path, monkeypatch, make_simulator, resources_for, warehouse_path):
    pytest.importorskip("dagster_postgres")
    from dagster_postgres import (
        PostgresEventLogStorage,
        PostgresRunStorage,
        PostgresScheduleStorage,
    )

    for name, value in postgres.env().items():
        monkeypatch.setenv(name, value)
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(DEPLOY_YAML, home / "dagster.yaml")
    sim = make_simulator(DataConfig(jobs=300), rate_limit=RateLimitConfig(enabled=False))

    with dg.DagsterInstance.from_config(str(home)) as instance:
        assert isinstance(instance.run_storage, PostgresRunStorage)
        assert isinstance(instance.event_log_storage, PostgresEventLogStorage)
        assert isinstance(instance.schedule_storage, PostgresScheduleStorage)
        result = dg.materialize(
            [job_ledger, job_payloads, core_tables, mart_tables], instance=instance,
            resources=resources_for(sim),
            run_config={"ops": {"ops__job_ledger": {"config": {"discover": True}}}},
        )
        assert result.success

        # The run, its events and the materializations are in PostgreSQL...
        run = instance.get_run_by_id(result.run_id)
        assert run is not None and run.status == dg.DagsterRunStatus.SUCCESS
        latest = instance.get_latest_materialization_event(dg.AssetKey(["raw", "job_payloads"]))
        assert latest is not None and latest.run_id == result.run_id
        # ... and the warehouse steps claimed the pool there, one slot wide, now free.
        pool = instance.event_log_storage.get_concurrency_info(WAREHOUSE_POOL)
        assert pool.slot_count == 1
        assert not pool.claimed_slots

    with duckdb.connect(str(warehouse_path), read_only=True) as con:
        loaded = con.execute(
            "SELECT count(*) FROM ops.job_ledger WHERE outcome = 'loaded'").fetchall()[0][0]
    assert loaded > 0
    # Reopened from the same database, the instance still knows the run.
    with dg.DagsterInstance.from_config(str(home)) as instance:
        assert instance.get_run_by_id(result.run_id) is not None


def test_commands_started_together_on_the_postgres_instance_all_finish(
        postgres, tmp_path, make_simulator, monkeypatch):
    # The production instance: three `bedrock-jobs ingest` at once on one home (the
    # deploy/dagster.yaml, storage in PostgreSQL), one warehouse, one key.
    pytest.importorskip("dagster_postgres")
    sim = make_simulator(DataConfig(jobs=600), rate_limit=RateLimitConfig(40, 2.0))
    env = {**cli_environment(sim, tmp_path), **postgres.env()}
    for name, value in postgres.env().items():
        monkeypatch.setenv(name, value)
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(DEPLOY_YAML, home / "dagster.yaml")
    ids = home_ids(sim)[:90]
    runs = ingest_together(env, [ids[n::3] for n in range(3)], tmp_path)
    for run in runs:
        assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-3000:]
    assert sim.stats_snapshot()["responses"].get("429", 0) == 0
    with duckdb.connect(str(tmp_path / "wh.duckdb"), read_only=True) as con:
        assert con.execute("SELECT job_id, outcome FROM ops.job_ledger ORDER BY 1"
                           ).fetchall() == [(job_id, "loaded") for job_id in sorted(ids)]
    run_ids = {line.rsplit("(run ", 1)[1].rstrip(")") for run in runs
               for line in run.stdout.splitlines() if line.startswith("ingest finished")}
    with dg.DagsterInstance.from_config(str(home)) as instance:
        assert len(run_ids) == 3
        assert all(instance.get_run_by_id(run_id).status == dg.DagsterRunStatus.SUCCESS
                   for run_id in run_ids)
        assert not instance.event_log_storage.get_concurrency_info(WAREHOUSE_POOL).claimed_slots
