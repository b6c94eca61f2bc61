"""One pacer shared by every worker: spend the rate-limit allowance evenly, never exceed it.

Why by hand: urllib3/requests retry *after* a 429; nothing in them plans
requests ahead across threads from `X-RateLimit-*` headers.

How it works (the API documents a per-key window, `X-RateLimit-Limit`,
`-Remaining` and `-Reset` as a Unix time; docs/api-contract.md, "Rate limits and pacing"):

- **Probe each window.** When the pacer knows nothing about the current window
  (at start, after a window ends, after a 429), exactly one request goes out;
  its headers set the window's budget (`Remaining`) and end (`Reset`). The
  other workers wait one round trip. This re-reads the server's count every
  window, so requests that slipped into the next window, or other users of
  the same key, are accounted for instead of guessed.
- **Spread.** Within a window the remaining budget is spread evenly over the
  time left, ending a small guard before `Reset`: no burst at the window start
  and no request landing just across the boundary. Every later response
  lowers the budget if the server counts less than we think (`min`).
- **Unmetered.** A response that reports `Remaining >= Limit` after counting
  our own request says the server is not limiting us (as does a first response
  without the headers); then only the configured ceiling applies, and a 429
  still pauses everyone. The next metered response switches pacing back on.
- **Pause.** On a 429 every worker waits `Retry-After`, then the window is probed afresh.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from pipelines.bedrock.errors import Cancelled

_MAX_WAIT = 0.25  # re-check cancellation at least this often
# A probe that hasn't answered after this long (a slow or hung response) no longer
# holds everyone back: another request may probe the window.
_PROBE_PATIENCE = 2.0
# The guard before a window's end is a share of the window, but never less than this:
# a short first (partial) window must not send its last requests across the boundary.
_MIN_GUARD = 0.25


@dataclass(frozen=True, slots=True)
class Ticket:
    """Permission to send one request."""

    probe: bool


@dataclass(frozen=True, slots=True)
class RateHeaders:
    limit: int
    remaining: int
    reset: float  # Unix seconds

    @classmethod
    def parse(cls, headers: Mapping[str, str] | None) -> RateHeaders | None:
        if headers is None:
            return None
        try:
            return cls(
                int(headers["X-RateLimit-Limit"]),
                int(headers["X-RateLimit-Remaining"]),
                float(headers["X-RateLimit-Reset"]),
            )
        except (KeyError, ValueError, TypeError):
            return None


class Pacer:
    """Thread-safe request pacing from rate-limit headers, with an optional ceiling."""

    def __init__(
        self,
        *,
        max_requests_per_minute: float | None = None,
        window_guard: float = 0.03,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._cond = threading.Condition()
        self._clock = clock
        self._min_interval = 60.0 / max_requests_per_minute if max_requests_per_minute else 0.0
        self._guard = window_guard
        self._known = False  # any response seen yet
        self._metered = True  # False: the server does not limit us (or doesn't say)
        self._limit: int | None = None
        self._window_end: float | None = None  # None: probe the current window
        self._window_learned_at = 0.0
        self._window_seconds: float | None = None  # learned from successive Reset values
        self._last_reset: float | None = None
        self._left = 0  # requests we may still send in this window
        self._next_at = 0.0
        self._paused_until = 0.0
        self._probe_out = False
        self._probe_sent_at = 0.0
        self._in_flight = 0

    # -- the workers' side ----------------------------------------------------------

    def acquire(self, cancel: threading.Event | None = None) -> Ticket:
        """Block until a request may be sent; raise `Cancelled` if `cancel` is set meanwhile."""
        with self._cond:
            while True:
                if cancel is not None and cancel.is_set():
                    raise Cancelled
                now = self._clock()
                if now < self._paused_until:
                    self._wait(self._paused_until - now)
                    continue
                if not self._known or (self._metered and self._window_end is None):
                    if self._probe_out and now - self._probe_sent_at < _PROBE_PATIENCE:
                        self._wait(_MAX_WAIT)
                        continue
                    self._probe_out, self._probe_sent_at = True, now
                    self._in_flight += 1
                    self._next_at = now + self._min_interval
                    return Ticket(probe=True)
                interval = self._min_interval
                if self._metered:
                    assert self._window_end is not None
                    if now >= self._window_end:
                        self._window_end, self._left = None, 0  # a new window: probe it
                        continue
                    span = self._window_seconds or (self._window_end - self._window_learned_at)
                    usable_end = self._window_end - max(self._guard * span, _MIN_GUARD)
                    if self._left <= 0 or now >= usable_end:
                        self._wait(self._window_end - now)
                        continue
                    interval = max(interval, (usable_end - now) / self._left)
                if now < self._next_at:
                    self._wait(self._next_at - now)
                    continue
                self._next_at = now + interval
                if self._metered:
                    self._left -= 1
                self._in_flight += 1
                return Ticket(probe=False)

    def observe(
        self, ticket: Ticket, status: int | None, headers: Mapping[str, str] | None
    ) -> None:
        """Learn from a response (`status`/`headers`), or from its absence (both None)."""
        rate = RateHeaders.parse(headers)
        with self._cond:
            self._in_flight -= 1
            if ticket.probe:
                self._probe_out = False
            if rate is None:
                # A response without rate headers (e.g. a gateway's 502) says nothing new,
                # unless nothing was ever learned: then there is nothing to pace by.
                if status is not None and not self._known:
                    self._known, self._metered = True, False
                self._cond.notify_all()
                return
            self._known = True
            self._limit = rate.limit
            self._learn_window_length(rate.reset)
            if status != 429 and rate.remaining >= rate.limit:
                # The server did not count this very request: it isn't limiting us.
                self._metered = False
            else:
                self._metered = True
                now = self._clock()
                if rate.reset <= now:
                    pass  # a late answer from a window that is already over
                elif self._window_end is None or rate.reset > self._window_end:
                    # First news of this window. Requests still out may count in it: reserve them.
                    self._window_end = rate.reset
                    self._window_learned_at = now
                    self._left = max(0, rate.remaining - self._in_flight)
                elif rate.reset == self._window_end:
                    # Our requests still out count in the window too, and may not be in
                    # `Remaining` yet: what others spent lowers our budget at once.
                    self._left = min(self._left, max(0, rate.remaining - self._in_flight))
            self._cond.notify_all()

    def pause(self, seconds: float) -> None:
        """Hold every worker for `seconds` (a 429), then probe the window afresh."""
        with self._cond:
            self._paused_until = max(self._paused_until, self._clock() + seconds)
            self._window_end, self._left = None, 0
            self._cond.notify_all()

    def interrupt(self) -> None:
        """Wake every waiting worker so it can notice its cancel event."""
        with self._cond:
            self._cond.notify_all()

    # -- what it learned ----------------------------------------------------------

    @property
    def limit(self) -> int | None:
        """Requests per window the server announced, if any."""
        return self._limit

    @property
    def window_seconds(self) -> float | None:
        """The window length, once two windows have been seen."""
        return self._window_seconds

    @property
    def metered(self) -> bool:
        return self._metered

    def allowance_per_second(self) -> float | None:
        """The learned allowance (limit / window), once both are known."""
        with self._cond:
            if not self._metered or not self._limit or not self._window_seconds:
                return None
            return self._limit / self._window_seconds

    def _learn_window_length(self, reset: float) -> None:
        # Reset values are window ends; the smallest positive step between them is the window.
        if self._last_reset is not None and reset > self._last_reset:
            step = reset - self._last_reset
            if self._window_seconds is None or step < self._window_seconds:
                self._window_seconds = step
        if self._last_reset is None or reset > self._last_reset:
            self._last_reset = reset

    def _wait(self, seconds: float) -> None:
        self._cond.wait(min(max(seconds, 0.001), _MAX_WAIT))
