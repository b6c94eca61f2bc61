"""What one fetch did: requests, retries by reason, 429s, latency, achieved rate vs allowance.

The pipeline shows these in the Dagster UI (`FetchStats.as_metadata()`).
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

_RESERVOIR = 10_000  # latency samples kept: exact percentiles up to here, sampled beyond


@dataclass(frozen=True)
class FetchStats:
    """A snapshot of one fetch's statistics."""

    requests: int
    responses_by_status: dict[int, int]
    retries_by_reason: dict[str, int]
    rate_limited: int  # 429s received
    outcomes: dict[str, int]
    elapsed_seconds: float
    latency_p50_seconds: float | None
    latency_p95_seconds: float | None
    achieved_rate: float  # requests per second over the whole fetch
    # Requests per second over the rate-limit windows wholly inside the fetch (first and
    # last windows left out: they are partial). None with fewer than three windows.
    sustained_rate: float | None
    allowance_limit: int | None  # what X-RateLimit-Limit said
    allowance_window_seconds: float | None
    allowance_rate: float | None  # learned limit / window, requests per second
    metered: bool  # False when the server said it does not limit us
    requests_by_window: dict[float, int] = field(repr=False)

    @property
    def retries(self) -> int:
        return sum(self.retries_by_reason.values())

    @property
    def allowance_used(self) -> float | None:
        """sustained_rate / allowance_rate: 1.0 is the whole allowance spent."""
        if self.sustained_rate is None or not self.allowance_rate:
            return None
        return self.sustained_rate / self.allowance_rate

    def as_metadata(self) -> dict[str, Any]:
        """Flat, JSON-friendly figures for run metadata and logs."""

        def rounded(value: float | None, digits: int = 3) -> float | None:
            return None if value is None else round(value, digits)

        return {
            "requests": self.requests,
            "retries": self.retries,
            "retries_by_reason": dict(self.retries_by_reason),
            "rate_limited_429": self.rate_limited,
            "responses_by_status": {str(k): v for k, v in self.responses_by_status.items()},
            "outcomes": {str(k): v for k, v in self.outcomes.items()},
            "elapsed_seconds": rounded(self.elapsed_seconds),
            "latency_p50_ms": rounded(None if self.latency_p50_seconds is None
                                      else self.latency_p50_seconds * 1000, 1),
            "latency_p95_ms": rounded(None if self.latency_p95_seconds is None
                                      else self.latency_p95_seconds * 1000, 1),
            "achieved_rate_per_minute": rounded(self.achieved_rate * 60, 1),
            "sustained_rate_per_minute": rounded(None if self.sustained_rate is None
                                                 else self.sustained_rate * 60, 1),
            "allowance_limit": self.allowance_limit,
            "allowance_window_seconds": self.allowance_window_seconds,
            "allowance_per_minute": rounded(None if self.allowance_rate is None
                                            else self.allowance_rate * 60, 1),
            "allowance_used": rounded(self.allowance_used),
            "metered": self.metered,
        }


class StatsRecorder:
    """Thread-safe counters for one fetch; `snapshot()` gives a `FetchStats`."""

    def __init__(self, seed: int = 0) -> None:
        self._lock = threading.Lock()
        self._started = time.monotonic()
        self._finished: float | None = None
        self._requests = 0
        self._responses: Counter[int] = Counter()
        self._retries: Counter[str] = Counter()
        self._outcomes: Counter[str] = Counter()
        self._by_window: Counter[float] = Counter()
        self._latencies: list[float] = []
        self._seen_latencies = 0
        self._rng = random.Random(seed)

    def request(self, status: int | None, latency: float, window_reset: float | None) -> None:
        """One request finished (`status` None: no response at all)."""
        with self._lock:
            self._requests += 1
            if status is not None:
                self._responses[status] += 1
            if window_reset is not None and status != 429:
                self._by_window[window_reset] += 1
            self._seen_latencies += 1
            if len(self._latencies) < _RESERVOIR:
                self._latencies.append(latency)
            else:  # reservoir sampling keeps memory bounded on huge fetches
                slot = self._rng.randrange(self._seen_latencies)
                if slot < _RESERVOIR:
                    self._latencies[slot] = latency

    def retry(self, reason: str) -> None:
        with self._lock:
            self._retries[reason] += 1

    def outcome(self, outcome: str) -> None:
        with self._lock:
            self._outcomes[outcome] += 1

    def finish(self) -> None:
        with self._lock:
            if self._finished is None:
                self._finished = time.monotonic()

    def snapshot(
        self, *, limit: int | None, window_seconds: float | None, allowance: float | None,
        metered: bool,
    ) -> FetchStats:
        with self._lock:
            end = self._finished if self._finished is not None else time.monotonic()
            elapsed = max(end - self._started, 1e-9)
            ordered = sorted(self._latencies)
            windows = dict(sorted(self._by_window.items()))
            return FetchStats(
                requests=self._requests,
                responses_by_status=dict(sorted(self._responses.items())),
                retries_by_reason=dict(self._retries),
                rate_limited=self._responses.get(429, 0),
                outcomes=dict(self._outcomes),
                elapsed_seconds=elapsed,
                latency_p50_seconds=_quantile(ordered, 0.50),
                latency_p95_seconds=_quantile(ordered, 0.95),
                achieved_rate=self._requests / elapsed,
                sustained_rate=_sustained(windows, window_seconds),
                allowance_limit=limit,
                allowance_window_seconds=window_seconds,
                allowance_rate=allowance,
                metered=metered,
                requests_by_window=windows,
            )


def _quantile(ordered: list[float], q: float) -> float | None:
    if not ordered:
        return None
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _sustained(windows: dict[float, int], window_seconds: float | None) -> float | None:
    inner = list(windows.values())[1:-1]
    if not inner or not window_seconds:
        return None
    return sum(inner) / (len(inner) * window_seconds)
