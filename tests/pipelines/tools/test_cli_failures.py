"""A failing `bedrock-jobs` command, as a person sees it: real processes against the
simulator, in a pipe and in a terminal (a pty: the one a person types Ctrl-C into).

The budget: at most 20 lines saying what went wrong, what was kept, what to do next and
where the run's whole log is; never a traceback. The log file holds the traces."""

from __future__ import annotations

import io
import logging
import os
import pty
import re
import select
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from assets import intake
from pipelines.runner import LOGS_KEEP_DAYS, RunOutcome, _Terminal, prune_logs
from pipelines.services.fetch import FetchProgress
from pipelines.simulator import DataConfig, FaultConfig, RateLimitConfig
from pipelines.tools.running import (
    END_LINES,
    MAX_LINES,
    Ran,
    failure_lines,
    run_outputs,
)
from tests.helpers import ROOT, cli_environment, home_ids, read_rows, run_cli

NEVER_SHOWN = ("Traceback", "Stack Trace", "Not executing", "KeyboardInterrupt",
               "DagsterExecutionInterruptedError", "dagster._core")
CLI = [sys.executable, "-m", "pipelines.tools.cli"]


def _in_a_pipe(args: list[str], env: dict[str, str],
               ctrl_c_when=None) -> tuple[int, str]:
    """Run the CLI with stdout and stderr into one pipe, SIGINT at its default (the test
    may run under nohup), in its own session; `ctrl_c_when()` true: SIGINT to the whole
    process group, as a terminal's Ctrl-C."""
    wrapper = ("import signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); "
               "from pipelines.tools.cli import main; sys.exit(main(sys.argv[1:]))")
    child = subprocess.Popen([sys.executable, "-c", wrapper, *args], env=env, cwd=ROOT,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             start_new_session=True)
    if ctrl_c_when is not None:
        _wait_for(ctrl_c_when)
        os.killpg(child.pid, signal.SIGINT)
    out, _ = child.communicate(timeout=300)
    return child.returncode, out.decode()


def _in_a_terminal(args: list[str], env: dict[str, str],
                   ctrl_c_when=None) -> tuple[int, str]:
    """Run the CLI on a pty (stdout and stderr a terminal: the live bar); with
    `ctrl_c_when`, type Ctrl-C into it once that is true. Returns the exit code and the
    text the terminal received ("\\r\\n" made "\\n")."""
    pid, fd = pty.fork()
    if pid == 0:  # the child: a session on the pty, SIGINT at its default
        try:
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            os.chdir(ROOT)
            os.execve(sys.executable, [*CLI, *args], env)
        finally:
            os._exit(127)
    received = bytearray()
    typed = ctrl_c_when is None
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if not typed and ctrl_c_when():
            os.write(fd, b"\x03")
            typed = True
        if select.select([fd], [], [], 0.2)[0]:
            try:
                chunk = os.read(fd, 65536)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            received += chunk
    else:  # still running at the deadline: end it, and fail below on its exit code
        os.kill(pid, signal.SIGKILL)
    os.close(fd)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), received.decode().replace("\r\n", "\n")


RUNNERS = {"pipe": _in_a_pipe, "terminal": _in_a_terminal}


