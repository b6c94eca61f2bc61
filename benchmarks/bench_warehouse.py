"""Benchmark: raw payloads -> core -> marts in DuckDB, against a pandas baseline.

Payloads: the simulator's generator makes a base set of jobs (at most 20,000) and
`render_job` renders them (mixed CMS/Vision shapes, 10% adversarial) exactly as the
API sends them; the base set is then replicated with new IDs (every `job_…` ID in
a copy gets a suffix, so parent links stay inside the copy) until there are
`--jobs` payloads. Generating 1M jobs through the generator in Python would take
minutes; replicating the rendered text takes seconds and keeps the data's shape.

Timed, each on a fresh warehouse file in a temp directory:
- load: `load_batch` in batches of 100,000 (raw landing with sha256 dedupe, ledger,
  core) then `refresh_marts` -- the pipeline's path;
- rebuild: `rebuild_from_raw` + `refresh_marts` over the landed raw -- raw -> core -> marts;
- pandas: json.loads + json_normalize + sort + groupby().shift() to transitions.
Events/s counts the rows of core.job_events. Peak RSS is the process maximum so far
(ru_maxrss), read after the DuckDB phases and again after pandas.

    .venv/bin/python benchmarks/bench_warehouse.py [--jobs N]
"""

from __future__ import annotations

import argparse
import json
import re
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipelines.simulator.generator import DataConfig, generate  # noqa: E402
from pipelines.simulator.render import RenderConfig, render_job  # noqa: E402
from warehouse import (  # noqa: E402
    FetchedItem,
    connect,
    load_batch,
    rebuild_from_raw,
    refresh_marts,
    register_ids,
)

BASE_JOBS = 20_000
BATCH = 100_000
_JOB_ID = re.compile(r"job_[0-9A-Z]{26}")


def make_payloads(n_jobs: int, seed: int = 7) -> list[tuple[str, str]]:
    """(job_id, response body) for n_jobs jobs, replicated from a generated base set."""
    config = DataConfig(jobs=min(n_jobs, BASE_JOBS), seed=seed)
    _, jobs = generate(config)
    render = RenderConfig(shape="mixed", adversarial_share=0.1, seed=seed)
    base = []
    for job in jobs:
        body = render_job(job, config.epoch, render)
        if body is not None:
            text = json.dumps({"data": body}) if "id" in body else json.dumps(body)
            base.append((job.id, text))
    out: list[tuple[str, str]] = []
    copy = 0
    while len(out) < n_jobs:
        suffix = f"{copy:03d}"
        for job_id, text in base[: n_jobs - len(out)]:
            if copy == 0:
                out.append((job_id, text))
            else:
                out.append((job_id + suffix,
                            _JOB_ID.sub(lambda m, s=suffix: m.group(0) + s, text)))
        copy += 1
    return out


