"""The simulated Bedrock jobs API: one request in, one response out, no sockets.

Routes (docs/api-contract.md):

- `GET /jobs/{job_id}`: one job, CMS or Vision shape.
- `GET /jobs`: the documented filters and cursor pagination, newest first.
- `/_sim/...`: the simulator's own controls (stats, clock); no key needed.

Checks run in the order a gateway would: route → key (401) → API version
(400) → rate limit (429) → injected faults → the resource (400/403/404/200).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import secrets
import threading
from bisect import bisect_right
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from itertools import takewhile
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from pipelines.simulator.clock import Clock
from pipelines.simulator.faults import Fault, FaultInjector
from pipelines.simulator.generator import (
    CANCELED,
    COMPLETED,
    FAILED,
    PENDING,
    RUNNING,
    JobStore,
    SimJob,
)
from pipelines.simulator.ratelimit import Decision, FixedWindowLimiter
from pipelines.simulator.render import RenderConfig, render_job, visible_events

SUPPORTED_API_VERSIONS = ("2026-01-01",)
DOCS = "https://docs.bedrock.cv"
JOB_ID_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,128}")
# Every documented spelling of a status, for the list endpoint's `status` filter.
STATUS_FILTER = {
    "pending": PENDING, "queued": PENDING,
    "running": RUNNING, "started": RUNNING,
    "completed": COMPLETED, "succeeded": COMPLETED,
    "failed": FAILED, "error": FAILED,
    "canceled": CANCELED, "cancelled": CANCELED,
}  # fmt: skip
_MAX_KEY = chr(0x10FFFF)  # sorts after every ID: bounds on created_at alone


@dataclass
class Response:
    status: int
    body: bytes
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    fault: Fault = Fault.NONE  # transport faults (drop, slow, malformed) the server applies
    delay: float = 0.0  # injected latency, in seconds, the server waits before answering


class Stats:
    """What the simulator served: requests per route, responses per status, fetches per job."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self.requests: Counter[str] = Counter()
            self.responses: Counter[int] = Counter()
            self.fetches: Counter[str] = Counter()
            self.faults: Counter[str] = Counter()

    def record(self, route: str, job_id: str | None, status: int, fault: Fault) -> None:
        with self._lock:
            self.requests[route] += 1
            self.responses[status] += 1
            if job_id is not None:
                self.fetches[job_id] += 1
            if fault is not Fault.NONE:
                self.faults[fault.value] += 1

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "requests": dict(self.requests),
                "responses": {str(k): v for k, v in sorted(self.responses.items())},
                "fetches": dict(self.fetches),
                "faults": dict(self.faults),
                "total_requests": sum(self.requests.values()),
            }


class ApiError(Exception):
    def __init__(
        self, status: int, code: str, title: str, detail: str, slug: str,
        errors: dict[str, list[str]] | None = None, headers: dict[str, str] | None = None,
    ) -> None:  # fmt: skip
        super().__init__(detail)
        self.status, self.code, self.title = status, code, title
        self.detail, self.slug = detail, slug
        self.errors = errors
        self.headers = headers or {}


def _validation(detail: str, field_name: str, message: str) -> ApiError:
    return ApiError(400, "VALIDATION_ERROR", "Validation error", detail, "validation",
                    errors={field_name: [message]})


