"""The ledger of requested IDs and the loading of fetch results, batch by batch.

Every batch is one explicit transaction (DuckDB otherwise commits statement by
statement): raw payloads, core rows of the jobs it touched, and the ledger are
written together or not at all, so a crash loses at most the batch in flight and
loading the same batch again changes nothing but the ledger's attempt counts.

Data arrives in bulk as an Arrow table (never row-by-row INSERT). A payload whose
sha256 equals the last one stored for its job is not stored again: it would not
change core, so its job is not rebuilt either.

Decisions where the contract is silent:
- `outcome` is the outcome of the latest attempt (a transient `failed` after a
  load says `failed`; the job's data stays in core and `loaded_at` says when it
  last loaded). `attempts` accumulates the items' attempts.
- `is_terminal` (nothing left to fetch): a loaded job in a terminal status, and
  `not_found`, `forbidden`, `invalid_id`. `pending`, `failed`, `quarantined` and
  loaded non-terminal jobs are fetched again.
- A fetch result for an ID never registered gets a ledger row with source
  `unregistered` and requested_at = fetched_at.
- A payload's verdict is deterministic, so a re-fetched identical copy of a
  quarantined payload is quarantined again without being parsed.
"""

# Table names in the f-strings below come only from fixed tuples in this module and
# the SQL from warehouse/*/*.sql; values are always bound as parameters.
# ruff: noqa: S608

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

import duckdb
import pyarrow as pa

from warehouse.db import first_row
from warehouse.models import bulk_settings, replace_core, stage_payloads

FETCH_OUTCOMES = frozenset({"loaded", "not_found", "forbidden", "invalid_id", "failed"})
LEDGER_OUTCOMES = FETCH_OUTCOMES | {"pending", "quarantined"}
TERMINAL_FETCH_OUTCOMES = ("not_found", "forbidden", "invalid_id")


@dataclass(frozen=True, slots=True)
class FetchedItem:
    """One fetch result, as the pipeline hands it to `load_batch`.

    `payload_text` is the response body exactly as the API sent it (for `loaded`):
    `{"data": {...}}` (CMS) or a bare Vision object.
    """

    job_id: str
    outcome: str  # loaded | not_found | forbidden | invalid_id | failed
    fetched_at: datetime  # aware
    http_status: int | None = None
    error_code: str | None = None
    error_detail: str | None = None
    request_id: str | None = None
    attempts: int = 1
    payload_text: str | None = None


@dataclass(frozen=True, slots=True)
class BatchSummary:
    """What one `load_batch` did."""

    items: int
    payloads_stored: int
    duplicates: int
    quarantined: int
    jobs_rebuilt: int


_UTC_US = pa.timestamp("us", tz="UTC")


def _aware(at: datetime, what: str) -> datetime:
    if at.tzinfo is None:
        raise ValueError(f"{what} must be timezone-aware, got {at!r}")
    return at


def register_ids(
    con: duckdb.DuckDBPyConnection,
    ids: Iterable[str],
    source: str,
    requested_at: datetime,
) -> int:
    """Give every new ID a `pending` ledger row; returns how many were new.

    IDs are trimmed and blanks dropped. An ID already in the ledger keeps its row;
    only `last_requested_at` moves on.
    """
    requested_at = _aware(requested_at, "requested_at")
    batch = pa.table({"job_id": pa.array(list(ids), pa.string())})
    con.register("_ids_arrow", batch)
    con.begin()
    try:
        con.execute(
            """
            CREATE OR REPLACE TEMP TABLE _ids AS
            SELECT DISTINCT trim(job_id) AS job_id FROM _ids_arrow
            WHERE job_id IS NOT NULL AND trim(job_id) <> ''
            """
        )
        con.execute(
            """
            UPDATE ops.job_ledger SET last_requested_at = greatest(last_requested_at, $at)
            WHERE job_id IN (SELECT job_id FROM _ids)
            """,
            {"at": requested_at},
        )
        new = first_row(con.execute(
            """
            INSERT INTO ops.job_ledger (job_id, source, requested_at, last_requested_at,
                                        attempts, outcome, is_terminal)
            SELECT job_id, $source, $at, $at, 0, 'pending', false
            FROM _ids ANTI JOIN ops.job_ledger USING (job_id)
            """,
            {"source": source, "at": requested_at},
        ))
        con.execute("DROP TABLE _ids")
        con.commit()
    except Exception:
        con.rollback()
        raise
    finally:
        con.unregister("_ids_arrow")
    return int(new[0]) if new else 0


