"""Installed as users install it: the wheel, no extras, in a fresh virtualenv, used from a
folder outside the checkout (the simulator, ingest, sql, report, and the code location
loaded by `dagster` and `dg`)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.helpers import ROOT, stop

KEY = "sk_demo_local_simulator"
# What a source tree holds that is never part of what we build from.
NOT_SOURCE = shutil.ignore_patterns(".git", ".venv", "build", "*.egg-info", "__pycache__",
                                    ".pytest_cache", ".ruff_cache", ".hypothesis",
                                    ".dagster_home", "*.duckdb", "*.duckdb.wal", "inbox")

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel `pip` builds from a copy of the source tree (the checkout stays clean)."""
    tmp = tmp_path_factory.mktemp("wheel")
    source = tmp / "source"
    shutil.copytree(ROOT, source, ignore=NOT_SOURCE)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet",
                    "--wheel-dir", str(tmp), str(source)], check=True, timeout=300)
    (built,) = tmp.glob("bedrock_jobs-*.whl")
    return built


@pytest.fixture(scope="module")
def venv_bin(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtualenv with only `pip install <wheel>` (pip's cache, the package index)."""
    venv = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    done = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet",
                           "--disable-pip-version-check", str(wheel)],
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout + done.stderr
    return venv / "bin"


@pytest.fixture
def user_env(tmp_path: Path) -> dict[str, str]:
    """A user's shell: nothing of ours in it, no DAGSTER_HOME (it defaults to the folder)."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("BEDROCK_", "DAGSTER_", "PYTHON", "VIRTUAL_ENV"))}
    env["HOME"] = str(tmp_path / "home")
    return env


@pytest.fixture
def simulator(venv_bin: Path, user_env: dict[str, str], tmp_path: Path) -> Iterator[str]:
    """`bedrock-jobs simulate` from the installed package; yields its URL."""
    process = subprocess.Popen(
        [str(venv_bin / "bedrock-jobs"), "simulate", "--port", "0", "--jobs", "300",
         "--clock", "fixed", "--no-rate-limit"],
        cwd=tmp_path, env=user_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        first = process.stdout.readline() if process.stdout else ""
        assert "simulator at http://" in first, first
        yield first.split(" at ", 1)[1].strip()
    finally:
        stop(process, timeout=30)


def test_the_wheel_carries_every_sql_file_and_nothing_only_tests_need(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    shipped_sql = {str(p.relative_to(ROOT)) for p in (ROOT / "warehouse").rglob("*.sql")}
    assert shipped_sql and shipped_sql <= names
    assert {"pipelines/definitions.py", "assets/publish.py", "warehouse/publish.py"} <= names
    assert not [n for n in names if n.startswith(("tests/", "benchmarks/", "docs/"))]


def _run(venv_bin: Path, env: dict[str, str], cwd: Path, *args: str,
         timeout: float = 300) -> subprocess.CompletedProcess[str]:
    command = args[0] if "/" in args[0] else str(venv_bin / args[0])
    return subprocess.run([command, *args[1:]], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout)


def test_installed_command_ingests_queries_and_reports_from_any_folder(
        venv_bin: Path, user_env: dict[str, str], simulator: str, tmp_path: Path) -> None:
    work = tmp_path / "elsewhere"
    work.mkdir()
    python = _run(venv_bin, user_env, work, "python", "-c",
                  "import pipelines, warehouse; print(pipelines.__file__, warehouse.__file__)")
    assert python.returncode == 0 and str(ROOT) not in python.stdout  # the installed copy
    listed = requests.get(f"{simulator}/jobs", params={"limit": 25}, timeout=10,
                          headers={"Authorization": f"Bearer {KEY}"}).json()["data"]
    (work / "ids.txt").write_text("\n".join(job["id"] for job in listed) + "\nnot an id\n")
    env = {**user_env, "BEDROCK_API_URL": simulator, "BEDROCK_API_KEY": KEY}

    ingest = _run(venv_bin, env, work, "bedrock-jobs", "ingest", "--ids", "ids.txt")
    assert ingest.returncode == 0, ingest.stdout + ingest.stderr
    assert "ingest finished" in ingest.stdout and "published read-only copy" in ingest.stdout
    assert (work / "warehouse" / "bedrock.read.duckdb").exists()
    assert (work / ".dagster_home" / "dagster.yaml").exists()  # the folder's own instance

    sql = _run(venv_bin, env, work, "bedrock-jobs", "sql",
               "SELECT outcome, count(*) AS n FROM ops.job_ledger GROUP BY ALL ORDER BY 1",
               "--format", "json")
    assert sql.returncode == 0, sql.stderr
    counts = {row["outcome"]: row["n"] for row in json.loads(sql.stdout)}
    assert counts["loaded"] >= 25 and counts["invalid_id"] == 1

    report = _run(venv_bin, env, work, "bedrock-jobs", "report")
    assert report.returncode == 0, report.stderr
    assert (work / "warehouse" / "report.html").stat().st_size > 10_000

    validate = _run(venv_bin, env, work, "dagster", "definitions", "validate",
                    "-m", "pipelines.definitions")
    assert validate.returncode == 0, validate.stdout + validate.stderr


def test_an_init_folder_is_a_dg_project_over_the_installed_package(
        venv_bin: Path, user_env: dict[str, str], simulator: str, tmp_path: Path) -> None:
    init = _run(venv_bin, user_env, tmp_path, "bedrock-jobs", "init", "deploy")
    assert init.returncode == 0, init.stderr
    project = tmp_path / "deploy"
    env = {**user_env, "BEDROCK_API_URL": simulator, "BEDROCK_API_KEY": KEY}

    check = _run(venv_bin, env, project, "dg", "check", "defs")
    assert check.returncode == 0, check.stdout + check.stderr
    assert "All definitions loaded successfully" in check.stdout + check.stderr
    listed = _run(venv_bin, env, project, "dg", "list", "defs", "--json")
    assert listed.returncode == 0, listed.stderr
    keys = {a["asset_key"] for a in json.loads(listed.stdout)["assets"]}
    assert {"ops/job_ledger", "raw/job_payloads", "core/jobs", "published/read_copy"} <= keys

    launch = _run(venv_bin, env, project, "dg", "launch", "--job", "ingest")
    assert launch.returncode == 0, launch.stdout[-3000:] + launch.stderr[-3000:]
    # The run went to the folder's instance (.env names it), so `dg dev` there shows it.
    home = {**env, "DAGSTER_HOME": str(project / ".dagster_home")}
    runs = _run(venv_bin, home, project, "python", "-c",
                "import dagster as dg; i = dg.DagsterInstance.get(); "
                "print([(r.job_name, r.is_success) for r in i.get_runs()])")
    assert runs.returncode == 0, runs.stderr
    assert "('ingest', True)" in runs.stdout
    assert (project / "warehouse" / "bedrock.read.duckdb").exists()