class JobsApi:
    def __init__(
        self,
        store: JobStore,
        clock: Clock,
        render: RenderConfig,
        api_keys: tuple[str, ...],
        limiter: FixedWindowLimiter,
        faults: FaultInjector,
        stats: Stats,
    ) -> None:
        self.store = store
        self.clock = clock
        self.render = render
        self.api_keys = frozenset(api_keys)
        self.limiter = limiter
        self.faults = faults
        self.stats = stats
        # Per instance, so a stopped simulator's cache goes with it.
        self._job_body = lru_cache(maxsize=65_536)(self._render_body)
        # Hand-made bodies for chosen IDs: the hostile answers no generator produces.
        self.raw_bodies: dict[str, Response] = {}

    # -- entry point -----------------------------------------------------------

    def revoke_key(self, key: str) -> None:
        """Stop accepting `key` at once, as Bedrock does for a revoked key."""
        self.api_keys = self.api_keys - {key}

    def handle(self, method: str, target: str, headers: Mapping[str, str]) -> Response:
        request_id = "req_" + secrets.token_hex(13).upper()
        parts = urlsplit(target)
        path = parts.path
        if path.startswith("/_sim/"):
            return self._control(method, path, parse_qs(parts.query), request_id)

        route, job_id = self._route(path)
        drawn, delay = self.faults.draw()
        fault = Fault.NONE  # the drawn fault applies only once the request passed the gateway
        rate: Decision | None = None
        key = ""  # the anonymous bucket until a key is known
        try:
            if route is None:
                raise ApiError(404, "NOT_FOUND", "Not found", f"No route for {path}.", "not-found")
            if method != "GET":
                raise ApiError(405, "METHOD_NOT_ALLOWED", "Method not allowed",
                               f"{method} is not supported on {route}.", "method-not-allowed")
            key = self._api_key(headers)
            self._check_version(headers)
            rate = self.limiter.acquire(key)
            if not rate.allowed:
                raise ApiError(429, "RATE_LIMITED", "Too many requests",
                               "You have exceeded the rate limit.", "rate-limit",
                               headers={"Retry-After": str(rate.retry_after)})
            fault = drawn
            self._raise_for_fault(fault)
            if job_id is not None and job_id in self.raw_bodies:
                canned = self.raw_bodies[job_id]
                response = Response(canned.status, canned.body, canned.content_type)
            elif job_id is not None:
                response = Response(200, self._get_job(job_id))
            else:
                response = Response(200, _dumps(self._list_jobs(parse_qs(parts.query))))
            response.fault = fault
        except ApiError as error:
            response = _problem(error, request_id)
        response.delay = delay
        response.headers["X-Request-Id"] = request_id
        if self.limiter.config.enabled:  # a server without a limit sends no limit headers
            decision = rate if rate is not None else self.limiter.peek(key)
            response.headers.update(decision.headers())
            if response.status == 429:  # a refusal never says there is budget left
                response.headers["X-RateLimit-Remaining"] = "0"
        self.stats.record(route or "other", job_id, response.status, fault)
        return response

    # -- request checks ------------------------------------------------------

    @staticmethod
    def _route(path: str) -> tuple[str | None, str | None]:
        if path == "/jobs":
            return "/jobs", None
        if path.startswith("/jobs/") and "/" not in path[len("/jobs/"):]:
            return "/jobs/{job_id}", unquote(path[len("/jobs/"):])
        return None, None

    def _api_key(self, headers: Mapping[str, str]) -> str:
        authorization = headers.get("Authorization") or ""
        key = authorization[7:].strip() if authorization.lower().startswith("bearer ") else ""
        key = key or (headers.get("X-API-Key") or "").strip()
        if key not in self.api_keys:
            raise ApiError(401, "UNAUTHORIZED", "Missing or invalid API key",
                           "Provide a valid API key as 'Authorization: Bearer sk_...'.",
                           "authentication")
        return key

    @staticmethod
    def _check_version(headers: Mapping[str, str]) -> None:
        version = headers.get("X-API-Version")
        if version is not None and version not in SUPPORTED_API_VERSIONS:
            raise ApiError(400, "BAD_REQUEST", "Bad Request",
                           f"Unsupported API version: {version}. Supported versions: "
                           f"{', '.join(SUPPORTED_API_VERSIONS)}", "bad-request")

    def _raise_for_fault(self, fault: Fault) -> None:
        if fault is Fault.RATE_BURST:
            wait = max(1, int(self.faults.burst_remaining() + 0.999))
            raise ApiError(429, "RATE_LIMITED", "Too many requests",
                           "You have exceeded the rate limit.", "rate-limit",
                           headers={"Retry-After": str(wait)})
        if fault is Fault.SERVER_ERROR:
            status = self.faults.choice((500, 502, 503))
            raise ApiError(status, "INTERNAL_ERROR" if status == 500 else "SERVICE_UNAVAILABLE",
                           "Server error", "The service is temporarily unavailable.", "server")

    # -- resources -----------------------------------------------------------

    def _get_job(self, job_id: str) -> bytes:
        if not JOB_ID_PATTERN.fullmatch(job_id):
            raise _validation("Invalid job id.", "job_id",
                              "Must be 1-128 letters, digits, '-' or '_'.")
        job = self.store.get(job_id)
        now = self.clock.now()
        if job is None or job.created_at > now:
            raise ApiError(404, "NOT_FOUND", "Not found", f"Job {job_id} not found.", "not-found")
        if job.organization_id != self.store.home_organization_id:
            raise ApiError(403, "FORBIDDEN", "Access denied",
                           "You do not have access to this job.", "authorization")
        # What a job looks like depends only on how many of its events have
        # happened, so its rendered body is cached per (job, events so far).
        return self._job_body(job.id, bisect_right(job.events, now, key=lambda e: e[1]))

    def _render_body(self, job_id: str, visible: int) -> bytes:
        job = self.store.by_id[job_id]
        body = render_job(job, job.events[visible - 1][1], self.render)
        assert body is not None
        document = {"data": body} if "id" in body else body
        if self.render.indent is not None:
            return json.dumps(document, indent=self.render.indent).encode()
        return _dumps(document)

    def _list_jobs(self, query: dict[str, list[str]]) -> dict[str, Any]:
        param = {name: values[-1] for name, values in query.items()}
        limit = _limit(param.get("limit"))
        cursor = _decode_cursor(param["cursor"]) if "cursor" in param else None
        now = self.clock.now()

        # Keyset bounds on (created_at, id): newer than `low`, older than `high`.
        high: tuple[float, str] = (now, _MAX_KEY)
        if "created_before" in param:
            high = min(high, (_timestamp(param["created_before"], "created_before"), ""))
        low: tuple[float, str] | None = None
        if "created_after" in param:
            low = (_timestamp(param["created_after"], "created_after"), _MAX_KEY)
        matches = self._filter(param, now)
        org = self.store.home_organization_id

        if cursor is None or cursor[2] == "next":
            upper = high if cursor is None else min(high, cursor[:2])
            walk = self.store.newest_first(org, before_key=upper, after_key=low)
            page = _take(filter(matches, walk), limit + 1)
            more_older = len(page) > limit
            page = page[:limit]
            newer_exists = cursor is not None and bool(page) and any(
                matches(job)
                for job in takewhile(lambda j: _key(j) < high,
                                     self.store.oldest_first(org, after_key=_key(page[0])))
            )
            next_cursor = _encode_cursor(page[-1], "next") if more_older and page else None
            prev_cursor = _encode_cursor(page[0], "prev") if newer_exists else None
        else:
            lower = cursor[:2] if low is None else max(low, cursor[:2])
            newer = self.store.oldest_first(org, after_key=lower)
            walk = takewhile(lambda j: _key(j) < high, newer)
            page = _take(filter(matches, walk), limit + 1)
            more_newer = len(page) > limit
            page = list(reversed(page[:limit]))
            next_cursor = _encode_cursor(page[-1], "next") if page else None
            prev_cursor = _encode_cursor(page[0], "prev") if more_newer and page else None

        data = [render_job(job, now, self.render) for job in page]
        return {"data": data, "_meta": {"next": next_cursor, "prev": prev_cursor, "limit": limit}}

    def _filter(self, param: dict[str, str], now: float):
        wanted_status = None
        if "status" in param:
            wanted_status = STATUS_FILTER.get(param["status"].strip().lower())
            if wanted_status is None:
                raise _validation(f"Unknown status {param['status']!r}.", "status",
                                  "Must be one of Queued, Started, Completed, Failed, Canceled.")
        exact = {
            name: param[name]
            for name in ("project_id", "type", "target_id", "parent_id")
            if name in param
        }
        target_type = param.get("target_type", "").lower() or None

        def matches(job: SimJob) -> bool:
            if any(getattr(job, name) != value for name, value in exact.items()):
                return False
            if target_type is not None and job.target_type != target_type:
                return False
            return wanted_status is None or visible_events(job, now)[-1][0] == wanted_status

        return matches

    # -- the simulator's own controls --------------------------------------------

    def _control(
        self, method: str, path: str, query: dict[str, list[str]], request_id: str
    ) -> Response:
        if path == "/_sim/stats" and method == "GET":
            return Response(200, _dumps(self.stats.snapshot()))
        if path == "/_sim/stats/reset" and method == "POST":
            self.stats.reset()
            return Response(200, _dumps({"reset": True}))
        if path == "/_sim/clock":
            if method == "POST":
                try:
                    self.clock.advance(float(query.get("advance", ["0"])[-1]))
                except ValueError as error:
                    return _problem(_validation(str(error), "advance", "Seconds >= 0."),
                                    request_id)
            now = self.clock.now_datetime()
            return Response(200, _dumps({"now": now.isoformat(), "mode": self.clock.mode}))
        if path == "/_sim/health":
            return Response(200, _dumps({"ok": True, "jobs": len(self.store)}))
        return _problem(ApiError(404, "NOT_FOUND", "Not found", f"No route for {path}.",
                                 "not-found"), request_id)


