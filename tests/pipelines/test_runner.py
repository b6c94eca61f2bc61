"""Running a job in-process (what `bedrock-jobs ingest` and `make demo` do) leaves the
process stoppable: under `nohup` or `cmd &` (SIGINT ignored) SIGTERM still ends it."""

from __future__ import annotations

import subprocess
import sys
import textwrap

PROBE = textwrap.dedent("""
    import signal, sys
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # as `nohup` and `cmd &` start a process
    # SIGTERM as a shell leaves it, whatever this test process inherited (an in-process
    # Dagster run earlier in a suite started under `nohup` may have left it ignored).
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    from pipelines.resources import build_resources
    from pipelines.runner import run_job

    outcome = run_job("refresh_marts", resources=build_resources(
        api_url="http://127.0.0.1:9", api_key="sk_unused", warehouse_path=sys.argv[1],
        inbox_path=sys.argv[2]), log_level="ERROR")
    print(outcome.success, signal.getsignal(signal.SIGTERM) == signal.SIG_DFL)
""")


def test_sigterm_still_ends_the_process_after_a_run_with_sigint_ignored(tmp_path) -> None:
    env = {"DAGSTER_HOME": str(tmp_path / "home"), "PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        [sys.executable, "-c", PROBE, str(tmp_path / "w.duckdb"), str(tmp_path / "inbox")],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split()[-2:] == ["True", "True"], result.stdout
