"""`bedrock-jobs ingest` and `sql`: real processes, exit codes, messages that name the fix."""

from __future__ import annotations

import json

import dagster as dg
import pytest

from pipelines.simulator import DEMO_API_KEY, DataConfig, RateLimitConfig
from tests.helpers import cli_environment, home_ids, run_cli


@pytest.fixture
def cli_env(tmp_path, warehouse_path, inbox_path):
    def make(sim, api_key=DEMO_API_KEY):
        return cli_environment(sim, tmp_path, api_key, warehouse_path, inbox_path)
    return make


def _cli(env, *args, stdin=None):
    return run_cli(*args, env=env, stdin=stdin)


def _ids(sim, n):
    return home_ids(sim)[:n]


def test_ingest_from_stdin_runs_on_the_shared_instance_and_sql_reads_the_result(
        make_simulator, cli_env, tmp_path, inbox_path, warehouse_path):
    sim = make_simulator(DataConfig(jobs=300), rate_limit=RateLimitConfig(enabled=False))
    env = cli_env(sim)
    ids = _ids(sim, 20)
    (inbox_path / "dropped-earlier.txt").write_text(ids[0] + "\n")  # no daemon reads it
    done = _cli(env, "ingest", "--ids", "-", stdin="\n".join(ids) + "\nnot/valid\n")
    assert done.returncode == 0, done.stderr
    assert "requested job IDs by outcome" in done.stdout and "ingest finished" in done.stdout
    # The summary names the copy other clients read, and the file nothing is reading.
    assert str(warehouse_path.with_name("bedrock.read.duckdb")) in done.stdout
    assert "1 file(s) wait in the inbox" in done.stdout and "dropped-earlier.txt" in done.stdout
    assert (inbox_path / "dropped-earlier.txt").exists()
    assert [p.name for p in (inbox_path / "processed").iterdir()][0].endswith("-stdin")
    with dg.DagsterInstance.from_config(str(tmp_path / "dagster_home")) as instance:
        runs = instance.get_runs()
        assert [r.job_name for r in runs] == ["ingest"] and runs[0].is_success

    query = _cli(env, "sql", "SELECT outcome, count(*) AS n FROM ops.job_ledger "
                             "GROUP BY outcome ORDER BY outcome", "--format", "json")
    assert query.returncode == 0, query.stderr
    counts = {row["outcome"]: row["n"] for row in json.loads(query.stdout)}
    assert counts["invalid_id"] == 1 and counts["loaded"] >= 20

    live = _cli(env, "sql", "SELECT count(*) AS n FROM core.jobs", "--format", "csv", "--live")
    assert live.returncode == 0 and int(live.stdout.splitlines()[1]) >= 20

    refused = _cli(env, "sql", "DELETE FROM core.jobs")
    assert refused.returncode == 1 and "read-only" in refused.stderr.lower()
    csv = _cli(env, "sql", "SELECT count(*) AS n FROM core.jobs", "--format", "csv")
    assert csv.stdout.splitlines()[0] == "n" and int(csv.stdout.splitlines()[1]) >= 20


def test_ingest_without_a_key_fails_before_any_request(make_simulator, cli_env, tmp_path):
    sim = make_simulator(DataConfig(jobs=100))
    ids_file = tmp_path / "ids.txt"
    ids_file.write_text("\n".join(_ids(sim, 3)) + "\n")
    done = _cli(cli_env(sim, api_key=None), "ingest", "--ids", str(ids_file))
    assert done.returncode == 2 and "BEDROCK_API_KEY" in done.stderr
    assert sim.stats_snapshot()["total_requests"] == 0


def test_ingest_with_a_refused_key_stops_and_names_the_variable(make_simulator, cli_env,
                                                                 tmp_path):
    sim = make_simulator(DataConfig(jobs=600), rate_limit=RateLimitConfig(enabled=False))
    ids_file = tmp_path / "ids.txt"
    ids_file.write_text("\n".join(_ids(sim, 300)) + "\n")
    done = _cli(cli_env(sim, api_key="sk_revoked_key_for_test"), "ingest", "--ids",
                str(ids_file))
    assert done.returncode == 1
    assert "BEDROCK_API_KEY" in done.stderr and "401" in done.stderr
    assert "sk_revoked_key_for_test" not in done.stderr + done.stdout
    # At most the requests already in flight (8 workers) follow the first 401.
    assert sim.stats_snapshot()["responses"]["401"] <= 1 + 8


