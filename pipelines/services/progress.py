"""Fetch progress: a log line every few seconds for the run's logs, and a live bar in a terminal.

The fetch asset reports through `ProgressReporter`: it writes `FetchProgress.line()`
to the run's log (every `log_every` seconds and once at the end) and hands every
report to the listeners registered in this process with `watching(...)`. The
`bedrock-jobs ingest` command, which runs the job in-process, registers a
`ProgressBar` when its output is a terminal. Elsewhere (the web UI, schedules,
pipes, CI logs) nobody listens and only the log lines show.
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


class ProgressBar:
    """A listener that redraws one terminal line; `close()` ends the line."""

    def __init__(self, stream: TextIO = sys.stdout) -> None:
        self._stream = stream
        self._drawn = False
        self._lock = threading.Lock()

    def __call__(self, progress: FetchProgress) -> None:
        width = shutil.get_terminal_size((80, 20)).columns - 1
        with self._lock:
            self._stream.write("\r\x1b[K" + bar_text(progress, width))
            self._stream.flush()
            self._drawn = True

    def close(self) -> None:
        with self._lock:
            if self._drawn:
                self._stream.write("\n")
                self._stream.flush()
                self._drawn = False
