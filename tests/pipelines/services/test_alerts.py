"""Alerts post exactly once per (type, metric, period) to a real webhook: across sensor
restarts and ticks that time out; a failed delivery is tried again at later ticks without
holding up the others; a tick stays well inside Dagster's 60 s sensor timeout with a
hanging receiver and a busy warehouse; a persisting regression comes back once a day
despite a schedule's jitter. The URL is stripped, refused over plain http to another
host, and appears nowhere; API text can't ping a channel. Stuck-job bursts are posted
only from fresh in-flight data."""

from __future__ import annotations

import json
import logging
import re
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
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
from pipelines.sensors import WATCHED, alerts_sensor
from pipelines.services.alerts import (
    REPOST_AFTER_SECONDS,
    TICK_BUDGET_SECONDS,
    Alert,
    AlertLedger,
    deliver,
    ledger_path,
    pending_alerts,
    send_due,
    slack_code,
)
from pipelines.simulator import DEMO_API_KEY, Clock, DataConfig, RateLimitConfig, Shift, Simulator
from tests.helpers import EPOCH, EPOCH_ISO, load_in_flight, stop
from warehouse.query import open_read_only

CANARY = "T0CANARY/B0SECRET/xoxb-canary-0123456789"  # the secret part of a webhook URL
DATA = DataConfig(jobs=1500, seed=5, history_days=3.0,
                  shifts=(Shift("symbol_match", "duration", 3.0, hours_before_epoch=24),))
MARTS_CONFIG = {"stuck_floor_seconds": 1.0, "regressions": {
    "window_end": EPOCH_ISO}}


class Receiver:
    """A webhook on loopback. `answer(text)` says how to treat each post: "ok" (200),
    "error" (500) or "hang" (200 after `hang_seconds`; 503 if `released` first)."""

    def __init__(self, mode: str = "ok", hang_seconds: float = 3.0) -> None:
        self.mode, self.hang_seconds = mode, hang_seconds
        self.answer: Callable[[str], str] = lambda text: self.mode
        self.bodies: list[dict] = []
        self.paths: list[str] = []
        self.delivered: list[str] = []  # texts answered 200
        self.released = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length))
                receiver.paths.append(self.path)
                receiver.bodies.append(body)
                how = receiver.answer(body["text"])
                if how == "hang" and receiver.released.wait(receiver.hang_seconds):
                    how = "gave up"
                status = {"ok": 200, "hang": 200, "error": 500}.get(how, 503)
                if status == 200:
                    receiver.delivered.append(body["text"])
                try:
                    self.send_response(status)
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"ok")
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the sender timed out and left

            def log_message(self, *args) -> None:  # quiet: the test reads its own records
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/services/{CANARY}"

    @property
    def texts(self) -> list[str]:
        return [body["text"] for body in self.bodies]

    def close(self) -> None:
        self.released.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Callable[..., Receiver]]:
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


@pytest.fixture
def site(refreshed, tmp_path) -> tuple[dg.DagsterInstance, Path, str]:
    """The refreshed warehouse copied for this test alone, so its alert ledger (beside
    it) starts empty; the instance holding the refresh is shared (tests add no events)."""
    instance, source, run_id = refreshed
    copy = tmp_path / "bedrock.duckdb"
    shutil.copy(source, copy)
    return instance, copy, run_id


@pytest.fixture
def own_instance(site) -> Iterator[tuple[dg.DagsterInstance, Path]]:
    """A Dagster instance of this test's own, whose marts refreshes the test reports."""
    with dg.instance_for_test() as instance:
        refresh(instance)
        yield instance, site[1]


def refresh(instance: dg.DagsterInstance) -> None:
    """A new materialization of the mart the sensor watches (the warehouse is unchanged)."""
    instance.report_runless_asset_event(dg.AssetMaterialization(WATCHED))


