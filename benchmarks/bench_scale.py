"""Benchmark: scale -- memory bounded in the number of IDs, reruns that cost what changed.

Every figure comes from the real pipeline (the code location's Dagster jobs, run in a
child process on a Dagster instance in a temp folder) against the bundled simulator
(rate limit off, no latency, clock fixed at the data's epoch) in this process:

- memory: `ingest` of an ID file of SMALL then LARGE IDs (100,000 and 1,000,000;
  `--quick`: 20,000 and 200,000), each into a fresh warehouse. The figure is the
  ingest process's own peak RSS (VmHWM, read by the child as it ends), so the
  simulator holding the jobs is not counted. Not the child's ru_maxrss: at exec Linux
  keeps the old memory image's peak in the process's ru_maxrss, and with fork or vfork
  that image is this process's, simulator and all (~1.5 GB at 1,000,000 jobs), so
  ru_maxrss says at least this process's RSS at the spawn whatever the ingest does. It
  is printed beside, with this process's RSS at the spawn. Goal: peak(LARGE) < 2 x
  peak(SMALL) and peak(LARGE) < 1.5 GB.
- rerun: a full `ingest` of RERUN jobs found by discovery (the scheduled path), then,
  after the clock moved 10 minutes, one `refresh_in_flight` run with the schedule's
  config. Goal: its `GET /jobs/{id}` calls == the jobs the first run left in flight,
  exactly (~1% of the jobs, `in_flight_share` tuned for it), plus the discovery page(s)
  that ask for jobs created since the watermark. Then `rebuild_from_raw`: zero calls.
  Calls and wall time of each run are printed beside the first run's.

    .venv/bin/python benchmarks/bench_scale.py [--quick] [--workers N]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipelines.simulator import (  # noqa: E402
    DEMO_API_KEY,
    Clock,
    DataConfig,
    RateLimitConfig,
    Simulator,
)

SIZES = (100_000, 1_000_000)
QUICK_SIZES = (20_000, 200_000)
RERUN_JOBS = 100_000
QUICK_RERUN_JOBS = 20_000
RERUN_IN_FLIGHT_SHARE = 0.025  # of root trees in flight: ~1% of jobs left non-terminal
WORKERS = 16
BATCH_SIZE = 5_000
GOAL_MEMORY_RATIO = 2.0
GOAL_PEAK_MB = 1536.0
MB = 1024 * 1024


# -- the child: one Dagster job of the code location, in its own process ---------------


def _proc_status_mb(field: str) -> float | None:
    """A memory field of /proc/self/status (e.g. VmHWM, VmRSS) in MB; None off Linux."""
    status = Path("/proc/self/status")
    if not status.exists():
        return None
    for line in status.read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return None


def own_peak_rss_mb() -> float:
    """This process's peak RSS since its exec (VmHWM), in MB; see the module docstring
    for why not ru_maxrss (the fallback off Linux)."""
    peak = _proc_status_mb("VmHWM")
    return peak if peak is not None else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rss_mb() -> float:
    """This process's RSS now (VmRSS), in MB; 0 where /proc is not there."""
    return _proc_status_mb("VmRSS") or 0.0


def child(job_name: str, run_config: dict[str, Any], workers: int) -> int:
    """Run `job_name` like `bedrock-jobs ingest` does, then print its figures as JSON."""
    import dagster as dg

    from pipelines.definitions import build_definitions
    from pipelines.instance import ensure_dagster_home
    from pipelines.resources import BedrockApiResource, build_resources

    ensure_dagster_home()
    resources = build_resources()
    resources["bedrock"] = BedrockApiResource(
        base_url=os.environ["BEDROCK_API_URL"], api_key=os.environ["BEDROCK_API_KEY"],
        workers=workers)
    job = build_definitions(resources).resolve_job_def(job_name)
    started = time.monotonic()
    with dg.DagsterInstance.get() as instance:
        result = job.execute_in_process(run_config=run_config, instance=instance,
                                        raise_on_error=False)
    figures = {
        "success": result.success,
        "seconds": round(time.monotonic() - started, 2),
        "peak_rss_mb": round(own_peak_rss_mb(), 1),
        "ru_maxrss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
    print("RESULT " + json.dumps(figures), flush=True)
    return 0 if result.success else 1


def _run_child(job_name: str, run_config: dict[str, Any], env: dict[str, str],
               workers: int, log: Path) -> dict[str, Any]:
    config = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}, **run_config}
    spawned_at_rss_mb = rss_mb()
    with log.open("w") as out:
        proc = subprocess.run(
            [sys.executable, __file__, "--child", job_name, "--config", json.dumps(config),
             "--workers", str(workers)],
            env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT,
            check=False)
    lines = [line for line in log.read_text().splitlines() if line.startswith("RESULT ")]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"{job_name} failed (exit {proc.returncode}):\n"
                           + "\n".join(log.read_text().splitlines()[-30:]))
    return {**json.loads(lines[-1][len("RESULT "):]),
            "bench_rss_at_spawn_mb": round(spawned_at_rss_mb, 1)}


