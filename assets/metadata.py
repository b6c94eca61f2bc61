"""Materialization metadata read off the warehouse: row counts, column schemas, previews."""

from __future__ import annotations

from typing import Any

import dagster as dg
import duckdb

from warehouse.db import first_row

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


def column_schema(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> dg.TableSchema:
    _checked(schema, table)
    rows = con.execute(
        """
        SELECT column_name, data_type FROM information_schema.columns
        WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position
        """,
        [schema, table],
    ).fetchall()
    return dg.TableSchema(columns=[dg.TableColumn(name, kind) for name, kind in rows])


def preview(con: duckdb.DuckDBPyConnection, schema: str, table: str, order_by: str,
            limit: int = 10) -> dg.MarkdownMetadataValue:
    """The table's top rows as markdown. `order_by` is a fixed string from the caller."""
    frame = con.execute(
        f"SELECT * FROM {_checked(schema, table)} ORDER BY {order_by} LIMIT ?",  # noqa: S608
        [limit],
    ).df()
    return dg.MetadataValue.md(frame.to_markdown(index=False, floatfmt=".2f")
                               if not frame.empty else "_(no rows)_")


def table_metadata(con: duckdb.DuckDBPyConnection, schema: str, table: str,
                   **extra: Any) -> dict[str, Any]:
    """Row count and column schema, in Dagster's well-known keys, plus `extra`."""
    return {
        "dagster/row_count": row_count(con, schema, table),
        "dagster/column_schema": column_schema(con, schema, table),
        "table": f"{schema}.{table}",
        **extra,
    }
