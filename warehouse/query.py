"""Read-only SQL over the warehouse, for `bedrock-jobs sql`, the report and anyone scripting it.

The connection is read-only and cannot reach files or the network
(`enable_external_access = false`): a query can read the warehouse and nothing
else, and can change nothing. Readers open the published copy
(`<stem>.read.duckdb`, see `warehouse/publish.py`), which no writer ever holds;
`live=True` opens the working file itself, waiting while a run holds it.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from warehouse.db import sql
from warehouse.locking import READER_WAIT_SECONDS, WarehouseBusyError, retry_while_locked
from warehouse.publish import READ_COPY_SUFFIX, read_copy_path

FORMATS = ("table", "csv", "json")


class QueryError(Exception):
    """The query could not run: a clear message, no traceback."""


def readable_path(warehouse: str | Path, live: bool = False) -> Path:
    """The file a reader opens: the published copy of `warehouse`, or the file itself."""
    given = Path(warehouse)
    if given.is_dir():
        raise QueryError(f"{given} is a folder: name the warehouse file, e.g. "
                         f"{given / 'bedrock.duckdb'}")
    if live or given.name.endswith(f"{READ_COPY_SUFFIX}{given.suffix}"):
        return given  # the working file, or a published copy named directly
    copy = read_copy_path(given)
    if copy.exists():
        return copy
    if given.exists():
        raise QueryError(
            f"no published copy at {copy} yet: the warehouse {given} exists, but no run has "
            "finished writing it. The copy is written when a run ends (and every 5 minutes "
            "during a long fetch); until then --live reads the working file.")
    raise QueryError(f"no warehouse at {given} yet: run `bedrock-jobs ingest --ids FILE` "
                     "first (set BEDROCK_WAREHOUSE, or pass --warehouse, if it lives elsewhere)")


def open_read_only(path: str | Path,
                   wait_seconds: float = READER_WAIT_SECONDS) -> duckdb.DuckDBPyConnection:
    """A read-only connection to the file at `path`; waits while a writer holds it."""
    if not Path(path).exists():
        raise QueryError(f"no warehouse at {path}: run `bedrock-jobs ingest --ids FILE` first")
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
            result = con.execute(query)
            if result is None or result.description is None:
                raise QueryError("the query returned no rows to show (is it empty, or only "
                                 "a comment?)")
            frame = result.df()
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