FetchKey = tuple[datetime, str]
"""(requested_at, job_id): the order IDs are fetched in, and a page's resume point."""

_TO_FETCH = """
    FROM ops.job_ledger
    WHERE NOT is_terminal AND ($max_attempts IS NULL OR attempts < $max_attempts)
      AND (NOT $in_flight_only OR loaded_at IS NOT NULL)
      AND (NOT $unattempted_only OR attempts = 0)
      AND ($requested_until IS NULL OR requested_at <= $requested_until)
      -- Typed explicitly: an untyped parameter against md5_number's UHUGEINT compares wrong.
      AND ($buckets::UBIGINT = 1
           OR md5_number(job_id) % $buckets::UBIGINT = $bucket::UBIGINT)
"""


def _fetch_params(max_attempts: int | None, in_flight_only: bool, unattempted_only: bool,
                  requested_until: datetime | None, bucket: int, buckets: int) -> dict:
    if buckets < 1 or not 0 <= bucket < buckets:
        raise ValueError(f"bucket {bucket} is not within 0..{buckets - 1}")
    return {"max_attempts": max_attempts, "in_flight_only": in_flight_only,
            "unattempted_only": unattempted_only, "requested_until": requested_until,
            "bucket": bucket, "buckets": buckets}


def ids_to_fetch(
    con: duckdb.DuckDBPyConnection,
    *,
    limit: int | None = None,
    max_attempts: int | None = None,
    in_flight_only: bool = False,
    unattempted_only: bool = False,
    after: FetchKey | None = None,
    requested_until: datetime | None = None,
    bucket: int = 0,
    buckets: int = 1,
) -> list[str]:
    """IDs that still need fetching: new/pending, failed, quarantined, or loaded in a
    non-terminal status; oldest request first. `max_attempts` skips IDs tried that often.

    `in_flight_only` keeps only jobs already loaded in a non-terminal status (the
    hourly refresh); `unattempted_only` keeps only IDs never tried (parents found
    while fetching their children).

    For reading millions of IDs a page at a time (`keys_to_fetch`): `after` resumes
    after a page's last key, `requested_until` leaves out what was registered since
    the first page, and `bucket` of `buckets` keeps one hash bucket of the IDs (a
    backfill's unit of work: `md5_number(job_id) % buckets`).
    """
    return [job_id for _, job_id in keys_to_fetch(
        con, limit=limit, max_attempts=max_attempts, in_flight_only=in_flight_only,
        unattempted_only=unattempted_only, after=after, requested_until=requested_until,
        bucket=bucket, buckets=buckets)]


def keys_to_fetch(
    con: duckdb.DuckDBPyConnection,
    *,
    limit: int | None = None,
    max_attempts: int | None = None,
    in_flight_only: bool = False,
    unattempted_only: bool = False,
    after: FetchKey | None = None,
    requested_until: datetime | None = None,
    bucket: int = 0,
    buckets: int = 1,
) -> list[FetchKey]:
    """`ids_to_fetch` with each ID's `(requested_at, job_id)` key, to page by keyset."""
    params = _fetch_params(max_attempts, in_flight_only, unattempted_only, requested_until,
                           bucket, buckets)
    params.update(limit=limit, after_at=after[0] if after else None,
                  after_id=after[1] if after else None)
    return [(row[0], row[1]) for row in con.execute(
        f"""
        SELECT requested_at, job_id {_TO_FETCH}
          AND ($after_at IS NULL OR (requested_at, job_id) > ($after_at, $after_id))
        ORDER BY requested_at, job_id
        LIMIT $limit
        """,
        params,
    ).fetchall()]