def test_sql_before_any_run_names_the_command_that_makes_the_copy(make_simulator, cli_env):
    sim = make_simulator(DataConfig(jobs=10))
    done = _cli(cli_env(sim), "sql", "SELECT 1")
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "no warehouse at" in done.stderr and "bedrock-jobs ingest" in done.stderr


def test_ingest_refuses_what_it_cannot_run_in_one_clear_line(make_simulator, cli_env,
                                                             tmp_path):
    sim = make_simulator(DataConfig(jobs=50))
    env = cli_env(sim)
    missing = _cli(env, "ingest", "--ids", str(tmp_path / "nope.txt"))
    assert missing.returncode == 2 and "no ID file at" in missing.stderr
    (tmp_path / "empty.txt").write_text("\n  \n")
    empty = _cli(env, "ingest", "--ids", str(tmp_path / "empty.txt"))
    assert empty.returncode == 2 and "holds no job IDs" in empty.stderr
    (tmp_path / "people.csv").write_text("id,name\n1,ann\n")
    refused = _cli(env, "ingest", "--ids", str(tmp_path / "people.csv"))
    assert refused.returncode == 1 and "refused whole" in refused.stderr
    assert "job_id column" in refused.stderr
    for done in (missing, empty, refused):
        assert "Traceback" not in done.stderr
    assert sim.stats_snapshot()["fetches"] == {}  # not one job was asked for


def test_ingest_against_an_unreachable_api_fails_and_keeps_every_id(make_simulator, cli_env,
                                                                     tmp_path):
    sim = make_simulator(DataConfig(jobs=50))
    env = cli_env(sim)
    ids = _ids(sim, 3)
    env["BEDROCK_API_URL"] = "http://127.0.0.1:9"  # nothing listens on the discard port
    done = _cli(env, "ingest", "--ids", "-", stdin="\n".join(ids) + "\n")
    assert done.returncode == 1
    assert "Every one of the 3 fetches failed with no answer" in done.stderr
    assert "BEDROCK_API_URL" in done.stderr
    env["BEDROCK_API_URL"] = sim.base_url
    ledger = _cli(env, "sql", "SELECT outcome, count(*) AS n FROM ops.job_ledger GROUP BY 1",
                  "--format", "csv", "--live")
    assert ledger.stdout.splitlines()[1:] == ["failed,3"]


def test_sql_takes_the_published_copy_by_name_and_refuses_an_empty_query(
        make_simulator, cli_env, warehouse_path):
    sim = make_simulator(DataConfig(jobs=100), rate_limit=RateLimitConfig(enabled=False))
    env = cli_env(sim)
    assert _cli(env, "ingest", "--ids", "-", stdin=_ids(sim, 5)[0] + "\n").returncode == 0
    copy = warehouse_path.with_name("bedrock.read.duckdb")
    named = _cli(env, "sql", "SELECT count(*) AS n FROM ops.publications", "--warehouse",
                 str(copy), "--format", "csv")
    assert named.returncode == 0 and int(named.stdout.splitlines()[1]) >= 1
    for query in ("", "-- only a comment"):
        done = _cli(env, "sql", query)
        assert done.returncode == 1 and "no rows to show" in done.stderr
        assert "Traceback" not in done.stderr


def test_init_refuses_a_folder_that_is_another_project(tmp_path, cli_env, make_simulator):
    (tmp_path / "theirs").mkdir()
    (tmp_path / "theirs" / "pyproject.toml").write_text("[project]\nname = 'theirs'\n")
    done = _cli(cli_env(make_simulator(DataConfig(jobs=5))), "init", str(tmp_path / "theirs"))
    assert done.returncode == 2 and "not a dg project" in done.stderr
    assert sorted(p.name for p in (tmp_path / "theirs").iterdir()) == ["pyproject.toml"]
