"""The ledger of requested IDs and the landing of fetch results, batch by batch.

Every batch is one explicit transaction (DuckDB otherwise commits statement by
statement): the raw payloads (bodies as received), `raw.latest_payloads`, the
ledger outcomes and the parents the payloads name are written together or not at
all, so a crash loses at most the batch in flight and landing the same batch again
changes nothing but the ledger's attempt counts. Core is derived from raw by its own
step (`warehouse.transform.derive_core`).

Data arrives in bulk as an Arrow table (never row-by-row INSERT). A payload whose
sha256 equals the last one stored for its job is not stored again: it would not
change core.

Where the rules live: every statement of landing and of registering IDs is a file of
`land/`, one statement each, named by what it does (`_LANDING` lists a batch's in the
order they run, each with what it writes):
- what to store (a body unlike the one before it) and its payload_seq: `payload_scope.sql`;
- a payload's verdict (quarantine), its parent and whether it is terminal: the staging
  model `core/stg_payloads.sql` and the macro `job_is_terminal` (`schema/macros.sql`),
  read once per batch by `stage_payloads.sql`;
- a copy of a stored payload takes that payload's verdict; the ledger's outcome, attempts,
  is_terminal and loaded_at: `ledger_updates.sql`; merged into the jobs' ledger rows (an
  ID never registered: source `unregistered`): `ledger_rows.sql`;
- ledger_seq: `batch_keys.sql` for a fetched ID never registered, `insert_new_ids.sql`
  for one registered (`register_ids`, the parents of a batch: `batch_parents.sql`);
- an ID requested again keeps its row, only last_requested_at moves on:
  `touch_known_ids.sql`, which `_land` skips for parents (named again is not requested).
This module keeps what is not a rule: the Arrow table and its checks (known outcomes,
aware timestamps) with each body's sha256 (`body_sha256`, hashlib), the transaction, the
order the files run in, the parameters they bind, the BatchSummary and dropping the temp
tables. The ledger's reads for fetching (`keys_to_fetch`, `count_to_fetch`) keep their
SQL here.

Decisions where the contract is silent:
- `outcome` is the outcome of the latest attempt (a transient `failed` after a
  load says `failed`; the job's data stays in core and `loaded_at` says when it
  last loaded). `attempts` accumulates the items' attempts.
- `is_terminal` (nothing left to fetch): a loaded job in a terminal status, and
  `not_found`, `forbidden`, `invalid_id`. `pending`, `failed`, `quarantined` and
  loaded non-terminal jobs are fetched again.
- A fetch result for an ID never registered gets a ledger row with source
  `unregistered` and requested_at = fetched_at.
- A parent a batch names is registered (source `parent`) when new; one already in the
  ledger keeps its row as it is (being named again is not a request).
- A payload's verdict is deterministic, so a re-fetched identical copy of a
  quarantined payload is quarantined again without being parsed.
"""

# Table names in the f-strings below come only from fixed tuples in this module and
# the SQL from warehouse/*/*.sql; values are always bound as parameters.
# ruff: noqa: S608

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache

import duckdb
import pyarrow as pa

from warehouse.db import first_row, sql, sql_params, transaction
from warehouse.transform import bulk_settings

FETCH_OUTCOMES = frozenset({"loaded", "not_found", "forbidden", "invalid_id", "failed"})
LEDGER_OUTCOMES = FETCH_OUTCOMES | {"pending", "quarantined"}
TERMINAL_FETCH_OUTCOMES = ("not_found", "forbidden", "invalid_id")