def count_to_fetch(
    con: duckdb.DuckDBPyConnection,
    *,
    max_attempts: int | None = None,
    in_flight_only: bool = False,
    unattempted_only: bool = False,
    requested_until: datetime | None = None,
    bucket: int = 0,
    buckets: int = 1,
) -> tuple[int, datetime | None]:
    """How many IDs `ids_to_fetch` would return, and the newest `requested_at` among them
    (pass it as `requested_until` to page through exactly these)."""
    row = first_row(con.execute(
        f"SELECT count(*), max(requested_at) {_TO_FETCH}",
        _fetch_params(max_attempts, in_flight_only, unattempted_only, requested_until,
                      bucket, buckets),
    ))
    return (int(row[0]), row[1]) if row else (0, None)


def _batch_table(items: Sequence[FetchedItem]) -> pa.Table:
    for item in items:
        if item.outcome not in FETCH_OUTCOMES:
            raise ValueError(f"{item.job_id}: outcome {item.outcome!r} not in {FETCH_OUTCOMES}")
        _aware(item.fetched_at, "fetched_at")
    texts = [item.payload_text if item.outcome == "loaded" else None for item in items]
    return pa.table(
        {
            "ordinal": pa.array(range(len(items)), pa.int64()),
            "job_id": pa.array([item.job_id for item in items], pa.string()),
            "outcome": pa.array([item.outcome for item in items], pa.string()),
            "fetched_at": pa.array([item.fetched_at for item in items], _UTC_US),
            "http_status": pa.array([item.http_status for item in items], pa.int32()),
            "error_code": pa.array([item.error_code for item in items], pa.string()),
            "error_detail": pa.array([item.error_detail for item in items], pa.string()),
            "request_id": pa.array([item.request_id for item in items], pa.string()),
            "attempts": pa.array([item.attempts for item in items], pa.int32()),
            "payload_text": pa.array(texts, pa.string()),
            # hashlib is ~2x faster than DuckDB's sha256() on this machine.
            "payload_sha256": pa.array(
                [hashlib.sha256(t.encode()).hexdigest() if t is not None else None
                 for t in texts],
                pa.string(),
            ),
        }
    )


def load_batch(con: duckdb.DuckDBPyConnection, items: Sequence[FetchedItem]) -> BatchSummary:
    """Write one batch of fetch results: raw, core and ledger in one transaction."""
    if not items:
        return BatchSummary(0, 0, 0, 0, 0)
    con.register("_batch_arrow", _batch_table(items))
    try:
        with bulk_settings(con):
            con.begin()
            try:
                summary = _load(con, len(items))
                con.commit()
            except Exception:
                con.rollback()
                raise
    finally:
        con.unregister("_batch_arrow")
    return summary


