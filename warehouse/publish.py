"""The published read-only copy of the warehouse, for every other SQL client.

DuckDB lets one process write a file or many processes read it, never both at
once: while a run writes `bedrock.duckdb`, the DuckDB CLI, a notebook or a BI
tool cannot even open it read-only, and none of them retries. So the pipeline
keeps writing its working file and publishes a copy beside it,
`<stem>.read.duckdb`, that no writer ever opens:

1. a row in `ops.publications` (when, which run, why), in the working file;
2. `CHECKPOINT`, so the main file holds every committed row and the WAL is empty;
3. the main file's bytes copied to a temporary file in the same folder, fsync'd;
4. `os.replace` over the previous copy.

A rename within a folder is atomic: a new connection opens the old copy or the
new one, whole, never a half-written file. A reader that has the old copy open
keeps its consistent view (its open file stays on disk until it closes it). The
copy keeps the working file's storage version (v1.5.0), so the DuckDB 1.5 CLI
opens it. A byte copy, not `COPY FROM DATABASE`: measured on a 100,000-job
warehouse it is several times faster, and it keeps `raw` at no extra cost.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from warehouse.db import first_row

READ_COPY_SUFFIX = ".read"
_COPY_CHUNK = 16 * 1024 * 1024


class PublishError(RuntimeError):
    """The copy could not be made consistent; the previous copy stays in place."""


@dataclass(frozen=True)
class Publication:
    path: Path
    published_at: datetime
    bytes: int
    seconds: float
    jobs: int


def read_copy_path(warehouse_path: str | Path) -> Path:
    """`warehouse/bedrock.duckdb` -> `warehouse/bedrock.read.duckdb`."""
    path = Path(warehouse_path)
    return path.with_name(f"{path.stem}{READ_COPY_SUFFIX}{path.suffix or '.duckdb'}")


def publish(con: duckdb.DuckDBPyConnection, warehouse_path: str | Path, *,
            run_id: str | None = None, trigger: str = "run end") -> Publication:
    """Publish a consistent read-only copy of the open warehouse beside it.

    `con` must be this process's only connection to the file (the pipeline's
    writer): nothing may commit between the checkpoint and the end of the copy.
    """
    started = time.monotonic()
    source = Path(warehouse_path)
    target = read_copy_path(source)
    now = datetime.now(UTC)
    con.execute("INSERT INTO ops.publications VALUES ($at, $run_id, $trigger)",
                {"at": now, "run_id": run_id, "trigger": trigger})
    con.execute("CHECKPOINT")
    wal = source.with_name(source.name + ".wal")
    if wal.exists() and wal.stat().st_size > 0:
        # A checkpoint that could not run (another open transaction) would leave rows
        # only in the WAL: a copy of the main file would miss them.
        raise PublishError(f"{wal.name} still holds rows after CHECKPOINT; not publishing")
    row = first_row(con.execute("SELECT count(*) FROM core.jobs"))
    # One name: publishers are one at a time (each holds the working file's write lock),
    # and a copy left half-written by a killed run is simply overwritten by the next.
    tmp = target.with_name(f".{target.name}.tmp")
    try:
        size = _copy_synced(source, tmp)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    _sync_folder(target.parent)
    return Publication(target, now, size, time.monotonic() - started, int(row[0]) if row else 0)


class PeriodicPublisher:
    """Publishes from inside a long write loop (a fetch of many batches): when called
    after a batch, publishes if no copy exists yet or `every_seconds` have passed since
    this publisher last did, so readers see a long run's progress."""

    def __init__(self, warehouse_path: str | Path, every_seconds: float,
                 run_id: str | None = None) -> None:
        self.warehouse_path = warehouse_path
        self.every_seconds = every_seconds
        self.run_id = run_id
        self.published: list[Publication] = []
        self._last = time.monotonic()

    def __call__(self, con: duckdb.DuckDBPyConnection) -> Publication | None:
        due = time.monotonic() - self._last >= self.every_seconds
        if not due and read_copy_path(self.warehouse_path).exists():
            return None
        publication = publish(con, self.warehouse_path, run_id=self.run_id,
                              trigger="during fetch")
        self.published.append(publication)
        self._last = time.monotonic()
        return publication


def _copy_synced(source: Path, target: Path) -> int:
    size = 0
    with source.open("rb") as src, target.open("wb") as out:
        while chunk := src.read(_COPY_CHUNK):
            out.write(chunk)
            size += len(chunk)
        out.flush()
        os.fsync(out.fileno())
    return size


def _sync_folder(folder: Path) -> None:
    """Make the rename itself durable (a crash after it keeps the new copy)."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
