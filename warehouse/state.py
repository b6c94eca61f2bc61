"""Pipeline state kept in the warehouse: the discovery watermark."""

from __future__ import annotations

from datetime import datetime

import duckdb

from warehouse.db import first_row

DISCOVERY = "jobs_list"


def discovery_watermark(con: duckdb.DuckDBPyConnection) -> datetime | None:
    """The newest `created_at` discovery has registered, or None before the first run."""
    row = first_row(con.execute("SELECT watermark FROM ops.discovery_state WHERE source = ?",
                                [DISCOVERY]))
    return row[0] if row else None


def set_discovery_watermark(con: duckdb.DuckDBPyConnection, watermark: datetime,
                            now: datetime) -> None:
    """Move the watermark forward (never back)."""
    con.execute(
        """
        INSERT INTO ops.discovery_state VALUES ($source, $watermark, $now)
        ON CONFLICT (source) DO UPDATE
        SET watermark = greatest(watermark, excluded.watermark), updated_at = excluded.updated_at
        """,
        {"source": DISCOVERY, "watermark": watermark, "now": now},
    )
