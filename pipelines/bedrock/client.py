"""The Bedrock API client: one session, one shared pacer, retries, fetch by ID and listing.

No pandas and no Dagster here: the assets call this and map `FetchResult`s
onto the warehouse ledger.

Retries happen at two levels, on purpose:

- urllib3's `Retry` retries *connection* failures (refused, DNS) inside the
  adapter: those requests never reached the API, so they cost no allowance.
- Everything after the request was sent (5xx, dropped connection, read
  timeout, broken JSON, 429) is retried here, because each new attempt is
  counted by the API's rate limiter and must go back through the shared pacer.
"""

from __future__ import annotations

import json
import logging
import os
import random
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from pipelines.bedrock.backoff import full_jitter, retry_after_seconds
from pipelines.bedrock.config import ClientConfig
from pipelines.bedrock.contract import ContractError, JobRecord, parse_job
from pipelines.bedrock.errors import (
    AuthenticationError,
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
    ServerError,
    TimeoutFault,
    TransientError,
    UnexpectedResponseError,
    UnsupportedRequestError,
)
from pipelines.bedrock.ids import invalid_reason, job_path
from pipelines.bedrock.pacing import Pacer, RateHeaders
from pipelines.bedrock.pool import BoundedPool
from pipelines.bedrock.results import FetchResult, Outcome
from pipelines.bedrock.stats import FetchStats, StatsRecorder

log = logging.getLogger(__name__)

LIST_FILTERS = frozenset({
    "project_id", "status", "type", "target_type", "target_id", "parent_id",
    "created_after", "created_before",
})  # fmt: skip
_DETAIL_MAX = 500  # characters of an error body kept as detail

T = TypeVar("T")


class _BearerAuth(requests.auth.AuthBase):
    """`Authorization: Bearer …` on every request; the key never shows in a repr."""

    __slots__ = ("_header",)

    def __init__(self, api_key: str) -> None:
        self._header = f"Bearer {api_key}"

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = self._header
        return request

    def __repr__(self) -> str:
        return "<BearerAuth (redacted)>"


@dataclass(slots=True)
class _Reply:
    status: int
    body: dict[str, Any]
    request_id: str | None


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
        self._session = _build_session(config)
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

        def result(outcome: Outcome, error: BedrockError | None = None,
                   **fields: Any) -> FetchResult:
            recorder.outcome(outcome)
            return FetchResult(
                job_id=job_id, outcome=outcome, attempts=tally.attempts, fetched_at=_utcnow(),
                http_status=error.http_status if error else fields.pop("http_status", None),
                error_code=error.code if error else None,
                error_detail=error.detail if error else None,
                request_id=error.request_id if error else fields.pop("request_id", None),
                **fields,
            )

        try:
            reply = self._with_retries(job_path(job_id), None, cancel, recorder, tally)
        except FatalError:
            cancel.set()  # stop every other worker now, not when the caller notices
            self._pacer.interrupt()
            raise
        except NotFoundError as error:
            return result(Outcome.NOT_FOUND, error)
        except ForbiddenError as error:
            return result(Outcome.FORBIDDEN, error)
        except InvalidRequestError as error:
            return result(Outcome.INVALID_ID, error)
        except JobError as error:  # an unexpected, non-retryable status
            return result(Outcome.FAILED, error)
        except _GaveUp as gave_up:
            last = gave_up.last
            recorder.outcome(Outcome.FAILED)
            return FetchResult(
                job_id=job_id, outcome=Outcome.FAILED, http_status=last.http_status,
                error_code=last.code or last.reason.upper(),
                error_detail=f"{gave_up.why}; last: {last}", request_id=last.request_id,
                attempts=tally.attempts, fetched_at=_utcnow(),
            )

        record, problem = None, None
        try:
            record = parse_job(reply.body)
            if record.job_id != job_id:
                record, problem = None, f"asked for {job_id}, got {record.job_id}"
        except ContractError as error:
            problem = str(error)
        return result(Outcome.LOADED, http_status=reply.status, request_id=reply.request_id,
                      record=record, payload=reply.body, parse_error=problem)

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
                    except ContractError as error:
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
            try:
                body = json.loads(response.content)
            except (ValueError, UnicodeDecodeError):
                raise MalformedResponseError(f"GET {path}: 200 with a body that is not JSON",
                                             http_status=status, request_id=request_id) from None
            if not isinstance(body, dict):
                raise MalformedResponseError(f"GET {path}: 200 with a non-object JSON body",
                                             http_status=status, request_id=request_id)
            return _Reply(status, body, request_id)
        raise _error_for(path, response, request_id, config.retry_after_cap)

    def _jitter(self, attempt: int) -> float:
        with self._rng_lock:
            return full_jitter(attempt, self.config.backoff_base, self.config.backoff_cap,
                               self._rng)

    def _snapshot(self, recorder: StatsRecorder) -> FetchStats:
        pacer = self._pacer
        return recorder.snapshot(limit=pacer.limit, window_seconds=pacer.window_seconds,
                                 allowance=pacer.allowance_per_second(), metered=pacer.metered)


