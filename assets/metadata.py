"""Materialization metadata read off the warehouse: row counts, column schemas, previews."""

from __future__ import annotations

from functools import cache
from typing import Any

import dagster as dg
import duckdb
import pandas as pd

from warehouse.db import first_row, sql

# Every table an asset may describe: identifiers come from here, never from input.
TABLES = frozenset({
    ("ops", "job_ledger"), ("raw", "job_payloads"),
    ("core", "jobs"), ("core", "job_events"), ("core", "job_status_transitions"),
    ("marts", "job_durations"), ("marts", "failure_rates"), ("marts", "duration_stats"),
    ("marts", "transition_matrix"), ("marts", "stuck_jobs"), ("marts", "job_trees"),
    ("marts", "regressions"),
})


def _checked(schema: str, table: str) -> str:
    if (schema, table) not in TABLES:
        raise ValueError(f"unknown table {schema}.{table}")
    return f"{schema}.{table}"


def row_count(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> int:
    row = first_row(con.execute(f"SELECT count(*) FROM {_checked(schema, table)}"))  # noqa: S608
    return int(row[0]) if row else 0


@cache
def _column_meanings() -> dict[str, str]:
    from pipelines.tools.docs.dictionary import migration_comments

    return migration_comments()


def column_description(schema: str, table: str, column: str) -> str | None:
    """The column's meaning, from the same source as docs/data-dictionary.md."""
    from pipelines.tools.docs.dictionary import describe

    return describe(f"{schema}.{table}", column, _column_meanings()) or None


def _columns(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> list[tuple[str, str]]:
    _checked(schema, table)
    return con.execute(
        """
        SELECT column_name, data_type FROM information_schema.columns
        WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position
        """,
        [schema, table],
    ).fetchall()


def column_schema(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> dg.TableSchema:
    """Names, types and meanings of the table's columns (the UI's column schema)."""
    return dg.TableSchema(columns=[
        dg.TableColumn(name, kind, description=column_description(schema, table, name))
        for name, kind in _columns(con, schema, table)])


def preview(con: duckdb.DuckDBPyConnection, schema: str, table: str, order_by: str,
            limit: int = 10, columns: tuple[str, ...] = ()) -> dg.MarkdownMetadataValue:
    """The table's top rows as markdown: `columns` (default all) in `order_by` order.
    `order_by` is a fixed string from the caller; `columns` must be the table's."""
    known = {name for name, _ in _columns(con, schema, table)}
    if not set(columns) <= known:
        raise ValueError(f"not columns of {schema}.{table}: {sorted(set(columns) - known)}")
    selected = ", ".join(columns) if columns else "*"
    frame = con.execute(
        f"SELECT {selected} FROM {_checked(schema, table)} "  # noqa: S608
        f"ORDER BY {order_by} LIMIT ?",
        [limit],
    ).df()
    align = tuple("right" if pd.api.types.is_numeric_dtype(frame[c])
                  and not pd.api.types.is_bool_dtype(frame[c]) else "left" for c in frame)
    for column in frame.select_dtypes(include=["datetimetz"]).columns:
        frame[column] = frame[column].dt.strftime("%Y-%m-%d %H:%M")
    for column in frame.select_dtypes(include=["datetime"]).columns:  # DATE columns
        frame[column] = frame[column].dt.strftime("%Y-%m-%d")
    for column in frame.select_dtypes(include=["float"]).columns:
        # Two decimals; a p-value (tiny) in two significant digits instead.
        style = ".2g" if column == "p_value" else ".2f"
        frame[column] = frame[column].map(lambda v, f=style: "" if pd.isna(v) else format(v, f))
    if frame.empty:
        return dg.MetadataValue.md("_(no rows)_")
    return dg.MetadataValue.md(frame.to_markdown(index=False, disable_numparse=True,
                                                 colalign=align))


def table_metadata(con: duckdb.DuckDBPyConnection, schema: str, table: str,
                   **extra: Any) -> dict[str, Any]:
    """Row count and column schema, in Dagster's well-known keys, plus `extra`."""
    return {
        "dagster/row_count": row_count(con, schema, table),
        "dagster/column_schema": column_schema(con, schema, table),
        "table": f"{schema}.{table}",
        **extra,
    }


def mart_trends(con: duckdb.DuckDBPyConnection, busiest: int = 3) -> dict[str, dict[str, Any]]:
    """Per mart, the numbers worth a trend line across runs (Dagster plots numeric
    materialization metadata): the overall failure rate, the p95 total seconds of the
    `busiest` job types, the regressions found, the stuck jobs."""
    failure = con.execute(sql("queries", "trend_failure_rate")).fetchall()
    terminal, rate = failure[0] if failure else (0, None)
    p95 = con.execute(sql("queries", "trend_busiest_p95"), [busiest]).fetchall()
    regressions = con.execute(
        "SELECT count(*) FILTER (WHERE is_regression) FROM marts.regressions").fetchall()
    stuck = con.execute("SELECT count(*) FROM marts.stuck_jobs").fetchall()
    return {
        "failure_rates": {"terminal_jobs": int(terminal),
                          **({"overall_failure_rate": float(rate)} if rate is not None else {})},
        "duration_stats": {f"p95_total_seconds {job_type}": round(float(value), 2)
                           for job_type, value in p95},
        "regressions": {"regressions_found": int(regressions[0][0])},
        "stuck_jobs": {"stuck_now": int(stuck[0][0])},
    }
