"""Alerts: one webhook message per regression or stuck-job burst, per period.

Plain functions the sensor (`pipelines/sensors.py`) calls: what to say (`pending_alerts`,
read off the marts), the ledger of what was found and what was delivered (`AlertLedger`,
a small SQLite file beside the warehouse), and the delivery (`deliver`, `send_due`:
Slack-compatible `{"text": ...}` with short timeouts, inside the tick's time budget).

Exactly once. An alert is keyed by (job type, metric, period start). A period starts at
the marts refresh that finds a regression or burst with no period of its own in the last
`REPOST_AFTER_SECONDS` (23 h): a persisting one is posted again once a day, and a daily
refresh that runs up to an hour early still re-posts it. The ledger, not the sensor's
cursor, holds each alert and when it was delivered; it is written at once after every
post, so a tick that times out (Dagster keeps no cursor of it) or a restarted sensor
never posts it again. A tick claims an alert before posting it, so two ticks that
overlap (a timed-out tick's evaluation can still be running) never post the same one.
An undelivered alert is tried again at every later tick until it is delivered, its
`RETRY_WINDOW_SECONDS` (24 h) have passed, or a newer period of the same type and metric
replaces it. Only a process killed between the receiver's answer and the ledger's write
(a few milliseconds) can post one twice: a webhook offers nothing to make that atomic.

The webhook URL is a secret like the API key: it reaches the code only through
`dg.EnvVar("BEDROCK_ALERT_WEBHOOK")` in `AlertWebhookResource`, is never logged, never in
run config, cursor, ledger, metadata, exceptions or the warehouse, and goes only over
https (plain http only to a loopback host). A failed delivery is logged by its
exception's type or HTTP status only (a requests exception's text holds the URL) and
never raises.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import duckdb
import requests

from pipelines.bedrock.urls import LOOPBACK, carries_secrets_safely
from warehouse import stuck, what_changed
from warehouse.db import sql

REPOST_AFTER_SECONDS = 23 * 3600.0
"""A persisting alert opens a new period (is posted again) at the first refresh at least
this long after the refresh that opened its last period: once a day, an hour of slack."""
RETRY_WINDOW_SECONDS = 24 * 3600.0
"""An undelivered alert is tried again at every tick for this long after its refresh."""
TICK_BUDGET_SECONDS = 20.0
"""A sensor tick's time for everything (the warehouse wait, every delivery): well inside
Dagster's 60 s sensor timeout. What a tick has no time for, the next one tries."""
WAREHOUSE_WAIT_SECONDS = 10.0
"""How long a tick waits while a run writes the warehouse; then the next tick looks."""
KEEP_SECONDS = 30 * 86_400.0
"""Ledger rows older than this are deleted."""
STUCK_BURST_MIN = 3
"""A job type with at least this many stuck jobs is a burst worth an alert."""
STUCK_METRIC = "stuck"
"""The metric of a stuck-job burst in the ledger's key."""
RETRY_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})
MIN_ATTEMPT_SECONDS = 0.5  # an attempt needs at least this much of the tick left
WEBHOOK_REFUSED = f"BEDROCK_ALERT_WEBHOOK must be an https:// URL ({LOOPBACK}): no alerts are sent"


class _RedactWebhook(logging.Filter):
    """urllib3 logs each request's path at DEBUG, and a webhook's path is its secret: any
    record naming a webhook in use has it replaced before a handler sees it."""

    def __init__(self) -> None:
        super().__init__()
        self.secrets: set[str] = set()

    def add(self, url: str) -> None:
        parts = urlsplit(url)
        self.secrets |= {s for s in (url, parts.path, parts.query) if len(s) > 1}

    def filter(self, record: logging.LogRecord) -> bool:
        if self.secrets:
            text = record.getMessage()
            if any(secret in text for secret in self.secrets):
                for secret in sorted(self.secrets, key=len, reverse=True):
                    text = text.replace(secret, "<webhook>")
                record.msg, record.args = text, ()
        return True


_REDACT = _RedactWebhook()
logging.getLogger("urllib3.connectionpool").addFilter(_REDACT)


def webhook_problem(url: str) -> str | None:
    """Why alerts can't go to `url` (already stripped), or None. Never quotes the URL."""
    return None if carries_secrets_safely(url) else WEBHOOK_REFUSED


# -- What to say ----------------------------------------------------------------------------