# -- helpers ---------------------------------------------------------------------------


def _build_session(config: ClientConfig) -> requests.Session:
    session = requests.Session()
    # Connection-level retries only (see the module docstring); read/status errors are ours.
    retry = Retry(total=None, connect=2, read=False, status=0, other=False, redirect=0,
                  backoff_factor=0.1, raise_on_status=False, raise_on_redirect=False,
                  respect_retry_after_header=False)
    # Keep-alive pool at least as large as the worker pool, so no worker waits for a socket.
    adapter = HTTPAdapter(pool_connections=2, pool_maxsize=config.workers + 2,
                          max_retries=retry)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.headers.update({
        "User-Agent": config.user_agent,
        "X-API-Version": config.api_version,
        "Accept": "application/json",
    })
    session.auth = _BearerAuth(config.api_key)
    # Read proxy and CA settings from the environment once, not on every request:
    # requests re-scans os.environ per call otherwise (~25% of its CPU per request).
    session.proxies.update(requests.utils.get_environ_proxies(config.base_url))
    ca_bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
    if ca_bundle:
        session.verify = ca_bundle
    session.trust_env = False  # also keeps ~/.netrc from replacing our Authorization
    return session


def _error_for(path: str, response: requests.Response, request_id: str | None,
               retry_after_cap: float) -> BedrockError:
    status = response.status_code
    code, detail = None, None
    try:
        problem = response.json()
    except ValueError:
        problem = None
    if isinstance(problem, dict):
        code = problem.get("code") if isinstance(problem.get("code"), str) else None
        raw_detail = problem.get("detail") or problem.get("title")
        detail = str(raw_detail)[:_DETAIL_MAX] if raw_detail else None
        body_id = problem.get("request_id") or problem.get("requestId")
        request_id = str(body_id) if body_id else request_id
    if detail is None:
        detail = f"HTTP {status} {response.reason or ''}".strip()
    fields: dict[str, Any] = {"http_status": status, "code": code, "detail": detail,
                              "request_id": request_id}
    message = f"GET {path}: {status} {code or ''}: {detail}".replace("  ", " ")
    if status == 401:
        return AuthenticationError(message, **fields)
    if status == 400:
        # On a GET, BAD_REQUEST means how we ask is refused (e.g. X-API-Version): fatal.
        kind = UnsupportedRequestError if code == "BAD_REQUEST" else InvalidRequestError
        return kind(message, **fields)
    if status == 403:
        return ForbiddenError(message, **fields)
    if status in (404, 410):
        return NotFoundError(message, **fields)
    if status == 429:
        return RateLimitedError(message, retry_after=retry_after_seconds(
            response.headers, retry_after_cap), **fields)
    if status == 408:
        return TimeoutFault(message, **fields)
    if status >= 500 and status not in (501, 505):
        return ServerError(message, **fields)
    return UnexpectedResponseError(message, **fields)


def _query_value(value: object) -> str:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("datetime filters need a time zone")
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return str(value)


def _utcnow() -> datetime:
    return datetime.now(UTC)
