"""A fixed-window rate limiter per API key, in real time.

Bedrock documents a per-minute budget per key with `X-RateLimit-Limit`,
`X-RateLimit-Remaining` and `X-RateLimit-Reset` (a Unix timestamp) on every
response, and 429 + `Retry-After` past it (docs/api-contract.md). Windows are aligned
to multiples of the window length, like a per-minute counter would be.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class RateLimitConfig:
    limit: int = 300
    window_seconds: float = 60.0
    enabled: bool = True

    def __post_init__(self) -> None:
        if self.limit < 1 or self.window_seconds <= 0:
            raise ValueError("rate limit needs limit >= 1 and window_seconds > 0")


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    limit: int
    remaining: int
    reset_at: float  # Unix seconds when the current window ends
    retry_after: int  # whole seconds to wait, when not allowed

    def headers(self) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(math.ceil(self.reset_at)),
        }


class FixedWindowLimiter:
    def __init__(self, config: RateLimitConfig, clock=time.time) -> None:
        self.config = config
        self._clock = clock
        self._lock = threading.Lock()
        self._windows: dict[str, tuple[int, int]] = {}  # key -> (window index, used)

    def _window(self, now: float) -> tuple[int, float]:
        index = math.floor(now / self.config.window_seconds)
        return index, (index + 1) * self.config.window_seconds

    def acquire(self, key: str) -> Decision:
        """Count one request for `key`; requests over the limit are refused and not counted."""
        now = self._clock()
        index, reset_at = self._window(now)
        limit = self.config.limit
        if not self.config.enabled:
            return Decision(True, limit, limit, reset_at, 0)
        with self._lock:
            window, used = self._windows.get(key, (index, 0))
            if window != index:
                used = 0
            if used >= limit:
                self._windows[key] = (index, used)
                return Decision(False, limit, 0, reset_at, max(1, math.ceil(reset_at - now)))
            used += 1
            self._windows[key] = (index, used)
        return Decision(True, limit, limit - used, reset_at, 0)

    def peek(self, key: str) -> Decision:
        """The current state for `key` without counting a request."""
        now = self._clock()
        index, reset_at = self._window(now)
        with self._lock:
            window, used = self._windows.get(key, (index, 0))
        used = used if window == index and self.config.enabled else 0
        return Decision(True, self.config.limit, self.config.limit - used, reset_at, 0)
