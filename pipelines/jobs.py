"""Jobs: what a run does. All run in one process, steps one after another, so a run
never competes with itself for the DuckDB file; the `bedrock_warehouse` pool keeps
runs from writing at the same time (see `instance.py`)."""

from __future__ import annotations

import dagster as dg

INTAKE_ASSETS = dg.AssetSelection.assets(["ops", "job_ledger"])
FETCH_ASSETS = dg.AssetSelection.assets(["raw", "job_payloads"])
CORE_ASSETS = dg.AssetSelection.groups("core")
MART_ASSETS = dg.AssetSelection.groups("marts")
REPORT_ASSETS = dg.AssetSelection.groups("report")
# Every job that writes ends by publishing the read-only copy other SQL clients read.
PUBLISH_ASSETS = dg.AssetSelection.groups("publish")

ingest = dg.define_asset_job(
    "ingest",
    selection=(INTAKE_ASSETS | FETCH_ASSETS | CORE_ASSETS | MART_ASSETS | REPORT_ASSETS
               | PUBLISH_ASSETS),
    description="Register IDs (inbox, run config, discovery), fetch what is new or in flight, "
                "refresh core, marts and the report, and publish the read-only copy.",
    executor_def=dg.in_process_executor,
)

refresh_in_flight = dg.define_asset_job(
    "refresh_in_flight",
    selection=INTAKE_ASSETS | FETCH_ASSETS | CORE_ASSETS | PUBLISH_ASSETS,
    description="Discover new jobs and re-fetch the ones not yet terminal.",
    executor_def=dg.in_process_executor,
)

refresh_marts = dg.define_asset_job(
    "refresh_marts",
    selection=MART_ASSETS | REPORT_ASSETS | PUBLISH_ASSETS,
    description="Recompute the marts and the report from core (no API calls).",
    executor_def=dg.in_process_executor,
)

rebuild_from_raw = dg.define_asset_job(
    "rebuild_from_raw",
    selection=CORE_ASSETS | MART_ASSETS | REPORT_ASSETS | PUBLISH_ASSETS,
    description="Rebuild core and marts from the raw payloads, without calling the API.",
    config={"ops": {"core_tables": {"config": {"rebuild": True}}}},
    executor_def=dg.in_process_executor,
)

# A backfill of millions of IDs is split by ID hash into this many buckets, one
# partition (and one run) each; never one partition per ID. A failed bucket is
# re-run alone, and a bucket run fetches only what in its bucket is still to fetch.
BACKFILL_BUCKETS = 32
BUCKET_KEYS = [f"{bucket:02d}" for bucket in range(BACKFILL_BUCKETS)]


@dg.static_partitioned_config(partition_keys=BUCKET_KEYS)
def bucket_config(partition_key: str) -> dict:
    """Run config of one backfill bucket: fetch the IDs whose hash falls in it."""
    return {"ops": {"raw__job_payloads": {"config": {
        "bucket": int(partition_key), "buckets": BACKFILL_BUCKETS}}}}


backfill = dg.define_asset_job(
    "backfill",
    selection=FETCH_ASSETS | CORE_ASSETS | PUBLISH_ASSETS,
    description=f"Fetch one of {BACKFILL_BUCKETS} hash buckets of the IDs still to fetch (register "
                "them first, e.g. with an inbox file); launch a backfill over the buckets, and "
                "re-run a failed bucket alone. Marts follow with `refresh_marts`.",
    config=bucket_config,
    executor_def=dg.in_process_executor,
)

ALL_JOBS = [ingest, refresh_in_flight, refresh_marts, rebuild_from_raw, backfill]
