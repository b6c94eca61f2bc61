"""The code location loads: `workspace.yaml` points at a module with valid Definitions, and
the checkout is a dg project (`dg check defs`, `dg list defs`)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import yaml

from tests.helpers import ROOT


def test_workspace_module_loads_definitions():
    workspace = yaml.safe_load((ROOT / "workspace.yaml").read_text())
    module = workspace["load_from"][0]["python_module"]["module_name"]
    loaded = __import__(module, fromlist=["defs"])
    assert isinstance(loaded.defs, dg.Definitions)
    dg.Definitions.validate_loadable(loaded.defs)


def _dg(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BEDROCK_", "DAGSTER_"))}
    env["DAGSTER_HOME"] = str(tmp_path)
    (tmp_path / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    dg_cli = Path(sys.executable).with_name("dg")
    return subprocess.run([str(dg_cli), *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=240)


def test_the_checkout_is_a_dg_project_that_checks_and_lists_its_definitions(tmp_path):
    check = _dg(tmp_path, "check", "defs")
    assert check.returncode == 0, check.stdout + check.stderr
    assert "All definitions loaded successfully" in check.stdout + check.stderr
    listed = _dg(tmp_path, "list", "defs", "--json")
    assert listed.returncode == 0, listed.stderr
    found = json.loads(listed.stdout)
    keys = {asset["asset_key"] for asset in found["assets"]}
    assert {"ops/job_ledger", "raw/job_payloads", "core/job_status_transitions",
            "marts/failure_rates", "report/jobs_report", "published/read_copy"} <= keys
    assert {"ingest", "refresh_in_flight", "backfill"} <= {j["name"] for j in found["jobs"]}
    assert "inbox_sensor" in {s["name"] for s in found["sensors"]}


def test_every_writing_job_ends_by_publishing_the_read_copy():
    defs = __import__("pipelines.definitions", fromlist=["defs"]).defs
    for job in defs.jobs:
        keys = {k.to_user_string() for k in
                defs.resolve_job_def(job.name).asset_layer.executable_asset_keys}
        assert "published/read_copy" in keys, job.name
