"""The inbox sensor: a run for each new ID file dropped in `BEDROCK_INBOX`; the alerts
sensor: a webhook message per new regression or stuck-job burst.

On by default: wherever a Dagster daemon runs (`make ui` / `dg dev`, or
`dagster-daemon run` in production) a file dropped in the inbox starts a run.
Without a daemon nothing watches the inbox; `bedrock-jobs ingest` says so when
it sees files waiting there.
"""


import json
import sqlite3
import time

import dagster as dg

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
from pipelines.services.id_files import inbox_files
from warehouse import registry, what_changed
from warehouse.query import QueryError, open_read_only

WATCHED = dg.AssetKey(registry.table(what_changed.TABLE).key)
"""The mart whose refresh the alerts sensor follows: the last in the marts' run order."""


@dg.sensor(job=ingest, minimum_interval_seconds=30,
           default_status=dg.DefaultSensorStatus.RUNNING,
           description="On by default (it runs wherever the Dagster daemon runs): starts an "
                       "ingest run for every new file in the inbox (BEDROCK_INBOX; one ID per "
                       "line, or a CSV with a job_id column). Read files move to "
                       "inbox/processed/, refused ones to inbox/rejected/ with their reason.")
def inbox_sensor(context: dg.SensorEvaluationContext, inbox: InboxResource):
    folder = inbox.folder
    if not folder.is_dir():
        return dg.SkipReason(f"inbox {folder} does not exist yet")
    # The cursor holds the files already requested (name -> size, mtime), so a
    # file is requested once even if its run has not moved it aside yet.
    seen: dict[str, list[float]] = json.loads(context.cursor) if context.cursor else {}
    present = {p.name: p for p in inbox_files(folder)}
    requests = []
    for name, path in sorted(present.items()):
        stat = path.stat()
        signature = [stat.st_size, stat.st_mtime]
        if seen.get(name) == signature:
            continue
        seen[name] = signature
        requests.append(dg.RunRequest(
            run_key=f"{name}:{stat.st_size}:{stat.st_mtime_ns}",
            run_config={"ops": {"ops__job_ledger": {"config": {
                "inbox_files": [name], "discover": False}}}},
            tags={"bedrock/inbox_file": name},
        ))
    # Forget files that left the inbox, so the cursor stays small.
    context.update_cursor(json.dumps({k: v for k, v in seen.items() if k in present}))
    return requests or dg.SkipReason("no new files in the inbox")


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
    finally:
        con.close()
