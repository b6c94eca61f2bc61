"""Fetch and land: job records by ID, paced and retried by the client, landed in batches.

Plain functions the fetch asset calls; tests call them directly with a real client, a
simulator and a DuckDB file. Nothing here knows about Dagster.

Writes use a short-lived connection per batch (`connect()` is a context
manager that opens and closes one): between batches the warehouse file is free
for readers and other writers, and a crash loses at most the batch in flight.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import duckdb

import warehouse
from pipelines.bedrock import BedrockClient, FetchResult, FetchStats, Outcome
from pipelines.services.intake import Connect, utcnow

# IDs read from the ledger per page while fetching: the list of IDs to fetch is
# never held whole (a backfill may hold millions).
ID_PAGE = 10_000
BATCH_SIZE = 5_000
"""Results landed per transaction (also written at least every `FLUSH_SECONDS`). A batch's
lookups of its own jobs filter on their ledger_seq range (its parents on an integer hash), so
its cost does not grow with the warehouse; large batches amortise the fixed cost of a write.
Against the real API's rate limit the flush timer writes long before a batch fills."""
FLUSH_SECONDS = 5.0


def to_item(result: FetchResult, ledger_seq: int | None = None) -> warehouse.FetchedItem:
    """A client result as the warehouse's ledger/raw row: the body exactly as received
    (raw lands raw; DuckDB parses it, once, in the staging model)."""
    payload_text = result.body if result.outcome is Outcome.LOADED else None
    return warehouse.FetchedItem(
        job_id=result.job_id,
        outcome=str(result.outcome),
        fetched_at=result.fetched_at or utcnow(),
        http_status=result.http_status,
        error_code=result.error_code,
        error_detail=result.error_detail,
        request_id=result.request_id,
        attempts=result.attempts,
        payload_text=payload_text,
        ledger_seq=ledger_seq,
    )


@dataclass
class FetchProgress:
    """Counts of one fetch-and-load, safe to read from a reporting thread."""

    total: int
    started: float = field(default_factory=time.monotonic)
    done: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    batches: int = 0
    parents_registered: int = 0
    answered: int = 0  # results that carry an HTTP status: the API was reached

    def add(self, results: Iterable[FetchResult]) -> None:
        for result in results:
            self.done += 1
            self.answered += result.http_status is not None
            key = str(result.outcome)
            self.outcomes[key] = self.outcomes.get(key, 0) + 1

    @property
    def rate(self) -> float:
        elapsed = time.monotonic() - self.started
        return self.done / elapsed if elapsed > 0 else 0.0

    def line(self) -> str:
        rate = self.rate
        left = max(0, self.total - self.done)
        eta = f"{left / rate:.0f}s" if rate > 0 else "?"
        failed = self.outcomes.get("failed", 0)
        return (f"fetched {self.done}/{self.total} ({rate:.1f}/s, ETA {eta}); "
                f"failed {failed}; batches written {self.batches}")


@dataclass(frozen=True)
class FetchSummary:
    requested: int
    answered: int
    outcomes: dict[str, int]
    batches: int
    parents_registered: int
    payloads_stored: int
    quarantined: int
    elapsed_seconds: float
    stats: FetchStats | None

    def as_metadata(self) -> dict[str, object]:
        figures: dict[str, object] = {
            "requested": self.requested,
            "answered": self.answered,
            **{outcome: self.outcomes.get(outcome, 0)
               for outcome in ("loaded", "not_found", "forbidden", "invalid_id", "failed")},
            "quarantined": self.quarantined,
            "payloads_stored": self.payloads_stored,
            "batches": self.batches,
            "parents_registered": self.parents_registered,
            "elapsed_seconds": round(self.elapsed_seconds, 2),
        }
        if self.stats is not None:
            figures.update(self.stats.as_metadata())
        return figures


COUNTED = ("requested", "answered", "loaded", "not_found", "forbidden", "invalid_id", "failed",
           "quarantined", "payloads_stored", "batches", "parents_registered")


def combined_metadata(summaries: list[FetchSummary]) -> dict[str, object]:
    """The figures of one fetch asset run: counts summed over its rounds (the main one,
    then rounds for newly found parents); rates and latencies of the main round, the
    one that spent the allowance."""
    if not summaries:
        return {"requested": 0}
    metadata = summaries[0].as_metadata()
    per_round = [s.as_metadata() for s in summaries]
    for key in (*COUNTED, "requests", "retries", "rate_limited_429"):
        metadata[key] = sum(int(m.get(key) or 0) for m in per_round)
    metadata["parent_rounds"] = len(summaries)
    return metadata


