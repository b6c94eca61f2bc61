"""Retry timing: exponential backoff with full jitter, and `Retry-After` parsing.

urllib3's `Retry` does the connection-level retries (see `client.py`), and its
`parse_retry_after` reads the header (seconds or HTTP date). The backoff for
everything urllib3 can't see (a 200 with broken JSON, a fault after the request
was counted by the rate limiter, which must go back through the shared pacer)
is written here, because `Retry` only backs off inside a single `urlopen`.
"""

from __future__ import annotations

import random
import time
from collections.abc import Mapping

from urllib3.exceptions import InvalidHeader
from urllib3.util.retry import Retry

_PARSER = Retry(0)


def full_jitter(attempt: int, base: float, cap: float, rng: random.Random) -> float:
    """Seconds to wait before retry number `attempt` (1-based): U(0, min(cap, base·2^(n-1)))."""
    return rng.uniform(0.0, min(cap, base * (2 ** (attempt - 1))))


def retry_after_seconds(headers: Mapping[str, str], cap: float) -> float | None:
    """`Retry-After` (seconds or HTTP date) capped to `cap`; else time to `X-RateLimit-Reset`.

    None when neither header says anything usable.
    """
    value = headers.get("Retry-After")
    if value:
        try:
            return min(cap, max(0.0, _PARSER.parse_retry_after(value)))
        except InvalidHeader:
            pass
    reset = headers.get("X-RateLimit-Reset")
    if reset:
        try:
            return min(cap, max(0.0, float(reset) - time.time()))
        except ValueError:
            pass
    return None
