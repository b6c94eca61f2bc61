"""The API key never leaves the environment: not in output, the Dagster instance, the
warehouse, the report, exception texts or reprs — checked with a canary key."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys

import duckdb

from pipelines.bedrock import ClientConfig
from pipelines.resources import BedrockApiResource
from pipelines.simulator import DataConfig, RateLimitConfig
from tests.helpers import cli_environment, read_rows


def _files_containing(root, needle: bytes) -> list[str]:
    found = []
    for dirpath, _, names in os.walk(root):
        for name in names:
            path = os.path.join(dirpath, name)
            with open(path, "rb") as handle:
                if needle in handle.read():
                    found.append(path)
    return found


def _warehouse_cells_containing(path, needle: str) -> int:
    with duckdb.connect(str(path), read_only=True) as con:
        columns = con.execute(
            "SELECT table_schema, table_name, column_name FROM information_schema.columns "
            "WHERE data_type IN ('VARCHAR', 'JSON') AND table_schema IN "
            "('ops', 'raw', 'core', 'marts')").fetchall()
        return sum(
            con.execute(f'SELECT count(*) FROM "{s}"."{t}" '  # noqa: S608 (catalog names)
                        f'WHERE CAST("{c}" AS VARCHAR) LIKE ?', [f"%{needle}%"]).fetchall()[0][0]
            for s, t, c in columns)


def test_a_key_with_line_breaks_or_quotes_inside_is_refused_unquoted():
    canary = "sk_canary_" + secrets.token_hex(8)
    assert ClientConfig(api_key=f"  {canary}\n").api_key == canary  # white space around it
    for broken in (f"{canary[:9]}\n{canary[9:]}", f"\u2018{canary}\u2019", f"{canary} x"):
        try:
            ClientConfig(api_key=broken)
        except ValueError as error:
            assert "BEDROCK_API_KEY" in str(error) and canary[10:] not in str(error)
        else:
            raise AssertionError(f"accepted {broken!r}")


def test_canary_key_appears_nowhere(make_simulator, tmp_path):
    canary = "sk_canary_" + secrets.token_hex(12)
    sim = make_simulator(DataConfig(jobs=300), api_keys=(canary,),
                         rate_limit=RateLimitConfig(enabled=False))
    root = tmp_path / "run"
    env = cli_environment(sim, root, canary)
    ids = tmp_path / "ids.txt"
    ids.write_text("job_missing\nbad id\n")
    outputs = []
    # A good run with the key as a secret file gives it (a newline after it), a refused
    # one (401 texts), and one the header can't carry (refused before any request).
    for key in (canary + "\n", canary + "_revoked", canary + "\u2019"):
        env["BEDROCK_API_KEY"] = key
        done = subprocess.run([sys.executable, "-m", "pipelines.tools.cli", "ingest", "--ids",
                               str(ids), "--discover"], env=env, capture_output=True,
                              text=True, timeout=300)
        outputs.append(done.stdout + done.stderr)
    assert "ingest finished" in outputs[0] and "BEDROCK_API_KEY" in outputs[1]
    assert "BEDROCK_API_KEY holds a character" in outputs[2] and "Traceback" not in outputs[2]
    # The key was really used: the good run loaded jobs, every one of them fetched with it.
    [(loaded,)] = read_rows(root / "wh.duckdb",
                            "SELECT count(*) FROM ops.job_ledger WHERE outcome = 'loaded'")
    assert loaded and sim.stats_snapshot()["responses"].get("200", 0) >= loaded

    assert not [o for o in outputs if canary in o]
    # Every file the runs left: the Dagster instance (run config, event log, compute
    # logs), the warehouse and its WAL, the report, the inbox.
    assert _files_containing(root, canary.encode()) == []
    assert _warehouse_cells_containing(root / "wh.duckdb", canary) == 0

    config = ClientConfig(base_url=sim.base_url, api_key=canary)
    resource = BedrockApiResource(base_url=sim.base_url, api_key=canary)
    assert canary not in repr(config) and canary not in str(config)
    assert canary not in repr(resource) and canary not in str(resource)
