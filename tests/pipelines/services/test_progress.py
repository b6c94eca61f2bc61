"""Fetch progress: log lines on a cadence, a terminal bar with done, rate, ETA and failures."""

from __future__ import annotations

import io
import time

from pipelines.services.fetch import FetchProgress
from pipelines.services.progress import ProgressBar, ProgressReporter, bar_text, watching


def _progress(done: int, total: int, failed: int = 0, seconds: float = 10.0) -> FetchProgress:
    progress = FetchProgress(total=total, started=time.monotonic() - seconds)
    progress.done = done
    progress.outcomes = {"loaded": done - failed, "failed": failed}
    return progress


def test_bar_shows_done_rate_eta_and_failures_within_the_width():
    text = bar_text(_progress(250, 1000, failed=3, seconds=10.0), width=80)
    bar = text[1:text.index("]")]
    assert text.startswith("[") and bar.count("#") == len(bar) // 4 and len(text) <= 80
    assert "250/1000" in text and "25%" in text and "25.0/s" in text
    assert "ETA 0:30" in text and "failed 3" in text


def test_reporter_publishes_every_report_but_logs_on_a_cadence_and_at_the_end():
    lines: list[str] = []
    seen: list[int] = []
    reporter = ProgressReporter(lines.append, log_every=3600)
    with watching(lambda p: seen.append(p.done)):
        reporter(_progress(1, 10))
        reporter(_progress(5, 10))
        reporter(_progress(10, 10))
    reporter(_progress(10, 10))  # nobody listens any more
    assert seen == [1, 5, 10]
    assert len(lines) == 2 and lines[0].startswith("fetched 10/10")


def test_progress_bar_redraws_one_line_and_ends_it():
    out = io.StringIO()
    bar = ProgressBar(out)
    bar(_progress(1, 4))
    bar(_progress(4, 4))
    bar.close()
    text = out.getvalue()
    assert text.count("\r\x1b[K") == 2 and text.endswith("\n") and text.count("\n") == 1
