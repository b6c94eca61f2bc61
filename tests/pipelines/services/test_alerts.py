"""Alerts post once per window to a real webhook, survive 500s and hangs, never leak the URL;
stuck-job bursts are posted only from fresh in-flight data."""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import dagster as dg
import duckdb
import pytest

import warehouse
from assets.checks import ALL_CHECKS
from assets.core import core_tables
from assets.fetch import job_payloads
from assets.intake import job_ledger
from assets.marts import mart_tables
from pipelines.resources import (
    AlertWebhookResource,
    BedrockApiResource,
    InboxResource,
    WarehouseResource,
)
from pipelines.sensors import alerts_sensor
from pipelines.services.alerts import AlertLedger, deliver, pending_alerts
from pipelines.simulator import DEMO_API_KEY, Clock, DataConfig, RateLimitConfig, Shift, Simulator
from tests.helpers import EPOCH, EPOCH_ISO, load_in_flight

CANARY = "T0CANARY/B0SECRET/xoxb-canary-0123456789"  # the secret part of a webhook URL
DATA = DataConfig(jobs=1500, seed=5, history_days=3.0,
                  shifts=(Shift("symbol_match", "duration", 3.0, hours_before_epoch=24),))
MARTS_CONFIG = {"stuck_floor_seconds": 1.0, "regressions": {
    "window_end": EPOCH_ISO}}


class Receiver:
    """A webhook on loopback: `mode` is ok (200), error (500) or hang (answers late)."""

    def __init__(self, mode: str = "ok", hang_seconds: float = 3.0) -> None:
        self.mode, self.hang_seconds = mode, hang_seconds
        self.bodies: list[dict] = []
        self.paths: list[str] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length))
                receiver.paths.append(self.path)
                receiver.bodies.append(body)
                if receiver.mode == "hang":
                    time.sleep(receiver.hang_seconds)
                status = 200 if receiver.mode == "ok" else 500
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args) -> None:  # quiet: the test reads its own records
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/services/{CANARY}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receivers: list[Receiver] = []

    def make(mode: str = "ok", **kwargs) -> Receiver:
        receivers.append(Receiver(mode, **kwargs))
        return receivers[-1]

    yield make
    for r in receivers:
        r.close()


@pytest.fixture(scope="module")
def refreshed(tmp_path_factory) -> Iterator[tuple[dg.DagsterInstance, Path, str]]:
    """One real pipeline run against a simulator whose symbol_match got 3x slower."""
    root = tmp_path_factory.mktemp("alerts")
    sim = Simulator(DATA, clock=Clock.fixed(EPOCH),
                    rate_limit=RateLimitConfig(enabled=False)).start()
    warehouse = root / "bedrock.duckdb"
    (root / "inbox").mkdir()
    try:
        with dg.instance_for_test() as instance:
            result = dg.materialize(
                [job_ledger, job_payloads, core_tables, mart_tables, *ALL_CHECKS],
                instance=instance,
                resources={"bedrock": BedrockApiResource(base_url=sim.base_url,
                                                         api_key=DEMO_API_KEY, workers=8),
                           "warehouse": WarehouseResource(path=str(warehouse)),
                           "inbox": InboxResource(path=str(root / "inbox"))},
                run_config={"ops": {"ops__job_ledger": {"config": {"discover": True}},
                                    "mart_tables": {"config": MARTS_CONFIG}}},
            )
            assert result.success
            yield instance, warehouse, result.run_id
    finally:
        sim.stop()


def _evaluate(refreshed, url: str, cursor: str | None = None, **alert_settings):
    instance, warehouse, _ = refreshed
    context = dg.build_sensor_context(
        instance=instance, cursor=cursor,
        resources={"alerts": AlertWebhookResource(url=url, ui_url="http://ui.test",
                                                  **alert_settings),
                   "warehouse": WarehouseResource(path=str(warehouse))})
    result = alerts_sensor(context)
    return result, context.cursor


