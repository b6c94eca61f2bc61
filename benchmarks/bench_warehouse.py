"""Benchmark: raw payloads -> core -> marts in DuckDB, against a pandas baseline.

Payloads: the simulator's generator makes a base set of jobs (at most 20,000) and
`render_job` renders them (mixed CMS/Vision shapes, 10% adversarial) exactly as the
API sends them; the base set is then replicated with new IDs (every `job_…` ID in
a copy gets a suffix, so parent links stay inside the copy) until there are
`--jobs` payloads. Generating 1M jobs through the generator in Python would take
minutes; replicating the rendered text takes seconds and keeps the data's shape.
The generator runs with `requeue_share=0.5` (half the jobs go RUNNING -> PENDING ->
RUNNING once, two extra events), which gives the issue's ~4 events per job on
average (~3.9M events for 1M jobs; the default 0.03 gives ~2.9).

Timed, each on a fresh warehouse file in a temp directory:
- load: `load_batch` in batches of 100,000 (raw landing with sha256 dedupe, ledger,
  core) then `refresh_marts` -- the pipeline's path;
- rebuild: `rebuild_from_raw` + `refresh_marts` over the landed raw -- raw -> core -> marts;
- incremental: `load_batch` in batches of 1,000 new jobs (what the pipeline does
  while fetching), first into an empty warehouse, then into the one holding all
  `--jobs` jobs: per-batch cost must not grow with the warehouse;
- pandas: json.loads + json_normalize + sort + groupby().shift() to transitions;
- floor: the least raw -> core -> marts can cost here, measured on the same rows:
  the staging model's JSON parse alone plus inserting the finished rows of the
  row-per-job and row-per-event tables into a fresh file (`measured_floor`).
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
    STORAGE_VERSION,
    FetchedItem,
    connect,
    derive_core,
    land_batch,
    rebuild_from_raw,
    refresh_marts,
    register_ids,
)
from warehouse.models import bulk_settings  # noqa: E402

BASE_JOBS = 20_000
BATCH = 100_000
SMALL_BATCH = 1_000
SMALL_BATCHES = 20
REQUEUE_SHARE = 0.5  # ~4 events per job, as in the issue
MEMORY_LIMIT = "2GB"
GOAL_EVENTS_PER_S = 1_000_000
GOAL_RATIO = 10.0
_JOB_ID = re.compile(r"job_[0-9A-Z]{26}")


def make_payloads(n_jobs: int, seed: int = 7) -> list[tuple[str, str]]:
    """(job_id, response body) for n_jobs jobs, replicated from a generated base set."""
    config = DataConfig(jobs=min(n_jobs, BASE_JOBS), seed=seed, requeue_share=REQUEUE_SHARE)
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


def measured_floor(con, tmp: Path) -> tuple[float, float]:
    """(parse seconds, write seconds): a lower bound for raw -> core -> marts on this
    machine, measured on the rows the run just produced.

    - parse: the staging model's one parse (`bedrock_job_document`) of every payload,
      nothing else;
    - write: inserting the rows of core.jobs, core.job_events,
      core.job_status_transitions and marts.job_durations (copied to memory first,
      untimed) into a fresh file with the warehouse's storage version, in one
      transaction: what persisting the contract's row-per-job and row-per-event
      tables costs, with no computing at all.
    """
    t0 = time.perf_counter()
    con.execute("SELECT count(*) FROM raw.job_payloads "
                "WHERE bedrock_job_document(payload) IS NOT NULL").fetchall()
    parse_s = time.perf_counter() - t0
    copies = {table: f"floor_{table.replace('.', '_')}" for table in (
        "core.jobs", "core.job_events", "core.job_status_transitions", "marts.job_durations")}
    with bulk_settings(con):
        con.execute(f"ATTACH '{tmp / 'floor.duckdb'}' AS floor "
                    f"(STORAGE_VERSION '{STORAGE_VERSION}')")
        for table, copy in copies.items():
            con.execute(f"CREATE TEMP TABLE {copy} AS SELECT * FROM {table}")
            con.execute(f"CREATE TABLE floor.{copy} AS SELECT * FROM {copy} LIMIT 0")
        t0 = time.perf_counter()
        con.begin()
        for copy in copies.values():
            con.execute(f"INSERT INTO floor.{copy} SELECT * FROM {copy}")
        con.commit()
        write_s = time.perf_counter() - t0
        con.execute("DETACH floor")
        for copy in copies.values():
            con.execute(f"DROP TABLE {copy}")
    return parse_s, write_s


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _small_batches(con, items: list[FetchedItem]) -> tuple[float, float, int]:
    """Load items in batches of SMALL_BATCH; (mean seconds per batch, median, events)."""
    before = con.execute("SELECT count(*) FROM core.job_events").fetchall()[0][0]
    times = []
    for start in range(0, len(items), SMALL_BATCH):
        t0 = time.perf_counter()
        land_batch(con, items[start : start + SMALL_BATCH])
        derive_core(con)
        times.append(time.perf_counter() - t0)
    after = con.execute("SELECT count(*) FROM core.job_events").fetchall()[0][0]
    return sum(times) / len(times), sorted(times)[len(times) // 2], after - before


def main(jobs: int = 1_000_000) -> dict[str, float]:
    """Run the benchmark, print it, and return its figures."""
    started = time.perf_counter()
    extra = 2 * SMALL_BATCH * SMALL_BATCHES
    payloads = make_payloads(jobs + extra)
    fetched_at = datetime(2026, 1, 1, tzinfo=UTC)
    all_items = [FetchedItem(job_id, "loaded", fetched_at, 200, payload_text=text)
                 for job_id, text in payloads]
    payloads = payloads[:jobs]
    items = all_items[:jobs]
    first_small = all_items[jobs : jobs + extra // 2]
    last_small = all_items[jobs + extra // 2 :]
    generate_s = time.perf_counter() - started
    figures: dict[str, float] = {"jobs": len(items), "generate_seconds": generate_s}

    with tempfile.TemporaryDirectory() as tmp:
        with connect(Path(tmp) / "small.duckdb", memory_limit=MEMORY_LIMIT) as con:
            first_mean, first_median, first_events = _small_batches(con, first_small)
        with connect(Path(tmp) / "bench.duckdb", memory_limit=MEMORY_LIMIT) as con:
            register_ids(con, [item.job_id for item in items], "bench", fetched_at)
            t0 = time.perf_counter()
            for start in range(0, len(items), BATCH):
                land_batch(con, items[start : start + BATCH])
            derive_core(con)
            t1 = time.perf_counter()
            refresh_marts(con, now=fetched_at)
            t2 = time.perf_counter()
            rebuild_from_raw(con)
            t3 = time.perf_counter()
            refresh_marts(con, now=fetched_at)
            t4 = time.perf_counter()
            events = con.execute("SELECT count(*) FROM core.job_events").fetchall()[0][0]
            transitions = con.execute(
                "SELECT count(*) FROM core.job_status_transitions").fetchall()[0][0]
            quarantined = con.execute(
                "SELECT count(*) FROM ops.job_ledger WHERE outcome = 'quarantined'"
            ).fetchall()[0][0]
            floor_parse, floor_write = measured_floor(con, Path(tmp))
            last_mean, last_median, last_events = _small_batches(con, last_small)
    figures.update(
        events=events,
        transitions=transitions,
        quarantined=quarantined,
        events_per_job=events / len(items),
        load_seconds=t1 - t0,
        marts_seconds=t2 - t1,
        end_to_end_seconds=t2 - t0,
        rebuild_seconds=t3 - t2,
        raw_core_marts_seconds=(t3 - t2) + (t4 - t3),
        small_batch_seconds_empty=first_mean,
        small_batch_seconds_full=last_mean,
        small_batch_median_seconds_empty=first_median,
        small_batch_median_seconds_full=last_median,
        small_batch_events_per_s_empty=first_events / (first_mean * SMALL_BATCHES),
        small_batch_events_per_s_full=last_events / (last_mean * SMALL_BATCHES),
        peak_rss_mb_duckdb=_peak_rss_mb(),
        floor_parse_seconds=floor_parse,
        floor_write_seconds=floor_write,
        floor_seconds=floor_parse + floor_write,
    )
    figures["end_to_end_events_per_s"] = events / figures["end_to_end_seconds"]
    figures["raw_core_marts_events_per_s"] = events / figures["raw_core_marts_seconds"]
    figures["small_batch_growth"] = last_median / first_median
    figures["ratio_raw_core_marts_vs_floor"] = (
        figures["raw_core_marts_seconds"] / figures["floor_seconds"])
    figures["floor_events_per_s"] = events / figures["floor_seconds"]

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
    figures["goal_met"] = bool(
        figures["raw_core_marts_events_per_s"] >= GOAL_EVENTS_PER_S
        and figures["ratio_raw_core_marts_vs_pandas"] >= GOAL_RATIO
    )
    figures["incremental_flat"] = bool(figures["small_batch_growth"] < 1.5)

    print(f"bench_warehouse: {figures['jobs']:,} jobs, {events:,} events "
          f"({figures['events_per_job']:.2f}/job), {transitions:,} transitions, "
          f"{quarantined:,} quarantined (payloads generated in {generate_s:.1f} s)")
    print(f"  load_batch x{BATCH:,} (raw+ledger+core) {figures['load_seconds']:7.2f} s")
    print(f"  refresh_marts                      {figures['marts_seconds']:7.2f} s")
    print(f"  end to end (load + marts)          {figures['end_to_end_seconds']:7.2f} s  "
          f"{figures['end_to_end_events_per_s']:>12,.0f} events/s")
    print(f"  rebuild_from_raw + refresh_marts   {figures['raw_core_marts_seconds']:7.2f} s  "
          f"{figures['raw_core_marts_events_per_s']:>12,.0f} events/s")
    print(f"  floor: parse only {floor_parse:.2f} s + write the rows only {floor_write:.2f} s "
          f"= {figures['floor_seconds']:7.2f} s  {figures['floor_events_per_s']:>12,.0f} "
          f"events/s; raw->core->marts takes {figures['ratio_raw_core_marts_vs_floor']:.2f}x "
          f"the floor")
    print(f"  pandas baseline (to transitions)   {figures['pandas_seconds']:7.2f} s  "
          f"{figures['pandas_events_per_s']:>12,.0f} events/s")
    print(f"  ratio vs pandas: end to end {figures['ratio_end_to_end_vs_pandas']:.1f}x, "
          f"raw->core->marts {figures['ratio_raw_core_marts_vs_pandas']:.1f}x")
    print(f"  load_batch x{SMALL_BATCH:,} into an empty warehouse   "
          f"{first_mean * 1000:7.1f} ms/batch (median {first_median * 1000:.1f})  "
          f"{figures['small_batch_events_per_s_empty']:>10,.0f} events/s")
    print(f"  load_batch x{SMALL_BATCH:,} into {jobs:,} jobs      "
          f"{last_mean * 1000:7.1f} ms/batch (median {last_median * 1000:.1f})  "
          f"{figures['small_batch_events_per_s_full']:>10,.0f} events/s  "
          f"(growth x{figures['small_batch_growth']:.2f})")
    print(f"  peak RSS: {figures['peak_rss_mb_duckdb']:,.0f} MB after DuckDB "
          f"(memory_limit {MEMORY_LIMIT}), {figures['peak_rss_mb_with_pandas']:,.0f} MB "
          f"after pandas")
    print(f"  goal (>= {GOAL_EVENTS_PER_S:,} events/s raw->core->marts and >= "
          f"{GOAL_RATIO:.0f}x pandas): {'met' if figures['goal_met'] else 'NOT met'}; "
          f"incremental per-batch cost flat: {figures['incremental_flat']}")
    return figures


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=1_000_000)
    main(parser.parse_args().jobs)
