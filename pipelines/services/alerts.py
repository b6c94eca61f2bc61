"""Alerts: one webhook message per new regression or new stuck-job burst.

Plain functions the sensor (`pipelines/sensors.py`) calls: what to say
(`pending_alerts`, read off the marts), which of it is new (`AlertLedger`, kept in
the sensor's cursor: an alert is sent at most once per window, i.e. again only after
the window of what changed has passed since it was sent), and the delivery
(`deliver`: Slack-compatible `{"text": ...}` with retries and short timeouts).

The webhook URL is a secret like the API key: it reaches the code only through
`dg.EnvVar("BEDROCK_ALERT_WEBHOOK")` in `AlertWebhookResource`, is never logged, never
in run config, cursor, metadata, exceptions or the warehouse. A failed delivery is
logged by its exception's type or HTTP status only (a requests exception's text holds
the URL) and never raises.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import duckdb
import requests

from warehouse import stuck, what_changed
from warehouse.db import sql

DEFAULT_WINDOW_SECONDS = 24 * 3600.0
"""A stuck-job burst is sent again only after this long (24 h)."""
STUCK_BURST_MIN = 3
"""A job type with at least this many stuck jobs is a burst worth an alert."""
RETRY_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})


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


@dataclass(frozen=True)
class Alert:
    key: str  # what makes it "the same alert": type and metric, or the stuck type
    text: str
    window_seconds: float  # sent again only after this long


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
            window = _seconds(row["window_start"], row["window_end"])
            key = f"regression:{row['job_type']}:{row['metric']}"
            alerts.append(Alert(key, _regression_text(row) + link, window))
    if not stuck.in_flight_fetch(con, now).is_stale:  # stale: stuck can't be judged
        alerts += _stuck_alerts(con, link, stuck_burst_min)
    return alerts


def _stuck_alerts(con: duckdb.DuckDBPyConnection, link: str,
                  stuck_burst_min: int) -> list[Alert]:
    alerts = []
    for job_type, count, oldest, status in con.execute(sql("queries", "stuck_bursts"),
                                                       [stuck_burst_min]).fetchall():
        text = (f":rotating_light: Stuck jobs: {count} `{job_type}` jobs are stuck "
                f"(mostly {status}; the oldest for {oldest / 3600:.1f} h when last "
                f"fetched).{link}")
        alerts.append(Alert(f"stuck:{job_type}", text, DEFAULT_WINDOW_SECONDS))
    return alerts


def _regression_text(row: dict[str, Any]) -> str:
    """The message of one flagged row: new or flagged since when, the figures, the jobs
    behind them and how many days of data the baseline had."""
    metric, status = row["metric"], what_changed.flag_status(row)
    return (f":warning: Regression{f' ({status})' if status else ''}: `{row['job_type']}` "
            f"{metric} went from {what_changed.format_value(metric, row['baseline_value'])} "
            f"to {what_changed.format_value(metric, row['current_value'])} "
            f"({_ratio(row['ratio'])}; {row['current_n']} jobs created "
            f"{row['window_start']:%Y-%m-%d %H:%M} – {row['window_end']:%H:%M} UTC "
            f"against {row['baseline_n']} before{what_changed.baseline_suffix(row)}; "
            f"p={row['p_value']:.2g}).")


def _seconds(start: datetime, end: datetime) -> float:
    return max((end - start).total_seconds(), 1.0)


def _ratio(ratio: float | None) -> str:
    return f"×{ratio:.1f}" if ratio is not None else "from zero"


class AlertLedger:
    """When each alert was last sent (Unix seconds), as the sensor's cursor holds it."""

    def __init__(self, cursor: str | None) -> None:
        self.sent: dict[str, float] = json.loads(cursor)["sent"] if cursor else {}

    def is_new(self, alert: Alert, now: float) -> bool:
        last = self.sent.get(alert.key)
        return last is None or now - last >= alert.window_seconds

    def mark_sent(self, alert: Alert, now: float) -> None:
        self.sent[alert.key] = now

    def cursor(self, now: float, keep_seconds: float = 30 * 86_400.0) -> str:
        """The cursor text; entries older than `keep_seconds` are forgotten."""
        return json.dumps({"sent": {k: v for k, v in sorted(self.sent.items())
                                    if now - v < keep_seconds}})


def deliver(url: str, text: str, *, timeout: float = 5.0, attempts: int = 3,
            backoff: float = 0.5, log: logging.Logger | Any | None = None,
            sleep: Callable[[float], None] = time.sleep) -> bool:
    """POST `{"text": text}` to the webhook; True once it answers 2xx.

    Connection errors, timeouts and 408/425/429/5xx are retried (`attempts` in all, with
    doubling pauses); other statuses are final. Never raises; failures are logged without
    the URL.

    A loop, not urllib3's `Retry` on the session (tried): `Retry` logs the request's path,
    which is the webhook's secret, in loggers and messages of its own
    ("Incremented Retry for (url=...)"), and turns a timeout into a ConnectionError that
    no longer says what happened. Three attempts need no library.
    """
    log = log or logging.getLogger(__name__)
    _REDACT.add(url)
    outcome = "no attempt"
    for attempt in range(1, max(1, attempts) + 1):
        try:
            response = requests.post(url, json={"text": text}, timeout=(timeout, timeout))
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
        if attempt < attempts:
            sleep(backoff * 2 ** (attempt - 1))
    log.warning(f"alert webhook: delivery failed after {attempt} attempt(s) ({outcome}); "
                "it is tried again when the marts are next refreshed")
    return False


@dataclass(frozen=True)
class AlertRound:
    sent: list[Alert]
    failed: list[Alert]
    skipped: int  # already sent within their window
    cursor: str


def send_new_alerts(alerts: list[Alert], cursor: str | None, url: str, now: float, *,
                    timeout: float = 5.0, attempts: int = 3, backoff: float = 0.5,
                    log: logging.Logger | Any | None = None) -> AlertRound:
    """Deliver the alerts not sent within their window; the new cursor records the sent.

    After one delivery fails the others of the round are not tried (the receiver is down
    or hanging: trying each would hold the sensor for attempts × timeout per alert)."""
    ledger = AlertLedger(cursor)
    sent: list[Alert] = []
    failed: list[Alert] = []
    skipped = 0
    for alert in alerts:
        if not ledger.is_new(alert, now):
            skipped += 1
            continue
        if not failed and deliver(url, alert.text, timeout=timeout, attempts=attempts,
                                  backoff=backoff, log=log):
            ledger.mark_sent(alert, now)
            sent.append(alert)
        else:
            failed.append(alert)
    return AlertRound(sent, failed, skipped, ledger.cursor(now))

