"""What a command that runs a job prints: progress while it runs, a few lines if it fails.

A terminal gets a live bar; a pipe or a file a progress line at 10 s, 20 s, 40 s, ...
Either way only the run's warnings show, one line each (at most five): every event,
a failed step's stack trace included, goes to the run's log file
(`pipelines.runner.run_log_path`). A run that fails ends in a few lines: what went
wrong, what was kept, what to do next, and where the whole log is. Ctrl-C ends in
one line: the batches kept, and that the same command resumes.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pipelines.runner import RunOutcome

LEDGER_STEP = "ops__job_ledger"
"""The step that registers the requested IDs: once it succeeded, they are kept."""
MAX_ERRORS_SHOWN = 3
MAX_ERROR_CHARS = 400  # a few rows of a terminal; the run's log has the whole text


@dataclass(frozen=True)
class Ran:
    """How a job run from a command ended."""

    outcome: RunOutcome | None  # None: Ctrl-C came before the run could record an end
    batches: int  # batches of fetch results this run wrote (committed): kept

    @property
    def interrupted(self) -> bool:
        return self.outcome is None or self.outcome.interrupted


def run_with_progress(name: str, config: dict[str, Any], resources: Any = None) -> Ran:
    """Run job `name` in this process, showing its progress and warnings on the terminal."""
    from pipelines.runner import run_job
    from pipelines.services.progress import ProgressBar, ProgressLines, Tally, watching

    tally = Tally()
    tty = sys.stdout.isatty()
    view = ProgressBar(sys.stdout) if tty else ProgressLines(sys.stdout)
    outcome = None
    with watching(tally), watching(view):
        try:
            outcome = run_job(name, config, resources=resources,
                              console=view if tty else sys.stderr)  # type: ignore[arg-type]
        except KeyboardInterrupt:
            pass
        finally:
            view.close()
    return Ran(outcome, tally.batches)


def _short(text: str) -> str:
    return text if len(text) <= MAX_ERROR_CHARS else text[:MAX_ERROR_CHARS - 1] + "…"


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
    lines = [f"error: {_short(failure)}" for failure in outcome.failures[:MAX_ERRORS_SHOWN]]
    if len(outcome.failures) > MAX_ERRORS_SHOWN:
        lines.append(f"error: and {len(outcome.failures) - MAX_ERRORS_SHOWN} more, in the "
                     "run's log")
    if not outcome.failures:
        lines.append("error: the run failed; the run's log says why")
    kept = [_written(ran)]
    if LEDGER_STEP in outcome.steps_done:
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
