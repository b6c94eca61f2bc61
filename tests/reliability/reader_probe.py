"""A second process that reads the warehouse every 100 ms until told to stop.

Run by test_concurrent_readers.py: `python reader_probe.py WAREHOUSE STOP_FILE [MODE]`.
MODE `live` (default) opens the working file the way `bedrock-jobs sql --live` does
(waiting out the writer's lock); MODE `published` opens the published copy the way
any other client does: a plain `duckdb.connect(copy, read_only=True)`, no retry, no
session macros. Prints one JSON line: queries made, failures, inconsistencies seen.
"""

import json
import sys
import time
from pathlib import Path

import duckdb

from warehouse.publish import read_copy_path
from warehouse.query import QueryError, open_read_only

# A batch half-written would show as a job whose transitions are not events - 1, a
# ledger row `loaded` without its raw payload (raw and the ledger land together), or a
# job missing from core although core's watermark has passed its payload (a core chunk
# half-written). Core lags raw during a fetch by design; at a run's end it has caught up.
CONSISTENCY = """
WITH events AS (SELECT job_id, count(*) AS n FROM core.job_events GROUP BY job_id),
transitions AS (SELECT job_id, count(*) AS n FROM core.job_status_transitions GROUP BY job_id)
SELECT
    (SELECT count(*) FROM events LEFT JOIN transitions USING (job_id)
     WHERE coalesce(transitions.n, 0) <> events.n - 1) AS torn_jobs,
    (SELECT count(*) FROM ops.job_ledger AS l
     WHERE l.outcome = 'loaded' AND NOT EXISTS (
         SELECT 1 FROM raw.latest_payloads AS p WHERE p.job_id = l.job_id))
    + (SELECT count(*) FROM raw.latest_payloads AS p
       WHERE p.quarantine_reason IS NULL
         AND p.payload_seq <= (SELECT max(payload_seq) FROM ops.core_watermark)
         AND NOT EXISTS (SELECT 1 FROM core.jobs AS j WHERE j.job_id = p.job_id))
        AS missing_jobs,
    (SELECT count(*) FROM marts.job_durations) AS mart_rows,
    (SELECT count(*) FROM core.jobs) AS jobs,
    (SELECT count(*) FROM ops.job_ledger AS l
     WHERE l.outcome = 'loaded' AND NOT EXISTS (
         SELECT 1 FROM core.jobs AS j WHERE j.job_id = l.job_id)) AS core_behind
"""
# The newest publication a copy records; at 'run end' the marts cover every job.
PUBLISHED = """
SELECT max(published_at)::VARCHAR, arg_max(trigger, published_at), count(*)
FROM ops.publications
"""


def published(copy: Path, stop_file: str) -> None:
    failures, torn, missing, queries, last_jobs = [], 0, 0, 0, 0
    stamps: list[str] = []
    marts_behind_at_run_end = 0
    while not copy.exists() and not Path(stop_file).exists():
        time.sleep(0.01)  # the first copy is published after the run's first batch
    while not Path(stop_file).exists():
        started = time.monotonic()
        try:
            with duckdb.connect(str(copy), read_only=True) as con:
                row = con.execute(CONSISTENCY).fetchall()[0]
                stamp, trigger, _ = con.execute(PUBLISHED).fetchall()[0]
            queries += 1
            torn += row[0]
            missing += row[1]
            last_jobs = row[3]
            if trigger == "run end" and (row[2] != row[3] or row[4]):
                marts_behind_at_run_end += 1  # marts or core short of the run's jobs
            stamps.append(stamp)
        except Exception as error:  # every failure is counted, none hidden
            failures.append(f"{type(error).__name__}: {error}")
        time.sleep(max(0.0, 0.1 - (time.monotonic() - started)))
    print(json.dumps({
        "queries": queries, "failures": failures[:5], "failed": len(failures),
        "torn_jobs": torn, "missing_jobs": missing, "last_jobs": last_jobs,
        "marts_behind_at_run_end": marts_behind_at_run_end,
        "publications_seen": len(set(stamps)), "went_back": stamps != sorted(stamps),
    }))


def main(warehouse: str, stop_file: str) -> None:
    waits, failures, torn, missing, queries, last_jobs = [], [], 0, 0, 0, 0
    while not Path(stop_file).exists():
        started = time.monotonic()
        try:
            con = open_read_only(warehouse)
            waits.append(time.monotonic() - started)
            try:
                row = con.execute(CONSISTENCY).fetchall()[0]
            finally:
                con.close()
            queries += 1
            torn += row[0]
            missing += row[1]
            last_jobs = row[3]
        except (QueryError, Exception) as error:  # every failure is counted, none hidden
            failures.append(f"{type(error).__name__}: {error}")
        time.sleep(max(0.0, 0.1 - (time.monotonic() - started)))
    waits.sort()
    print(json.dumps({
        "queries": queries, "failures": failures[:5], "failed": len(failures),
        "torn_jobs": torn, "missing_jobs": missing, "last_jobs": last_jobs,
        "wait_p50_ms": round(1000 * waits[len(waits) // 2], 1) if waits else None,
        "wait_p95_ms": round(1000 * waits[int(len(waits) * 0.95)], 1) if waits else None,
        "wait_max_ms": round(1000 * waits[-1], 1) if waits else None,
    }))


if __name__ == "__main__":
    if sys.argv[3:4] == ["published"]:
        published(read_copy_path(sys.argv[1]), sys.argv[2])
    else:
        main(sys.argv[1], sys.argv[2])
