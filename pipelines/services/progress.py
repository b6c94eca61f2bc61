"""Fetch progress: a log line every few seconds for the run's logs, and a live bar in a terminal.

The fetch asset reports through `ProgressReporter`: it writes `FetchProgress.line()`
to the run's log (every `log_every` seconds and once at the end) and hands every
report to the listeners registered in this process with `watching(...)`. The
`bedrock-jobs ingest` command, which runs the job in-process, registers a
`ProgressBar` when its output is a terminal, `ProgressLines` when it is a pipe or
a file, and a `Tally` of what the run wrote (what a failure or Ctrl-C keeps).
Elsewhere (the web UI, schedules) nobody listens and only the log lines show.
"""

from __future__ import annotations

import shutil
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TextIO

from pipelines.services.fetch import FetchProgress

Listener = Callable[[FetchProgress], None]

_listeners: list[Listener] = []
_lock = threading.Lock()


@contextmanager
def watching(listener: Listener) -> Iterator[None]:
    """Call `listener` with every fetch progress report made in this process meanwhile."""
    with _lock:
        _listeners.append(listener)
    try:
        yield
    finally:
        with _lock:
            _listeners.remove(listener)


def publish(progress: FetchProgress) -> None:
    """Hand `progress` to every listener (none outside `bedrock-jobs ingest`)."""
    with _lock:
        listeners = list(_listeners)
    for listener in listeners:
        listener(progress)


class ProgressReporter:
    """The `report` callback of `fetch_and_load`: logs a line now and then, publishes always."""

    def __init__(self, log: Callable[[str], None], log_every: float = 10.0) -> None:
        self._log = log
        self._log_every = log_every
        self._last_logged = time.monotonic()

    def __call__(self, progress: FetchProgress) -> None:
        publish(progress)
        now = time.monotonic()
        if progress.done >= progress.total or now - self._last_logged >= self._log_every:
            self._last_logged = now
            self._log(progress.line())


def bar_text(progress: FetchProgress, width: int = 80) -> str:
    """One line: a bar, done/total, rate, ETA and failures, fitted to `width` columns."""
    total = max(progress.total, 1)
    share = min(progress.done / total, 1.0)
    rate = progress.rate
    left = max(0, progress.total - progress.done)
    eta = _clock(left / rate) if rate > 0 and left else ("0:00" if not left else "?")
    failed = progress.outcomes.get("failed", 0)
    tail = (f" {progress.done}/{progress.total} {share:4.0%}  {rate:5.1f}/s  ETA {eta}"
            f"  failed {failed}")
    room = max(10, min(40, width - len(tail) - 3))
    filled = int(room * share)
    return f"[{'#' * filled}{'.' * (room - filled)}]{tail}"[:width]


def _clock(seconds: float) -> str:
    minutes, secs = divmod(int(seconds + 0.5), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class Tally:
    """A listener that counts the batches a run's fetch rounds have written (committed) so
    far. It keeps each round's live counts, so it is current even when the run stops
    between two reports."""

    def __init__(self) -> None:
        self._rounds: list[FetchProgress] = []
        self._lock = threading.Lock()

    def __call__(self, progress: FetchProgress) -> None:
        with self._lock:
            if not any(progress is known for known in self._rounds):
                self._rounds.append(progress)

    @property
    def batches(self) -> int:
        with self._lock:
            return sum(progress.batches for progress in self._rounds)


class ProgressLines:
    """A listener for a pipe or a file: `FetchProgress.line()` at 10 s, 20 s, 40 s, ... into
    the run, so a run of any length prints only a few (a day: 14; the command holds them
    and the warnings to a few lines more, `pipelines.tools.running.LineBudget`), and a run
    that fails keeps its output short."""

    def __init__(self, stream: TextIO = sys.stdout, first_after: float = 10.0) -> None:
        self._stream = stream
        self._started = time.monotonic()
        self._next = first_after

    def __call__(self, progress: FetchProgress) -> None:
        if time.monotonic() - self._started < self._next:
            return
        self._next *= 2
        try:
            self._stream.write(progress.line() + "\n")
            self._stream.flush()
        except (OSError, ValueError):  # a reader that went away; the run goes on
            pass

    def close(self) -> None:
        """Nothing to end (the same interface as `ProgressBar`)."""


class ProgressBar:
    """A listener that redraws one terminal line; `write()` puts a line above it; `close()`
    ends the line."""

    def __init__(self, stream: TextIO = sys.stdout) -> None:
        self._stream = stream
        self._drawn = ""
        self._lock = threading.Lock()

    def __call__(self, progress: FetchProgress) -> None:
        width = shutil.get_terminal_size((80, 20)).columns - 1
        with self._lock:
            self._drawn = bar_text(progress, width)
            self._stream.write("\r\x1b[K" + self._drawn)
            self._stream.flush()

    def write(self, text: str) -> int:
        """Write `text` (whole lines) above the bar, then draw the bar again."""
        with self._lock:
            self._stream.write(("\r\x1b[K" if self._drawn else "") + text + self._drawn)
            self._stream.flush()
        return len(text)

    def flush(self) -> None:
        self._stream.flush()

    def close(self) -> None:
        with self._lock:
            if self._drawn:
                self._stream.write("\n")
                self._stream.flush()
                self._drawn = ""
