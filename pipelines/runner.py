"""Running the pipeline's jobs in-process, on the shared Dagster instance.

Used by `bedrock-jobs ingest` and `make demo`: the same Dagster jobs the UI
and the schedules run, executed in this process (so progress shows in the
terminal) and recorded on the instance under `DAGSTER_HOME` (so the run shows
in the UI's history).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagster as dg

from pipelines.instance import open_instance

HOST_TAG = "bedrock/host"
PID_TAG = "bedrock/pid"


@dataclass(frozen=True)
class RunOutcome:
    success: bool
    run_id: str
    failures: list[str]  # what each failed step or check said
    seconds: float


def stage_id_file(source: str, inbox: Path) -> str:
    """Copy an ID file (or standard input, `-`) into the inbox; returns its name there.

    The file then takes the same path as one dropped in the inbox: read once,
    every line accounted for, moved aside afterwards. Its name starts with a dot,
    so a running inbox sensor leaves it to this command's own run, and is made
    unique by `tempfile.mkstemp`: two commands staging in the same second never
    share (and overwrite) one file.
    """
    import tempfile

    from pipelines.services.id_files import STAGED_PREFIX

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


def run_job(name: str, run_config: dict[str, Any] | None = None, log_level: str = "INFO",
            resources: dict[str, dg.ConfigurableResource] | None = None) -> RunOutcome:
    """Execute job `name` of the code location in this process, with `resources` (default:
    the code location's, from the environment)."""
    from pipelines.definitions import build_definitions

    job = build_definitions(resources).resolve_job_def(name)
    config = dict(run_config or {})
    config.setdefault("loggers", {"console": {"config": {"log_level": log_level}}})
    started = time.monotonic()
    with open_instance() as instance:
        for run_id in reap_dead_runs(instance):
            print(f"marked run {run_id} failed: its process had died", file=sys.stderr)
        with _sigterm_kept():
            result = job.execute_in_process(
                run_config=config, instance=instance, raise_on_error=False,
                tags={HOST_TAG: socket.gethostname(), PID_TAG: str(os.getpid())})
    failures = [
        event.event_specific_data.error.message.strip()  # type: ignore[union-attr]
        for event in result.all_events
        if event.is_step_failure and event.event_specific_data is not None
    ]
    failures += [
        f"check {event.asset_check_evaluation_data.check_name} failed"
        for event in result.all_events
        if event.event_type_value == "ASSET_CHECK_EVALUATION"
        and not event.asset_check_evaluation_data.passed
        and event.asset_check_evaluation_data.severity == dg.AssetCheckSeverity.ERROR
    ]
    return RunOutcome(result.success, result.run_id, failures, time.monotonic() - started)
