"""Another process can query the warehouse every 100 ms through a whole run: no failed
query, and never a half-written batch (transitions = events - 1 for every job); a plain
client of the published copy does so with no retry at all."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

import warehouse
from pipelines.simulator import DataConfig, FaultConfig, RateLimitConfig
from tests.helpers import ROOT, read_rows, run_pipeline, table_hashes
from warehouse.publish import read_copy_path

PROBE = ROOT / "tests" / "reliability" / "reader_probe.py"


@pytest.mark.slow
def test_reader_polls_through_a_demo_sized_run(make_simulator, workspace, tmp_path):
    sim = make_simulator(DataConfig(jobs=3000), faults=FaultConfig(latency_ms=5),
                         rate_limit=RateLimitConfig(enabled=False))
    wh, inbox = workspace("shared")
    with warehouse.connect(wh):
        pass  # the file exists before the reader starts
    result, report = _read_through(tmp_path, wh, "live", lambda: run_pipeline(sim, wh, inbox))
    assert result.success
    print("reader during the run:", report)
    assert report["failed"] == 0, report["failures"]
    assert report["torn_jobs"] == 0 and report["missing_jobs"] == 0
    assert report["queries"] >= 20  # it really read throughout
    assert report["last_jobs"] > 0


@pytest.mark.slow
def test_a_plain_client_reads_the_published_copy_through_a_run_without_one_failure(
        make_simulator, workspace, tmp_path):
    """What the DuckDB CLI, a notebook or a BI tool does (no retry on a lock), every
    100 ms through a multi-batch run that publishes several times while it fetches."""
    sim = make_simulator(DataConfig(jobs=3000), faults=FaultConfig(latency_ms=5),
                         rate_limit=RateLimitConfig(enabled=False))
    wh, inbox = workspace("published")
    result, report = _read_through(tmp_path, wh, "published", lambda: run_pipeline(
        sim, wh, inbox, publish_every_seconds=0.5,
        fetch={"batch_size": 250, "flush_seconds": 0.5}))
    assert result.success
    print("plain reader of the published copy during the run:", report)
    assert report["failed"] == 0, report["failures"]
    assert report["torn_jobs"] == 0 and report["missing_jobs"] == 0
    assert report["marts_behind_at_run_end"] == 0
    assert not report["went_back"]
    assert report["publications_seen"] >= 3  # copies during the fetch, then the run's end
    assert report["queries"] >= 20
    # The last copy is the run's whole result: the same rows as the working file.
    assert table_hashes(read_copy_path(wh)) == table_hashes(wh)
    assert report["last_jobs"] == _jobs(wh)


def _read_through(tmp_path: Path, wh: Path, mode: str, run):
    """(run's result, the probe's report): the probe reads in `mode` while `run()` runs."""
    stop = tmp_path / "stop"
    reader = subprocess.Popen([sys.executable, str(PROBE), str(wh), str(stop), mode],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        result = run()
        time.sleep(0.5)  # the reader's view of the final state
    finally:
        stop.touch()
        out, _ = reader.communicate(timeout=120)
    return result, json.loads(out.strip().splitlines()[-1])


def _jobs(path: Path) -> int:
    return read_rows(path, "SELECT count(*) FROM core.jobs")[0][0]
