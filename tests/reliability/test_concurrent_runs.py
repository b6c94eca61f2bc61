"""Runs at once on one deployment (one Dagster home, one warehouse, one key): commands
started together on a new home all finish, every ID gets its one ledger outcome, and
together they stay inside the key's budget (no 429). A deployment whose own dagster.yaml
sets no pool limit is told so in the run's log, and the limit is held all the same."""

from __future__ import annotations

import logging

import dagster as dg
import duckdb

from pipelines.instance import WAREHOUSE_POOL
from pipelines.simulator import DataConfig, RateLimitConfig
from tests.helpers import cli_environment, home_ids, ingest_together

RUNS, IDS_EACH = 3, 40
TIGHT = RateLimitConfig(40, 2.0)  # each run alone could spend the whole window


def _ledger(warehouse) -> dict[str, tuple[str, int]]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return {job_id: (outcome, rows) for job_id, outcome, rows in con.execute(
            "SELECT job_id, any_value(outcome), count(*) FROM ops.job_ledger GROUP BY 1"
        ).fetchall()}


def _together(sim, tmp_path, env):
    ids = home_ids(sim)[:RUNS * IDS_EACH]
    lists = [ids[n::RUNS] for n in range(RUNS)]
    before = sim.stats_snapshot()["responses"].get("429", 0)
    runs = ingest_together(env, lists, tmp_path)
    for run in runs:
        assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-3000:]
    assert sim.stats_snapshot()["responses"].get("429", 0) == before
    assert _ledger(tmp_path / "wh.duckdb") == {job_id: ("loaded", 1) for job_id in ids}


def test_commands_started_together_on_a_new_home_all_finish(make_simulator, tmp_path):
    # A new home: the first opening creates the instance's SQLite storage, which two
    # commands creating at once used to break (one failed with OperationalError).
    sim = make_simulator(DataConfig(jobs=600), rate_limit=TIGHT)
    env = cli_environment(sim, tmp_path)
    _together(sim, tmp_path, env)
    with dg.DagsterInstance.from_config(env["DAGSTER_HOME"]) as instance:
        runs = instance.get_runs(filters=dg.RunsFilter(job_name="ingest"))
        assert [run.status for run in runs] == [dg.DagsterRunStatus.SUCCESS] * RUNS


def test_a_dagster_yaml_without_the_pool_limit_is_told_and_the_limit_held(
        make_simulator, tmp_path):
    sim = make_simulator(DataConfig(jobs=600), rate_limit=TIGHT)
    env = cli_environment(sim, tmp_path)
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")  # the team's own
    _together(sim, tmp_path, env)
    with dg.DagsterInstance.from_config(str(home)) as instance:
        assert instance.event_log_storage.get_concurrency_info(WAREHOUSE_POOL).limit == 1
        told = [[entry.user_message for entry in instance.all_logs(run.run_id)
                 if entry.level == logging.WARNING and "dagster.yaml" in entry.user_message]
                for run in instance.get_runs()]
    # Each run start says, in one line, what the file lacks: the pool limit once (the
    # first run set it), run monitoring every time (no product can turn it on).
    assert all(len(lines) == 1 and "\n" not in lines[0] for lines in told), told
    pool = [line for [line] in told if "set that pool to 1 slot" in line]
    assert len(pool) == 1
    assert "`dagster instance concurrency set bedrock_warehouse 1`" in pool[0]
    assert all("`run_monitoring: {enabled: true}`" in line for [line] in told)
    assert (home / "dagster.yaml").read_text() == "telemetry:\n  enabled: false\n"
