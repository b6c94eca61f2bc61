"""Core: jobs, their events and their status transitions, computed in SQL from raw."""


import dagster as dg

from assets.intake import WAREHOUSE_POOL
from assets.metadata import table_metadata
from pipelines.resources import WarehouseResource
from warehouse import rebuild_from_raw

CORE_DESCRIPTIONS = {
    "jobs": "One row per job: its latest state (canonical `status`, type, target, parent, "
            "created/updated/completed times, error) and its payload.",
    "job_events": "One row per event of a job, ordered by time (ties in the API's order); "
                  "exact duplicates counted once. `status` canonical, `status_raw` as sent.",
    "job_status_transitions": "One row per consecutive pair of a job's events; "
                              "`duration_seconds` is the time spent in `from_status`.",
}


class CoreConfig(dg.Config):
    rebuild: bool = False
    """Recompute every core table from raw (no API calls) instead of trusting the
    incremental updates made while loading."""


@dg.multi_asset(
    specs=[
        dg.AssetSpec(["core", name], deps=[["raw", "job_payloads"]], description=text,
                     group_name="core", kinds={"duckdb"})
        for name, text in CORE_DESCRIPTIONS.items()
    ],
    pool=WAREHOUSE_POOL,
)
def core_tables(
    context: dg.AssetExecutionContext, config: CoreConfig, warehouse: WarehouseResource
):
    # Loading keeps core current batch by batch (delete + insert of the jobs a
    # batch touched, in the batch's transaction), so a normal run only reports.
    with warehouse.connect() as con:
        if config.rebuild:
            jobs = rebuild_from_raw(con)
            context.log.info(f"rebuilt core from raw: {jobs} jobs")
        for name in CORE_DESCRIPTIONS:
            yield dg.MaterializeResult(
                asset_key=["core", name],
                metadata=table_metadata(con, "core", name, rebuilt=config.rebuild),
            )
