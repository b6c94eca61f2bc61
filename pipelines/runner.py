"""Running the pipeline's jobs in-process, on the shared Dagster instance.

Used by `bedrock-jobs ingest` and `make demo`: the same Dagster jobs the UI
and the schedules run, executed in this process (so progress shows in the
terminal) and recorded on the instance under `DAGSTER_HOME` (so the run shows
in the UI's history).

A run's whole log, every event and a failed step's stack trace, goes to
`<DAGSTER_HOME>/bedrock-logs/<run_id>.log`; the terminal gets only its warnings, one
line each, and the caller says what failed from `RunOutcome.failures`. Dagster's
own console logger is not used: a failed step prints its trace twice there, and
a line per step skipped after it.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import socket
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import dagster as dg

from pipelines.instance import ensure_dagster_home, open_instance
from pipelines.services.text import SHORT_LINE, one_line

HOST_TAG = "bedrock/host"
PID_TAG = "bedrock/pid"
MAX_WARNINGS_SHOWN = 5
"""Warnings a run shows on the terminal; the rest are in its log file."""
LOGS_FOLDER = "bedrock-logs"
"""Under `DAGSTER_HOME`: each run's whole log, and an unexpected error's traceback. Not
`logs`: Dagster owns `DAGSTER_HOME/logs` (its telemetry moves the files away)."""
LOGS_KEEP_DAYS = 30
"""Days a file stays in `LOGS_FOLDER`; each run started here deletes the older ones."""
_LOGGER = "bedrock_run_log"


@dataclass(frozen=True)
class RunOutcome:
    success: bool
    run_id: str
    failures: list[str]  # what each failed step or check said, one line each
    seconds: float
    log_path: Path  # the run's whole log, stack traces included
    steps_done: frozenset[str] = frozenset()  # the keys of the steps that succeeded
    interrupted: bool = False  # Ctrl-C (SIGINT) stopped it


def stage_id_file(source: str, inbox: Path) -> str:
    """Copy an ID file (or standard input, `-`) into the inbox; returns its name there.

    The file then takes the same path as one dropped in the inbox: read once,
    every line accounted for, moved aside afterwards. Its name starts with a dot,
    so a running inbox sensor leaves it to this command's own run, and is made
    unique by `tempfile.mkstemp`: two commands staging in the same second never
    share (and overwrite) one file. A file staged so by an earlier command that did
    not get to read it (the path its failure names) is used where it is.
    """
    import tempfile

    from pipelines.services.id_files import STAGED_PREFIX

    given = Path(source)
    if (source != "-" and given.name.startswith(STAGED_PREFIX) and given.is_file()
            and given.parent.resolve() == inbox.resolve()):
        return given.name
    inbox.mkdir(parents=True, exist_ok=True)
    stem = Path(source).name if source != "-" else "stdin"
    fd, staged = tempfile.mkstemp(prefix=f"{STAGED_PREFIX}{time.strftime('%Y%m%dT%H%M%S')}-",
                                  suffix=f"-{stem}", dir=inbox)
    try:
        with os.fdopen(fd, "wb") as out:
            if source == "-":
                shutil.copyfileobj(sys.stdin.buffer, out)
            else:
                with open(source, "rb") as given:
                    shutil.copyfileobj(given, out)
    except BaseException:
        Path(staged).unlink(missing_ok=True)
        raise
    return Path(staged).name


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def reap_dead_runs(instance: dg.DagsterInstance) -> list[str]:
    """Fail the in-process runs of this machine whose process is gone, freeing their slots.

    A run killed outright (SIGKILL, power loss) never releases its claim on the
    `bedrock_warehouse` pool, and the next run would wait for it for ever. No
    daemon watches in-process runs, so the next run started here checks.
    """
    reaped = []
    hostname = socket.gethostname()
    for run in instance.get_runs(filters=dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED])):
        if run.tags.get(HOST_TAG) != hostname or PID_TAG not in run.tags:
            continue
        if _process_alive(int(run.tags[PID_TAG])):
            continue
        instance.report_run_failed(run, "its process died without finishing (e.g. killed)")
        instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
        reaped.append(run.run_id)
    return reaped


@contextmanager
def _sigterm_kept() -> Iterator[None]:
    """Give SIGTERM back its disposition after a run: Dagster's interrupt handling leaves it
    ignored when SIGINT was (as under `nohup` or `cmd &`), and the process, and every child
    it starts, could then no longer be stopped with `kill`."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    before = signal.getsignal(signal.SIGTERM)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, before)


def logs_folder() -> Path:
    """`<DAGSTER_HOME>/bedrock-logs`: the runs' logs, and the traceback of a command that
    failed unexpectedly."""
    return ensure_dagster_home() / LOGS_FOLDER


def prune_logs(folder: Path, keep_days: int = LOGS_KEEP_DAYS) -> None:
    """Delete the files of `folder` last written more than `keep_days` days ago: a log
    per run, kept for ever, would fill the disk in time."""
    cutoff = time.time() - keep_days * 86400
    for path in folder.glob("*.log") if folder.is_dir() else ():
        try:
            if path.is_file() and path.stat().st_mtime < cutoff:
                path.unlink()
        except OSError:  # another run's prune got there first, or it is not ours to delete
            pass


def run_log_path(run_id: str) -> Path:
    """Where `run_job` writes the whole log of run `run_id`."""
    return logs_folder() / f"{run_id}.log"