def _env(sim: Simulator, folder: Path) -> dict[str, str]:
    return {"DAGSTER_HOME": str(folder / "dagster_home"),
            "BEDROCK_WAREHOUSE": str(folder / "bedrock.duckdb"),
            "BEDROCK_INBOX": str(folder / "inbox"),
            "BEDROCK_API_URL": sim.base_url,
            "BEDROCK_API_KEY": DEMO_API_KEY}


def _simulator(data: DataConfig) -> Simulator:
    return Simulator(data, rate_limit=RateLimitConfig(enabled=False),
                     clock=Clock.fixed(data.epoch)).start()


def _calls(sim: Simulator) -> tuple[int, int]:
    """(GET /jobs/{id} calls, other calls: discovery pages) since the last reset."""
    snapshot = sim.stats_snapshot()
    by_id = sum(snapshot["fetches"].values())
    return by_id, snapshot["total_requests"] - by_id


def _query(path: Path, sql: str) -> Any:
    import duckdb

    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql).fetchall()[0][0]


# -- the legs ---------------------------------------------------------------------------


def memory_leg(n_ids: int, workers: int, folder: Path) -> dict[str, Any]:
    """Ingest an ID file of `n_ids` IDs; the ingest process's peak RSS and time."""
    t0 = time.monotonic()
    sim = _simulator(DataConfig(jobs=n_ids))
    generated = time.monotonic() - t0
    try:
        ids = list(sim.store.by_id)[:n_ids]
        inbox = folder / "inbox"
        inbox.mkdir(parents=True)
        (inbox / "ids.txt").write_text("\n".join(ids) + "\n")
        n_ids = len(ids)
        del ids
        sim.stats.reset()
        figures = _run_child(
            "ingest",
            {"ops": {"ops__job_ledger": {"config": {"inbox_files": ["ids.txt"],
                                                    "discover": False}},
                     "raw__job_payloads": {"config": {"batch_size": BATCH_SIZE}}}},
            _env(sim, folder), workers, folder / "ingest.log")
        by_id, _ = _calls(sim)
    finally:
        sim.stop()
    loaded = _query(folder / "bedrock.duckdb", "SELECT count(*) FROM core.jobs")
    print(f"  {n_ids:>9,} IDs: peak RSS {figures['peak_rss_mb']:,.0f} MB, "
          f"{figures['seconds']:,.0f} s ({by_id / figures['seconds']:,.0f} fetches/s, "
          f"{by_id:,} fetches, {loaded:,} jobs in core; simulator data made in "
          f"{generated:.0f} s)", flush=True)
    print(f"  {'':>9}       (child's ru_maxrss {figures['ru_maxrss_mb']:,.0f} MB: it includes "
          f"this process's {figures['bench_rss_at_spawn_mb']:,.0f} MB at the spawn)",
          flush=True)
    return {"ids": n_ids, "peak_rss_mb": figures["peak_rss_mb"],
            "ru_maxrss_mb": figures["ru_maxrss_mb"],
            "bench_rss_at_spawn_mb": figures["bench_rss_at_spawn_mb"],
            "seconds": figures["seconds"], "fetches": by_id, "jobs_loaded": loaded}


