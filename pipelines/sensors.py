"""The inbox sensor: a run for each new ID file dropped in `BEDROCK_INBOX`; the alerts
sensor: a webhook message per new regression or stuck-job burst.

On by default: wherever a Dagster daemon runs (`make ui` / `dg dev`, or
`dagster-daemon run` in production) a file dropped in the inbox starts a run.
Without a daemon nothing watches the inbox; `bedrock-jobs ingest` says so when
it sees files waiting there.
"""


import json
import time

import dagster as dg

from pipelines.jobs import ingest
from pipelines.resources import AlertWebhookResource, InboxResource, WarehouseResource
from pipelines.services.alerts import pending_alerts, send_new_alerts
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
           description="When the marts were refreshed and BEDROCK_ALERT_WEBHOOK is set, posts "
                       "each new regression and stuck-job burst to the webhook (each at most "
                       "once per window; no stuck-job bursts while the data in flight is "
                       "stale; a failed delivery is logged, never fails anything).")
def alerts_sensor(context: dg.SensorEvaluationContext, alerts: AlertWebhookResource,
                  warehouse: WarehouseResource):
    if not alerts.enabled:
        return dg.SkipReason("BEDROCK_ALERT_WEBHOOK is not set: no alerts")
    # The cursor: the last marts refresh looked at, and when each alert was sent.
    state = json.loads(context.cursor) if context.cursor else {}
    records = context.instance.fetch_materializations(WATCHED, limit=1).records
    if not records or records[0].storage_id == state.get("event"):
        return dg.SkipReason("no new refresh of the marts")
    event = records[0]
    try:
        con = open_read_only(warehouse.path)
    except QueryError as error:
        return dg.SkipReason(f"warehouse not readable now: {error}")
    try:
        found = pending_alerts(con, alerts.run_url(event.event_log_entry.run_id),
                               alerts.stuck_burst_min)
    finally:
        con.close()
    outcome = send_new_alerts(
        found, json.dumps({"sent": state.get("sent", {})}), alerts.url, time.time(),
        timeout=alerts.timeout_seconds, attempts=alerts.attempts,
        backoff=alerts.backoff_seconds, log=context.log)
    context.update_cursor(json.dumps({"event": event.storage_id,
                                      **json.loads(outcome.cursor)}))
    summary = (f"{len(outcome.sent)} alert(s) sent, {len(outcome.failed)} failed, "
               f"{outcome.skipped} already sent in their window")
    context.log.info(summary)
    return dg.SkipReason(summary)
