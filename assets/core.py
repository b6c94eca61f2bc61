"""Core: jobs, their events and their status transitions, computed in SQL from raw."""


import dagster as dg

from assets.metadata import table_metadata
from pipelines.instance import WAREHOUSE_POOL
from pipelines.resources import WarehouseResource
from warehouse import derive_core, rebuild_from_raw

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
    """Recompute every core table from all of raw (no API calls): the watermark reset,
    then the same derivation as every run."""


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
    # Derives core from the raw payloads stored since its watermark, chunk by chunk (one
    # transaction each): the three tables change together for readers.
    with warehouse.connect() as con:
        summary = rebuild_from_raw(con) if config.rebuild else derive_core(con)
        context.log.info(
            f"{'rebuilt' if config.rebuild else 'derived'} core: payload_seq "
            f"{summary.from_seq}..{summary.to_seq}, {summary.jobs_changed} jobs changed in "
            f"{summary.chunks} chunks, {summary.seconds:.2f} s")
        for name in CORE_DESCRIPTIONS:
            yield dg.MaterializeResult(
                asset_key=["core", name],
                metadata=table_metadata(con, "core", name, **summary.as_metadata()),
            )
