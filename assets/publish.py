"""Publish: the read-only copy of the warehouse that every other SQL client reads.

What a copy may hold:

- The run-end copy (this asset) is last in its job, after the job's checks: a run whose
  blocking check fails stops before it and publishes nothing at its end.
- A copy made during a long fetch (`PeriodicPublisher`, after the first batch and every
  `publish_every_seconds`) comes before any check of its run: it holds the raw payloads
  and ledger rows landed so far, which no check has looked at yet, with core as the last
  core step left it and the marts of the last refresh.
- Checks judge the working file; they do not undo it. What a failed blocking check refused
  stays there, and the next copy not stopped by a check holds it: a mid-fetch copy of a
  later run, or the copy of a `refresh_marts` run, which runs no core check and draws its
  marts from core as it stands.

A failed publish (a full disk, a refused rename) never fails the run: it is a warning, the
materialization says `published: false` and why, the previous copy stays in place, and the
next publish tries again.
"""

import dagster as dg

from pipelines.instance import WAREHOUSE_POOL
from pipelines.resources import WarehouseResource
from warehouse import registry
from warehouse.publish import PublishError, publish, read_copy_path

# Last in every job: after whatever else the job writes, and after its checks.
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
        "fresh it is. A failed publish is a warning (`published: false` and why), never a "
        "failed run; the next publish tries again."
    ),
)
def read_copy(context: dg.AssetExecutionContext,
              warehouse: WarehouseResource) -> dg.MaterializeResult:
    with warehouse.connect() as con:
        try:
            publication = publish(con, warehouse.path, run_id=context.run.run_id)
        except PublishError as error:
            context.log.warning(f"{error}. The previous copy stays in place; the next "
                                "publish tries again.")
            return dg.MaterializeResult(metadata={
                "published": False,
                "reason": dg.MetadataValue.text(str(error)),
                "path": dg.MetadataValue.path(str(read_copy_path(warehouse.path).resolve())),
            })
    context.log.info(f"published {publication.path.resolve()} "
                     f"({publication.bytes / 1e6:.1f} MB in {publication.seconds:.2f}s)")
    return dg.MaterializeResult(metadata={
        "published": True,
        "path": dg.MetadataValue.path(str(publication.path.resolve())),
        "published_at": dg.MetadataValue.timestamp(publication.published_at),
        "jobs": publication.jobs,
        "size_mb": round(publication.bytes / 1e6, 1),
        "publish_seconds": round(publication.seconds, 3),
    })
