"""Seeded fault injection: what can go wrong between a client and the API.

Off by default. Each request to the jobs API draws at most one fault from a
seeded RNG, so a given seed gives the same fault rates run after run (which
request gets which fault still depends on thread timing, as it would for real).
"""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass, fields
from enum import Enum


class Fault(Enum):
    NONE = "none"
    SERVER_ERROR = "server_error"  # 500 / 502 / 503
    DROP = "drop"  # connection closed without a response
    SLOW = "slow"  # a response slower than any sane client timeout
    MALFORMED = "malformed"  # 200 with a truncated or broken JSON body
    RATE_BURST = "rate_burst"  # 429 for everyone for a short while


@dataclass(frozen=True)
class FaultConfig:
    seed: int = 0
    latency_ms: float = 0.0  # added to every response
    jitter_ms: float = 0.0  # plus uniform 0..jitter
    error_rate: float = 0.0
    drop_rate: float = 0.0
    slow_rate: float = 0.0
    slow_seconds: float = 5.0
    malformed_rate: float = 0.0
    burst_rate: float = 0.0  # chance that a request starts a burst of 429s
    burst_seconds: float = 1.0

    def __post_init__(self) -> None:
        rates = (self.error_rate, self.drop_rate, self.slow_rate, self.malformed_rate,
                 self.burst_rate)
        if any(not 0.0 <= r <= 1.0 for r in rates) or sum(rates) > 1.0:
            raise ValueError("fault rates must each be within 0..1 and sum to at most 1")
        if min(self.latency_ms, self.jitter_ms, self.slow_seconds, self.burst_seconds) < 0:
            raise ValueError("fault durations must be >= 0")

    @classmethod
    def light(cls, seed: int = 0) -> FaultConfig:
        """A light realistic mix for the demo: a few 5xx, drops and 429 bursts."""
        return cls(seed=seed, error_rate=0.02, drop_rate=0.005, malformed_rate=0.005,
                   burst_rate=0.001, slow_rate=0.0)

    @property
    def any(self) -> bool:
        return any(getattr(self, f.name) for f in fields(self) if f.name != "seed")


class FaultInjector:
    def __init__(self, config: FaultConfig) -> None:
        self.config = config
        self._rng = random.Random(f"faults:{config.seed}")
        self._lock = threading.Lock()
        self._burst_until = 0.0

    def draw(self) -> tuple[Fault, float]:
        """One request's fault and its added latency in seconds."""
        c = self.config
        with self._lock:
            delay = (c.latency_ms + self._rng.uniform(0.0, c.jitter_ms)) / 1000.0 if (
                c.latency_ms or c.jitter_ms) else 0.0
            if time.monotonic() < self._burst_until:
                return Fault.RATE_BURST, delay
            roll = self._rng.random()
            for fault, rate in (
                (Fault.SERVER_ERROR, c.error_rate),
                (Fault.DROP, c.drop_rate),
                (Fault.SLOW, c.slow_rate),
                (Fault.MALFORMED, c.malformed_rate),
                (Fault.RATE_BURST, c.burst_rate),
            ):
                if roll < rate:
                    if fault is Fault.RATE_BURST:
                        self._burst_until = time.monotonic() + c.burst_seconds
                    return fault, delay
                roll -= rate
            return Fault.NONE, delay

    def burst_remaining(self) -> float:
        with self._lock:
            return max(0.0, self._burst_until - time.monotonic())

    def choice(self, options: tuple) -> object:
        with self._lock:
            return self._rng.choice(options)
