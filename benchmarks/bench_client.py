"""Bedrock client: does it spend the rate-limit allowance, and does it saturate its pool?

Side by side, in one run against the bundled simulator on loopback:

(a) rate limit on (a scaled window: 100 requests per 5 s, over a few windows):
    the sustained rate over the complete windows against the allowance the
    client learned from the headers, and the 429s the simulator served;
(b) rate limit off, 50 ms injected latency, 32 workers: jobs/s against the
    bound workers / latency (goal >= 90%), and against a naive sequential
    `requests.get` loop measured in the same run. A bare 32-thread
    `requests.Session` loop (no pacing, retries, parsing) is measured too, to
    tell the client's own overhead apart from what this machine allows.

The simulator runs in a child process (same `Simulator`, same configs): in
this process it would share the GIL with the client's 32 threads, and the
figure would measure the two of them together, not the client.

Run: `.venv/bin/python benchmarks/bench_client.py` (about a minute).
`main()` returns the figures as a dict for `benchmarks/run_all.py`.
"""

from __future__ import annotations

import multiprocessing
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests

if __package__ in (None, ""):  # run as a script: make `pipelines` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from requests.adapters import HTTPAdapter  # noqa: E402

from pipelines.bedrock import BedrockClient, ClientConfig  # noqa: E402
from pipelines.simulator import (  # noqa: E402
    Clock,
    DataConfig,
    FaultConfig,
    JobStore,
    RateLimitConfig,
    Simulator,
    fetch_stats,
    prefer_low_latency,
)

DATA = DataConfig(jobs=4000, seed=7)
PACED_LIMIT, PACED_WINDOW, PACED_WINDOWS = 100, 5.0, 4
WORKERS, LATENCY_MS = 32, 50.0
POOL_JOBS, NAIVE_JOBS, BARE_JOBS = 5000, 60, 3000
GOAL_ALLOWANCE, GOAL_BOUND = 0.97, 0.90


def _serve(conn: Any, rate_limit: RateLimitConfig, faults: FaultConfig) -> None:
    prefer_low_latency()  # the child only serves
    with Simulator(DATA, rate_limit=rate_limit, faults=faults,
                   clock=Clock.fixed(DATA.epoch)) as sim:
        conn.send((sim.base_url, sim.api_keys[0]))
        conn.recv()  # until told to stop


@contextmanager
def _simulator(rate_limit: RateLimitConfig, faults: FaultConfig) -> Iterator[tuple[str, str]]:
    """A simulator in a child process: yields (base_url, api_key)."""
    context = multiprocessing.get_context("fork")
    parent, child = context.Pipe()
    process = context.Process(target=_serve, args=(child, rate_limit, faults), daemon=True)
    process.start()
    try:
        yield parent.recv()
    finally:
        parent.send("stop")
        process.join(timeout=10)


def _client(base_url: str, api_key: str, **overrides: Any) -> BedrockClient:
    return BedrockClient(ClientConfig(base_url=base_url, api_key=api_key, **overrides))