def _evaluate(instance: dg.DagsterInstance, path: Path, url: str, cursor: str | None = None,
              **alert_settings) -> tuple[dg.SkipReason, str | None]:
    context = dg.build_sensor_context(
        instance=instance, cursor=cursor,
        resources={"alerts": AlertWebhookResource(url=url, ui_url="http://ui.test",
                                                  **alert_settings),
                   "warehouse": WarehouseResource(path=str(path))})
    result = alerts_sensor(context)
    return result, context.cursor


def _expected(path: Path) -> int:
    """How many alerts the warehouse supports (the sensor's own read)."""
    con = open_read_only(path)
    try:
        return len(pending_alerts(con, None))
    finally:
        con.close()


def _once_each(hook: Receiver, expected: int) -> None:
    """Every alert arrived, none twice."""
    counts = Counter(hook.delivered)
    assert len(counts) == expected and set(counts.values()) == {1}, counts


def test_each_regression_and_burst_is_posted_once_with_numbers_and_a_link(site, receiver):
    instance, path, run_id = site
    hook = receiver("ok")
    result, cursor = _evaluate(instance, path, hook.url)
    texts = hook.texts
    assert all(set(body) == {"text"} for body in hook.bodies)
    with duckdb.connect(str(path), read_only=True) as con:
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
    assert result.skip_message.startswith(f"{len(texts)} alert(s) sent, 0 failed; "
                                          f"{len(texts)} new")

    # The same refresh again: nothing new, nothing waiting.
    result, cursor = _evaluate(instance, path, hook.url, cursor)
    assert result.skip_message == "no new refresh of the marts, no alert waiting"
    # A restarted sensor (no cursor) looks at the same refresh again: nothing is posted.
    result, _ = _evaluate(instance, path, hook.url, None)
    assert f"0 alert(s) sent, 0 failed; 0 new, {len(texts)} found before" \
        in result.skip_message
    _once_each(hook, len(texts))
    # The cursor holds only the refresh looked at: the ledger holds the alerts.
    assert set(json.loads(cursor)) == {"event"}
    with sqlite3.connect(ledger_path(path)) as ledger:
        assert ledger.execute("SELECT count(*) FROM alerts WHERE sent_at IS NOT NULL"
                              ).fetchone()[0] == len(texts)


def _logs(caplog, capsys) -> str:
    """What the sensor logged: Dagster's logger writes to stderr, not to caplog."""
    out, err = capsys.readouterr()
    return caplog.text + out + err


def test_a_failed_delivery_is_tried_again_at_the_next_tick_without_a_new_refresh(
        site, receiver, caplog, capsys):
    instance, path, _ = site
    expected = _expected(path)
    hook = receiver("error")
    with caplog.at_level(logging.DEBUG):
        result, cursor = _evaluate(instance, path, hook.url, attempts=3, backoff_seconds=0.01)
    # Every alert was tried, three times each: one failing doesn't stop the others.
    assert Counter(hook.texts) == Counter({text: 3 for text in set(hook.texts)})
    assert len(set(hook.texts)) == expected
    assert result.skip_message.startswith(f"0 alert(s) sent, {expected} failed")
    assert "delivery failed after 3 attempt(s) (HTTP 500)" in _logs(caplog, capsys)
    # The receiver recovers; no new refresh: the next tick delivers them, once.
    hook.mode = "ok"
    result, cursor = _evaluate(instance, path, hook.url, cursor)
    assert result.skip_message == f"{expected} alert(s) sent, 0 failed"
    result, cursor = _evaluate(instance, path, hook.url, cursor)
    assert result.skip_message == "no new refresh of the marts, no alert waiting"
    _once_each(hook, expected)