def _load(con: duckdb.DuckDBPyConnection, n_items: int) -> BatchSummary:
    # The sha256 and verdict of each batch job's last stored payload, from the one row
    # per job in raw.latest_payloads: per-batch work does not grow with raw.
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _last_stored AS
        SELECT job_id, payload_seq, payload_sha256, quarantine_reason
        FROM raw.latest_payloads
        WHERE job_id IN (SELECT job_id FROM _batch_arrow WHERE payload_text IS NOT NULL)
        """
    )
    # Payloads to store: those that differ from the one before them (in the batch,
    # else the last stored), numbered after everything already in raw.
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _payload_scope AS
        WITH source AS (
            -- Keys only: the bodies are joined back after the windows, which then
            -- sort and partition narrow rows.
            SELECT batch.ordinal, batch.job_id, batch.payload_sha256,
                   coalesce(
                       lag(batch.payload_sha256) OVER (
                           PARTITION BY batch.job_id ORDER BY batch.ordinal),
                       last.payload_sha256
                   ) AS previous_sha256
            FROM _batch_arrow AS batch
            LEFT JOIN _last_stored AS last USING (job_id)
            WHERE batch.payload_text IS NOT NULL
        ),
        new AS (
            SELECT
                ordinal,
                -- The newest payload overall is the newest of its job, so the one row
                -- per job of raw.latest_payloads holds the highest payload_seq.
                (SELECT coalesce(max(payload_seq), 0) FROM raw.latest_payloads)
                    + row_number() OVER (ORDER BY ordinal) AS payload_seq
            FROM source
            WHERE payload_sha256 IS DISTINCT FROM previous_sha256
        )
        SELECT
            batch.job_id,
            new.payload_seq,
            batch.fetched_at,
            TRY_CAST(batch.payload_text AS JSON) AS payload,
            batch.payload_text,
            batch.payload_sha256,
            batch.ordinal
        FROM new
        INNER JOIN _batch_arrow AS batch USING (ordinal)
        """
    )
    stage_payloads(con)
    con.execute(
        """
        INSERT INTO raw.job_payloads BY NAME
        SELECT scope.job_id, scope.fetched_at, scope.payload, scope.payload_sha256,
               scope.payload_seq,
               CASE WHEN scope.payload IS NULL THEN scope.payload_text END AS payload_text,
               staged.quarantine_reason
        FROM _payload_scope AS scope
        INNER JOIN _stg_payloads AS staged USING (payload_seq)
        """
    )
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _stored AS
        SELECT scope.job_id, scope.payload_seq, scope.payload_sha256, staged.quarantine_reason
        FROM _payload_scope AS scope
        INNER JOIN _stg_payloads AS staged USING (payload_seq)
        """
    )
    con.execute(
        "DELETE FROM raw.latest_payloads WHERE job_id IN (SELECT job_id FROM _stored)"
    )
    con.execute(
        """
        INSERT INTO raw.latest_payloads BY NAME
        SELECT * FROM _stored
        QUALIFY row_number() OVER (PARTITION BY job_id ORDER BY payload_seq DESC) = 1
        """
    )
    # Core is rebuilt from each job's newest understood payload of this batch: a view
    # over the staged rows, as copying them, bodies and all, cost more than the models.
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _batch_current_seqs AS
        SELECT max(payload_seq) AS payload_seq FROM _stg_payloads
        WHERE quarantine_reason IS NULL
        GROUP BY job_id
        """
    )
    con.execute(
        """
        CREATE OR REPLACE TEMP VIEW _core_source AS
        SELECT * FROM _stg_payloads
        WHERE payload_seq IN (SELECT payload_seq FROM _batch_current_seqs)
        """
    )
    stored = first_row(con.execute("SELECT count(*) FROM _payload_scope"))
    rebuilt = replace_core(con)
    _update_ledger(con)
    quarantined = first_row(con.execute(
        "SELECT count(*) FROM _ledger_updates WHERE outcome = 'quarantined'"
    ))
    loaded_texts = first_row(con.execute(
        "SELECT count(*) FROM _batch_arrow WHERE payload_text IS NOT NULL"
    ))
    con.execute("DROP VIEW IF EXISTS _core_source")
    for temp in _LOAD_TEMPS:
        con.execute(f"DROP TABLE IF EXISTS {temp}")
    n_stored = int(stored[0]) if stored else 0
    return BatchSummary(
        items=n_items,
        payloads_stored=n_stored,
        duplicates=(int(loaded_texts[0]) if loaded_texts else 0) - n_stored,
        quarantined=int(quarantined[0]) if quarantined else 0,
        jobs_rebuilt=rebuilt,
    )


_LOAD_TEMPS = ("_last_stored", "_payload_scope", "_stg_payloads", "_stored",
               "_batch_current_seqs", "_ledger_updates")