def bench_paced(ids: list[str]) -> dict[str, Any]:
    """(a) Achieved rate against the learned allowance, and 429s, under a fixed-window limit."""
    limit = RateLimitConfig(limit=PACED_LIMIT, window_seconds=PACED_WINDOW)
    # Enough IDs for the partial first window plus PACED_WINDOWS full ones.
    wanted = ids[: PACED_LIMIT * (PACED_WINDOWS + 1) + PACED_LIMIT // 2]
    with _simulator(limit, FaultConfig()) as (base_url, api_key):
        client = _client(base_url, api_key, workers=8)
        stream = client.fetch_jobs(wanted)
        count = sum(1 for _ in stream)
        stats = stream.stats
        served = fetch_stats(base_url)
        client.close()
    assert count == len(wanted)
    allowance = PACED_LIMIT / PACED_WINDOW
    return {
        "paced_requests": stats.requests,
        "paced_seconds": round(stats.elapsed_seconds, 1),
        "paced_windows_measured": max(0, len(stats.requests_by_window) - 2),
        "paced_allowance_per_s": allowance,
        "paced_learned_allowance_per_s": stats.allowance_rate,
        "paced_sustained_per_s": round(stats.sustained_rate or 0.0, 2),
        "paced_overall_per_s": round(stats.achieved_rate, 2),
        "ratio_paced_to_allowance": round((stats.sustained_rate or 0.0) / allowance, 3),
        "paced_429_served": served["responses"].get("429", 0),
        "paced_latency_p50_ms": round((stats.latency_p50_seconds or 0) * 1000, 1),
    }


def _bare_threads(base_url: str, headers: dict[str, str], ids: list[str]) -> float:
    """Jobs/s of WORKERS threads sharing one keep-alive Session: no pacing, retries, parsing."""
    session = requests.Session()
    session.trust_env = False
    session.mount("http://", HTTPAdapter(pool_maxsize=WORKERS + 2))
    todo = iter(ids)
    lock = threading.Lock()

    def work() -> None:
        while True:
            with lock:
                job_id = next(todo, None)
            if job_id is None:
                return
            session.get(f"{base_url}/jobs/{job_id}", headers=headers, timeout=10).json()

    threads = [threading.Thread(target=work) for _ in range(WORKERS)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    session.close()
    return len(ids) / elapsed


def bench_pool(ids: list[str]) -> dict[str, Any]:
    """(b) Jobs/s with 32 workers at 50 ms latency, against workers/latency and a naive loop."""
    faults = FaultConfig(latency_ms=LATENCY_MS)
    no_limit = RateLimitConfig(enabled=False)
    with _simulator(no_limit, faults) as (base_url, api_key):
        # Naive baseline: one `requests.get` after another, a new connection each time.
        headers = {"Authorization": f"Bearer {api_key}", "X-API-Version": "2026-01-01"}
        started = time.perf_counter()
        for job_id in ids[:NAIVE_JOBS]:
            requests.get(f"{base_url}/jobs/{job_id}", headers=headers, timeout=10)
        naive = NAIVE_JOBS / (time.perf_counter() - started)

        wanted = (ids * (POOL_JOBS // len(ids) + 1))[:POOL_JOBS]
        bare = _bare_threads(base_url, headers, wanted[:BARE_JOBS])
        client = _client(base_url, api_key, workers=WORKERS)
        stream = client.fetch_jobs(wanted)
        count = sum(1 for _ in stream)
        stats = stream.stats
        client.close()
    assert count == len(wanted)
    bound = WORKERS / (LATENCY_MS / 1000.0)
    jobs_per_s = count / stats.elapsed_seconds
    return {
        "pool_jobs": count,
        "pool_seconds": round(stats.elapsed_seconds, 2),
        "pool_jobs_per_s": round(jobs_per_s, 1),
        "pool_bound_per_s": round(bound, 1),
        "ratio_pool_to_bound": round(jobs_per_s / bound, 3),
        "naive_jobs_per_s": round(naive, 1),
        "ratio_pool_to_naive": round(jobs_per_s / naive, 1),
        "bare_threads_jobs_per_s": round(bare, 1),
        "ratio_bare_threads_to_bound": round(bare / bound, 3),
        "ratio_pool_to_bare_threads": round(jobs_per_s / bare, 3),
        "pool_latency_p50_ms": round((stats.latency_p50_seconds or 0) * 1000, 1),
        "pool_latency_p95_ms": round((stats.latency_p95_seconds or 0) * 1000, 1),
        "pool_429s": stats.rate_limited,
    }


def main() -> dict[str, Any]:
    store_ids = list(JobStore(DATA).by_id)  # same config → the simulators' IDs
    figures: dict[str, Any] = {}
    figures.update(bench_paced(store_ids))
    figures.update(bench_pool(store_ids))
    figures["allowance_met"] = figures["ratio_paced_to_allowance"] >= GOAL_ALLOWANCE
    figures["pool_bound_met"] = figures["ratio_pool_to_bound"] >= GOAL_BOUND
    f = figures
    print(f"(a) rate limit on, {PACED_LIMIT} per {PACED_WINDOW:g} s, 8 workers, "
          f"{f['paced_requests']} requests in {f['paced_seconds']} s:")
    print(f"    sustained {f['paced_sustained_per_s']}/s over {f['paced_windows_measured']} "
          f"full windows vs allowance {f['paced_allowance_per_s']}/s "
          f"(learned {f['paced_learned_allowance_per_s']}/s): "
          f"ratio {f['ratio_paced_to_allowance']} (goal >= {GOAL_ALLOWANCE})")
    print(f"    429s served: {f['paced_429_served']} (baseline 0); overall incl. partial "
          f"windows {f['paced_overall_per_s']}/s")
    print(f"(b) rate limit off, {LATENCY_MS:g} ms latency, {WORKERS} workers, "
          f"{f['pool_jobs']} jobs in {f['pool_seconds']} s:")
    print(f"    {f['pool_jobs_per_s']} jobs/s vs bound workers/latency {f['pool_bound_per_s']}/s: "
          f"ratio {f['ratio_pool_to_bound']} (goal >= {GOAL_BOUND})")
    print(f"    vs naive sequential requests.get {f['naive_jobs_per_s']} jobs/s: "
          f"ratio {f['ratio_pool_to_naive']}x; latency p50 {f['pool_latency_p50_ms']} ms, "
          f"p95 {f['pool_latency_p95_ms']} ms")
    print(f"    vs a bare {WORKERS}-thread requests.Session loop {f['bare_threads_jobs_per_s']} "
          f"jobs/s (itself {f['ratio_bare_threads_to_bound']} of the bound): ratio "
          f"{f['ratio_pool_to_bare_threads']}")
    return figures


if __name__ == "__main__":
    main()
