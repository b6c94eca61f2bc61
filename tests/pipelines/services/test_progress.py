"""Fetch progress: log lines on a cadence, a terminal bar with done, rate, ETA and failures."""

from __future__ import annotations

import io
import time

from pipelines.services.fetch import FetchProgress
from pipelines.services.progress import (
    ProgressBar,
    ProgressLines,
    ProgressReporter,
    Tally,
    bar_text,
    watching,
)


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


def test_progress_bar_writes_a_line_above_itself_and_draws_itself_again():
    out = io.StringIO()
    bar = ProgressBar(out)
    bar.write("before any bar\n")
    bar(_progress(1, 4))
    bar.write("warning: slow\n")
    bar.close()
    text = out.getvalue()
    assert text.startswith("before any bar\n\r\x1b[K[")
    # The bar's line is cleared, the warning takes it, and the bar is drawn below it.
    drawn = text.split("\r\x1b[K")[1]
    assert drawn.startswith("[") and "1/4" in drawn
    assert text.endswith(f"\r\x1b[Kwarning: slow\n{drawn}\n")


def test_progress_lines_for_a_pipe_come_at_doubling_intervals():
    out = io.StringIO()
    lines = ProgressLines(out, first_after=10.0)
    started = time.monotonic()
    for second in range(0, 200):  # a run of 200 s reporting every second
        lines._started = started - second  # as if `second` seconds had passed
        lines(_progress(second, 1000))
    printed = out.getvalue().splitlines()
    # At 10, 20, 40, 80 and 160 s: five lines for 200 s (fourteen for a whole day).
    assert [line.split()[1] for line in printed] == ["10/1000", "20/1000", "40/1000",
                                                      "80/1000", "160/1000"]


def test_tally_counts_the_batches_of_every_round_as_they_are_now():
    tally = Tally()
    first, second = _progress(5, 10), _progress(1, 3)
    tally(first)
    tally(first)  # reported again: counted once
    first.batches = 2  # written since its last report
    tally(second)
    second.batches = 1
    assert tally.batches == 3
