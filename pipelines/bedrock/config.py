"""`ClientConfig`: the client's whole policy as one frozen value."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields
from urllib.parse import urlsplit

import requests

from pipelines import __version__
from pipelines.bedrock.urls import LOOPBACK, carries_secrets_safely

DEFAULT_BASE_URL = "https://api.bedrock.cv"
DEFAULT_API_VERSION = "2026-01-01"
USER_AGENT = f"bedrock-jobs/{__version__} python-requests/{requests.__version__}"
_HEADER_SAFE_KEY = re.compile(r"[\x21-\x7e]+")  # visible ASCII: what a header value carries


def api_key_problem(api_key: str) -> str | None:
    """Why `api_key` (surrounding white space ignored) can't be sent, never quoting it.

    A key copied with a line break inside, or a typographic quote, would otherwise fail
    deep in `requests` with an error that prints the header, key and all.
    """
    if _HEADER_SAFE_KEY.fullmatch(api_key.strip()):
        return None
    return ("BEDROCK_API_KEY holds a character an HTTP header can't carry (a space or "
            "line break inside the key, a typographic quote, a non-ASCII letter): "
            "set it again from the original sk_... key")


def api_url_problem(base_url: str, with_key: bool) -> str | None:
    """Why `base_url` (surrounding white space ignored) can't be used, in one line naming
    BEDROCK_API_URL; never quotes the key, nor a password in the URL.

    With a key, the URL must be https://, so `Authorization: Bearer sk_...` never travels
    in clear; plain http is allowed only to a loopback host (the local simulator), where
    the request never leaves the machine.
    """
    parts = urlsplit(base_url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"BEDROCK_API_URL must be an https:// URL (got {parts.scheme or 'no'} scheme)"
    if with_key and not carries_secrets_safely(base_url):
        return (f"BEDROCK_API_URL is http://{parts.hostname}: with BEDROCK_API_KEY set it "
                f"must be an https:// URL, so the key never travels in clear ({LOOPBACK}). "
                "Nothing was sent")
    return None


@dataclass(frozen=True)
class ClientConfig:
    """How the Bedrock client talks to the API. The key is never shown by `repr`."""

    base_url: str = DEFAULT_BASE_URL
    api_key: str = field(default="", repr=False)
    api_version: str = DEFAULT_API_VERSION
    workers: int = 8
    # Bounded queue of IDs handed to workers but not yet answered (memory bound).
    max_pending: int | None = None  # default: 2 × workers
    connect_timeout: float = 5.0
    read_timeout: float = 30.0
    # Per ID: attempts that ended in a transient fault (5xx, drop, timeout, bad JSON).
    # 429s don't count here (pacing is our job, not the ID's); the time bound caps them.
    max_attempts: int = 6
    max_total_seconds: float = 300.0  # per ID, from its first attempt
    backoff_base: float = 0.5  # full jitter: sleep U(0, min(cap, base × 2^(n-1)))
    backoff_cap: float = 30.0
    retry_after_cap: float = 120.0  # never sleep longer than this on one 429
    max_requests_per_minute: float | None = None  # optional ceiling below the API's limit
    # Leave this share of each rate-limit window (and at least 0.25 s) unused at its end,
    # so a request sent late in one window never lands in the next (clock skew, latency).
    window_guard: float = 0.03
    user_agent: str = USER_AGENT

    def __post_init__(self) -> None:
        # A key or URL read from a secret file often ends in a newline: white space around
        # them is not part of them. Anything else a header can't carry is refused, unquoted.
        object.__setattr__(self, "base_url", self.base_url.strip().rstrip("/"))
        object.__setattr__(self, "api_key", self.api_key.strip())
        if problem := api_url_problem(self.base_url, with_key=bool(self.api_key)):
            raise ValueError(problem)
        if self.api_key and (problem := api_key_problem(self.api_key)):
            raise ValueError(problem)
        if self.workers < 1:
            raise ValueError("workers must be >= 1")
        if self.max_pending is not None and self.max_pending < self.workers:
            raise ValueError("max_pending must be >= workers")
        if self.max_attempts < 1 or self.max_total_seconds <= 0:
            raise ValueError("max_attempts must be >= 1 and max_total_seconds > 0")
        if min(self.connect_timeout, self.read_timeout) <= 0:
            raise ValueError("timeouts must be > 0")
        if self.max_requests_per_minute is not None and self.max_requests_per_minute <= 0:
            raise ValueError("max_requests_per_minute must be > 0")
        if not 0 <= self.window_guard < 0.5:
            raise ValueError("window_guard must be within [0, 0.5)")

    @property
    def pending_bound(self) -> int:
        return self.max_pending or 2 * self.workers

    def __repr__(self) -> str:
        shown = ", ".join(
            f"{f.name}={getattr(self, f.name)!r}" for f in fields(self) if f.repr
        )
        key = "'sk_…(redacted)'" if self.api_key else "''"
        return f"ClientConfig({shown}, api_key={key})"

    __str__ = __repr__
