"""Sharing the warehouse file between processes.

DuckDB admits one process at a time on a file: while a run writes, another
process can't even open it read-only, and while a reader has it open, a writer
can't. bedrock-jobs keeps every connection to the working file short (one per
batch, one per query) and has its own writers and `--live` readers wait briefly
for the other instead of failing. Clients that don't retry (the DuckDB CLI,
notebooks, BI tools) read the published copy instead (`warehouse/publish.py`),
which no writer ever opens.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

import duckdb

T = TypeVar("T")

WRITER_WAIT_SECONDS = 120.0  # a writer outwaits any reader's query
READER_WAIT_SECONDS = 30.0  # a reader outwaits any one batch or marts refresh


class WarehouseBusyError(RuntimeError):
    """The file stayed locked by another process for longer than we were willing to wait."""


def is_lock_conflict(error: BaseException) -> bool:
    return isinstance(error, duckdb.IOException) and "Could not set lock" in str(error)


def retry_while_locked(open_file: Callable[[], T], wait_seconds: float) -> T:
    """`open_file()`, retried with backoff while another process holds the file's lock."""
    deadline = time.monotonic() + wait_seconds
    pause = 0.005
    while True:
        try:
            return open_file()
        except duckdb.IOException as error:
            if not is_lock_conflict(error):
                raise
            if time.monotonic() + pause > deadline:
                raise WarehouseBusyError(
                    f"the warehouse stayed locked by another process for {wait_seconds:.0f}s: "
                    f"{str(error).splitlines()[0]}"
                ) from None
            time.sleep(pause)
            pause = min(pause * 2, 0.1)
