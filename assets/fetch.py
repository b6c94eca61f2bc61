"""Fetch: job records by ID, paced and retried, landed in batches as they arrive."""


import dagster as dg

from assets.metadata import table_metadata
from pipelines.instance import WAREHOUSE_POOL
from pipelines.resources import BedrockApiResource, WarehouseResource, fatal_api_errors
from pipelines.services.fetch import (
    BATCH_SIZE,
    FLUSH_SECONDS,
    combined_metadata,
    fetch_and_load,
    pending_ids,
)
from pipelines.services.progress import ProgressReporter
from warehouse import count_to_fetch, registry
from warehouse.publish import PeriodicPublisher

# Parents of fetched jobs are registered as they are found and fetched in the
# next round; trees in the docs are at most four levels deep.
MAX_PARENT_ROUNDS = 6

TABLE = registry.table("raw.job_payloads")


class FetchConfig(dg.Config):
    in_flight_only: bool = False
    """Fetch only jobs already loaded in a non-terminal state (no new or failed IDs)."""
    batch_size: int = BATCH_SIZE
    """Results landed per transaction (5,000; see `pipelines/services/fetch.py`)."""
    flush_seconds: float = FLUSH_SECONDS
    """Land what has arrived at least this often, in seconds (5)."""
    max_attempts: int | None = None
    """Skip IDs that have already been tried this many times (None: no limit)."""
    bucket: int = 0
    buckets: int = 1
    """Fetch only the IDs with `md5_number(job_id) % buckets == bucket` (the `backfill`
    job's partitions); 1 bucket is every ID."""


@dg.asset(
    key=TABLE.key,
    deps=[["ops", "job_ledger"]],
    group_name="fetch",
    pool=WAREHOUSE_POOL,
    kinds={"duckdb"},
    description=TABLE.description,
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
    # A long fetch refreshes the read-only copy every few minutes, so readers see progress;
    # a copy that fails is a warning and the fetch goes on.
    publisher = PeriodicPublisher(warehouse.path, warehouse.publish_every_seconds,
                                  run_id=context.run.run_id, warn=context.log.warning)
    with fatal_api_errors(), bedrock.client() as client:
        for round_number in range(MAX_PARENT_ROUNDS):
            filters = {"max_attempts": config.max_attempts,
                       "in_flight_only": config.in_flight_only,
                       # later rounds: the parents newly found in the round before
                       "unattempted_only": round_number > 0,
                       "bucket": config.bucket, "buckets": config.buckets}
            with warehouse.connect() as con:
                total, requested_until = count_to_fetch(con, **filters)
            if not total:
                break
            context.log.info(f"round {round_number + 1}: fetching {total} jobs")
            # Read from the ledger a page at a time as the fetch goes: never a list of all.
            seqs: dict[str, int] = {}  # each ID's ledger_seq: the batches' lookup key
            ids = pending_ids(warehouse.connect, requested_until=requested_until,
                              ledger_seqs=seqs, **filters)
            summary = fetch_and_load(
                client, warehouse.connect, ids, total=total, batch_size=config.batch_size,
                flush_seconds=config.flush_seconds, report=report, report_every=1.0,
                after_batch=publisher, ledger_seqs=seqs,
            )
            summaries.append(summary)
            if summary.parents_registered == 0 or config.in_flight_only:
                break

    metadata = combined_metadata(summaries)
    if metadata["requested"] and not metadata["answered"]:
        # Not one HTTP answer: the API is unreachable or misnamed, a setting to fix, not
        # an outcome of the IDs (5xx answers are: they end `failed` and the run goes on).
        # Each ID's reason is in the ledger and the next run fetches it again.
        raise dg.Failure(
            description=f"Every one of the {metadata['requested']} fetches failed with no "
                        f"answer from {bedrock.base_url}: check BEDROCK_API_URL and the "
                        "network. The IDs stay in ops.job_ledger as `failed`, with each "
                        "reason in error_detail, and the next run fetches them again.",
            allow_retries=False)
    metadata["published_during_fetch"] = len(publisher.published)
    metadata["publish_seconds_during_fetch"] = round(
        sum(p.seconds for p in publisher.published), 3)
    metadata["publish_failures_during_fetch"] = len(publisher.failures)
    if publisher.failures:
        metadata["publish_failure_reason"] = dg.MetadataValue.text(publisher.failures[-1])
    with warehouse.connect() as con:
        metadata = table_metadata(con, TABLE, **metadata)
    return dg.MaterializeResult(metadata=metadata)

