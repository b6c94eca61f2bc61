"""The inbox sensor: a run for each new ID file dropped in `BEDROCK_INBOX`.

On by default: wherever a Dagster daemon runs (`make ui` / `dg dev`, or
`dagster-daemon run` in production) a file dropped in the inbox starts a run.
Without a daemon nothing watches the inbox; `bedrock-jobs ingest` says so when
it sees files waiting there.
"""


import json

import dagster as dg

from pipelines.id_files import inbox_files
from pipelines.jobs import ingest
from pipelines.resources import InboxResource


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
