"""The Bedrock API client: one session, one shared pacer, retries, fetch by ID and listing.

No pandas and no Dagster here: the assets call this and map `FetchResult`s
onto the warehouse ledger.

Retries happen at two levels, on purpose:

- urllib3's `Retry` retries *connection* failures (refused, DNS) inside the
  adapter (`transport.py`): those requests never reached the API, so they
  cost no allowance.
- Everything after the request was sent (5xx, dropped connection, read
  timeout, broken JSON, 429) is retried here, because each new attempt is
  counted by the API's rate limiter and must go back through the shared pacer.
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

import requests

from pipelines.bedrock.backoff import full_jitter
from pipelines.bedrock.config import ClientConfig
from pipelines.bedrock.errors import (
    BedrockError,
    Cancelled,
    ConnectionFault,
    FatalError,
    ForbiddenError,
    InvalidRequestError,
    JobError,
    MalformedResponseError,
    NotFoundError,
    RateLimitedError,
    RetriesExhaustedError,
    TimeoutFault,
    TransientError,
    UnexpectedResponseError,
)
from pipelines.bedrock.ids import invalid_reason, job_path
from pipelines.bedrock.pacing import Pacer, RateHeaders
from pipelines.bedrock.pool import BoundedPool
from pipelines.bedrock.records import JobRecord, RecordError, parse_job
from pipelines.bedrock.results import FetchResult, Outcome
from pipelines.bedrock.stats import FetchStats, StatsRecorder
from pipelines.bedrock.transport import build_session, error_for

log = logging.getLogger(__name__)

LIST_FILTERS = frozenset({
    "project_id", "status", "type", "target_type", "target_id", "parent_id",
    "created_after", "created_before",
})  # fmt: skip

T = TypeVar("T")


@dataclass(slots=True)
class _Reply:
    status: int
    body: dict[str, Any]
    request_id: str | None
    text: str = ""  # the body exactly as received


class _GaveUp(Exception):  # noqa: N818 (internal signal)
    def __init__(self, last: TransientError, why: str) -> None:
        super().__init__(why)
        self.last, self.why = last, why


class _Tally:
    __slots__ = ("attempts",)

    def __init__(self) -> None:
        self.attempts = 0


class Stream(Iterator[T], Generic[T]):
    """An iterator of results with live statistics (`.stats`); close it to stop early."""

    def __init__(self, generator: Iterator[T], recorder: StatsRecorder,
                 snapshot: Callable[[StatsRecorder], FetchStats]) -> None:
        self._generator = generator
        self._recorder = recorder
        self._snapshot = snapshot

    def __iter__(self) -> Stream[T]:
        return self

    def __next__(self) -> T:
        return next(self._generator)

    def close(self) -> None:
        close = getattr(self._generator, "close", None)
        if close is not None:
            close()
        self._recorder.finish()

    def __enter__(self) -> Stream[T]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def stats(self) -> FetchStats:
        """Requests, retries, 429s, latency, achieved rate and learned allowance so far."""
        return self._snapshot(self._recorder)


class BedrockClient:
    """Fetch Bedrock jobs by ID (parallel, paced, retried) and list them by filter.

    >>> with BedrockClient(ClientConfig(base_url=url, api_key=key)) as client:
    ...     for result in client.fetch_jobs(ids):
    ...         ...
    """

    def __init__(self, config: ClientConfig) -> None:
        self.config = config
        self._session = build_session(config)
        # Everything but the URL is the same for every request, so it is prepared once:
        # `Session.get` re-merges headers, auth and settings per call, ~40% of the client's
        # CPU per request, and with 32 threads that CPU is the GIL everyone waits for.
        self._template = self._session.prepare_request(
            requests.Request("GET", config.base_url + "/jobs"))
        self._pacer = Pacer(max_requests_per_minute=config.max_requests_per_minute,
                            window_guard=config.window_guard)
        self._rng = random.Random()
        self._rng_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"BedrockClient(base_url={self.config.base_url!r}, workers={self.config.workers})"

    def close(self) -> None:
        self._session.close()

    def __enter__(self) -> BedrockClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def pacer(self) -> Pacer:
        return self._pacer

    # -- public API -----------------------------------------------------------------

    def fetch_jobs(self, ids: Iterable[object]) -> Stream[FetchResult]:
        """One `FetchResult` per ID, in completion order, from a bounded worker pool.

        `ids` may be any iterable, however large: it is read lazily and at most
        `config.pending_bound` IDs are in the pool at once. Invalid IDs are
        answered `invalid_id` without a request. Duplicates are fetched again
        (the ledger upstream holds each ID once). A 401 (or 400 `BAD_REQUEST`)
        stops every worker and is raised from the iterator.
        """
        recorder = StatsRecorder()
        return Stream(self._fetch_all(iter(ids), recorder), recorder, self._snapshot)

    def fetch_job(self, job_id: str) -> FetchResult:
        """`fetch_jobs([job_id])` for a single ID."""
        with self.fetch_jobs([job_id]) as stream:
            return next(stream)

    def list_jobs(self, *, page_size: int = 100, **filters: object) -> Stream[JobRecord]:
        """Every job matching the documented filters, newest first, walking `_meta.next`.

        Datetime filter values are sent as ISO 8601. Items that don't fit the
        contract are skipped and counted (`stats.outcomes["unparseable"]`).
        Raises `JobError` for a refused query, `RetriesExhaustedError` when a
        page can't be had, `FatalError` on 401.
        """
        unknown = set(filters) - LIST_FILTERS
        if unknown:
            raise TypeError(f"unknown list filter(s): {', '.join(sorted(unknown))}")
        if not 1 <= page_size <= 100:
            raise ValueError("page_size must be within 1..100")
        params = {name: _query_value(value) for name, value in filters.items()
                  if value is not None}
        recorder = StatsRecorder()
        return Stream(self._list_all(params, page_size, recorder), recorder, self._snapshot)

    # -- fetch by ID --------------------------------------------------------------

    def _fetch_all(self, ids: Iterator[object], recorder: StatsRecorder) -> Iterator[FetchResult]:
        cancel = threading.Event()

        def stop() -> None:
            cancel.set()
            self._pacer.interrupt()

        def fetch(job_id: object) -> FetchResult:
            reason = invalid_reason(job_id)
            if reason is not None:  # answered here: a bad ID never reaches the wire
                recorder.outcome(Outcome.INVALID_ID)
                return FetchResult(
                    job_id=job_id if isinstance(job_id, str) else repr(job_id),
                    outcome=Outcome.INVALID_ID, error_code="INVALID_ID",
                    error_detail=reason, fetched_at=_utcnow(),
                )
            assert isinstance(job_id, str)
            return self._fetch_one(job_id, cancel, recorder)

        pool = BoundedPool(fetch, workers=self.config.workers,
                           bound=self.config.pending_bound, on_stop=stop)
        try:
            yield from pool.run(ids)
        finally:
            recorder.finish()

    def _fetch_one(self, job_id: str, cancel: threading.Event,
                   recorder: StatsRecorder) -> FetchResult:
        tally = _Tally()

        def settle(outcome: Outcome, **fields: Any) -> FetchResult:
            recorder.outcome(outcome)
            return FetchResult(job_id=job_id, outcome=outcome, attempts=tally.attempts,
                               fetched_at=_utcnow(), **fields)

        def refused(outcome: Outcome, error: BedrockError) -> FetchResult:
            return settle(outcome, http_status=error.http_status, error_code=error.code,
                          error_detail=error.detail, request_id=error.request_id)

        try:
            reply = self._with_retries(job_path(job_id), None, cancel, recorder, tally)
        except FatalError:
            cancel.set()  # stop every other worker now, not when the caller notices
            self._pacer.interrupt()
            raise
        except NotFoundError as error:
            return refused(Outcome.NOT_FOUND, error)
        except ForbiddenError as error:
            return refused(Outcome.FORBIDDEN, error)
        except InvalidRequestError as error:
            return refused(Outcome.INVALID_ID, error)
        except JobError as error:  # an unexpected, non-retryable status
            return refused(Outcome.FAILED, error)
        except _GaveUp as gave_up:
            last = gave_up.last
            return settle(Outcome.FAILED, http_status=last.http_status,
                          error_code=last.code or last.reason.upper(),
                          error_detail=f"{gave_up.why}; last: {last}",
                          request_id=last.request_id)

        # The job itself is read later, by whoever asks (`FetchResult.record`); the
        # warehouse stores `body` as received and reads it in SQL.
        return settle(Outcome.LOADED, http_status=reply.status, request_id=reply.request_id,
                      payload=reply.body, body=reply.text)

    # -- listing --------------------------------------------------------------------

    def _list_all(self, params: dict[str, str], page_size: int,
                  recorder: StatsRecorder) -> Iterator[JobRecord]:
        cancel = threading.Event()
        cursor: str | None = None
        try:
            while True:
                query = {**params, "limit": str(page_size)}
                if cursor:
                    query["cursor"] = cursor
                try:
                    reply = self._with_retries("/jobs", query, cancel, recorder, _Tally())
                except _GaveUp as gave_up:
                    raise RetriesExhaustedError(
                        f"GET /jobs: {gave_up.why}; last: {gave_up.last}",
                        last=gave_up.last, attempts=0) from None
                items = reply.body.get("data")
                if not isinstance(items, list):
                    raise UnexpectedResponseError("GET /jobs: the page has no `data` list",
                                                  http_status=reply.status,
                                                  request_id=reply.request_id)
                for item in items:
                    try:
                        record = parse_job(item)
                    except RecordError as error:
                        log.warning("GET /jobs: skipped an item that does not parse: %s", error)
                        recorder.outcome("unparseable")
                        continue
                    recorder.outcome("listed")
                    yield record
                meta = reply.body.get("_meta")
                cursor = meta.get("next") if isinstance(meta, Mapping) else None
                if not cursor:
                    return
        finally:
            recorder.finish()

    # -- one request, and its retries -------------------------------------------------

    def _with_retries(self, path: str, params: Mapping[str, str] | None,
                      cancel: threading.Event, recorder: StatsRecorder,
                      tally: _Tally) -> _Reply:
        config = self.config
        started = time.monotonic()
        failures = 0
        while True:
            try:
                return self._attempt(path, params, cancel, recorder, tally)
            except RateLimitedError as error:
                wait_for = error.retry_after
                if wait_for is None:
                    wait_for = self._jitter(max(failures, 1))
                # Everyone waits, not just this worker: the limit is per key.
                self._pacer.pause(wait_for)
                if time.monotonic() - started + wait_for > config.max_total_seconds:
                    why = f"rate limited past {config.max_total_seconds:g}s"
                    raise _GaveUp(error, why) from None
                recorder.retry(error.reason)
                log.info("GET %s: 429, all workers pause %.2fs", path, wait_for)
            except TransientError as error:
                failures += 1
                if failures >= config.max_attempts:
                    raise _GaveUp(error, f"gave up after {tally.attempts} attempts") from None
                delay = self._jitter(failures)
                if time.monotonic() - started + delay > config.max_total_seconds:
                    raise _GaveUp(error, f"gave up after {config.max_total_seconds:g}s "
                                         f"and {tally.attempts} attempts") from None
                recorder.retry(error.reason)
                log.debug("GET %s: %s (attempt %d), retry in %.2fs", path, error.reason,
                          tally.attempts, delay)
                if cancel.wait(delay):
                    raise Cancelled from None

    def _attempt(self, path: str, params: Mapping[str, str] | None, cancel: threading.Event,
                 recorder: StatsRecorder, tally: _Tally) -> _Reply:
        ticket = self._pacer.acquire(cancel)
        if cancel.is_set():  # a fatal error elsewhere while we waited: don't send
            self._pacer.observe(ticket, None, None)
            raise Cancelled
        tally.attempts += 1
        config = self.config
        started = time.monotonic()
        try:
            prepared = self._template.copy()
            prepared.prepare_url(config.base_url + path, params)
            response = self._session.send(
                prepared, allow_redirects=False,
                timeout=(config.connect_timeout, config.read_timeout),
            )
        except requests.exceptions.RequestException as error:
            self._pacer.observe(ticket, None, None)
            recorder.request(None, time.monotonic() - started, None)
            kind = TimeoutFault if isinstance(error, requests.exceptions.ReadTimeout) \
                else ConnectionFault
            # `from None`: requests' exceptions hold the prepared request, headers and all.
            raise kind(f"GET {path}: {type(error).__name__}: {str(error)[:200]}") from None
        except BaseException:  # never leave the pacer counting a request that is gone
            self._pacer.observe(ticket, None, None)
            raise
        latency = time.monotonic() - started
        status = response.status_code
        self._pacer.observe(ticket, status, response.headers)
        rate = RateHeaders.parse(response.headers)
        recorder.request(status, latency,
                         rate.reset if rate is not None and self._pacer.metered else None)
        request_id = response.headers.get("X-Request-Id")
        if status == 200:
            # Parsed here only to check it: a 200 whose body is cut short or broken is a
            # transient fault (a dropped connection mid-body, a proxy's error page) that a
            # retry cures, so it must be retried now, inside the allowance, rather than
            # stored and quarantined. The body is kept exactly as received (`text`): it is
            # what raw stores, and the warehouse parses it again, once, in SQL.
            try:
                text = response.content.decode("utf-8")
                body = json.loads(text)
            except (ValueError, UnicodeDecodeError, RecursionError):  # nesting too deep too
                raise MalformedResponseError(f"GET {path}: 200 with a body that is not JSON",
                                             http_status=status, request_id=request_id) from None
            if not isinstance(body, dict):
                raise MalformedResponseError(f"GET {path}: 200 with a non-object JSON body",
                                             http_status=status, request_id=request_id)
            return _Reply(status, body, request_id, text)
        raise error_for(path, response, request_id, config.retry_after_cap)

    def _jitter(self, attempt: int) -> float:
        with self._rng_lock:
            return full_jitter(attempt, self.config.backoff_base, self.config.backoff_cap,
                               self._rng)

    def _snapshot(self, recorder: StatsRecorder) -> FetchStats:
        pacer = self._pacer
        return recorder.snapshot(limit=pacer.limit, window_seconds=pacer.window_seconds,
                                 allowance=pacer.allowance_per_second(), metered=pacer.metered)


# -- helpers ---------------------------------------------------------------------------


def _query_value(value: object) -> str:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("datetime filters need a time zone")
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return str(value)


def _utcnow() -> datetime:
    return datetime.now(UTC)