def pandas_baseline(payloads: list[tuple[str, str]]) -> int:
    """The straightforward pandas version; returns the number of transitions."""
    records = []
    for _, text in payloads:
        doc = json.loads(text)
        doc = doc.get("data", doc)
        doc["job"] = doc.get("id") or doc.get("job_id")
        if isinstance(doc.get("events"), list):
            records.append(doc)
    events = pd.json_normalize(records, record_path="events", meta=["job", "type"])
    events["event_at"] = pd.to_datetime(events["timestamp"], utc=True, format="ISO8601")
    events["status"] = events["status"].str.strip().str.upper()
    events = events.sort_values(["job", "event_at"], kind="stable")
    grouped = events.groupby("job")
    events["to_status"] = grouped["status"].shift(-1)
    events["to_at"] = grouped["event_at"].shift(-1)
    events["duration_seconds"] = (events["to_at"] - events["event_at"]).dt.total_seconds()
    transitions = events.dropna(subset=["to_status"])
    return len(transitions)


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(jobs: int = 1_000_000) -> dict[str, float]:
    """Run the benchmark, print it, and return its figures."""
    started = time.perf_counter()
    payloads = make_payloads(jobs)
    fetched_at = datetime(2026, 1, 1, tzinfo=UTC)
    items = [FetchedItem(job_id, "loaded", fetched_at, 200, payload_text=text)
             for job_id, text in payloads]
    generate_s = time.perf_counter() - started
    figures: dict[str, float] = {"jobs": len(items), "generate_seconds": generate_s}

    with tempfile.TemporaryDirectory() as tmp, connect(Path(tmp) / "bench.duckdb") as con:
        register_ids(con, [item.job_id for item in items], "bench", fetched_at)
        t0 = time.perf_counter()
        for start in range(0, len(items), BATCH):
            load_batch(con, items[start : start + BATCH])
        t1 = time.perf_counter()
        refresh_marts(con, now=fetched_at)
        t2 = time.perf_counter()
        rebuild_from_raw(con)
        t3 = time.perf_counter()
        refresh_marts(con, now=fetched_at)
        t4 = time.perf_counter()
        events = con.execute("SELECT count(*) FROM core.job_events").fetchone()[0]
        transitions = con.execute(
            "SELECT count(*) FROM core.job_status_transitions").fetchone()[0]
        quarantined = con.execute(
            "SELECT count(*) FROM ops.job_ledger WHERE outcome = 'quarantined'").fetchone()[0]
    figures.update(
        events=events,
        transitions=transitions,
        quarantined=quarantined,
        load_seconds=t1 - t0,
        marts_seconds=t2 - t1,
        end_to_end_seconds=t2 - t0,
        rebuild_seconds=t3 - t2,
        raw_core_marts_seconds=(t3 - t2) + (t4 - t3),
        peak_rss_mb_duckdb=_peak_rss_mb(),
    )
    figures["end_to_end_events_per_s"] = events / figures["end_to_end_seconds"]
    figures["raw_core_marts_events_per_s"] = events / figures["raw_core_marts_seconds"]

    t5 = time.perf_counter()
    pandas_transitions = pandas_baseline(payloads)
    figures["pandas_seconds"] = time.perf_counter() - t5
    figures["pandas_transitions"] = pandas_transitions
    figures["pandas_events_per_s"] = events / figures["pandas_seconds"]
    figures["peak_rss_mb_with_pandas"] = _peak_rss_mb()
    figures["ratio_end_to_end_vs_pandas"] = figures["pandas_seconds"] / figures[
        "end_to_end_seconds"]
    figures["ratio_raw_core_marts_vs_pandas"] = figures["pandas_seconds"] / figures[
        "raw_core_marts_seconds"]

    print(f"bench_warehouse: {figures['jobs']:,} jobs, {events:,} events, "
          f"{transitions:,} transitions, {quarantined:,} quarantined "
          f"(payloads generated in {generate_s:.1f} s)")
    print(f"  load_batch x{BATCH:,} (raw+ledger+core) {figures['load_seconds']:7.2f} s")
    print(f"  refresh_marts                      {figures['marts_seconds']:7.2f} s")
    print(f"  end to end (load + marts)          {figures['end_to_end_seconds']:7.2f} s  "
          f"{figures['end_to_end_events_per_s']:>12,.0f} events/s")
    print(f"  rebuild_from_raw + refresh_marts   {figures['raw_core_marts_seconds']:7.2f} s  "
          f"{figures['raw_core_marts_events_per_s']:>12,.0f} events/s")
    print(f"  pandas baseline (to transitions)   {figures['pandas_seconds']:7.2f} s  "
          f"{figures['pandas_events_per_s']:>12,.0f} events/s")
    print(f"  ratio vs pandas: end to end {figures['ratio_end_to_end_vs_pandas']:.1f}x, "
          f"raw->core->marts {figures['ratio_raw_core_marts_vs_pandas']:.1f}x")
    print(f"  peak RSS: {figures['peak_rss_mb_duckdb']:,.0f} MB after DuckDB, "
          f"{figures['peak_rss_mb_with_pandas']:,.0f} MB after pandas")
    return figures


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=1_000_000)
    main(parser.parse_args().jobs)
