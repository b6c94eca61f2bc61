"""The API key never leaves the environment: not in output, the Dagster instance, the
warehouse, the report, exception texts or reprs — checked with a canary key."""

from __future__ import annotations

import ipaddress
import os
import secrets
import socket
import subprocess
import sys
import threading
import time

import duckdb
import pytest

from pipelines.bedrock import ClientConfig
from pipelines.resources import BedrockApiResource, build_resources
from pipelines.runner import run_job
from pipelines.simulator import DataConfig, RateLimitConfig
from tests.helpers import cli_environment, read_rows, run_cli


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


def test_a_key_goes_over_https_or_to_a_loopback_host_only():
    canary = "sk_canary_" + secrets.token_hex(8)
    for url in ("http://example.invalid", "HTTP://10.1.2.3:8000", "http://user:pw@api.test/",
                " http://example.invalid\n"):
        with pytest.raises(ValueError) as refused:
            ClientConfig(base_url=url, api_key=canary)
        said = str(refused.value)
        assert "BEDROCK_API_URL" in said and "https://" in said and "\n" not in said
        assert canary not in said and ":pw@" not in said
    for url in ("http://127.0.0.1:9", "http://127.3.4.5", "http://localhost:8000",
                "http://[::1]:8000", "https://api.test"):
        assert ClientConfig(base_url=url, api_key=canary).base_url == url
    assert ClientConfig(base_url=" https://api.test/ \n", api_key=canary).base_url == (
        "https://api.test")
    # Without a key there is no secret to keep off the wire.
    assert ClientConfig(base_url="http://example.invalid").base_url == "http://example.invalid"


def _address_off_loopback() -> str | None:
    """This machine's address on the interface it would route out of, if not loopback (a UDP
    `connect` sends nothing)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # TEST-NET-1
        except OSError:
            return None
        address = probe.getsockname()[0]
    return None if ipaddress.ip_address(address).is_loopback else address


class _Listener:
    """A TCP server on every interface that counts the connections it accepts."""

    def __init__(self) -> None:
        self.socket = socket.create_server(("0.0.0.0", 0))  # noqa: S104 (the point)
        self.socket.settimeout(0.2)
        self.port = self.socket.getsockname()[1]
        self.accepted = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                connection, _ = self.socket.accept()
            except TimeoutError:
                continue
            self.accepted += 1
            connection.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.socket.close()


def test_a_key_over_plain_http_is_refused_before_anything_is_sent(tmp_path, monkeypatch):
    address = _address_off_loopback()
    if address is None:
        pytest.skip("this machine has no address outside loopback to listen on")
    canary = "sk_canary_" + secrets.token_hex(8)
    listener = _Listener()
    url = f"http://{address}:{listener.port}"
    try:
        # The command: refused up front, in one line, before anything is staged.
        env = {k: v for k, v in os.environ.items() if not k.startswith(("BEDROCK_", "DAGSTER_"))}
        env.update(BEDROCK_API_URL=url + " \n", BEDROCK_API_KEY=canary,
                   DAGSTER_HOME=str(tmp_path / "home"), BEDROCK_INBOX=str(tmp_path / "inbox"))
        (tmp_path / "ids.txt").write_text("job_one\n")
        done = run_cli("ingest", "--ids", str(tmp_path / "ids.txt"), env=env)
        assert done.returncode == 2 and done.stdout == ""
        assert done.stderr.startswith(f"error: BEDROCK_API_URL is http://{address}: ")
        assert "https://" in done.stderr and len(done.stderr.splitlines()) == 1
        assert not (tmp_path / "inbox").exists()
        # A run however started (the UI, a schedule, the sensor): the fetch step refuses.
        monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home"))
        outcome = run_job("ingest", {"ops": {"ops__job_ledger": {"config": {
            "ids": ["job_one"]}}}}, resources=build_resources(
            api_url=url, api_key=canary, warehouse_path=str(tmp_path / "wh.duckdb"),
            inbox_path=str(tmp_path / "inbox")), log_level="ERROR")
        assert not outcome.success
        assert any("BEDROCK_API_URL" in f and "https://" in f for f in outcome.failures)
        assert canary not in outcome.log_path.read_text() + done.stderr
        assert listener.accepted == 0  # nothing reached it
        socket.create_connection((address, listener.port), timeout=5).close()
        for _ in range(50):  # and it was listening: our own connection arrives
            if listener.accepted:
                break
            time.sleep(0.1)
        assert listener.accepted == 1
    finally:
        listener.close()