def _wait_for(condition, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def _lines(text: str) -> list[str]:
    """The lines a person reads: a bar redrawn in place is one line, as last drawn."""
    shown = (line.split("\r")[-1].replace("\x1b[K", "") for line in text.split("\n"))
    return [line for line in shown if line.strip()]


def _assert_few_clear_lines(text: str, *causes: str) -> Path:
    """At most MAX_LINES, no trace, each cause named; returns the log file they name."""
    lines = _lines(text)
    assert len(lines) <= MAX_LINES, text
    for never in NEVER_SHOWN:
        assert never not in text, text
    for cause in causes:
        assert cause in text, text
    assert any(line.startswith("kept: ") for line in lines), text
    assert any(line.startswith("next: ") for line in lines), text
    log = Path(re.search(r"full log: (\S+\.log)", text).group(1))
    assert log.is_file() and log.parent.name == "bedrock-logs", log
    return log


def _ids_file(tmp_path: Path, ids: list[str]) -> Path:
    path = tmp_path / "ids.txt"
    path.write_text("\n".join(ids) + "\n")
    return path


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # nothing listens there once the probe is closed


@pytest.mark.parametrize("where", RUNNERS)
def test_a_refused_key_ends_in_a_few_lines_and_the_log_holds_the_trace(
        make_simulator, tmp_path, where):
    sim = make_simulator(DataConfig(jobs=600), rate_limit=RateLimitConfig(enabled=False))
    key = "sk_revoked_key_for_test"
    env = cli_environment(sim, tmp_path / "run", key)
    ids = _ids_file(tmp_path, home_ids(sim)[:300])
    code, text = RUNNERS[where](["ingest", "--ids", str(ids)], env)
    assert code == 1, text
    log = _assert_few_clear_lines(text, "BEDROCK_API_KEY", "401")
    assert "every requested ID is registered in ops.job_ledger" in text
    assert f"bedrock-jobs ingest --ids {ids}" in text  # what to run again
    # What the terminal was spared is in the log: the trace and the steps not run.
    logged = log.read_text()
    assert "Stack Trace" in logged and "Not executing" in logged and "401" in logged
    assert key not in text and key not in logged


@pytest.mark.parametrize("where", RUNNERS)
def test_a_closed_port_ends_in_a_few_lines_naming_the_setting(make_simulator, tmp_path,
                                                              where):
    sim = make_simulator(DataConfig(jobs=100))
    env = cli_environment(sim, tmp_path / "run")
    env["BEDROCK_API_URL"] = f"http://127.0.0.1:{_closed_port()}"
    ids = _ids_file(tmp_path, home_ids(sim)[:3])
    code, text = RUNNERS[where](["ingest", "--ids", str(ids)], env)
    assert code == 1, text
    log = _assert_few_clear_lines(text, "BEDROCK_API_URL", "no answer")
    assert "Stack Trace" in log.read_text()
    [(failed,)] = read_rows(tmp_path / "run" / "wh.duckdb",
                            "SELECT count(*) FROM ops.job_ledger WHERE outcome = 'failed'")
    assert failed == 3  # kept, for the next run to fetch again


@pytest.mark.parametrize("where", RUNNERS)
def test_ctrl_c_prints_one_line_with_the_batches_kept_and_the_same_command_resumes(
        make_simulator, tmp_path, where):
    # ~20 IDs a second: the fetch of 300 takes ~15 s; batches land every 5 s.
    sim = make_simulator(DataConfig(jobs=600), faults=FaultConfig(latency_ms=400),
                         rate_limit=RateLimitConfig(enabled=False))
    env = cli_environment(sim, tmp_path / "run")
    ids = home_ids(sim)[:300]
    args = ["ingest", "--ids", str(_ids_file(tmp_path, ids))]
    fetching_since: list[float] = []

    def one_batch_written() -> bool:  # the fetch has run past its first 5 s flush
        if not fetching_since and sim.stats_snapshot()["fetches"]:
            fetching_since.append(time.monotonic())
        return bool(fetching_since) and time.monotonic() - fetching_since[0] > 7.5

    code, text = RUNNERS[where](args, env, ctrl_c_when=one_batch_written)
    assert code == 130, text
    for never in NEVER_SHOWN:
        assert never not in text, text
    # Besides the line before the run and the progress, one line: Ctrl-C's.
    said = [line for line in _lines(text)
            if not line.startswith(("registered ", "[", "fetched ", "^C"))]
    assert len(said) == 1 and said[0].startswith("interrupted: "), text
    batches = int(re.search(r"interrupted: (\d+) batch", said[0]).group(1))
    assert batches >= 1 and f"`bedrock-jobs ingest --ids {args[2]}` resumes" in said[0]

    wh = tmp_path / "run" / "wh.duckdb"
    kept = {job_id for (job_id,) in read_rows(
        wh, "SELECT job_id FROM ops.job_ledger WHERE outcome = 'loaded' AND is_terminal")}
    assert 0 < len(kept) < len(ids)  # written before the interrupt, the rest not yet
    before = sim.stats_snapshot()["fetches"]
    rerun = _in_a_pipe(args, env)
    assert rerun[0] == 0, rerun[1]
    after = sim.stats_snapshot()["fetches"]
    assert all(after[job_id] == before[job_id] for job_id in kept)  # not fetched again
    assert all(after.get(job_id, 0) >= 1 for job_id in ids)


def test_a_reader_that_stops_early_ends_the_command_quietly(tmp_path):
    warehouse = tmp_path / "w.duckdb"
    duckdb.connect(str(warehouse)).close()
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path / "home")}
    # `bedrock-jobs sql ... | head -c 100`: the reader closes the pipe after 100 bytes.
    child = subprocess.Popen([*CLI, "sql", "SELECT * FROM range(2000000)", "--format", "csv",
                              "--warehouse", str(warehouse), "--live"], cwd=ROOT, env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert len(child.stdout.read(100)) == 100
    child.stdout.close()
    errors = child.stderr.read().decode()
    assert child.wait(timeout=120) == 141  # as a filter stopped by SIGPIPE
    assert errors == ""


def test_an_unexpected_error_is_one_line_naming_the_file_with_its_traceback(tmp_path):
    (tmp_path / "not-duckdb.duckdb").write_text("these are not the bytes of a database\n")
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path / "home")}
    args = ["sql", "SELECT 1", "--warehouse", str(tmp_path / "not-duckdb.duckdb"), "--live"]
    done = subprocess.run([*CLI, *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 1 and done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 2 and lines[0].startswith("error: unexpected IOException: ")
    assert "Traceback" not in done.stderr
    log = Path(re.search(r"its traceback is in (\S+\.log)", lines[1]).group(1))
    assert log.parent == tmp_path / "home" / "bedrock-logs"
    assert log.read_text().startswith("Traceback") and "IOException" in log.read_text()
    shown = subprocess.run([*CLI, "--debug", *args], cwd=ROOT, env=env,
                           capture_output=True, text=True, timeout=120)
    assert shown.returncode == 1 and "Traceback" in shown.stderr


def test_many_or_long_errors_still_end_in_a_few_short_lines(tmp_path):
    outcome = RunOutcome(False, "run-1", ["x" * 5000, "second", "third", "fourth", "fifth"],
                         1.0, tmp_path / "run-1.log", frozenset({intake.STEP}))
    lines = failure_lines(Ran(outcome, batches=2), "ingest", "bedrock-jobs ingest --ids f")
    assert lines[:3] == ["error: " + "x" * 192 + "…", "error: second",
                         "error: and 3 more, in the run's log"]
    assert lines[3] == ("kept: every requested ID is registered in ops.job_ledger; 2 batches "
                        "of results written by this run are kept")
    assert lines[4].startswith("next: ") and lines[5].endswith(f"full log: {tmp_path}/run-1.log")
    assert len(lines) == 6 == END_LINES


def test_a_failed_run_prints_at_most_20_lines_however_much_it_has_to_say(tmp_path):
    """The whole output of a failed `ingest` in a pipe, from the parts that print it: the
    command's own line, the line about dead runs, 50 long warnings, a progress line at
    every report, 10 long errors."""
    out, err = io.StringIO(), io.StringIO()
    view, console = run_outputs(out, err, first_after=0.0)  # progress: every report a line
    out.write(f"registered - as {tmp_path}/inbox/.cli-x-stdin; running ingest\n")
    console.write("marked 3 earlier run(s) failed: their process had died (a, b, c ...)\n")
    terminal = _Terminal(console, "WARNING")
    for n in range(50):
        terminal.emit(logging.LogRecord("dagster", logging.WARNING, __file__, 1,
                                        f"warning {n}: " + "why " * 300, None, None))
    progress = FetchProgress(total=1000)
    for done in range(0, 1000, 20):
        progress.done = done
        view(progress)
    failures = [f"step {n} failed: " + "because\n" * 300 for n in range(10)]
    outcome = RunOutcome(False, "run-1", failures, 9.0, tmp_path / "run-1.log")
    err.write("\n".join(failure_lines(Ran(outcome, 4), "ingest", "bedrock-jobs ingest "
                                       f"--ids {tmp_path}/inbox/.cli-x-stdin")) + "\n")
    lines = (out.getvalue() + err.getvalue()).splitlines()
    assert len(lines) <= MAX_LINES, "\n".join(lines)
    assert all(len(line) <= 200 for line in lines if line.startswith(("warning", "error"))), \
        "\n".join(lines)
    assert all(len(line) <= 250 for line in lines), "\n".join(lines)  # paths: the rest
    assert sum(line.startswith("warning: ") for line in lines) >= 1  # some show, not all
    assert sum(line.startswith("fetched") or "/1000" in line for line in lines) >= 1
    assert lines[-1].endswith("run-1.log") and "more lines in the run's log" in lines


def test_ids_from_stdin_that_failed_before_being_read_name_the_staged_file_to_rerun(
        make_simulator, tmp_path):
    sim = make_simulator(DataConfig(jobs=50))
    env = cli_environment(sim, tmp_path / "run")
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "wh.duckdb").write_text("not a database: the run fails at once\n")
    done = run_cli("ingest", "--ids", "-", env=env, stdin="\n".join(home_ids(sim)[:3]) + "\n")
    assert done.returncode == 1, done.stdout + done.stderr
    [staged] = (tmp_path / "run" / "inbox").glob(".cli-*")
    assert f"next: fix what the error says, then run `bedrock-jobs ingest --ids {staged}` " \
           "again" in done.stderr, done.stderr
    assert "--ids -" not in done.stderr
    # Given back, the staged file is read where it is, not copied to another one.
    (tmp_path / "run" / "wh.duckdb").unlink()
    stale = tmp_path / "run" / "dagster_home" / "bedrock-logs" / "stale.log"
    stale.write_text("a run's log from long ago\n")
    os.utime(stale, (time.time() - 40 * 86400,) * 2)
    again = run_cli("ingest", "--ids", str(staged), env=env)
    assert again.returncode == 0, again.stdout + again.stderr
    assert not stale.exists()  # each run deletes the logs past LOGS_KEEP_DAYS
    assert not list((tmp_path / "run" / "inbox").glob(".cli-*"))
    [(loaded,)] = read_rows(tmp_path / "run" / "wh.duckdb",
                            "SELECT count(*) FROM ops.job_ledger WHERE outcome = 'loaded'")
    assert loaded == 3


def test_an_unexpected_error_without_a_dagster_home_makes_none(tmp_path):
    (tmp_path / "not-duckdb.duckdb").write_text("these are not the bytes of a database\n")
    env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"}
    env.update(TMPDIR=str(tmp_path / "tmp"), PYTHONPATH=str(ROOT))
    (tmp_path / "tmp").mkdir()
    here = tmp_path / "elsewhere"
    here.mkdir()
    done = subprocess.run([*CLI, "sql", "SELECT 1", "--warehouse",
                           str(tmp_path / "not-duckdb.duckdb"), "--live"], cwd=here, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 1, done.stderr
    log = Path(re.search(r"its traceback is in (\S+\.log)", done.stderr).group(1))
    assert log.parent == tmp_path / "tmp" and "IOException" in log.read_text()
    assert list(here.iterdir()) == []  # no .dagster_home/dagster.yaml made here


def test_run_logs_older_than_30_days_are_deleted_at_a_runs_start(tmp_path):
    folder = tmp_path / "bedrock-logs"
    folder.mkdir()
    old, recent = folder / "old.log", folder / "recent.log"
    for path, days in ((old, 31), (recent, 29)):
        path.write_text("a run's log\n")
        stamp = time.time() - days * 86400
        os.utime(path, (stamp, stamp))
    prune_logs(folder)
    assert not old.exists() and recent.exists()
    assert LOGS_KEEP_DAYS == 30
