"""The inbox sensor: a run for each new ID file dropped in `BEDROCK_INBOX`; the alerts
sensor: a webhook message per new regression or stuck-job burst.

On by default: wherever a Dagster daemon runs (`make ui` / `dg dev`, or
`dagster-daemon run` in production) a file dropped in the inbox starts a run.
Without a daemon nothing watches the inbox; `bedrock-jobs ingest` says so when
it sees files waiting there.
"""


import json
import os
import sqlite3
import time

import dagster as dg
import duckdb

from assets.intake import intake_run_config
from pipelines.jobs import ingest
from pipelines.resources import AlertWebhookResource, InboxResource, WarehouseResource
from pipelines.services.alerts import (
    TICK_BUDGET_SECONDS,
    WAREHOUSE_WAIT_SECONDS,
    Alert,
    AlertLedger,
    ledger_path,
    pending_alerts,
    send_due,
)
from pipelines.services.id_files import readable_inbox_files
from pipelines.services.text import one_line
from warehouse import registry, what_changed
from warehouse.query import QueryError, open_read_only

WATCHED = dg.AssetKey(registry.table(what_changed.TABLE).key)
"""The mart whose refresh the alerts sensor follows: the last in the marts' run order."""


# The tags of a run the inbox sensor requests: the file's name, and the request itself
# (its run key), by which a later tick finds that run again.
INBOX_FILE_TAG = "bedrock/inbox_file"
INBOX_REQUEST_TAG = "bedrock/inbox_request"
MAX_RETRY_SECONDS = 86_400  # a file's runs are requested again at least once a day


@dg.sensor(job=ingest, minimum_interval_seconds=30,
           default_status=dg.DefaultSensorStatus.RUNNING,
           description="On by default (it runs wherever the Dagster daemon runs): starts an "
                       "ingest run for every file in the inbox (BEDROCK_INBOX; one ID per "
                       "line, or a CSV with a job_id column) once its size and mtime held "
                       "still across two ticks. Read files move to inbox/processed/, refused "
                       "ones and symbolic links to inbox/rejected/ with their reason; a file "
                       "still there after its run ended is requested again.")
def inbox_sensor(context: dg.SensorEvaluationContext, inbox: InboxResource):
    folder = inbox.folder
    if not folder.is_dir():
        return dg.SkipReason(f"inbox {folder} does not exist yet")
    # The cursor holds, per file in the inbox, its size and mtime at the last tick and,
    # once requested, the request: a file is requested once it held still, and again
    # only if it is still here after its run ended (a run moves what it read).
    seen = _inbox_cursor(context.cursor)
    now = time.time()
    kept, requests, waiting = {}, [], []
    for path in readable_inbox_files(folder):  # symbolic links: set aside, with the reason
        try:
            info = path.stat(follow_symlinks=False)
        except FileNotFoundError:  # read and moved by a run meanwhile
            continue
        kept[path.name], request = _inbox_step(seen.get(path.name), path.name, info, now,
                                               inbox, context)
        if request:
            requests.append(request)
        elif "request" not in kept[path.name]:
            waiting.append(path.name)
    # Files that left the inbox are forgotten: the cursor stays small, and one moved back
    # in later is a new arrival.
    context.update_cursor(json.dumps({"files": kept}))
    if requests:
        return requests
    return dg.SkipReason(f"waiting for {len(waiting)} file(s) to hold still: "
                         f"{', '.join(waiting[:5])}" if waiting else "no new files in the inbox")


def _inbox_cursor(cursor: str | None) -> dict[str, dict]:
    state = json.loads(cursor) if cursor else {}
    files = state.get("files") if isinstance(state, dict) else None
    return files if isinstance(files, dict) else {}  # an older cursor's shape: start afresh


def _inbox_step(entry: dict | None, name: str, info: os.stat_result, now: float,
                inbox: InboxResource, context: dg.SensorEvaluationContext,
                ) -> tuple[dict, dg.RunRequest | None]:
    """A file's next cursor entry, and the run to request for it, if one is due."""
    signature = [info.st_size, info.st_mtime_ns]
    # Moving a file (even back in, mtime kept) changes its ctime; a copy, its inode too.
    arrival = [info.st_ino, info.st_ctime_ns]
    if entry is None or entry.get("signature") != signature:
        return {"signature": signature}, None  # seen first, or changed since: wait a tick
    if "request" not in entry or entry.get("arrival") != arrival:
        return _inbox_request(name, signature, arrival, 1, now)  # held still: read it
    if _unread_after_its_run(entry, now, inbox, context):
        return _inbox_request(name, signature, arrival, entry["attempt"] + 1, now)
    return entry, None