@dataclass(frozen=True, slots=True)
class FetchedItem:
    """One fetch result, as the pipeline hands it to `land_batch`.

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
    ledger_seq: int | None = None  # the ID's ops.job_ledger.ledger_seq, when the caller has it


@dataclass(frozen=True, slots=True)
class BatchSummary:
    """What one `land_batch` did."""

    items: int
    payloads_stored: int
    duplicates: int
    quarantined: int
    parents_registered: int


_UTC_US = pa.timestamp("us", tz="UTC")


def _aware(at: datetime, what: str) -> datetime:
    if at.tzinfo is None:
        raise ValueError(f"{what} must be timezone-aware, got {at!r}")
    return at


_MODEL_REF = re.compile(r"\{\{ (\w+)/(\w+) \}\}")
"""`{{ core/stg_payloads }}` in a land file: that model's SELECT, put in where it is named
(the staging model is shared with `derive_core`; as a view it would be bound twice per
batch: 3-7 ms more here, a tenth of a small batch)."""


@cache
def _statement(name: str) -> tuple[str, tuple[str, ...]]:
    """The statement of `land/<name>.sql`, with the models it names put in, and the
    parameters it binds."""
    text = _MODEL_REF.sub(lambda named: sql(named[1], named[2]), sql("land", name))
    return text, tuple(sql_params(text))


def _run(con: duckdb.DuckDBPyConnection, name: str,
         params: Mapping[str, object] | None = None) -> duckdb.DuckDBPyConnection:
    """Run `land/<name>.sql`, binding the parameters it names from `params`."""
    text, names = _statement(name)
    return con.execute(text, {key: (params or {})[key] for key in names} or None)


def _drop_temps(con: duckdb.DuckDBPyConnection) -> None:
    """Drop the temp tables the land files create (`_TEMP_TABLES`), whichever exist."""
    for temp in _TEMP_TABLES:
        con.execute(f"DROP TABLE IF EXISTS {temp}")


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
    try:
        with transaction(con):
            _run(con, "requested_ids")
            new = _register(con, source, requested_at)
            _drop_temps(con)
    finally:
        con.unregister("_ids_arrow")
    return new


def _register(con: duckdb.DuckDBPyConnection, source: str, requested_at: datetime, *,
              touch_known: bool = True, taken: int | None = None) -> int:
    """Ledger rows for the IDs of temp table `_ids` (trimmed, distinct), inside the
    caller's transaction; returns how many were new. `touch_known` moves the
    `last_requested_at` of IDs already registered (a request; a parent found again is not
    one, and DuckDB's UPDATE of many rows is slow). `taken`: a ledger_seq known to be in
    the ledger, so finding the last one reads only the rows from there on."""
    _run(con, "hash_hits")
    _run(con, "known_ids")
    if touch_known:
        _run(con, "touch_known_ids", {"at": requested_at})
    new = first_row(_run(con, "insert_new_ids",
                         {"source": source, "at": requested_at, "taken": taken}))
    return int(new[0]) if new else 0


FetchKey = tuple[datetime, str, int]
"""(requested_at, job_id, ledger_seq): the order IDs are fetched in, a page's resume
point, and the numeric key a batch's lookups use (`FetchedItem.ledger_seq`)."""

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
    return [job_id for _, job_id, _ in keys_to_fetch(
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
    """`ids_to_fetch` with each ID's `(requested_at, job_id, ledger_seq)` key, to page by
    keyset."""
    params = _fetch_params(max_attempts, in_flight_only, unattempted_only, requested_until,
                           bucket, buckets)
    params.update(limit=limit, after_at=after[0] if after else None,
                  after_id=after[1] if after else None)
    return [(row[0], row[1], row[2]) for row in con.execute(
        f"""
        SELECT requested_at, job_id, ledger_seq {_TO_FETCH}
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


def body_sha256(text: str) -> str:
    """`raw.job_payloads.payload_sha256` of a response body: SHA-256 of its UTF-8 text, hex.
    (hashlib is ~2x faster than DuckDB's sha256() on this machine.)"""
    return hashlib.sha256(text.encode()).hexdigest()


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
            "ledger_seq": pa.array([item.ledger_seq for item in items], pa.int64()),
            "payload_text": pa.array(texts, pa.string()),
            "payload_sha256": pa.array(
                [body_sha256(t) if t is not None else None for t in texts], pa.string()),
        }
    )


def land_batch(con: duckdb.DuckDBPyConnection, items: Sequence[FetchedItem], *,
               registered_at: datetime | None = None) -> BatchSummary:
    """Land one batch of fetch results in one transaction: raw (bodies as received),
    `raw.latest_payloads`, the ledger outcomes, and the parents its payloads name
    (registered at `registered_at`, default now). Core is not touched: the core step
    derives it from raw (`warehouse.transform.derive_core`)."""
    if not items:
        return BatchSummary(0, 0, 0, 0, 0)
    table = _batch_table(items)
    at = _aware(registered_at or datetime.now(UTC), "registered_at")
    con.register("_batch_arrow", table)
    try:
        with bulk_settings(con), transaction(con):
            summary = _land(con, len(items), at, _seq_range(items))
    finally:
        con.unregister("_batch_arrow")
    return summary


def _seq_range(items: Sequence[FetchedItem]) -> dict[str, int | None]:
    """The batch's ledger_seq range, or NULLs (look everywhere) if an item lacks one."""
    seqs = [item.ledger_seq for item in items]
    if any(seq is None for seq in seqs):
        return {"lo": None, "hi": None}
    return {"lo": min(seqs), "hi": max(seqs)}  # type: ignore[type-var]


# Landing a batch: the statements of warehouse/land/<name>.sql in the order they run, and
# what each writes ("-> _name": a temp table that later ones read).
_LANDING = (
    "batch_ledger",            # -> _batch_ledger: the batch's jobs' ledger rows, as before
    "batch_keys",              # -> _batch_keys: each job's ledger_seq (new IDs numbered)
    "last_stored",             # -> _last_stored: each job's last stored sha256 and verdict
    "payload_scope",           # -> _payload_scope: the payloads to store, numbered
    "stage_payloads",          # -> _stg_payloads: their verdicts, parents, is_terminal
    "store_payloads",          # raw.job_payloads: the payloads to store, appended
    "stored",                  # -> _stored: their keys and verdicts
    "delete_latest_payloads",  # raw.latest_payloads: those jobs' rows out...
    "insert_latest_payloads",  # ...and in again with their newest payload
    "staged_jobs",             # -> _staged_jobs: is_terminal of each understood payload
    "ledger_updates",          # -> _ledger_updates: per job: outcome, attempts, is_terminal
    "ledger_rows",             # -> _ledger_rows: those merged into the jobs' ledger rows
    "delete_ledger_rows",      # ops.job_ledger: the batch's jobs' rows out...
    "insert_ledger_rows",      # ...and in again as _ledger_rows
    "batch_parents",           # -> _ids: the parents the payloads name, for _register
)
# Then `_register` (hash_hits, known_ids, insert_new_ids) and batch_counts (the
# BatchSummary's figures). The one list of the temp tables the land files create, these and
# requested_ids', hash_hits' and known_ids'; dropped at the end of each transaction:
_TEMP_TABLES = ("_batch_ledger", "_batch_keys", "_last_stored", "_payload_scope",
                "_stg_payloads", "_stored", "_staged_jobs", "_ledger_updates", "_ledger_rows",
                "_ids", "_hash_hits", "_known_ids")


def _land(con: duckdb.DuckDBPyConnection, n_items: int, at: datetime,
          seq_range: dict[str, int | None]) -> BatchSummary:
    for name in _LANDING:
        _run(con, name, seq_range)
    # Parents, in this same transaction: a terminal child is never fetched again, so its
    # parent must be in the ledger when the child is.
    parents = _register(con, "parent", at, touch_known=False, taken=seq_range["lo"])
    counts = first_row(_run(con, "batch_counts"))
    stored, bodies, quarantined = (int(n) for n in counts) if counts else (0, 0, 0)
    _drop_temps(con)
    return BatchSummary(items=n_items, payloads_stored=stored, duplicates=bodies - stored,
                        quarantined=quarantined, parents_registered=parents)
