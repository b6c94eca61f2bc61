"""The simulator's clock: what "now" is for job timelines.

Jobs advance with this clock (an in-flight job shows more events later), so
tests pick a fixed clock and move it by hand, while the demo uses real time.
Rate-limit windows never use it: they are real time on every clock.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime


class Clock:
    """A controllable clock: real, fixed, or accelerated.

    `now()` is `start + factor × (real seconds since creation) + manual offset`.
    `factor=1` is real time, `factor=0` a fixed clock, anything larger an
    accelerated one; `advance()` moves any of them forward by hand.
    """

    def __init__(self, start: float | None = None, factor: float = 1.0) -> None:
        if factor < 0:
            raise ValueError("clock factor must be >= 0")
        self._start = time.time() if start is None else float(start)
        self._factor = float(factor)
        self._origin = time.monotonic()
        self._offset = 0.0
        self._lock = threading.Lock()

    @classmethod
    def real(cls) -> Clock:
        return cls(factor=1.0)

    @classmethod
    def fixed(cls, start: float) -> Clock:
        return cls(start=start, factor=0.0)

    @classmethod
    def accelerated(cls, start: float, factor: float) -> Clock:
        return cls(start=start, factor=factor)

    @property
    def mode(self) -> str:
        if self._factor == 0:
            return "fixed"
        return "real" if self._factor == 1 else f"accelerated x{self._factor:g}"

    def now(self) -> float:
        """Simulated time, in Unix seconds."""
        with self._lock:
            elapsed = (time.monotonic() - self._origin) * self._factor
            return self._start + elapsed + self._offset

    def now_datetime(self) -> datetime:
        return datetime.fromtimestamp(self.now(), tz=UTC)

    def advance(self, seconds: float) -> float:
        """Move simulated time forward (never backward) and return the new now."""
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        with self._lock:
            self._offset += seconds
        return self.now()
