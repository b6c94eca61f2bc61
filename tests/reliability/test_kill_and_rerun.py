"""SIGKILL an ingest at random moments, rerun it: the warehouse opens, the rerun completes,
and the tables equal a clean run's — nothing lost, nothing duplicated."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time

import pytest

from pipelines.simulator import DataConfig, FaultConfig, RateLimitConfig
from tests.helpers import cli_environment, table_hashes

KILLS = 10  # trials that really killed a run in progress
MAX_TRIALS = 16


def _ingest(env, ids_file):
    # Its own session, so the kill takes the whole run (Dagster's log-capture children too).
    return subprocess.Popen([sys.executable, "-m", "pipelines.tools.cli", "ingest", "--ids",
                             str(ids_file), "--discover"], start_new_session=True,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


@pytest.mark.slow
@pytest.mark.timeout(1500)
def test_kill_9_at_random_moments_then_rerun_equals_a_clean_run(make_simulator, tmp_path):
    # Latency stretches the fetch over several seconds, so kills land in every phase:
    # start-up, intake, mid-batch writes, core and marts.
    sim = make_simulator(DataConfig(jobs=500, seed=33), faults=FaultConfig(latency_ms=8),
                         rate_limit=RateLimitConfig(enabled=False))
    ids_file = tmp_path / "ids.txt"
    ids_file.write_text("job_not_there_1\nbad id\n")

    clean_root = tmp_path / "clean"
    clean = _ingest(cli_environment(sim, clean_root), ids_file)
    started = time.monotonic()
    out, _ = clean.communicate(timeout=300)
    clean_seconds = time.monotonic() - started
    assert clean.returncode == 0, out
    expected = table_hashes(clean_root / "wh.duckdb")

    rng = random.Random(20261129)
    killed_at = []
    for trial in range(MAX_TRIALS):
        if len(killed_at) >= KILLS:
            break
        root = tmp_path / f"trial{trial}"
        env = cli_environment(sim, root)
        victim = _ingest(env, ids_file)
        moment = rng.uniform(0.1, 0.8) * clean_seconds
        try:
            victim.communicate(timeout=moment)
        except subprocess.TimeoutExpired:
            os.killpg(victim.pid, signal.SIGKILL)
            victim.communicate(timeout=30)
            killed_at.append(round(moment, 1))
        rerun = _ingest(env, ids_file)
        out, _ = rerun.communicate(timeout=300)
        assert rerun.returncode == 0, f"trial {trial} (killed at {moment:.1f}s):\n{out}"
        assert table_hashes(root / "wh.duckdb") == expected, f"trial {trial} at {moment:.1f}s"
    assert len(killed_at) >= KILLS, killed_at
