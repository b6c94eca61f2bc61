"""The client's exceptions: what a caller can act on.

Three families, because callers react to each differently:

- `FatalError`: nothing else will work either (a bad or revoked key, an API
  version the server refuses). Raised at once; every worker stops.
- `JobError`: this one ID (or this one list query) is answered for good:
  not found, forbidden, invalid. `fetch_jobs` turns these into outcomes.
- `TransientError`: worth retrying (429, 5xx, dropped connection, timeout,
  broken JSON). The client retries them; callers only see them after the
  retries are spent, wrapped in `RetriesExhaustedError` (list calls) or as a
  `failed` outcome (fetch by ID).

No exception carries request headers, so the API key never reaches a message.
"""

from __future__ import annotations


class BedrockError(Exception):
    """Base of every error the Bedrock client raises."""

    def __init__(
        self,
        message: str,
        *,
        http_status: int | None = None,
        code: str | None = None,
        detail: str | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.http_status = http_status
        self.code = code
        self.detail = detail
        self.request_id = request_id


# -- fatal: stop everything ---------------------------------------------------------


class FatalError(BedrockError):
    """Every further request would fail the same way; stop all workers."""


class AuthenticationError(FatalError):
    """401: the API key is missing, malformed, revoked or expired."""


class UnsupportedRequestError(FatalError):
    """400 `BAD_REQUEST` on a GET: the server refuses how we ask (e.g. `X-API-Version`)."""


# -- per ID / per query: answered for good ------------------------------------------


class JobError(BedrockError):
    """A definitive answer about one ID or query; retrying would not change it."""


class NotFoundError(JobError):
    """404 (or 410): no such job."""


class ForbiddenError(JobError):
    """403: the job exists in an organization this key cannot read."""


class InvalidRequestError(JobError):
    """400 `VALIDATION_ERROR`, or an ID rejected locally before any request."""


class UnexpectedResponseError(JobError):
    """Any other non-retryable status (3xx, 402, 405, 409, 422, ...)."""


# -- transient: retried by the client ------------------------------------------------


class TransientError(BedrockError):
    """A fault worth retrying. `reason` names it in the retry statistics."""

    reason = "transient"


class RateLimitedError(TransientError):
    """429: over the rate limit; wait `retry_after` seconds (already capped)."""

    reason = "rate_limited"

    def __init__(self, message: str, *, retry_after: float | None, **kwargs: object) -> None:
        super().__init__(message, **kwargs)  # type: ignore[arg-type]
        self.retry_after = retry_after


class ServerError(TransientError):
    """500/502/503/504 (and other 5xx)."""

    reason = "server_error"


class ConnectionFault(TransientError):
    """The connection failed or was dropped without a response."""

    reason = "connection"


class TimeoutFault(TransientError):
    """No (complete) response within the read timeout."""

    reason = "timeout"


class MalformedResponseError(TransientError):
    """A 200 whose body is not a JSON object (truncated, broken, or HTML)."""

    reason = "malformed"


class RetriesExhaustedError(BedrockError):
    """A list call gave up: attempts or total time spent. `last` is the final fault."""

    def __init__(self, message: str, *, last: TransientError, attempts: int) -> None:
        super().__init__(
            message,
            http_status=last.http_status,
            code=last.code,
            detail=last.detail,
            request_id=last.request_id,
        )
        self.last = last
        self.attempts = attempts


class Cancelled(Exception):  # noqa: N818 (a signal, not an error)
    """Internal: the fetch was stopped (fatal error elsewhere, or the caller closed it)."""