class _Terminal(logging.Handler):
    """What the terminal shows of a run's log: records at `level` or above but below ERROR,
    one line each, the first `MAX_WARNINGS_SHOWN` of them. Errors (a failed step and its
    stack trace, the steps skipped after it) stay in the log file: the caller sums them up
    from `RunOutcome.failures`."""

    def __init__(self, stream: TextIO, level: str) -> None:
        super().__init__(level)
        self._stream = stream
        self._shown = 0

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno >= logging.ERROR:
            return
        self._shown += 1
        if self._shown > MAX_WARNINGS_SHOWN + 1:
            return
        if self._shown > MAX_WARNINGS_SHOWN:
            text = "more in the run's log"
        else:  # the message as logged, without Dagster's prefix of job, run and step
            meta = getattr(record, "dagster_meta", None) or {}
            text = str(meta.get("orig_message") or record.getMessage())
        prefix = f"{record.levelname.lower()}: "
        try:
            self._stream.write(f"{prefix}{one_line(text, SHORT_LINE - len(prefix))}\n")
            self._stream.flush()
        except (OSError, ValueError):  # a closed pipe: the log file still has it
            pass


class _LogFile(logging.FileHandler):
    """The run's log file, whose (re)opening makes its folder again if it went away mid-run
    (someone cleaning up): a log must never fail the run it records."""

    def _open(self):  # type: ignore[no-untyped-def]
        Path(self.baseFilename).parent.mkdir(parents=True, exist_ok=True)
        return super()._open()


@contextmanager
def _run_log(run_id: str, console: TextIO, level: str) -> Iterator[dg.LoggerDefinition]:
    """The run's logger: everything to its log file, warnings to `console`."""
    path = run_log_path(run_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    to_file = _LogFile(path, encoding="utf-8")
    to_file.setFormatter(logging.Formatter("%(asctime)s - %(levelname)s - %(message)s"))
    terminal = _Terminal(console, level)

    def build(_context: dg.InitLoggerContext) -> logging.Logger:
        logger = logging.Logger("dagster", logging.DEBUG)  # not registered: this run's own
        logger.addHandler(to_file)
        logger.addHandler(terminal)
        return logger

    try:
        yield dg.LoggerDefinition(build, description="the whole log to a file, warnings to "
                                                     "the terminal")
    finally:
        to_file.close()


_INTERRUPTED = "DagsterExecutionInterruptedError"  # how Dagster fails a step on SIGINT


def _error_text(error: Any) -> str:
    """A failed step's error in one line: the user's exception, not Dagster's wrapper, and
    a `dg.Failure` by its description alone."""
    while error.cause is not None and error.cls_name == "DagsterExecutionStepExecutionError":
        error = error.cause
    text = one_line(error.message, limit=None)
    qualified, _, rest = text.partition(": ")
    if error.cls_name and qualified.endswith(error.cls_name) and rest:
        text = rest if error.cls_name == "Failure" else f"{error.cls_name}: {rest}"
    return text


def _failures(result: dg.ExecuteInProcessResult) -> tuple[list[str], bool]:
    """What each failed step or blocking check said, and whether SIGINT stopped the run."""
    errors = [event.event_specific_data.error  # type: ignore[union-attr]
              for event in result.all_events
              if event.is_step_failure and event.event_specific_data is not None]
    failures = [_error_text(error) for error in errors if error.cls_name != _INTERRUPTED]
    failures += [
        f"check {event.asset_check_evaluation_data.check_name} failed"
        for event in result.all_events
        if event.event_type_value == "ASSET_CHECK_EVALUATION"
        and not event.asset_check_evaluation_data.passed
        and event.asset_check_evaluation_data.severity == dg.AssetCheckSeverity.ERROR
    ]
    return failures, any(error.cls_name == _INTERRUPTED for error in errors)


def _reap(instance: dg.DagsterInstance, console: TextIO) -> None:
    if reaped := reap_dead_runs(instance):
        console.write(f"marked {len(reaped)} earlier run(s) failed: their process had died "
                      f"({', '.join(reaped[:3])}{' ...' if len(reaped) > 3 else ''})\n")


_NO_CAPTURE = {"compute_logs": {"module": "dagster._core.storage.noop_compute_log_manager",
                               "class": "NoOpComputeLogManager"}}


def run_job(name: str, run_config: dict[str, Any] | None = None, log_level: str = "WARNING",
            resources: dict[str, dg.ConfigurableResource] | None = None,
            console: TextIO | None = None) -> RunOutcome:
    """Execute job `name` of the code location in this process, with `resources` (default:
    the code location's, from the environment). The run's whole log goes to
    `run_log_path(run_id)`; its records at `log_level` (below errors) to `console`
    (default: standard error)."""
    from pipelines.definitions import build_definitions

    console = console or sys.stderr
    run_id = str(uuid.uuid4())  # as Dagster makes them; known here, so is the log's path
    config = {**(run_config or {}), "loggers": {_LOGGER: {}}}
    started = time.monotonic()
    prune_logs(logs_folder())
    # Without Dagster's capture of the run's standard output and error: it mirrors them
    # back to the terminal through a `tail` and a watcher process, which a terminal's
    # Ctrl-C reaches too (each prints a traceback) and which redraw the progress bar a
    # second late. The run's log file holds every event.
    with (open_instance(overrides=_NO_CAPTURE) as instance,
          _run_log(run_id, console, log_level) as log):
        job = build_definitions(resources).resolve_job_def(name).with_logger_defs({_LOGGER: log})
        _reap(instance, console)
        with _sigterm_kept():
            result = job.execute_in_process(
                run_config=config, instance=instance, raise_on_error=False, run_id=run_id,
                tags={HOST_TAG: socket.gethostname(), PID_TAG: str(os.getpid())})
    done = frozenset(event.step_key for event in result.all_events
                     if event.is_step_success and event.step_key)
    failures, interrupted = _failures(result)
    return RunOutcome(result.success, result.run_id, failures, time.monotonic() - started,
                      run_log_path(run_id), done, interrupted)