def test_one_failing_alert_does_not_hold_up_the_others(site, receiver):
    instance, path, _ = site
    expected = _expected(path)
    hook = receiver("ok")
    hook.answer = lambda text: "error" if "`symbol_match` total_p95" in text else "ok"
    result, cursor = _evaluate(instance, path, hook.url, attempts=2, backoff_seconds=0.01)
    assert result.skip_message.startswith(f"{expected - 1} alert(s) sent, 1 failed")
    assert len(hook.delivered) == expected - 1
    # Still failing at the next tick: only it is tried again.
    result, cursor = _evaluate(instance, path, hook.url, cursor, attempts=2,
                               backoff_seconds=0.01)
    assert result.skip_message == "0 alert(s) sent, 1 failed"
    assert sum("total_p95" in t for t in hook.texts) == 4
    hook.answer = lambda text: "ok"
    result, cursor = _evaluate(instance, path, hook.url, cursor)
    assert result.skip_message == "1 alert(s) sent, 0 failed"
    _once_each(hook, expected)


def test_a_tick_that_times_out_after_posting_posts_nothing_again(site, receiver):
    """Dagster drops a tick that overruns its timeout (its cursor is never saved) while
    the evaluation itself may go on in the code server. Here the first tick posts one
    alert, then hangs on the second; a new tick starts from the old cursor meanwhile."""
    instance, path, _ = site
    expected = _expected(path)
    hook = receiver("ok", hang_seconds=4.0)
    first_text: list[str] = []

    def answer(text: str) -> str:
        first_text.append(text)
        return "ok" if len(first_text) == 1 else "hang"

    hook.answer = answer
    dropped = threading.Thread(target=_evaluate, args=(instance, path, hook.url), daemon=True)
    dropped.start()
    deadline = time.monotonic() + 30
    while len(hook.bodies) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(hook.delivered) == 1  # posted, and the tick never returns in time
    hook.answer = lambda text: "ok"
    result, _ = _evaluate(instance, path, hook.url, None)  # the cursor of before that tick
    assert "0 new" in result.skip_message
    # The posted alert is not posted again; the one the dropped tick is delivering is
    # left to it; the rest go now.
    assert result.skip_message.startswith(f"{expected - 2} alert(s) sent, 0 failed")
    dropped.join(timeout=30)
    assert not dropped.is_alive()
    _once_each(hook, expected)


def test_a_hanging_receiver_and_a_busy_warehouse_keep_a_tick_within_its_budget(
        own_instance, receiver, caplog, capsys):
    """The worst case of a tick: a run holds the warehouse for longer than the tick waits,
    and every alert waiting for delivery hangs at the receiver. Default settings."""
    instance, path = own_instance
    expected = _expected(path)
    hook = receiver("error")
    result, cursor = _evaluate(instance, path, hook.url, backoff_seconds=0.01)
    assert result.skip_message.startswith(f"0 alert(s) sent, {expected} failed")
    hook.mode, hook.hang_seconds = "hang", 120.0
    refresh(instance)  # a new refresh, which the tick wants to read
    holder = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, sys, time; con = duckdb.connect(sys.argv[1]);"
         " print('locked', flush=True); time.sleep(120)", str(path)],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        started = time.monotonic()
        with caplog.at_level(logging.WARNING):
            result, cursor2 = _evaluate(instance, path, hook.url, cursor)
        took = time.monotonic() - started
    finally:
        stop(holder)
    # Measured worst case: the budget (20 s) plus the last attempt's slack; the sensor
    # timeout is 60 s.
    assert TICK_BUDGET_SECONDS - 6 < took < TICK_BUDGET_SECONDS + 3, took
    assert "warehouse not readable now" in result.skip_message
    assert "(ReadTimeout)" in _logs(caplog, capsys)
    assert json.loads(cursor2) == json.loads(cursor)  # that refresh is looked at again
    # The receiver answers again: the next tick reads the refresh, delivers the rest.
    hook.mode = "ok"
    hook.released.set()
    result, _ = _evaluate(instance, path, hook.url, cursor2)
    assert f"0 new, {expected} found before" in result.skip_message
    _once_each(hook, expected)


