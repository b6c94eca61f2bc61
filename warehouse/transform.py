"""Core and marts: the SQL models of `core/` and `marts/`, run set-based in DuckDB.

Core derives from raw in its own step (`derive_core`): the payloads stored since its
watermark (`ops.core_watermark`, a payload_seq) are processed in chunks, one
transaction per chunk; the jobs a chunk touches are deleted from the three core tables
and inserted again from their current payload. A job's *current payload* is its most
recently stored raw payload (highest `payload_seq`, i.e. load order, not `fetched_at`)
that is not quarantined, so a quarantined fetch leaves the job's last good state in
core. `rebuild_from_raw` is the same code with the watermark reset, so it gives the
same tables as deriving incrementally.

Marts are small and derived from core as a whole, so `refresh_marts` replaces
them in one transaction, each by its model's result (`CREATE OR REPLACE TABLE ... AS`), in
the registry's run order (`marts/tables.yml`): adding a mart is its SQL plus its entry.

Decisions where the contract is silent:
- `core.jobs.status` follows "terminal means finished" (core/jobs.sql): the terminal
  one of the top-level status and the last event (after sorting), the top-level first
  when both are terminal and disagree; otherwise the last event's, or the top-level one
  without events. The top-level field is kept as `reported_status`/`reported_status_raw`.
- Duplicates are (canonical status, instant): `queued` and `PENDING` at the same
  instant written `Z` and `+02:00` are one event; the first in array order is kept.
- Each mart's rules are its SQL's (`marts/*.sql`). One statement there is not a mart:
  `record_regression_flags.sql`, run after the marts in their transaction (what changed
  remembers which (type, metric) it flagged, and since when: `ops.regression_flags`).
- `core.jobs.fetched_at` is when its current payload's content was first fetched
  (an identical re-fetch is not stored); the ledger has the last attempt.
"""

# Table names in the f-strings below come only from the table registry and the SQL
# from warehouse/*/*.sql; values are always bound as parameters.
# ruff: noqa: S608

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import duckdb

from warehouse import registry
from warehouse.db import first_row, sql, sql_params, transaction
from warehouse.what_changed import RegressionSettings, record_flags

DEFAULT_STUCK_FLOOR_SECONDS = 3600.0
"""The least time in a status that counts as stuck, whatever history says (1 h); also how
old the data in flight may get before stuck jobs can't be judged (`warehouse/stuck.py`)."""


def core_tables() -> tuple[str, ...]:
    """The core tables the core step fills, in the registry's order."""
    return tuple(t.name for t in registry.layer("core"))