def test_each_regression_and_burst_is_posted_once_with_numbers_and_a_link(refreshed, receiver):
    instance, warehouse, run_id = refreshed
    hook = receiver("ok")
    result, cursor = _evaluate(refreshed, hook.url)
    texts = [body["text"] for body in hook.bodies]
    assert all(set(body) == {"text"} for body in hook.bodies)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        flagged = con.execute("SELECT job_type, metric FROM marts.regressions"
                              " WHERE is_regression").fetchall()
        bursts = con.execute("SELECT job_type FROM marts.stuck_jobs GROUP BY ALL"
                             " HAVING count(*) >= 3").fetchall()
    assert flagged and bursts
    assert len(texts) == len(flagged) + len(bursts)
    total = next(t for t in texts if "total_p95_seconds" in t)
    assert "`symbol_match` total_p95_seconds went from " in total
    assert " to " in total and "p=" in total and "jobs created" in total
    # New at this refresh, and how much baseline it had: the simulator's three days of
    # history give two of the fourteen configured.
    assert total.startswith(":warning: Regression (new): ")
    assert re.search(r" before; baseline: 2\.0 days of data; p=", total), total
    assert f"http://ui.test/runs/{run_id}" in total
    assert all(f"/runs/{run_id}" in t for t in texts)
    assert sum("Stuck jobs:" in t for t in texts) == len(bursts)
    assert f"{len(texts)} alert(s) sent, 0 failed" in result.skip_message

    # The same refresh again: nothing new.
    result, cursor = _evaluate(refreshed, hook.url, cursor)
    assert result.skip_message == "no new refresh of the marts" and len(hook.bodies) == len(texts)
    # A later refresh finding the same regressions within their window: still nothing.
    state = json.loads(cursor)
    state["event"] = -1
    result, cursor = _evaluate(refreshed, hook.url, json.dumps(state))
    assert len(hook.bodies) == len(texts)
    assert f"0 alert(s) sent, 0 failed, {len(texts)} already sent" in result.skip_message
    # Once a window has passed, they are news again.
    state = json.loads(cursor)
    state["event"] = -1
    state["sent"] = {k: v - 25 * 3600 for k, v in state["sent"].items()}
    _evaluate(refreshed, hook.url, json.dumps(state))
    assert len(hook.bodies) == 2 * len(texts)


def _logs(caplog, capsys) -> str:
    """What the sensor logged: Dagster's logger writes to stderr, not to caplog."""
    out, err = capsys.readouterr()
    return caplog.text + out + err


def test_a_receiver_answering_500_is_retried_then_logged_and_nothing_fails(
        refreshed, receiver, caplog, capsys):
    hook = receiver("error")
    with caplog.at_level(logging.DEBUG):
        result, cursor = _evaluate(refreshed, hook.url, attempts=3, backoff_seconds=0.01)
    # Three attempts at the first alert, then the round stops: the receiver is down.
    assert len(hook.bodies) == 3 and len({b["text"] for b in hook.bodies}) == 1
    assert "0 alert(s) sent" in result.skip_message and "failed" in result.skip_message
    assert "delivery failed after 3 attempt(s) (HTTP 500)" in _logs(caplog, capsys)
    assert json.loads(cursor)["sent"] == {}  # tried again at the next refresh
    # Once the receiver works, the next refresh delivers them.
    hook.mode = "ok"
    state = json.loads(cursor)
    state["event"] = -1
    result, _ = _evaluate(refreshed, hook.url, json.dumps(state))
    assert "0 failed" in result.skip_message and len(hook.bodies) > 3


def test_a_hanging_receiver_costs_only_the_timeouts(refreshed, receiver, caplog, capsys):
    hook = receiver("hang", hang_seconds=5.0)
    started = time.monotonic()
    with caplog.at_level(logging.WARNING):
        result, cursor = _evaluate(refreshed, hook.url, timeout_seconds=0.3, attempts=2,
                                   backoff_seconds=0.01)
    assert time.monotonic() - started < 4.0
    assert len(hook.bodies) == 2
    assert "(ReadTimeout)" in _logs(caplog, capsys)
    assert "0 alert(s) sent" in result.skip_message
    assert json.loads(cursor)["sent"] == {}


def test_no_webhook_no_alerts(refreshed):
    result, cursor = _evaluate(refreshed, "")
    assert "BEDROCK_ALERT_WEBHOOK is not set" in result.skip_message and cursor is None