def test_the_webhook_is_stripped_and_plain_http_to_another_host_refused(
        own_instance, receiver, monkeypatch, caplog, capsys):
    instance, path = own_instance
    hook = receiver("ok")
    # A trailing newline (a secret read from a file) and spaces: stripped, posts arrive.
    monkeypatch.setenv("BEDROCK_ALERT_WEBHOOK", f"  {hook.url}\n")
    from pipelines.resources import build_resources
    resource = build_resources()["alerts"]
    context = dg.build_sensor_context(instance=instance, resources={
        "alerts": resource, "warehouse": WarehouseResource(path=str(path))})
    result = alerts_sensor(context)
    assert "0 failed" in result.skip_message and hook.bodies
    assert set(hook.paths) == {f"/services/{CANARY}"}
    # Over plain http to a host that isn't this machine: refused before anything is sent.
    for url in (f"http://hooks.slack.test/services/{CANARY}",
                f"http://10.0.0.7:{hook.server.server_address[1]}/services/{CANARY}",
                f"ftp://127.0.0.1/services/{CANARY}", f"https:///services/{CANARY}"):
        with caplog.at_level(logging.DEBUG):
            result, cursor = _evaluate(instance, path, url)
        assert "BEDROCK_ALERT_WEBHOOK must be an https:// URL" in result.skip_message
        assert cursor is None
        assert deliver(url, "hello") is False
    seen = _logs(caplog, capsys)
    assert "BEDROCK_ALERT_WEBHOOK must be an https:// URL" in seen and CANARY not in seen
    # Loopback over http is allowed, by name or by any 127.x address.
    for host in ("localhost", "127.0.0.1"):
        url = hook.url.replace("127.0.0.1", host)
        assert AlertWebhookResource(url=url).refusal is None
    assert AlertWebhookResource(url=f"https://hooks.slack.test/{CANARY}").refusal is None


def test_the_webhook_url_appears_nowhere(site, receiver, caplog, capsys):
    instance, path, run_id = site
    hook = receiver("error")
    closed = Receiver("ok")
    closed.close()  # a port nobody listens on: requests' error text would name the URL
    with caplog.at_level(logging.DEBUG):
        results = [_evaluate(instance, path, url, attempts=2, backoff_seconds=0.01)
                   for url in (hook.url, closed.url)]
        assert deliver(closed.url, "hello", attempts=1) is False
    assert hook.bodies and hook.paths[0] == f"/services/{CANARY}"  # it was used
    seen = _logs(caplog, capsys)
    seen += "".join(f"{r.skip_message}{c}" for r, c in results)
    assert "ConnectionError" in seen
    assert CANARY not in seen and "/services/" not in seen
    assert CANARY.encode() not in ledger_path(path).read_bytes()
    resource = AlertWebhookResource(url=hook.url)
    assert CANARY not in repr(resource) and CANARY not in str(resource)
    events = instance.fetch_materializations(dg.AssetKey(["marts", "regressions"]),
                                             limit=10).records
    assert events and all(CANARY not in str(e.event_log_entry) for e in events)
    with duckdb.connect(str(path), read_only=True) as con:
        columns = con.execute("SELECT table_schema, table_name, column_name FROM"
                              " information_schema.columns WHERE data_type = 'VARCHAR'"
                              " AND table_schema IN ('ops', 'raw', 'core', 'marts')").fetchall()
        for s, t, c in columns:
            assert con.execute(f'SELECT count(*) FROM "{s}"."{t}" WHERE "{c}" LIKE ?',
                               [f"%{CANARY}%"]).fetchone()[0] == 0


def test_no_webhook_no_alerts(site):
    instance, path, _ = site
    for url in ("", "  \n"):
        result, cursor = _evaluate(instance, path, url)
        assert "BEDROCK_ALERT_WEBHOOK is not set" in result.skip_message and cursor is None
    assert not ledger_path(path).exists()


def test_a_ledger_that_cannot_be_written_is_said_and_nothing_is_posted(site, receiver):
    instance, path, _ = site
    hook = receiver("ok")
    ledger_path(path).mkdir()  # where the file should be: SQLite can't open it
    result, cursor = _evaluate(instance, path, hook.url)
    assert result.skip_message.startswith(f"alert ledger {ledger_path(path)} not usable (")
    assert hook.bodies == [] and cursor is None