def pending_ids(connect: Connect, *, requested_until: datetime | None,
                page_size: int = ID_PAGE, ledger_seqs: dict[str, int] | None = None,
                **filters: Any) -> Iterator[str]:
    """The IDs `warehouse.ids_to_fetch(**filters)` names, read a page at a time.

    Each page is read by keyset (`after` the last page's key) in its own short
    connection, so batches can be written between pages. Only IDs requested up to
    `requested_until` are named: what is registered meanwhile (parents found while
    fetching) waits for the next round. `ledger_seqs`, if given, receives each yielded
    ID's ledger_seq (`fetch_and_load` hands them to the warehouse with the results).
    """
    after: warehouse.FetchKey | None = None
    while True:
        with connect() as con:
            keys = warehouse.keys_to_fetch(con, limit=page_size, after=after,
                                           requested_until=requested_until, **filters)
        for _, job_id, ledger_seq in keys:
            if ledger_seqs is not None:
                ledger_seqs[job_id] = ledger_seq
            yield job_id
        if len(keys) < page_size:
            return
        after = keys[-1]


def fetch_and_load(
    client: BedrockClient,
    connect: Connect,
    ids: Iterable[str],
    *,
    total: int,
    batch_size: int = BATCH_SIZE,
    flush_seconds: float = FLUSH_SECONDS,
    report: Callable[[FetchProgress], None] | None = None,
    report_every: float = 10.0,
    after_batch: Callable[[duckdb.DuckDBPyConnection], object] | None = None,
    ledger_seqs: dict[str, int] | None = None,
) -> FetchSummary:
    """Fetch `ids` and land the results in batches as they arrive (raw, the ledger, and
    the parents of fetched jobs, source `parent`, in one transaction per batch; core is
    the core step's work, `warehouse.derive_core`).

    A batch is written when it holds `batch_size` results or `flush_seconds`
    have passed since the last write.
    `report` is called every `report_every` seconds from a background thread;
    `after_batch(con)` after each batch is committed, on the batch's connection (the
    fetch asset publishes the read-only copy from there during long fetches).
    `ledger_seqs` (filled by `pending_ids`) gives each result its ID's ledger_seq, so a
    batch's lookups skip the rest of the ledger.
    """
    progress = FetchProgress(total=total)
    stop = threading.Event()
    reporter = _start_reporter(progress, report, report_every, stop) if report else None
    stream = client.fetch_jobs(ids)
    try:
        stored, quarantined = _land_as_they_arrive(
            connect, _chunks(_counted(stream, progress), batch_size, flush_seconds), progress,
            ledger_seqs if ledger_seqs is not None else {}, after_batch)
    finally:
        stream.close()
        stop.set()
        if reporter is not None:
            reporter.join(timeout=5)
    if report:
        report(progress)
    return FetchSummary(
        requested=progress.done,
        answered=progress.answered,
        outcomes=dict(progress.outcomes),
        batches=progress.batches,
        parents_registered=progress.parents_registered,
        payloads_stored=stored,
        quarantined=quarantined,
        elapsed_seconds=time.monotonic() - progress.started,
        stats=stream.stats,
    )


def _land_as_they_arrive(
    connect: Connect, chunks: Iterator[list[FetchResult]], progress: FetchProgress,
    seqs: dict[str, int], after_batch: Callable[[duckdb.DuckDBPyConnection], object] | None,
) -> tuple[int, int]:
    """Land each chunk of results in its own connection and transaction; returns the
    payloads stored and quarantined."""
    stored = quarantined = 0
    for chunk in chunks:
        with connect() as con:
            # Raw, the ledger and the parents the payloads name, in one transaction.
            summary = warehouse.land_batch(con, [to_item(r, seqs.pop(r.job_id, None))
                                                 for r in chunk],
                                           registered_at=utcnow())
            progress.parents_registered += summary.parents_registered
            if after_batch is not None:
                after_batch(con)
        stored += summary.payloads_stored
        quarantined += summary.quarantined
        progress.batches += 1
    return stored, quarantined


def _counted(results: Iterator[FetchResult], progress: FetchProgress) -> Iterator[FetchResult]:
    """Count each result as it arrives, so progress moves with fetching, not with writes."""
    for result in results:
        progress.add((result,))
        yield result


def _chunks(results: Iterator[FetchResult], size: int,
            flush_seconds: float) -> Iterator[list[FetchResult]]:
    chunk: list[FetchResult] = []
    last_flush = time.monotonic()
    for result in results:
        chunk.append(result)
        if len(chunk) >= size or time.monotonic() - last_flush >= flush_seconds:
            yield chunk
            chunk = []
            last_flush = time.monotonic()
    if chunk:
        yield chunk


def _start_reporter(progress: FetchProgress, report: Callable[[FetchProgress], None],
                    every: float, stop: threading.Event) -> threading.Thread:
    def loop() -> None:
        while not stop.wait(every):
            report(progress)

    thread = threading.Thread(target=loop, name="fetch-progress", daemon=True)
    thread.start()
    return thread
