"""Core: jobs, their events and their status transitions, computed in SQL from raw."""


import dagster as dg

from assets.metadata import table_metadata
from pipelines.instance import WAREHOUSE_POOL
from pipelines.resources import WarehouseResource
from warehouse import derive_core, rebuild_from_raw, registry

CORE_TABLES = registry.layer("core")


class CoreConfig(dg.Config):
    rebuild: bool = False
    """Recompute every core table from all of raw (no API calls): the watermark reset,
    then the same derivation as every run."""


@dg.multi_asset(
    specs=[
        dg.AssetSpec(table.key, deps=[registry.table("raw.job_payloads").key],
                     description=table.description, group_name="core", kinds={"duckdb"})
        for table in CORE_TABLES
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
        for table in CORE_TABLES:
            yield dg.MaterializeResult(
                asset_key=table.key,
                metadata=table_metadata(con, table, **summary.as_metadata()),
            )