def test_marts_that_cannot_be_read_are_said_at_every_tick_not_raised(site, receiver):
    instance, path, _ = site
    hook = receiver("ok")
    with duckdb.connect(str(path)) as con:  # a warehouse of another version
        con.execute("CREATE OR REPLACE TABLE marts.stuck_jobs AS SELECT 1 AS other")
    for _ in range(2):
        result, cursor = _evaluate(instance, path, hook.url)
        assert "the marts could not be read for alerts (BinderException: " in (
            result.skip_message)
    # Nothing posted, and the cursor did not move past the refresh: the next tick reads it.
    assert hook.bodies == [] and "event" not in json.loads(cursor or "{}")


# -- Periods: once a day, whatever the schedule's jitter -------------------------------------

DAY = 86_400.0
T0 = datetime(2026, 3, 1, 2, 30, tzinfo=UTC).timestamp()  # the daily_marts schedule


def _tick(ledger: AlertLedger, hook: Receiver, alerts: list[Alert], found_at: float,
          now: float | None = None) -> None:
    ledger.record(alerts, found_at)
    send_due(ledger, hook.url, deadline=time.monotonic() + 5, attempts=1,
             clock=lambda: now if now is not None else found_at + 60)


def test_a_persisting_regression_is_posted_again_once_a_day_despite_jitter(tmp_path, receiver):
    hook = receiver("ok")
    alerts = [Alert("compare", "failure_rate", "worse"), Alert("compare", "stuck", "stuck")]
    with AlertLedger(tmp_path / "alerts.sqlite") as ledger:
        for minutes in (0, 40, 5 * 60):  # the refresh, a re-run, an ingest later that day
            _tick(ledger, hook, alerts, T0 + minutes * 60)
        assert hook.texts == ["worse", "stuck"]
        # The next day's refresh runs 35 minutes early (23 h 25 min later): posted again.
        _tick(ledger, hook, alerts, T0 + DAY - 35 * 60)
        assert hook.texts == ["worse", "stuck"] * 2
        # A re-run 50 minutes after it: nothing. A period counts from the refresh that
        # opened it (day 2, 01:55): day 3's refresh, 30 minutes late, is 25 h later.
        _tick(ledger, hook, alerts, T0 + DAY + 15 * 60)
        assert len(hook.texts) == 4
        _tick(ledger, hook, alerts, T0 + 2 * DAY + 30 * 60)
        assert hook.texts == ["worse", "stuck"] * 3
        # Never twice within 23 h of a period's start.
        _tick(ledger, hook, alerts, T0 + 2 * DAY + 30 * 60 + REPOST_AFTER_SECONDS - 1)
        assert len(hook.texts) == 6


KILLED_TICK = """
import sys, time
from pipelines.services.alerts import Alert, AlertLedger, send_due
with AlertLedger(sys.argv[1]) as ledger:
    ledger.record([Alert("compare", "failure_rate", "one"), Alert("convert", "failure_rate",
                   "two")], float(sys.argv[3]))
    send_due(ledger, sys.argv[2], deadline=time.monotonic() + 20, attempts=1,
             clock=lambda: float(sys.argv[3]))
"""


