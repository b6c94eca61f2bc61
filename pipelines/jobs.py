"""Jobs: what a run does. All run in one process, steps one after another, so a run
never competes with itself for the DuckDB file; the `bedrock_warehouse` pool keeps
runs from writing at the same time (see `instance.py`)."""

from __future__ import annotations

import dagster as dg

INTAKE = dg.AssetSelection.assets(["ops", "job_ledger"])
FETCH = dg.AssetSelection.assets(["raw", "job_payloads"])
CORE = dg.AssetSelection.groups("core")
MARTS = dg.AssetSelection.groups("marts")
REPORT = dg.AssetSelection.groups("report")

ingest = dg.define_asset_job(
    "ingest",
    selection=INTAKE | FETCH | CORE | MARTS | REPORT,
    description="Register IDs (inbox, run config, discovery), fetch what is new or in flight, "
                "and refresh core, marts and the report.",
    executor_def=dg.in_process_executor,
)

refresh_in_flight = dg.define_asset_job(
    "refresh_in_flight",
    selection=INTAKE | FETCH | CORE,
    description="Discover new jobs and re-fetch the ones not yet terminal.",
    executor_def=dg.in_process_executor,
)

refresh_marts = dg.define_asset_job(
    "refresh_marts",
    selection=MARTS | REPORT,
    description="Recompute the marts and the report from core (no API calls).",
    executor_def=dg.in_process_executor,
)

rebuild_from_raw = dg.define_asset_job(
    "rebuild_from_raw",
    selection=CORE | MARTS | REPORT,
    description="Rebuild core and marts from the raw payloads, without calling the API.",
    config={"ops": {"core_tables": {"config": {"rebuild": True}}}},
    executor_def=dg.in_process_executor,
)

ALL_JOBS = [ingest, refresh_in_flight, refresh_marts, rebuild_from_raw]