def _inbox_request(name: str, signature: list[int], arrival: list[int], attempt: int,
                   now: float) -> tuple[dict, dg.RunRequest]:
    key = ":".join(map(str, [name, *signature, *arrival, attempt]))
    entry = {"signature": signature, "arrival": arrival, "request": key,
             "attempt": attempt, "requested_at": now}
    return entry, dg.RunRequest(
        run_key=key,
        run_config=intake_run_config(inbox_files=[name], discover=False),
        tags={INBOX_FILE_TAG: name, INBOX_REQUEST_TAG: key},
    )


def _unread_after_its_run(entry: dict, now: float, inbox: InboxResource,
                          context: dg.SensorEvaluationContext) -> bool:
    """True when a requested file is still here long enough after its request (the wait
    doubling with each attempt) and its run is over, or never came to be."""
    wait = min(inbox.retry_after_seconds * 2 ** (entry["attempt"] - 1), MAX_RETRY_SECONDS)
    if now - entry["requested_at"] < wait:
        return False
    runs = context.instance.get_runs(
        filters=dg.RunsFilter(tags={INBOX_REQUEST_TAG: entry["request"]}), limit=1)
    return not runs or runs[0].is_finished


@dg.sensor(minimum_interval_seconds=60, default_status=dg.DefaultSensorStatus.RUNNING,
           description="When BEDROCK_ALERT_WEBHOOK is set (https, or http to a loopback host), "
                       "posts each regression and stuck-job burst a marts refresh finds to the "
                       "webhook, once per period (posted again after 23 h if it persists; "
                       "none while the data in flight is stale). Its ledger beside the "
                       "warehouse keeps what was delivered: a failed delivery is tried again "
                       "at later ticks for 24 h; never fails anything.")
def alerts_sensor(context: dg.SensorEvaluationContext, alerts: AlertWebhookResource,
                  warehouse: WarehouseResource):
    if not alerts.enabled:
        return dg.SkipReason("BEDROCK_ALERT_WEBHOOK is not set: no alerts")
    if alerts.refusal:
        context.log.error(alerts.refusal)
        return dg.SkipReason(alerts.refusal)
    deadline = time.monotonic() + TICK_BUDGET_SECONDS  # the whole tick, well inside 60 s
    # The cursor holds only the last marts refresh looked at; what was found and delivered
    # is in the ledger, which a timed-out tick (whose cursor Dagster drops) can't lose.
    state = json.loads(context.cursor) if context.cursor else {}
    records = context.instance.fetch_materializations(WATCHED, limit=1).records
    event = records[0] if records and records[0].storage_id != state.get("event") else None
    path = ledger_path(warehouse.path)
    if event is None and not path.exists():
        return dg.SkipReason("no new refresh of the marts")
    try:
        with AlertLedger(path) as ledger:
            notes = _record(ledger, event, state, alerts, warehouse, deadline)
            outcome = send_due(ledger, alerts.webhook, deadline=deadline,
                               timeout=alerts.timeout_seconds, attempts=alerts.attempts,
                               backoff=alerts.backoff_seconds, log=context.log)
    except sqlite3.Error as error:  # e.g. a read-only folder, a full disk
        problem = f"alert ledger {path} not usable ({error}): no alerts sent"
        context.log.error(problem)
        return dg.SkipReason(problem)
    context.update_cursor(json.dumps(state))
    if event is None and not (outcome.sent or outcome.failed or outcome.expired):
        return dg.SkipReason("no new refresh of the marts, no alert waiting")
    summary = "; ".join([outcome.describe(), *notes])
    context.log.info(summary)
    return dg.SkipReason(summary)


def _record(ledger: AlertLedger, event: dg.EventLogRecord | None, state: dict,
            alerts: AlertWebhookResource, warehouse: WarehouseResource,
            deadline: float) -> list[str]:
    """Add to the ledger what a new refresh found; `state["event"]` moves to it once read."""
    if event is None:
        return []
    found = _found(event, alerts, warehouse, deadline)
    if isinstance(found, str):
        return [found]  # the cursor stays: the next tick looks again
    new, known = ledger.record(found, event.timestamp)
    state["event"] = event.storage_id
    return [f"{new} new, {known} found before in their period"]


def _found(event: dg.EventLogRecord, alerts: AlertWebhookResource,
           warehouse: WarehouseResource, deadline: float) -> list[Alert] | str:
    """The alerts the refresh of `event` found, or why the warehouse can't be read now
    (a run writes it for longer than the tick can wait)."""
    wait = max(0.0, min(WAREHOUSE_WAIT_SECONDS, deadline - time.monotonic() - 5.0))
    try:
        con = open_read_only(warehouse.path, wait_seconds=wait)
    except QueryError as error:
        return f"warehouse not readable now ({error}); the next tick looks again"
    try:
        return pending_alerts(con, alerts.run_url(event.event_log_entry.run_id),
                              alerts.stuck_burst_min)
    except duckdb.Error as error:  # e.g. a warehouse of another version: say so, every tick
        return f"the marts could not be read for alerts ({one_line(error)})"
    finally:
        con.close()
