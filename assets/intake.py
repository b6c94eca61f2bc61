"""Intake: every requested job ID gets a ledger row before anything is fetched."""

import time

import dagster as dg

from assets.metadata import table_metadata
from pipelines.instance import WAREHOUSE_POOL
from pipelines.resources import (
    BedrockApiResource,
    InboxResource,
    WarehouseResource,
    fatal_api_errors,
)
from pipelines.services.id_files import (
    IntakeError,
    prune_set_aside,
    read_ids,
    readable_inbox_files,
    set_aside,
    still_since,
)
from pipelines.services.intake import discover, register_batch, register_file, utcnow
from warehouse import registry

TABLE = registry.table("ops.job_ledger")


STEP = "ops__job_ledger"
"""The intake step's key in run config (and in a run's events)."""


def intake_run_config(**fields: object) -> dict:
    """The run config that gives the intake step these `IntakeConfig` fields."""
    return {"ops": {STEP: {"config": fields}}}


class IntakeConfig(dg.Config):
    ids: list[str] = []
    """Job IDs to register, given in run config."""
    inbox_files: list[str] | None = None
    """File names in the inbox to read; None reads every file there that has not changed
    for the inbox's `settle_seconds` (60)."""
    discover: bool = True
    """Also register what `GET /jobs` lists as created since the last discovery."""


@dg.asset(
    key=TABLE.key,
    group_name="intake",
    pool=WAREHOUSE_POOL,
    kinds={"duckdb"},
    description=TABLE.description,
)
def job_ledger(
    context: dg.AssetExecutionContext,
    config: IntakeConfig,
    bedrock: BedrockApiResource,
    warehouse: WarehouseResource,
    inbox: InboxResource,
) -> dg.MaterializeResult:
    now = utcnow()
    counts = []
    if config.ids:
        with warehouse.connect() as con:
            counts.append(register_batch(con, read_ids(config.ids, "run_config"), now))
    # Symbolic links among them are refused (moved to rejected/ with their reason).
    paths = readable_inbox_files(inbox.folder, config.inbox_files)
    if config.inbox_files is None:  # the whole inbox: only files that held still
        paths, changing = still_since(paths, inbox.settle_seconds, time.time())
        for path in changing:
            context.log.warning(f"left {path.name} in the inbox: it changed in the last "
                                f"{inbox.settle_seconds:g}s, so it may still be being "
                                "written; the inbox sensor or a later run reads it")
    for path in paths:
        try:
            # Read and registered a chunk at a time: a file of millions of IDs never
            # sits in memory whole.
            counts.append(register_file(warehouse.connect, path, now))
        except IntakeError as error:
            context.log.error(f"refused {path.name}: {error}")
            set_aside(path, "rejected", reason=str(error))
            continue
        set_aside(path, "processed")
    if pruned := prune_set_aside(inbox.folder, inbox.keep_days, time.time()):
        context.log.info(f"deleted {pruned} file(s) set aside in the inbox more than "
                         f"{inbox.keep_days} days ago")
    discovered = None
    if config.discover:
        with fatal_api_errors(), bedrock.client() as client:
            discovered, watermark = discover(client, warehouse.connect, now)
        context.log.info(f"discovery registered {discovered} new IDs (watermark {watermark})")
    for c in counts:
        context.log.info(f"{c.source}: {c.new} new, {c.already_known} known, {c.invalid} "
                         f"invalid, {c.duplicates} duplicate lines, {c.blank_lines} blank")
    with warehouse.connect() as con:
        metadata = table_metadata(
            con, TABLE,
            new_ids=sum(c.new for c in counts) + (discovered or 0),
            invalid_ids=sum(c.invalid for c in counts),
            discovered=discovered if discovered is not None else "off",
            sources=", ".join(c.source for c in counts) or "none",
        )
    return dg.MaterializeResult(metadata=metadata)

