"""Another process can query the warehouse every 100 ms through a whole run: no failed
query, and never a half-written batch (transitions = events - 1 for every job)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import warehouse
from pipelines.simulator import DataConfig, FaultConfig, RateLimitConfig

PROBE = Path(__file__).with_name("reader_probe.py")


@pytest.mark.slow
def test_reader_polls_through_a_demo_sized_run(make_simulator, workspace, run_pipeline,
                                               tmp_path):
    sim = make_simulator(DataConfig(jobs=3000), faults=FaultConfig(latency_ms=5),
                         rate_limit=RateLimitConfig(enabled=False))
    wh, inbox = workspace("shared")
    with warehouse.connect(wh):
        pass  # the file exists before the reader starts
    stop = tmp_path / "stop"
    reader = subprocess.Popen([sys.executable, str(PROBE), str(wh), str(stop)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        result = run_pipeline(sim, wh, inbox)
    finally:
        stop.touch()
        out, err = reader.communicate(timeout=120)
    assert result.success
    report = json.loads(out.strip().splitlines()[-1])
    print("reader during the run:", report)
    assert report["failed"] == 0, report["failures"]
    assert report["torn_jobs"] == 0 and report["missing_jobs"] == 0
    assert report["queries"] >= 20  # it really read throughout
    assert report["last_jobs"] > 0