# -- helpers -------------------------------------------------------------------


def _dumps(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def _problem(error: ApiError, request_id: str) -> Response:
    if error.status == 502:  # gateways answer in HTML, not problem+json
        return Response(502, b"<html><body><h1>502 Bad Gateway</h1></body></html>",
                        "text/html", dict(error.headers))
    body: dict[str, Any] = {
        "type": f"{DOCS}/errors/{error.slug}",
        "title": error.title,
        "status": error.status,
        "detail": error.detail,
        "code": error.code,
        "request_id": request_id,
    }
    if error.errors:
        body["errors"] = error.errors
    return Response(error.status, _dumps(body), "application/problem+json", dict(error.headers))


def _key(job: SimJob) -> tuple[float, str]:
    return job.created_at, job.id


def _take(items: Iterator[SimJob], n: int) -> list[SimJob]:
    page = []
    for item in items:
        page.append(item)
        if len(page) >= n:
            break
    return page


def _limit(raw: str | None) -> int:
    if raw is None:
        return 20
    try:
        limit = int(raw)
    except ValueError:
        limit = 0
    if not 1 <= limit <= 100:
        raise _validation(f"limit must be between 1 and 100, got {raw!r}.", "limit",
                          "Must be an integer between 1 and 100.")
    return limit


def _timestamp(raw: str, name: str) -> float:
    try:
        parsed = datetime.fromisoformat(raw.replace("Z", "+00:00").replace(" ", "+"))
    except ValueError:
        raise _validation(f"{name} must be an ISO 8601 datetime, got {raw!r}.", name,
                          "Must be an ISO 8601 datetime.") from None
    if parsed.tzinfo is None:
        raise _validation(f"{name} needs a time zone, got {raw!r}.", name,
                          "Must include a time zone, e.g. 'Z'.")
    return parsed.timestamp()


def _encode_cursor(job: SimJob, direction: str) -> str:
    # Like the docs' sample cursors: base64 of the keyset position. Opaque to clients.
    raw = json.dumps({"id": job.id, "created_at": job.created_at, "dir": direction})
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode_cursor(raw: str) -> tuple[float, str, str]:
    try:
        data = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
        created_at, job_id, direction = float(data["created_at"]), str(data["id"]), data["dir"]
        if direction not in ("next", "prev"):
            raise ValueError(direction)
    except (ValueError, KeyError, TypeError, binascii.Error, UnicodeDecodeError):
        raise ApiError(400, "BAD_REQUEST", "Bad Request", "Invalid cursor.",
                       "bad-request") from None
    return created_at, job_id, direction