def _update_ledger(con: duckdb.DuckDBPyConnection) -> None:
    # Verdict of every payload seen in this batch, by (job, sha256): identical
    # content has the same verdict, so a duplicate takes the stored one's.
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _ledger_updates AS
        WITH verdicts AS (
            SELECT job_id, payload_sha256, quarantine_reason FROM _last_stored
            UNION ALL
            SELECT job_id, payload_sha256, quarantine_reason FROM _stored
        ),
        verdict_by_sha AS (
            SELECT job_id, payload_sha256, any_value(quarantine_reason) AS quarantine_reason,
                   bool_or(quarantine_reason IS NOT NULL) AS is_quarantined
            FROM verdicts
            GROUP BY job_id, payload_sha256
        ),
        items AS (
            SELECT
                batch.* EXCLUDE (payload_text),  -- the bodies would ride through the windows
                batch.payload_text IS NULL AS has_no_body,
                sum(batch.attempts) OVER (PARTITION BY batch.job_id) AS batch_attempts,
                max(batch.fetched_at) FILTER (WHERE batch.outcome = 'loaded')
                    OVER (PARTITION BY batch.job_id) AS batch_loaded_at
            FROM _batch_arrow AS batch
            QUALIFY row_number() OVER (PARTITION BY batch.job_id ORDER BY batch.ordinal DESC) = 1
        ),
        cleaned AS (
            SELECT
                items.*,
                CASE
                    WHEN items.outcome <> 'loaded' THEN NULL
                    WHEN items.has_no_body THEN 'loaded without a response body'
                    WHEN verdict_by_sha.is_quarantined THEN verdict_by_sha.quarantine_reason
                END AS quarantine_reason
            FROM items
            LEFT JOIN verdict_by_sha USING (job_id, payload_sha256)
        ),
        jobs AS (
            SELECT job_id, is_terminal FROM core.jobs
            WHERE job_id IN (SELECT job_id FROM _batch_arrow)
        )
        SELECT
            cleaned.job_id,
            cleaned.fetched_at AS last_attempt_at,
            cleaned.batch_attempts AS attempts,
            CASE WHEN cleaned.quarantine_reason IS NOT NULL THEN 'quarantined'
                 ELSE cleaned.outcome END AS outcome,
            cleaned.http_status,
            cleaned.error_code,
            coalesce(cleaned.quarantine_reason, cleaned.error_detail) AS error_detail,
            cleaned.request_id,
            CASE
                WHEN cleaned.quarantine_reason IS NOT NULL THEN false
                WHEN cleaned.outcome = 'loaded' THEN coalesce(jobs.is_terminal, false)
                ELSE cleaned.outcome IN ('not_found', 'forbidden', 'invalid_id')
            END AS is_terminal,
            CASE WHEN cleaned.quarantine_reason IS NULL THEN cleaned.batch_loaded_at END
                AS loaded_at
        FROM cleaned
        LEFT JOIN jobs USING (job_id)
        """
    )
    # The batch's ledger rows are replaced (delete + insert) rather than updated in
    # place: DuckDB's UPDATE/MERGE of many rows is far slower (8-17 s per 100,000 rows
    # here). `ledger.* REPLACE` carries every other column, whatever it is, across.
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _ledger_rows AS
        SELECT ledger.* REPLACE (
            updates.job_id AS job_id,
            CASE WHEN ledger.job_id IS NULL THEN 'unregistered' ELSE ledger.source END
                AS source,
            CASE WHEN ledger.job_id IS NULL THEN updates.last_attempt_at
                 ELSE ledger.requested_at END AS requested_at,
            CASE WHEN ledger.job_id IS NULL THEN updates.last_attempt_at
                 ELSE ledger.last_requested_at END AS last_requested_at,
            updates.last_attempt_at AS last_attempt_at,
            coalesce(ledger.attempts, 0) + updates.attempts AS attempts,
            updates.outcome AS outcome,
            updates.http_status AS http_status,
            updates.error_code AS error_code,
            updates.error_detail AS error_detail,
            updates.request_id AS request_id,
            updates.is_terminal AS is_terminal,
            coalesce(updates.loaded_at, ledger.loaded_at) AS loaded_at
        )
        FROM _ledger_updates AS updates
        LEFT JOIN ops.job_ledger AS ledger ON ledger.job_id = updates.job_id
        """
    )
    con.execute(
        "DELETE FROM ops.job_ledger WHERE job_id IN (SELECT job_id FROM _ledger_updates)"
    )
    con.execute("INSERT INTO ops.job_ledger BY NAME SELECT * FROM _ledger_rows")
    con.execute("DROP TABLE _ledger_rows")
