"""Intake: every requested job ID gets a ledger row before anything is fetched.

Plain functions the intake asset calls (ID files and run config through `register_batch`
and `register_file`, `GET /jobs` discovery through `discover`); tests call them directly
with a real client, a simulator and a DuckDB file. Nothing here knows about Dagster.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pyarrow as pa

import warehouse
from pipelines.bedrock import BedrockClient
from pipelines.services.id_files import CHUNK_LINES, IdBatch, iter_id_file

Connect = Callable[[], AbstractContextManager[duckdb.DuckDBPyConnection]]
"""Opens a short-lived warehouse connection (a context manager): one per unit of work."""

# Discovery asks again for a little before its watermark: a job created in the
# same second as the newest one seen may only have become visible since.
DISCOVERY_OVERLAP = timedelta(minutes=5)
DISCOVERY_CHUNK = 50_000  # listed IDs registered per transaction


def utcnow() -> datetime:
    return datetime.now(UTC)



@dataclass(frozen=True)
class IntakeCounts:
    source: str
    new: int
    already_known: int
    invalid: int
    duplicates: int
    blank_lines: int


def register_batch(con: duckdb.DuckDBPyConnection, batch: IdBatch, now: datetime) -> IntakeCounts:
    """Ledger rows for every ID of `batch`: valid ones `pending`, rejects `invalid_id`."""
    new = warehouse.register_ids(con, batch.ids, batch.source, now)
    if batch.rejected:
        shown = [r.shown for r in batch.rejected]
        warehouse.register_ids(con, shown, batch.source, now)
        warehouse.land_batch(con, [
            warehouse.FetchedItem(job_id=r.shown, outcome="invalid_id", fetched_at=now,
                                  error_code="INVALID_ID", error_detail=r.reason, attempts=0)
            for r in batch.rejected
        ])
    return IntakeCounts(batch.source, new, len(batch.ids) - new, len(batch.rejected),
                        batch.duplicates, batch.blank_lines)


def register_file(connect: Connect, path: Path, now: datetime,
                  chunk_lines: int = CHUNK_LINES) -> IntakeCounts:
    """Ledger rows for every line of an ID file, a chunk at a time (bounded memory).

    Each chunk is registered in its own short connection. An ID a previous chunk of
    this file registered (same source, same `now`) counts as a duplicate line, as it
    would in a file read whole. Raises `IntakeError` for a file refused whole.
    """
    total = IntakeCounts(f"file:{path.name}", 0, 0, 0, 0, 0)
    for number, batch in enumerate(iter_id_file(path, chunk_lines)):
        with connect() as con:
            earlier = _registered_by(con, batch, now) if number else 0
            counts = register_batch(con, batch, now)
        total = IntakeCounts(
            total.source, total.new + counts.new,
            total.already_known + counts.already_known - earlier,
            total.invalid + counts.invalid, total.duplicates + counts.duplicates + earlier,
            total.blank_lines + counts.blank_lines)
    return total


def _registered_by(con: duckdb.DuckDBPyConnection, batch: IdBatch, now: datetime) -> int:
    """How many of `batch`'s IDs its own source already registered at `now`."""
    con.register("_chunk_ids", pa.table({"job_id": pa.array(batch.ids, pa.string())}))
    try:
        row = con.execute(
            """
            SELECT count(*) FROM ops.job_ledger
            WHERE job_id IN (SELECT job_id FROM _chunk_ids)
              AND source = $source AND requested_at = $now
            """,
            {"source": batch.source, "now": now},
        ).fetchall()
    finally:
        con.unregister("_chunk_ids")
    return int(row[0][0]) if row else 0


def discover(client: BedrockClient, connect: Connect, now: datetime) -> tuple[int, datetime | None]:
    """Register the IDs `GET /jobs` lists as created after the stored watermark.

    Returns (new IDs, the new watermark). The watermark moves only after the
    listing completed and its IDs are in the ledger, so a failed listing is
    simply asked again next time.
    """
    with connect() as con:
        watermark = warehouse.discovery_watermark(con)
    since = watermark - DISCOVERY_OVERLAP if watermark else None
    ids: list[str] = []
    new = 0
    newest = watermark
    with client.list_jobs(created_after=since) as listing:
        for record in listing:
            ids.append(record.job_id)
            if record.created_at and (newest is None or record.created_at > newest):
                newest = record.created_at
            if len(ids) >= DISCOVERY_CHUNK:  # registered as we go: memory stays bounded
                with connect() as con:
                    new += warehouse.register_ids(con, ids, "discovery", now)
                ids = []
    with connect() as con:
        new += warehouse.register_ids(con, ids, "discovery", now)
        if newest is not None:
            warehouse.set_discovery_watermark(con, newest, now)
    return new, newest