def rerun_leg(n_jobs: int, workers: int, folder: Path) -> dict[str, Any]:
    """Full ingest by discovery, then the scheduled refresh, then rebuild from raw."""
    sim = _simulator(DataConfig(jobs=n_jobs, in_flight_share=RERUN_IN_FLIGHT_SHARE))
    folder.mkdir(parents=True)
    env = _env(sim, folder)
    warehouse = folder / "bedrock.duckdb"
    batch = {"raw__job_payloads": {"config": {"batch_size": BATCH_SIZE}}}
    try:
        first = _run_child("ingest", {"ops": batch}, env, workers, folder / "first.log")
        first_by_id, first_pages = _calls(sim)
        jobs = _query(warehouse, "SELECT count(*) FROM core.jobs")
        in_flight = _query(warehouse, "SELECT count(*) FROM ops.job_ledger "
                                      "WHERE NOT is_terminal AND loaded_at IS NOT NULL")
        before = sim.clock.now()
        sim.clock.advance(600)
        # Jobs created meanwhile: discovery finds them, and they are fetched too.
        created = sum(1 for j in sim.store.by_id.values()
                      if j.organization_id == sim.store.home_organization_id
                      and before < j.created_at <= sim.clock.now())
        sim.stats.reset()
        # The schedule's run: `refresh_in_flight` with its default config.
        second = _run_child("refresh_in_flight", {}, env, workers, folder / "second.log")
        second_by_id, second_pages = _calls(sim)
        sim.stats.reset()
        rebuild = _run_child("rebuild_from_raw", {}, env, workers, folder / "rebuild.log")
        rebuild_by_id, rebuild_pages = _calls(sim)
    finally:
        sim.stop()
    print(f"  first run (ingest):         {first_by_id:>7,} job fetches + {first_pages:,} "
          f"discovery pages, {first['seconds']:,.1f} s  ({jobs:,} jobs)")
    print(f"  scheduled run (refresh):    {second_by_id:>7,} job fetches + {second_pages:,} "
          f"discovery pages, {second['seconds']:,.1f} s  ({in_flight:,} jobs were in flight, "
          f"{in_flight / jobs:.1%}, and {created} were created since)")
    print(f"  rebuild_from_raw:           {rebuild_by_id + rebuild_pages:>7,} calls, "
          f"{rebuild['seconds']:,.1f} s", flush=True)
    return {
        "jobs": jobs, "in_flight": in_flight, "created_since": created,
        "in_flight_share": round(in_flight / jobs, 4),
        "first_fetches": first_by_id, "first_discovery_pages": first_pages,
        "first_seconds": first["seconds"],
        "rerun_fetches": second_by_id, "rerun_discovery_pages": second_pages,
        "rerun_seconds": second["seconds"],
        "rebuild_calls": rebuild_by_id + rebuild_pages, "rebuild_seconds": rebuild["seconds"],
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help=f"{QUICK_SIZES[0]:,}/{QUICK_SIZES[1]:,} IDs instead of "
                             f"{SIZES[0]:,}/{SIZES[1]:,}")
    parser.add_argument("--workers", type=int, default=WORKERS)
    args = parser.parse_args(argv if argv is not None else [])
    small, large = QUICK_SIZES if args.quick else SIZES
    rerun_jobs = QUICK_RERUN_JOBS if args.quick else RERUN_JOBS

    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        print("memory: ingest of an ID file (peak RSS of the ingest process)", flush=True)
        low = memory_leg(small, args.workers, Path(tmp) / "small")
        high = memory_leg(large, args.workers, Path(tmp) / "large")
        print(f"rerun: {rerun_jobs:,} jobs, full ingest then the hourly schedule's run",
              flush=True)
        rerun = rerun_leg(rerun_jobs, args.workers, Path(tmp) / "rerun")

    ratio_memory = round(high["peak_rss_mb"] / low["peak_rss_mb"], 2)
    rerun_exact = rerun["rerun_fetches"] == rerun["in_flight"] + rerun["created_since"]
    figures: dict[str, Any] = {
        "small": low, "large": high, "rerun": rerun,
        "ratio_peak_rss_large_vs_small": ratio_memory,
        "ratio_ids_large_vs_small": round(high["ids"] / low["ids"], 1),
        "ratio_rerun_calls_vs_first": round(
            (rerun["rerun_fetches"] + rerun["rerun_discovery_pages"])
            / (rerun["first_fetches"] + rerun["first_discovery_pages"]), 4),
        "ratio_rerun_seconds_vs_first": round(rerun["rerun_seconds"] / rerun["first_seconds"], 3),
        "memory_ratio_met": ratio_memory < GOAL_MEMORY_RATIO,
        "memory_peak_met": high["peak_rss_mb"] < GOAL_PEAK_MB,
        "rerun_calls_exact_met": rerun_exact,
        "rebuild_zero_calls_met": rerun["rebuild_calls"] == 0,
    }
    print(f"peak RSS: {low['ids']:,} IDs {low['peak_rss_mb']:,.0f} MB, {high['ids']:,} IDs "
          f"{high['peak_rss_mb']:,.0f} MB -> ratio {ratio_memory} "
          f"(goal < {GOAL_MEMORY_RATIO}, and < {GOAL_PEAK_MB:.0f} MB)")
    print(f"rerun: {rerun['rerun_fetches']:,} job fetches for {rerun['in_flight']:,} in flight "
          f"+ {rerun['created_since']:,} created since "
          f"({'exact' if rerun_exact else 'NOT exact'}); rebuild from raw: "
          f"{rerun['rebuild_calls']} calls")
    return figures


if __name__ == "__main__":
    cli = argparse.ArgumentParser()
    cli.add_argument("--child")
    cli.add_argument("--config", default="{}")
    cli.add_argument("--workers", type=int, default=WORKERS)
    known, rest = cli.parse_known_args()
    if known.child:
        sys.exit(child(known.child, json.loads(known.config), known.workers))
    main(sys.argv[1:])
