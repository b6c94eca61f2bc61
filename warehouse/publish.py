"""The published read-only copy of the warehouse, for every other SQL client.

DuckDB lets one process write a file or many processes read it, never both at
once: while a run writes `bedrock.duckdb`, the DuckDB CLI, a notebook or a BI
tool cannot even open it read-only, and none of them retries. So the pipeline
keeps writing its working file and publishes a copy beside it,
`<stem>.read.duckdb`, that no writer ever opens:

1. `CHECKPOINT`, so the main file holds every committed row and the WAL is empty;
2. the main file's bytes copied to a temporary file in the same folder;
3. the copy's own row in its `ops.publications` (when, which run, why), written into
   the temporary file, which nobody else opens; then fsync;
4. `os.replace` over the previous copy;
5. the same row in the working file's `ops.publications`, now that the copy exists.

A rename within a folder is atomic: a new connection opens the old copy or the
new one, whole, never a half-written file. A reader that has the old copy open
keeps its consistent view (its open file stays on disk until it closes it). The
copy keeps the working file's storage version (v1.5.0), so the DuckDB 1.5 CLI
opens it. A byte copy, not `COPY FROM DATABASE`: measured on a 100,000-job
warehouse it is several times faster, and it keeps `raw` at no extra cost.

A publish that fails (a full disk, a refused rename) raises `PublishError` with its
reason and leaves everything as it was: the previous copy in place, no temporary file,
and no row in `ops.publications` (the working file records a copy only once it is in
place, so a run killed half-way records nothing either). Callers log it as a warning and
go on; the next publish tries again.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from warehouse.db import first_row

READ_COPY_SUFFIX = ".read"
RECORD = "INSERT INTO ops.publications VALUES ($at, $run_id, $trigger)"
_COPY_CHUNK = 16 * 1024 * 1024


class PublishError(RuntimeError):
    """The copy could not be made or put in place (the message says why); the previous copy
    stays in place and nothing records the failed one."""


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
    Raises `PublishError` with the reason when the copy cannot be made or put in place.
    """
    started = time.monotonic()
    source = Path(warehouse_path)
    target = read_copy_path(source)
    # One name: publishers are one at a time (each holds the working file's write lock),
    # and a copy left half-written by a killed run is simply overwritten by the next.
    tmp = target.with_name(f".{target.name}.tmp")
    row = {"at": datetime.now(UTC), "run_id": run_id, "trigger": trigger}
    try:
        _remove(tmp)  # with a WAL a killed run may have left beside it
        jobs = _checkpoint(con, source)
        _copy(source, tmp)
        _record(tmp, row)
        size = tmp.stat().st_size
        os.replace(tmp, target)
    except (OSError, duckdb.Error) as error:
        raise PublishError(f"{target.name} not published: {error}") from error
    finally:
        with contextlib.suppress(OSError):  # best effort: the error above is the news
            _remove(tmp)
    # The copy is in place: a folder that can't be synced only risks the rename on a
    # power cut, so it is not a failed publish (and the copy gets its row below).
    with contextlib.suppress(OSError):
        _sync_folder(target.parent)
    try:
        con.execute(RECORD, row)
    except duckdb.Error as error:
        raise PublishError(f"{target.name} is published, but the working file could not "
                           f"record it in ops.publications: {error}") from error
    return Publication(target, row["at"], size, time.monotonic() - started, jobs)


class PeriodicPublisher:
    """Publishes from inside a long write loop (a fetch of many batches): when called
    after a batch, publishes if no copy exists yet or `every_seconds` have passed since
    this publisher last tried, so readers see a long run's progress.

    A failed publish never stops the loop: its reason goes to `warn` and `failures`, and
    the next try comes `every_seconds` later (not after every batch: a full disk would
    otherwise be copied to once a batch)."""

    def __init__(self, warehouse_path: str | Path, every_seconds: float,
                 run_id: str | None = None,
                 warn: Callable[[str], object] | None = None) -> None:
        self.warehouse_path = warehouse_path
        self.every_seconds = every_seconds
        self.run_id = run_id
        self.warn = warn
        self.published: list[Publication] = []
        self.failures: list[str] = []
        self._last = time.monotonic()

    def __call__(self, con: duckdb.DuckDBPyConnection) -> Publication | None:
        due = time.monotonic() - self._last >= self.every_seconds
        first = not self.failures and not read_copy_path(self.warehouse_path).exists()
        if not (due or first):
            return None
        try:
            publication = publish(con, self.warehouse_path, run_id=self.run_id,
                                  trigger="during fetch")
        except PublishError as error:
            self.failures.append(str(error))
            if self.warn is not None:
                self.warn(f"{error}; the fetch goes on, the previous copy stays, and the "
                          f"next publish tries again in {self.every_seconds:g} s")
            return None
        finally:
            self._last = time.monotonic()
        self.published.append(publication)
        return publication


def _checkpoint(con: duckdb.DuckDBPyConnection, source: Path) -> int:
    """Write every committed row into the main file; the jobs it holds."""
    con.execute("CHECKPOINT")
    wal = source.with_name(source.name + ".wal")
    if wal.exists() and wal.stat().st_size > 0:
        # A checkpoint that could not run (another open transaction) would leave rows
        # only in the WAL: a copy of the main file would miss them.
        raise PublishError(f"{wal.name} still holds rows after CHECKPOINT; not publishing")
    row = first_row(con.execute("SELECT count(*) FROM core.jobs"))
    return int(row[0]) if row else 0


def _copy(source: Path, target: Path) -> None:
    with source.open("rb") as src, target.open("wb") as out:
        while chunk := src.read(_COPY_CHUNK):
            out.write(chunk)


def _record(copy: Path, row: dict[str, Any]) -> None:
    """The copy's own row in its ops.publications, so its readers see when it was made;
    then the copy is synced to disk. The copy is still the temporary file: no reader
    opens it, and the working file is not touched."""
    with duckdb.connect(str(copy)) as con:
        con.execute(RECORD, row)
        con.execute("CHECKPOINT")
    wal = copy.with_name(copy.name + ".wal")
    if wal.exists() and wal.stat().st_size > 0:
        raise PublishError(f"{wal.name} still holds the copy's own row after CHECKPOINT")
    with copy.open("rb+") as out:
        os.fsync(out.fileno())


def _remove(tmp: Path) -> None:
    tmp.unlink(missing_ok=True)
    tmp.with_name(tmp.name + ".wal").unlink(missing_ok=True)


def _sync_folder(folder: Path) -> None:
    """Make the rename itself durable (a crash after it keeps the new copy)."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
