"""Materialization metadata read off the warehouse, as the table registry describes it: row
counts, column schemas with meanings, previews and the figures plotted across runs. A part
that cannot be drawn is left out with its reason and a warning, never a failed asset."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import dagster as dg
import duckdb
import pandas as pd

from pipelines.services.text import one_line
from warehouse import registry
from warehouse.db import first_row, sql


def row_count(con: duckdb.DuckDBPyConnection, table: registry.Table) -> int:
    row = first_row(con.execute(f"SELECT count(*) FROM {table.qualified}"))  # noqa: S608
    return int(row[0]) if row else 0


def _columns(con: duckdb.DuckDBPyConnection, table: registry.Table) -> list[tuple[str, str]]:
    return con.execute(
        """
        SELECT column_name, data_type FROM information_schema.columns
        WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position
        """,
        [table.schema, table.name],
    ).fetchall()


def column_schema(con: duckdb.DuckDBPyConnection, table: registry.Table) -> dg.TableSchema:
    """Names and types of the table's columns (from the warehouse) with their meanings
    (from the registry, as in docs/data-dictionary.md): the UI's column schema."""
    return dg.TableSchema(columns=[
        dg.TableColumn(name, kind, description=column.description
                       if (column := table.column(name)) else None)
        for name, kind in _columns(con, table)])


def preview(con: duckdb.DuckDBPyConnection, table: registry.Table,
            limit: int = 10) -> dg.MarkdownMetadataValue:
    """The table's top rows as markdown: the registry's preview columns in its order
    (fixed strings from `tables.yml`, never input; the columns checked against the table)."""
    if table.preview is None:
        raise ValueError(f"{table.qualified} has no preview in the registry")
    known = {name for name, _ in _columns(con, table)}
    if missing := set(table.preview.columns) - known:
        raise ValueError(f"not columns of {table.qualified}: {sorted(missing)}")
    frame = con.execute(
        f"SELECT {', '.join(table.preview.columns)} FROM {table.qualified} "  # noqa: S608
        f"ORDER BY {table.preview.order_by} LIMIT ?",
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


def table_metadata(con: duckdb.DuckDBPyConnection, table: registry.Table,
                   **extra: Any) -> dict[str, Any]:
    """Row count and column schema, in Dagster's well-known keys, the figures of the
    table's trend query (Dagster plots numeric metadata across runs), its preview, and
    `extra`.

    Presentation never fails the data: a part that cannot be read or drawn is left out,
    named with its reason under `metadata_not_drawn` and logged as a warning in the run.
    """
    metadata: dict[str, Any] = {"dagster/row_count": row_count(con, table),
                                "table": table.qualified}
    parts: dict[str, Callable[[], dict[str, Any]]] = {
        "column schema": lambda: {"dagster/column_schema": column_schema(con, table)}}
    if table.trend_query:
        parts["trend figures"] = lambda: trend_figures(con, table.trend_query)
    if table.preview:
        parts["preview"] = lambda: {"preview": preview(con, table)}
    failed: dict[str, str] = {}
    for part, read in parts.items():
        try:
            metadata.update(read())
        except Exception as error:
            failed[part] = one_line(error)
    if failed:
        text = "; ".join(f"{part}: {why}" for part, why in failed.items())
        metadata["metadata_not_drawn"] = dg.MetadataValue.text(text)
        dg.get_dagster_logger().warning(f"{table.qualified}: metadata left out ({text})")
    return {**metadata, **extra}


def trend_figures(con: duckdb.DuckDBPyConnection, query: str) -> dict[str, Any]:
    """The figures of `queries/<query>.sql`: one row, a column per figure (NULLs left out)."""
    cursor = con.execute(sql("queries", query))
    names = [d[0] for d in cursor.description]
    row = first_row(cursor) or ()
    return {name: value for name, value in zip(names, row, strict=False) if value is not None}