@contextmanager
def bulk_settings(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """Let DuckDB write in parallel without keeping row order (every reader of these
    tables orders explicitly), restoring the session's setting afterwards."""
    row = first_row(con.execute("SELECT current_setting('preserve_insertion_order')"))
    before = bool(row[0]) if row else True
    con.execute("SET preserve_insertion_order = false")
    try:
        yield
    finally:
        con.execute(f"SET preserve_insertion_order = {'true' if before else 'false'}")


def stage_payloads(con: duckdb.DuckDBPyConnection) -> None:
    """Parse the payloads of `_payload_scope` (temp table or view) into temp table
    `_stg_payloads`: one row per payload with its verdict (quarantine reason or NULL),
    its fields, its ordered events as a list, and the per-job event figures."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE _stg_payloads AS {sql('core', 'stg_payloads')}")


CORE_CHUNK = 250_000
"""payload_seq values per core chunk: one transaction each, and the bound on the staging
temp table's memory (no spilling under a memory_limit)."""


@dataclass(frozen=True)
class CoreSummary:
    """What one core derivation did: the payload_seq range it processed (None: nothing
    new), the jobs whose core rows it replaced, its chunks and its time."""

    from_seq: int | None
    to_seq: int | None
    jobs_changed: int
    chunks: int
    seconds: float
    rebuilt: bool = False

    def as_metadata(self) -> dict[str, object]:
        return {"payload_seq_from": self.from_seq, "payload_seq_to": self.to_seq,
                "jobs_changed": self.jobs_changed, "chunks": self.chunks,
                "seconds": round(self.seconds, 3), "rebuilt": self.rebuilt}


def core_watermark(con: duckdb.DuckDBPyConnection) -> int:
    """The highest payload_seq core has derived (0: none)."""
    row = first_row(con.execute("SELECT max(payload_seq) FROM ops.core_watermark"))
    return int(row[0]) if row and row[0] is not None else 0


def derive_core(con: duckdb.DuckDBPyConnection, *, chunk_size: int = CORE_CHUNK) -> CoreSummary:
    """Bring core up to date with raw: the payloads stored since the watermark, in chunks
    of `chunk_size` payload_seq values, one transaction per chunk (its core rows and the
    watermark together), so a crash loses at most the chunk in flight.

    A job's core rows come from its current payload: its highest-`payload_seq` payload
    that is not quarantined; a quarantined fetch leaves its last good state.
    """
    with bulk_settings(con):
        return _derive(con, chunk_size, rebuilt=False)


def rebuild_from_raw(con: duckdb.DuckDBPyConnection, *,
                     chunk_size: int = CORE_CHUNK) -> CoreSummary:
    """Recompute all of core from raw: `derive_core` with the watermark reset.

    Also refreshes `ops.job_ledger.is_terminal` of loaded jobs from the rebuilt core
    (a changed rule reaches the ledger this way).
    """
    with bulk_settings(con):
        with transaction(con):
            for table in core_tables():
                con.execute(f"DELETE FROM core.{table}")
            con.execute("UPDATE ops.core_watermark SET payload_seq = 0, derived_at = now()")
        summary = _derive(con, chunk_size, rebuilt=True)
        con.execute(
            """
            UPDATE ops.job_ledger AS ledger SET is_terminal = jobs.is_terminal
            FROM core.jobs AS jobs
            WHERE ledger.job_id = jobs.job_id AND ledger.outcome = 'loaded'
              AND ledger.is_terminal IS DISTINCT FROM jobs.is_terminal
            """
        )
    return summary


def _derive(con: duckdb.DuckDBPyConnection, chunk_size: int, *, rebuilt: bool) -> CoreSummary:
    started = time.monotonic()
    watermark = core_watermark(con)
    row = first_row(con.execute("SELECT max(payload_seq) FROM raw.latest_payloads"))
    high = int(row[0]) if row and row[0] is not None else 0
    if high <= watermark:
        return CoreSummary(None, None, 0, 0, time.monotonic() - started, rebuilt)
    # Each job's current payload among those stored since the watermark: a job stored
    # several times is derived once. Zone maps on payload_seq (raw is appended in
    # payload_seq order) skip what core already holds.
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _current_seqs AS
        SELECT max(payload_seq) AS payload_seq FROM raw.job_payloads
        WHERE payload_seq > $low AND payload_seq <= $high
          AND quarantine_reason IS NULL AND payload IS NOT NULL
        GROUP BY job_id
        """,
        {"low": watermark, "high": high},
    )
    jobs = chunks = 0
    for chunk_low in range(watermark + 1, high + 1, chunk_size):
        chunk_high = min(chunk_low + chunk_size - 1, high)
        jobs += _derive_chunk(con, chunk_low, chunk_high, everything=rebuilt)
        chunks += 1
    con.execute("DROP TABLE IF EXISTS _current_seqs")
    return CoreSummary(watermark + 1, high, jobs, chunks, time.monotonic() - started, rebuilt)


def _derive_chunk(con: duckdb.DuckDBPyConnection, low: int, high: int, *,
                  everything: bool) -> int:
    """One chunk's transaction: replace the core rows of the jobs whose current payload
    lies in payload_seq [low, high], and move the watermark to `high`."""
    with transaction(con):
        # A view: the JSON text is never copied into a temp table; stg_payloads parses
        # it once. The bounds are integers computed above (views take no parameters).
        con.execute(
            f"""
            CREATE OR REPLACE TEMP VIEW _payload_scope AS
            SELECT job_id, payload_seq, fetched_at, payload
            FROM raw.job_payloads
            WHERE payload_seq BETWEEN {low:d} AND {high:d}
              AND payload_seq IN (SELECT payload_seq FROM _current_seqs
                                  WHERE payload_seq BETWEEN {low:d} AND {high:d})
            """
        )
        stage_payloads(con)
        con.execute(
            "CREATE OR REPLACE TEMP VIEW _core_source AS "
            "SELECT * FROM _stg_payloads WHERE quarantine_reason IS NULL"
        )
        if not everything:  # a rebuild starts from empty tables: nothing to replace
            for table in core_tables():
                con.execute(
                    f"DELETE FROM core.{table} WHERE job_id IN (SELECT job_id FROM _core_source)"
                )
        for table in core_tables():
            con.execute(f"INSERT INTO core.{table} BY NAME {sql('core', table)}")
        row = first_row(con.execute("SELECT count(*) FROM _core_source"))
        con.execute("UPDATE ops.core_watermark SET payload_seq = $high, derived_at = now()",
                    {"high": high})
        for view in ("_core_source", "_payload_scope"):
            con.execute(f"DROP VIEW IF EXISTS {view}")
        con.execute("DROP TABLE IF EXISTS _stg_payloads")
    return int(row[0]) if row else 0


def refresh_marts(
    con: duckdb.DuckDBPyConnection,
    now: datetime | None = None,
    stuck_floor_seconds: float = DEFAULT_STUCK_FLOOR_SECONDS,
    regression_settings: RegressionSettings | None = None,
) -> dict[str, int]:
    """Recompute every mart from core in one transaction, in the registry's run order;
    returns rows per mart.

    `now` (aware; default: the current time) is the latest moment stuck jobs' ages are
    measured to (each job's runs to its last successful fetch) and where the current
    window of what changed ends; `stuck_floor_seconds` is the least
    time in a status that counts as stuck; `regression_settings` the windows and
    thresholds of what changed (default: `RegressionSettings()`). Each mart's SQL takes
    the parameters it names (`$now`, `$floor_seconds`, the settings' own).
    """
    now = now or datetime.now(UTC)
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    params = {"now": now, "floor_seconds": float(stuck_floor_seconds),
              **(regression_settings or RegressionSettings()).params(now)}
    with bulk_settings(con):
        return _refresh_marts(con, params)


def _refresh_marts(con: duckdb.DuckDBPyConnection, params: dict[str, Any]) -> dict[str, int]:
    rows: dict[str, int] = {}
    with transaction(con):
        for mart in registry.layer("marts"):
            # Each mart is recomputed whole and replaced by its model's result (a dbt
            # "table"): a new mart needs no migration, and its columns are its model's.
            model = sql("marts", mart.name)
            con.execute(f"CREATE OR REPLACE TABLE {mart.qualified} AS {model}",
                        {name: params[name] for name in sql_params(model)} or None)
            count = first_row(con.execute(f"SELECT count(*) FROM {mart.qualified}"))
            rows[mart.name] = int(count[0]) if count else 0
        # What changed remembers its flags with the marts, so a rolled-back refresh leaves
        # no trace and the next one tells its new flags from the continued ones.
        record_flags(con)
    return rows
