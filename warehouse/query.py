"""Read-only SQL over the warehouse, for `bedrock-jobs sql` and anyone scripting it.

The connection is read-only and cannot reach files or the network
(`enable_external_access = false`): a query can read the warehouse and nothing
else, and can change nothing.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from warehouse.db import sql
from warehouse.locking import READER_WAIT_SECONDS, WarehouseBusyError, retry_while_locked

FORMATS = ("table", "csv", "json")


class QueryError(Exception):
    """The query could not run: a clear message, no traceback."""


def open_read_only(path: str | Path,
                   wait_seconds: float = READER_WAIT_SECONDS) -> duckdb.DuckDBPyConnection:
    """A read-only connection; waits while a writer holds the file."""
    if not Path(path).exists():
        raise QueryError(f"no warehouse at {path}: run `make demo` or `bedrock-jobs ingest` first")
    try:
        con = retry_while_locked(
            lambda: duckdb.connect(str(path), read_only=True,
                                   config={"enable_external_access": False}),
            wait_seconds,
        )
    except WarehouseBusyError as error:
        raise QueryError(str(error)) from None
    con.execute("SET TimeZone = 'UTC'")
    con.execute(sql("schema", "macros"))  # TEMP macros: allowed read-only
    return con


def run_query(path: str | Path, query: str, output: str = "table") -> str:
    """The result of `query` as a text table, CSV or JSON (records)."""
    if output not in FORMATS:
        raise QueryError(f"format must be one of {', '.join(FORMATS)}")
    con = open_read_only(path)
    try:
        try:
            frame = con.execute(query).df()
        except duckdb.Error as error:
            raise QueryError(str(error).strip()) from None
    finally:
        con.close()
    if output == "csv":
        return frame.to_csv(index=False).rstrip("\n")
    if output == "json":
        return frame.to_json(orient="records", date_format="iso", indent=2)
    if frame.empty:
        return f"(no rows; columns: {', '.join(frame.columns)})"
    return frame.to_string(index=False, max_rows=200)
