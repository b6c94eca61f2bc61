"""The scale benchmark's memory figure is the ingest process's own peak, not its parent's."""

from __future__ import annotations

import json
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import ROOT

HELD_MB = 400

# The child reads its peak the way bench_scale's ingest child does, and its ru_maxrss.
CHILD = f"""
import json, resource, sys
sys.path.insert(0, {str(ROOT / "benchmarks")!r})
import bench_scale
print(json.dumps([bench_scale.own_peak_rss_mb(),
                  resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024]))
"""


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux /proc")
def test_the_child_peak_leaves_out_what_the_spawning_process_held():
    # Like the benchmark, which holds the simulator's jobs when it starts the ingest.
    held = bytearray(HELD_MB * 1024 * 1024)
    held[::4096] = b"\x01" * len(held[::4096])  # touch every page: resident, not just mapped
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 >= HELD_MB
    out = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True,
                         check=True, cwd=ROOT)
    del held
    own, ru_maxrss = json.loads(out.stdout)
    if ru_maxrss < HELD_MB:
        pytest.skip("this kernel does not carry the parent's RSS into a child's ru_maxrss")
    # ru_maxrss says the child held what its parent did; its own peak (a Python that
    # imported the benchmark) is far below that.
    assert own < HELD_MB / 2, (own, ru_maxrss)
