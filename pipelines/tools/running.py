"""What a command that runs a job prints: progress while it runs, a few lines if it fails.

A terminal gets a live bar; a pipe or a file a progress line at 10 s, 20 s, 40 s, ...
Either way only the run's warnings show, one short line each: every event, a failed
step's stack trace included, goes to the run's log file (`pipelines.runner.run_log_path`).
A run that fails ends in a few lines: what went wrong, what was kept, what to do next,
and where the whole log is. Ctrl-C ends in one line: the batches kept, and that the same
command resumes. All told, at most `MAX_LINES` lines, however long the run and however
many its warnings and errors: `LineBudget` holds the lines printed while it runs.
"""

from __future__ import annotations

import sys
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TextIO

from assets import intake
from pipelines.services.text import SHORT_LINE, one_line

if TYPE_CHECKING:
    from pipelines.runner import RunOutcome

MAX_LINES = 20
"""The most a command that runs a job prints, whatever happens: the sum of the three below."""
COMMAND_LINES = 4
"""What the command itself prints around its run: `ingest`'s "registered" line, the
demo's simulator lines, a terminal's progress bar."""
MAX_ERRORS_SHOWN = 3
"""Error lines of a failed run, "and N more" included."""
END_LINES = MAX_ERRORS_SHOWN + 3  # the errors, then what was kept, what next, the log
RUN_LINES = MAX_LINES - COMMAND_LINES - END_LINES
"""Lines while it runs, shared by its warnings and a pipe's progress lines (and the
line about earlier runs whose process died); the rest are in the run's log."""


class LineBudget:
    """At most `lines` lines, shared by the streams `cap()` returns. The last one left
    says the others are in the run's log (which has every warning and progress line)."""

    def __init__(self, lines: int) -> None:
        self._left = lines
        self._lock = threading.Lock()

    def cap(self, stream: TextIO) -> TextIO:
        return _Capped(stream, self)  # type: ignore[return-value]

    def take(self, text: str) -> str:
        """What of `text` (whole lines) may be written: all of it, the closing line, or
        nothing."""
        lines = text.count("\n")
        with self._lock:
            if lines < self._left:
                self._left -= lines
                return text
            if self._left <= 0 or not lines:
                return ""
            self._left = 0
            return "more lines in the run's log\n"


class _Capped:
    """A stream written through a `LineBudget`."""

    def __init__(self, stream: TextIO, budget: LineBudget) -> None:
        self._stream = stream
        self._budget = budget

    def write(self, text: str) -> int:
        if allowed := self._budget.take(text):
            self._stream.write(allowed)
        return len(text)

    def flush(self) -> None:
        self._stream.flush()


@dataclass(frozen=True)
class Ran:
    """How a job run from a command ended."""

    outcome: RunOutcome | None  # None: Ctrl-C came before the run could record an end
    batches: int  # batches of fetch results this run wrote (committed): kept

    @property
    def interrupted(self) -> bool:
        return self.outcome is None or self.outcome.interrupted


def run_outputs(stdout: TextIO, stderr: TextIO, **lines: float) -> tuple[Any, TextIO]:
    """Where a run shows itself: its progress view (a bar on a terminal, else
    `ProgressLines(**lines)` on `stdout`) and the console for its warnings (above the bar,
    else `stderr`), both held to `RUN_LINES` lines by one `LineBudget`."""
    from pipelines.services.progress import ProgressBar, ProgressLines

    budget = LineBudget(RUN_LINES)
    if stdout.isatty():
        bar = ProgressBar(stdout)
        return bar, budget.cap(bar)  # type: ignore[arg-type]
    return ProgressLines(budget.cap(stdout), **lines), budget.cap(stderr)


def run_with_progress(name: str, config: dict[str, Any], resources: Any = None) -> Ran:
    """Run job `name` in this process, showing its progress and warnings on the terminal."""
    from pipelines.runner import run_job
    from pipelines.services.progress import Tally, watching

    tally = Tally()
    view, console = run_outputs(sys.stdout, sys.stderr)
    outcome = None
    with watching(tally), watching(view):
        try:
            outcome = run_job(name, config, resources=resources, console=console)
        except KeyboardInterrupt:
            pass
        finally:
            view.close()
    return Ran(outcome, tally.batches)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 'es' if word.endswith('h') else 's'}"


def _written(ran: Ran) -> str:
    if not ran.batches:
        return "no batch of results was written"
    return (f"{_plural(ran.batches, 'batch')} of results written by this run "
            f"{'is' if ran.batches == 1 else 'are'} kept")


def interrupted_line(ran: Ran, rerun: str) -> str:
    """The one line Ctrl-C prints."""
    log = f" (log: {ran.outcome.log_path})" if ran.outcome is not None else ""
    return f"interrupted: {_written(ran)}; `{rerun}` resumes where it stopped{log}"


def failure_lines(ran: Ran, job: str, rerun: str) -> list[str]:
    """What went wrong, what was kept, what to do next, where the whole log is."""
    outcome = ran.outcome
    assert outcome is not None
    failures = outcome.failures
    shown = failures if len(failures) <= MAX_ERRORS_SHOWN else failures[:MAX_ERRORS_SHOWN - 1]
    lines = [f"error: {one_line(failure, SHORT_LINE - 7)}" for failure in shown]
    if len(failures) > len(shown):
        lines.append(f"error: and {len(failures) - len(shown)} more, in the run's log")
    if not outcome.failures:
        lines.append("error: the run failed; the run's log says why")
    kept = [_written(ran)]
    if intake.STEP in outcome.steps_done:  # the requested IDs are registered
        kept.insert(0, "every requested ID is registered in ops.job_ledger")
    lines.append(f"kept: {'; '.join(kept)}")
    lines.append(f"next: fix what the error says, then run `{rerun}` again: it fetches only "
                 "what is not loaded yet")
    lines.append(f"{job} failed after {outcome.seconds:.1f}s (run {outcome.run_id}); "
                 f"full log: {outcome.log_path}")
    return lines


def report_end(ran: Ran, job: str, rerun: str) -> int | None:
    """Print how a run that did not succeed ended and return the exit code (130 after
    Ctrl-C, else 1); None when it succeeded."""
    if ran.interrupted:
        print(interrupted_line(ran, rerun), file=sys.stderr, flush=True)
        return 130
    assert ran.outcome is not None
    if ran.outcome.success:
        return None
    print("\n".join(failure_lines(ran, job, rerun)), file=sys.stderr, flush=True)
    return 1