def slack_escape(text: str) -> str:
    """`text` as Slack shows it literally: `&`, `<`, `>` escaped (Slack's only three), so
    `<!channel>` or `<https://…|…>` from the API is text, not a ping or a link."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_code(text: object) -> str:
    """`text` from the API as an inline code span: escaped, each backtick (which would end
    the span; Slack has no escape for it) shown as ˋ, line breaks as spaces."""
    flat = " ".join(str(text).split("\n")).replace("\r", " ").replace("`", "\u02cb")
    return f"`{slack_escape(flat)}`"


@dataclass(frozen=True)
class Alert:
    job_type: str
    metric: str  # a regression's metric, or STUCK_METRIC for a stuck-job burst
    text: str


def pending_alerts(con: duckdb.DuckDBPyConnection, run_url: str | None,
                   stuck_burst_min: int = STUCK_BURST_MIN,
                   now: datetime | None = None) -> list[Alert]:
    """Every alert the warehouse supports now: each regression, and each job type with at
    least `stuck_burst_min` stuck jobs (a burst), unless the data in flight is stale at
    `now` (default: the current time; `warehouse/stuck.py`). `run_url` links the run that
    refreshed the marts."""
    link = f"\nRun: {run_url}" if run_url else ""
    alerts = []
    if what_changed.is_computed(con):
        for row in what_changed.flagged(con):
            alerts.append(Alert(str(row["job_type"]), row["metric"],
                                _regression_text(row) + link))
    if not stuck.in_flight_fetch(con, now).is_stale:  # stale: stuck can't be judged
        alerts += _stuck_alerts(con, link, stuck_burst_min)
    return alerts


def _stuck_alerts(con: duckdb.DuckDBPyConnection, link: str,
                  stuck_burst_min: int) -> list[Alert]:
    alerts = []
    for job_type, count, oldest, status in con.execute(sql("queries", "stuck_bursts"),
                                                       [stuck_burst_min]).fetchall():
        text = (f":rotating_light: Stuck jobs: {count} {slack_code(job_type)} jobs are stuck "
                f"(mostly {slack_escape(str(status))}; the oldest for {oldest / 3600:.1f} h "
                f"when last fetched).{link}")
        alerts.append(Alert(str(job_type), STUCK_METRIC, text))
    return alerts


def _regression_text(row: dict[str, Any]) -> str:
    """The message of one flagged row: new or flagged since when, the figures, the jobs
    behind them and how many days of data the baseline had."""
    metric, status = row["metric"], what_changed.flag_status(row)
    return (f":warning: Regression{f' ({status})' if status else ''}: "
            f"{slack_code(row['job_type'])} "
            f"{metric} went from {what_changed.format_value(metric, row['baseline_value'])} "
            f"to {what_changed.format_value(metric, row['current_value'])} "
            f"({_ratio(row['ratio'])}; {row['current_n']} jobs created "
            f"{row['window_start']:%Y-%m-%d %H:%M} – {row['window_end']:%H:%M} UTC "
            f"against {row['baseline_n']} before{what_changed.baseline_suffix(row)}; "
            f"p={row['p_value']:.2g}).")


def _ratio(ratio: float | None) -> str:
    return f"×{ratio:.1f}" if ratio is not None else "from zero"


# -- The ledger -----------------------------------------------------------------------------

_SCHEMA = """
CREATE TABLE IF NOT EXISTS alerts (
    job_type      TEXT NOT NULL,
    metric        TEXT NOT NULL,     -- a regression's metric, or 'stuck' for a burst
    period_start  REAL NOT NULL,     -- Unix seconds: the marts refresh that found it
    text          TEXT NOT NULL,     -- the message, as found
    expires_at    REAL NOT NULL,     -- tried until then
    attempts      INTEGER NOT NULL DEFAULT 0,  -- deliveries tried
    last_tried_at REAL,
    claimed_until REAL,              -- a tick is delivering it until then
    sent_at       REAL,              -- delivered (the receiver answered 2xx)
    given_up      TEXT,              -- 'window passed' or 'superseded', undelivered
    PRIMARY KEY (job_type, metric, period_start)
)"""
_PENDING = "sent_at IS NULL AND given_up IS NULL"  # undelivered, not given up
_KEY = "job_type = ? AND metric = ? AND period_start = ?"
_SUPERSEDE = f"UPDATE alerts SET given_up = 'superseded' WHERE {_PENDING} AND job_type = ? AND metric = ?"  # noqa: E501, S608
_EXPIRE = f"UPDATE alerts SET given_up = 'window passed' WHERE {_PENDING} AND expires_at <= ?"  # noqa: S608
_DUE = (f"SELECT job_type, metric, period_start, text FROM alerts WHERE {_PENDING}"  # noqa: S608
        " AND expires_at > ? AND coalesce(claimed_until, 0) <= ?"
        " ORDER BY last_tried_at NULLS FIRST, period_start, metric, job_type")
_CLAIM = (f"UPDATE alerts SET claimed_until = ? WHERE {_KEY} AND {_PENDING}"  # noqa: S608
          " AND coalesce(claimed_until, 0) <= ?")
_SETTLE = ("UPDATE alerts SET sent_at = CASE WHEN ? THEN ? END, attempts = attempts + 1,"
           " last_tried_at = ?, claimed_until = NULL"
           " WHERE job_type = ? AND metric = ? AND period_start = ?")


def ledger_path(warehouse_path: str | Path) -> Path:
    """`warehouse/bedrock.duckdb` -> `warehouse/bedrock.alerts.sqlite`."""
    path = Path(warehouse_path)
    return path.with_name(f"{path.stem}.alerts.sqlite")


@dataclass(frozen=True)
class Entry:
    """One alert of the ledger that waits for delivery."""

    job_type: str
    metric: str
    period_start: float
    text: str

    @property
    def key(self) -> tuple[str, str, float]:
        return self.job_type, self.metric, self.period_start


class AlertLedger:
    """Every alert found and whether it was delivered, in a SQLite file: each change is
    its own committed transaction, so what a tick did survives the tick being dropped.

    SQLite (Python's own `sqlite3`) rather than the sensor's cursor, which Dagster saves
    only when a tick returns in time, and rather than the Dagster instance's key-value
    store, which can't claim an alert for one tick (no compare-and-set) and would add
    writes to the instance storage that runs already share."""

    def __init__(self, path: str | Path, busy_seconds: float = 5.0) -> None:
        self.path = Path(path)
        self.con = sqlite3.connect(self.path, timeout=busy_seconds, isolation_level=None)
        self.con.execute(_SCHEMA)

    def __enter__(self) -> AlertLedger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.con.close()

    def record(self, alerts: list[Alert], found_at: float) -> tuple[int, int]:
        """Add the alerts a refresh at `found_at` found: (new, already in their period).
        One that opens a new period replaces an older one of its type and metric still
        undelivered (the new text has the current figures)."""
        new = 0
        self.con.execute("BEGIN IMMEDIATE")  # one tick at a time decides what is new
        try:
            for alert in alerts:
                latest = self.con.execute(
                    "SELECT max(period_start) FROM alerts WHERE job_type = ? AND metric = ?",
                    (alert.job_type, alert.metric)).fetchone()[0]
                if latest is not None and found_at - latest < REPOST_AFTER_SECONDS:
                    continue
                self.con.execute(_SUPERSEDE, (alert.job_type, alert.metric))
                self.con.execute("INSERT INTO alerts (job_type, metric, period_start, text,"
                                 " expires_at) VALUES (?, ?, ?, ?, ?)",
                                 (alert.job_type, alert.metric, found_at, alert.text,
                                  found_at + RETRY_WINDOW_SECONDS))
                new += 1
            self.con.execute("COMMIT")
        except BaseException:
            self.con.execute("ROLLBACK")
            raise
        return new, len(alerts) - new

    def expire(self, now: float) -> int:
        """Give up the undelivered alerts whose window has passed; how many."""
        return self.con.execute(_EXPIRE, (now,)).rowcount

    def due(self, now: float) -> list[Entry]:
        """The undelivered alerts no tick is delivering: never tried first, then those
        tried longest ago, so a slow receiver can't starve any of them."""
        rows = self.con.execute(_DUE, (now, now)).fetchall()
        return [Entry(*row) for row in rows]

    def claim(self, entry: Entry, now: float, seconds: float) -> bool:
        """Take `entry` for this tick for `seconds`; False when another tick has it or it
        is no longer pending."""
        return self.con.execute(_CLAIM, (now + seconds, *entry.key, now)).rowcount == 1

    def settle(self, entry: Entry, delivered: bool, now: float) -> None:
        """Record a delivery's outcome and release the claim."""
        self.con.execute(_SETTLE, (delivered, now, now, *entry.key))

    def prune(self, now: float) -> None:
        self.con.execute("DELETE FROM alerts WHERE period_start < ?", (now - KEEP_SECONDS,))


# -- Delivery -------------------------------------------------------------------------------


def deliver(url: str, text: str, *, timeout: float = 5.0, attempts: int = 3,
            backoff: float = 0.5, log: logging.Logger | Any | None = None,
            sleep: Callable[[float], None] = time.sleep,
            deadline: float | None = None) -> bool:
    """POST `{"text": text}` to the webhook; True once it answers 2xx.

    Connection errors, timeouts and 408/425/429/5xx are retried (`attempts` in all, with
    doubling pauses); other statuses are final. Nothing is tried past `deadline` (a
    `time.monotonic()` value), and each attempt's timeouts fit in what is left. A URL
    that isn't https (or http to a loopback host) is refused, never posted to. Never
    raises; failures are logged without the URL.

    A loop, not urllib3's `Retry` on the session (tried): `Retry` logs the request's path,
    which is the webhook's secret, in loggers and messages of its own
    ("Incremented Retry for (url=...)"), and turns a timeout into a ConnectionError that
    no longer says what happened. Three attempts need no library.
    """
    log = log or logging.getLogger(__name__)
    if webhook_problem(url):
        log.warning(f"alert webhook: {WEBHOOK_REFUSED}")
        return False
    _REDACT.add(url)
    outcome, tried = "no time left in this tick", 0
    for attempt in range(1, max(1, attempts) + 1):
        left = float("inf") if deadline is None else deadline - time.monotonic()
        if left < MIN_ATTEMPT_SECONDS:
            break
        wait = min(timeout, left / 2)  # connect + read stay inside what is left
        tried = attempt
        try:
            response = requests.post(url, json={"text": text}, timeout=(wait, wait))
            response.close()
        except requests.RequestException as error:
            # The text of a requests exception holds the URL: only its type is logged.
            outcome = type(error).__name__
        else:
            if 200 <= response.status_code < 300:
                return True
            outcome = f"HTTP {response.status_code}"
            if response.status_code not in RETRY_STATUSES:
                break
        pause = backoff * 2 ** (attempt - 1)
        if attempt < attempts and (deadline is None or time.monotonic() + pause < deadline):
            sleep(pause)
    log.warning(f"alert webhook: delivery failed after {tried} attempt(s) ({outcome}); "
                "it is tried again at the next tick")
    return False


@dataclass(frozen=True)
class AlertRound:
    sent: int
    failed: int
    untried: int  # no time left in this tick: the next one tries them
    expired: int  # undelivered when their window passed: given up

    def describe(self) -> str:
        parts = [f"{self.sent} alert(s) sent", f"{self.failed} failed"]
        if self.untried:
            parts.append(f"{self.untried} left for the next tick")
        if self.expired:
            parts.append(f"{self.expired} given up undelivered after their window")
        return ", ".join(parts)


def send_due(ledger: AlertLedger, url: str, *, deadline: float, timeout: float = 5.0,
             attempts: int = 3, backoff: float = 0.5,
             log: logging.Logger | Any | None = None,
             clock: Callable[[], float] = time.time) -> AlertRound:
    """Deliver every alert the ledger holds undelivered, each claimed first and settled in
    the ledger as soon as the receiver answers, until `deadline` (`time.monotonic()`).
    A failed one never stops the others."""
    log = log or logging.getLogger(__name__)
    expired = ledger.expire(clock())
    if expired:
        log.warning(f"alert webhook: {expired} alert(s) given up undelivered: their window "
                    "has passed")
    sent = failed = untried = 0
    for entry in ledger.due(clock()):
        if deadline - time.monotonic() < MIN_ATTEMPT_SECONDS:
            untried += 1
            continue
        # The claim outlasts the tick: a tick that overran keeps it until it is done.
        if not ledger.claim(entry, clock(), 3 * TICK_BUDGET_SECONDS):
            continue  # another tick is delivering it
        ok = deliver(url, entry.text, timeout=timeout, attempts=attempts, backoff=backoff,
                     log=log, deadline=deadline)
        ledger.settle(entry, ok, clock())
        sent, failed = sent + ok, failed + (not ok)
    ledger.prune(clock())
    return AlertRound(sent, failed, untried, expired)
