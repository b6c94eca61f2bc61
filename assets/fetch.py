"""Fetch: job records by ID, paced and retried, landed in batches as they arrive."""


import dagster as dg

from assets.intake import WAREHOUSE_POOL
from assets.metadata import table_metadata
from pipelines.ingest import combined_metadata, fetch_and_load
from pipelines.progress import ProgressReporter
from pipelines.resources import BedrockApiResource, WarehouseResource, fatal_api_errors
from warehouse import ids_to_fetch

# Parents of fetched jobs are registered as they are found and fetched in the
# next round; trees in the docs are at most four levels deep.
MAX_PARENT_ROUNDS = 6


class FetchConfig(dg.Config):
    in_flight_only: bool = False
    """Fetch only jobs already loaded in a non-terminal state (no new or failed IDs)."""
    batch_size: int = 500
    """Results written per transaction (also written at least every `flush_seconds`)."""
    flush_seconds: float = 5.0
    max_attempts: int | None = None
    """Skip IDs that have already been tried this many times (None: no limit)."""


@dg.asset(
    key=["raw", "job_payloads"],
    deps=[["ops", "job_ledger"]],
    group_name="fetch",
    pool=WAREHOUSE_POOL,
    kinds={"duckdb"},
    description=(
        "Every distinct payload `GET /jobs/{id}` returned, as JSON, append-only. Only IDs that "
        "are new, not yet terminal or failed are fetched: terminal jobs never change."
    ),
)
def job_payloads(
    context: dg.AssetExecutionContext,
    config: FetchConfig,
    bedrock: BedrockApiResource,
    warehouse: WarehouseResource,
) -> dg.MaterializeResult:
    # A line in the run's log every 10 s; every second to a terminal bar, if one listens.
    report = ProgressReporter(context.log.info, log_every=10.0)
    summaries = []
    with fatal_api_errors(), bedrock.client() as client:
        for round_number in range(MAX_PARENT_ROUNDS):
            with warehouse.connect() as con:
                ids = ids_to_fetch(
                    con, max_attempts=config.max_attempts,
                    in_flight_only=config.in_flight_only,
                    unattempted_only=round_number > 0,  # later rounds: newly found parents
                )
            if not ids:
                break
            context.log.info(f"round {round_number + 1}: fetching {len(ids)} jobs")
            summary = fetch_and_load(
                client, warehouse.connect, ids, total=len(ids), batch_size=config.batch_size,
                flush_seconds=config.flush_seconds, report=report, report_every=1.0,
            )
            summaries.append(summary)
            if summary.parents_registered == 0 or config.in_flight_only:
                break

    metadata = combined_metadata(summaries)
    with warehouse.connect() as con:
        metadata = table_metadata(con, "raw", "job_payloads", **metadata)
    return dg.MaterializeResult(metadata=metadata)