def test_the_webhook_url_appears_nowhere(refreshed, receiver, caplog, capsys, monkeypatch):
    instance, warehouse, _ = refreshed
    hook = receiver("error")
    closed = Receiver("ok")
    closed.close()  # a port nobody listens on: requests' error text would name the URL
    with caplog.at_level(logging.DEBUG):
        results = [_evaluate(refreshed, url, attempts=2, backoff_seconds=0.01)
                   for url in (hook.url, closed.url)]
        assert deliver(closed.url, "hello", attempts=1) is False
    assert len(hook.bodies) == 2 and hook.paths[0] == f"/services/{CANARY}"  # it was used
    seen = _logs(caplog, capsys)
    seen += "".join(f"{r.skip_message}{c}" for r, c in results)
    assert "ConnectionError" in seen
    assert CANARY not in seen and "/services/" not in seen
    # The resource built from the environment (an EnvVar, resolved when the sensor runs):
    # it posts, and the URL is not in its repr, the result, nor in any event.
    monkeypatch.setenv("BEDROCK_ALERT_WEBHOOK", hook.url)
    from pipelines.resources import build_resources
    resource = build_resources()["alerts"]
    assert CANARY not in repr(resource) and CANARY not in str(resource)
    posted = len(hook.bodies)
    context = dg.build_sensor_context(instance=instance, resources={
        "alerts": resource, "warehouse": WarehouseResource(path=str(warehouse))})
    result = alerts_sensor(context)
    assert len(hook.bodies) > posted and CANARY not in f"{result.skip_message}{context.cursor}"
    events = instance.fetch_materializations(dg.AssetKey(["marts", "regressions"]),
                                             limit=10).records
    assert events and all(CANARY not in str(e.event_log_entry) for e in events)
    logs = instance.all_logs(refreshed[2])
    assert logs and all(CANARY not in str(entry) for entry in logs)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        columns = con.execute("SELECT table_schema, table_name, column_name FROM"
                              " information_schema.columns WHERE data_type = 'VARCHAR'"
                              " AND table_schema IN ('ops', 'raw', 'core', 'marts')").fetchall()
        for s, t, c in columns:
            assert con.execute(f'SELECT count(*) FROM "{s}"."{t}" WHERE "{c}" LIKE ?',
                               [f"%{CANARY}%"]).fetchone()[0] == 0


NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def _stuck_alerts(con: duckdb.DuckDBPyConnection) -> list:
    return [alert for alert in pending_alerts(con, None, now=NOW)
            if alert.key.startswith("stuck:")]


def test_no_stuck_alerts_while_the_data_in_flight_is_stale(tmp_path):
    last = NOW - 6 * HOUR  # the last fetch that worked: an outage since
    jobs = {f"job_{i}": last - 2 * HOUR for i in range(3)}
    with warehouse.connect(tmp_path / "bedrock.duckdb") as con:
        load_in_flight(con, jobs, last)
        warehouse.refresh_marts(con, now=NOW)
        assert _stuck_alerts(con) == []
        # A fetch works again and finds them still running: the burst is news.
        load_in_flight(con, jobs, NOW - 5 * timedelta(minutes=1))
        warehouse.refresh_marts(con, now=NOW)
        [alert] = _stuck_alerts(con)
    assert alert.key == "stuck:compare"
    assert "Stuck jobs: 3 `compare` jobs are stuck (mostly RUNNING; the oldest for 7.9 h" \
        in alert.text


def test_by_default_three_stuck_jobs_of_a_type_are_a_burst_sent_again_after_a_day(tmp_path):
    # The defaults of docs/how-it-runs.md#defaults: 3 jobs make a burst; 24 h between posts.
    last = NOW - 5 * timedelta(minutes=1)
    with warehouse.connect(tmp_path / "bedrock.duckdb") as con:
        load_in_flight(con, {"job_1": last - 2 * HOUR, "job_2": last - 2 * HOUR}, last)
        warehouse.refresh_marts(con, now=NOW)
        assert _stuck_alerts(con) == []
        load_in_flight(con, {"job_3": last - 2 * HOUR}, last)
        warehouse.refresh_marts(con, now=NOW)
        [alert] = _stuck_alerts(con)
    ledger = AlertLedger(None)
    sent = NOW.timestamp()
    ledger.mark_sent(alert, sent)
    assert not ledger.is_new(alert, sent + 23 * 3600)
    assert ledger.is_new(alert, sent + 25 * 3600)
