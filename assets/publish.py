"""Publish: the read-only copy of the warehouse that every other SQL client reads."""

import dagster as dg

from pipelines.instance import WAREHOUSE_POOL
from pipelines.resources import WarehouseResource
from warehouse import registry
from warehouse.publish import publish

# Last in every job: after whatever else the job writes. A run whose blocking check
# failed stops before it, so the copy never holds what a blocking check refused.
UPSTREAM = [*(table.key for table in registry.asset_tables()), ["report", "jobs_report"]]


@dg.asset(
    key=["published", "read_copy"],
    deps=UPSTREAM,
    group_name="publish",
    pool=WAREHOUSE_POOL,
    kinds={"duckdb"},
    description=(
        "`<stem>.read.duckdb` beside the warehouse file (default "
        "`warehouse/bedrock.read.duckdb`): a consistent copy of every schema, replaced "
        "atomically at the end of each run that writes and every 5 minutes during long "
        "fetches. Point the DuckDB CLI, notebooks and BI tools at it, read-only: no writer "
        "ever holds its lock. `SELECT max(published_at) FROM ops.publications` says how "
        "fresh it is."
    ),
)
def read_copy(context: dg.AssetExecutionContext,
              warehouse: WarehouseResource) -> dg.MaterializeResult:
    with warehouse.connect() as con:
        publication = publish(con, warehouse.path, run_id=context.run.run_id)
    context.log.info(f"published {publication.path.resolve()} "
                     f"({publication.bytes / 1e6:.1f} MB in {publication.seconds:.2f}s)")
    return dg.MaterializeResult(metadata={
        "path": dg.MetadataValue.path(str(publication.path.resolve())),
        "published_at": dg.MetadataValue.timestamp(publication.published_at),
        "jobs": publication.jobs,
        "size_mb": round(publication.bytes / 1e6, 1),
        "publish_seconds": round(publication.seconds, 3),
    })