def test_a_tick_killed_after_posting_posts_nothing_again(tmp_path, receiver):
    """The process of a tick dies (SIGKILL) after one post was answered and while the
    next hangs: the answered one is in the ledger; the other is tried again once the
    dead tick's claim has lapsed."""
    hook = receiver("ok", hang_seconds=60.0)
    hook.answer = lambda text: "hang" if text == "two" else "ok"
    path = tmp_path / "alerts.sqlite"
    tick = subprocess.Popen([sys.executable, "-c", KILLED_TICK, str(path), hook.url, str(T0)])
    try:
        deadline = time.monotonic() + 30
        while len(hook.bodies) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert hook.texts == ["one", "two"] and hook.delivered == ["one"]
    finally:
        tick.kill()
        tick.wait()
    hook.answer = lambda text: "ok"
    with AlertLedger(path) as ledger:
        _tick(ledger, hook, [], T0, now=T0 + 30)  # the dead tick's claim holds
        assert hook.delivered == ["one"]
        _tick(ledger, hook, [], T0, now=T0 + 3 * TICK_BUDGET_SECONDS + 1)
    assert hook.delivered == ["one", "two"]


def test_an_undelivered_alert_is_given_up_after_its_window_or_replaced_by_a_newer_one(
        tmp_path, receiver):
    hook = receiver("error")
    with AlertLedger(tmp_path / "alerts.sqlite") as ledger:
        _tick(ledger, hook, [Alert("compare", "failure_rate", "day 1")], T0)
        _tick(ledger, hook, [], T0, now=T0 + 12 * 3600)  # tried again, no refresh
        assert hook.texts == ["day 1", "day 1"]
        # It persists: the next day's refresh (30 minutes early, inside the first one's
        # 24 h) has it with today's figures; only they go.
        hook.mode = "ok"
        _tick(ledger, hook, [Alert("compare", "failure_rate", "day 2")], T0 + DAY - 1800)
        assert hook.delivered == ["day 2"]
        # Another, undelivered all day: given up once its 24 h have passed.
        hook.mode = "error"
        _tick(ledger, hook, [Alert("convert", "failure_rate", "lost")], T0 + DAY)
        hook.mode = "ok"
        round_ = send_due(ledger, hook.url, deadline=time.monotonic() + 5,
                          clock=lambda: T0 + 2 * DAY + 1)
        assert (round_.sent, round_.expired) == (0, 1) and "lost" not in hook.delivered


# -- What the messages say ------------------------------------------------------------------

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def _stuck_alerts(con: duckdb.DuckDBPyConnection) -> list:
    return [alert for alert in pending_alerts(con, None, now=NOW)
            if alert.metric == "stuck"]


def test_text_from_the_api_can_not_ping_a_channel_nor_break_the_formatting(tmp_path):
    last = NOW - 5 * timedelta(minutes=1)
    jobs = {f"job_{i}": last - 2 * HOUR for i in range(3)}
    with warehouse.connect(tmp_path / "bedrock.duckdb") as con:
        load_in_flight(con, jobs, last, job_type="<!channel> `x` & <@U123|me>")
        warehouse.refresh_marts(con, now=NOW)
        [alert] = _stuck_alerts(con)
    assert "<!channel>" not in alert.text and "<@U123" not in alert.text
    assert "3 `&lt;!channel&gt; \u02cbx\u02cb &amp; &lt;@U123|me&gt;` jobs are stuck" \
        in alert.text
    assert alert.text.count("`") == 2  # one code span, unbroken
    assert slack_code("a\nb`c") == "`a b\u02cbc`"


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
    assert (alert.job_type, alert.metric) == ("compare", "stuck")
    assert "Stuck jobs: 3 `compare` jobs are stuck (mostly RUNNING; the oldest for 7.9 h" \
        in alert.text


def test_by_default_three_stuck_jobs_of_a_type_are_a_burst(tmp_path):
    # The default of docs/how-it-runs.md#defaults: 3 jobs make a burst.
    last = NOW - 5 * timedelta(minutes=1)
    with warehouse.connect(tmp_path / "bedrock.duckdb") as con:
        load_in_flight(con, {"job_1": last - 2 * HOUR, "job_2": last - 2 * HOUR}, last)
        warehouse.refresh_marts(con, now=NOW)
        assert _stuck_alerts(con) == []
        load_in_flight(con, {"job_3": last - 2 * HOUR}, last)
        warehouse.refresh_marts(con, now=NOW)
        assert len(_stuck_alerts(con)) == 1
