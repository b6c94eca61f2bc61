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

Timed, each on a fresh warehouse file in a temp directory (IDs registered first,
untimed, as intake does, and handed over with their ledger_seq, as fetching does):
- pipeline: the pipeline's own path -- `land_batch` in batches of 100,000 (the fetch
  step: raw as received, sha256 dedupe, ledger, parents), then `derive_core` (the core
  step) and `refresh_marts`;
- rebuild: `rebuild_from_raw` + `refresh_marts` over the landed raw;
- per batch: `land_batch` of 1,000 and of 25 new jobs (the real API's rate limit gives
  ~25 per 5 s flush) into an empty warehouse and into the one holding all `--jobs` jobs,
  each opened afresh as a run opens it, alternating batch by batch so that both see the
  same load on this shared machine: per-batch cost must not grow with history (medians
  compared);
- pandas: json.loads + json_normalize + sort + groupby().shift() to transitions;
- floor: the least raw -> core -> marts can cost here, measured on the same rows:
  the staging model's JSON parse alone plus inserting the finished rows of the
  row-per-job and row-per-event tables into a fresh file (`measured_floor`), with the
  warehouse's own table definitions;
- landing floor: the least landing raw can cost here (`landing_floor`): per batch of
  100,000, the Arrow table of IDs, bodies and sha256 and one transaction appending them
  to a table like raw.job_payloads. With the floor it bounds what any design that lands
  the bodies raw can reach: `pipeline_over_rebuild_bound`, `speedup_over_pandas_bound`.
Printed and returned (`main()`, so `make bench`'s JSON has them), with the goals of
issue 12: `pipeline_over_rebuild` (<= 1.5), `rebuild_over_floor` (<= 1.3),
`per_batch_growth_1000` and `per_batch_growth_25` (<= 1.3), `pipeline_speedup_over_pandas`
(>= 4), beside the machine's load average. Events/s counts the rows of
core.job_events. Peak RSS is the process maximum so far (ru_maxrss).

    .venv/bin/python benchmarks/bench_warehouse.py [--jobs N]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import sys
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pyarrow as pa

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
from warehouse.load import body_sha256  # noqa: E402
from warehouse.transform import bulk_settings  # noqa: E402

BASE_JOBS = 20_000
BATCH = 100_000
SMALL_BATCHES = {1_000: 20, 25: 60}  # batch size: batches timed (into empty, into full)
REQUEUE_SHARE = 0.5  # ~4 events per job, as in the issue
MEMORY_LIMIT = "2GB"
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
            con.execute(_same_table(con, table, f"floor.{copy}"))
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


def _same_table(con, table: str, name: str) -> str:
    """The CREATE TABLE statement of warehouse table `table` (columns, types, compression)
    for a table called `name`."""
    schema, bare = table.split(".")
    ddl = con.execute("SELECT sql FROM duckdb_tables() WHERE schema_name = ? AND table_name = ?",
                      [schema, bare]).fetchall()[0][0]
    return re.sub(r"^CREATE TABLE [^(]+\(", f"CREATE TABLE {name}(", ddl)


def landing_floor(con, tmp: Path, payloads: list[tuple[str, str]]) -> float:
    """Seconds: the least landing raw can cost here, measured in the pipeline's batches:
    per batch, the Arrow table of the IDs, bodies and their sha256 (as `land_batch`
    builds it), and one transaction that appends them to a table like raw.job_payloads
    (same columns and compression; the bodies typed JSON, as raw keeps them) in a fresh
    file. No dedupe, ledger, verdict or parents: what storing the bodies alone costs."""
    con.execute(f"ATTACH '{tmp / 'land_floor.duckdb'}' AS land_floor "
                f"(STORAGE_VERSION '{STORAGE_VERSION}')")
    con.execute(_same_table(con, "raw.job_payloads", "land_floor.job_payloads"))
    fetched_at = datetime(2026, 1, 1, tzinfo=UTC)
    t0 = time.perf_counter()
    with bulk_settings(con):
        for start in range(0, len(payloads), BATCH):
            chunk = payloads[start : start + BATCH]
            texts = [text for _, text in chunk]
            batch = pa.table({
                "job_id": pa.array([job_id for job_id, _ in chunk], pa.string()),
                "payload_text": pa.array(texts, pa.string()),
                "payload_sha256": pa.array([body_sha256(text) for text in texts], pa.string()),
            })
            con.register("_floor_batch", batch)
            con.begin()
            con.execute(
                "INSERT INTO land_floor.job_payloads BY NAME "
                "SELECT job_id, $at AS fetched_at, TRY_CAST(payload_text AS JSON) AS payload, "
                "payload_sha256, $start + row_number() OVER () AS payload_seq FROM _floor_batch",
                {"at": fetched_at, "start": start})
            con.commit()
            con.unregister("_floor_batch")
    seconds = time.perf_counter() - t0
    con.execute("DETACH land_floor")
    return seconds


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _with_seqs(con, items: list[FetchedItem]) -> list[FetchedItem]:
    """The items with their IDs' ledger_seq, as the fetch path hands them over."""
    seqs = dict(con.execute("SELECT job_id, ledger_seq FROM ops.job_ledger").fetchall())
    return [replace(item, ledger_seq=seqs[item.job_id]) for item in items]


def _per_batch(empty_path: Path, full_path: Path, empty_items: list[FetchedItem],
               full_items: list[FetchedItem], size: int) -> dict[str, tuple[float, float]]:
    """Land `size`-job batches into a new, empty warehouse and into the full one, each
    opened afresh as a run opens it, alternating one batch into each so that both see the
    same machine (it is shared and its load drifts). IDs are registered first, untimed, as
    intake does. Per warehouse: (mean seconds per batch, median)."""
    with (connect(empty_path, memory_limit=MEMORY_LIMIT) as empty,
          connect(full_path, memory_limit=MEMORY_LIMIT) as full):
        runs = {}
        for where, con, items in (("empty", empty, empty_items), ("full", full, full_items)):
            register_ids(con, [item.job_id for item in items], "bench", items[0].fetched_at)
            runs[where] = (con, _with_seqs(con, items))
        times: dict[str, list[float]] = {where: [] for where in runs}
        for start in range(0, len(empty_items), size):
            for where, (con, items) in runs.items():
                t0 = time.perf_counter()
                land_batch(con, items[start : start + size])
                times[where].append(time.perf_counter() - t0)
    return {where: (sum(t) / len(t), sorted(t)[len(t) // 2]) for where, t in times.items()}


def main(jobs: int = 1_000_000) -> dict[str, float]:
    """Run the benchmark, print it, and return its figures."""
    started = time.perf_counter()
    per_batch_jobs = {size: size * count for size, count in SMALL_BATCHES.items()}
    extra = 2 * sum(per_batch_jobs.values())
    payloads = make_payloads(jobs + extra)
    fetched_at = datetime(2026, 1, 1, tzinfo=UTC)
    all_items = [FetchedItem(job_id, "loaded", fetched_at, 200, payload_text=text)
                 for job_id, text in payloads]
    payloads = payloads[:jobs]
    items = all_items[:jobs]
    # Disjoint slices of new jobs: per batch size, one for the empty warehouse, one for
    # the full one.
    small: dict[tuple[int, str], list[FetchedItem]] = {}
    offset = jobs
    for size, n in per_batch_jobs.items():
        for where in ("empty", "full"):
            small[size, where] = all_items[offset : offset + n]
            offset += n
    generate_s = time.perf_counter() - started
    figures: dict[str, float] = {"jobs": len(items), "generate_seconds": generate_s}
    batch_ms: dict[tuple[int, str], tuple[float, float]] = {}

    with tempfile.TemporaryDirectory() as tmp:
        with connect(Path(tmp) / "bench.duckdb", memory_limit=MEMORY_LIMIT) as con:
            register_ids(con, [item.job_id for item in items], "bench", fetched_at)
            items = _with_seqs(con, items)
            # The pipeline's own path: the fetch step's batches, the core step, the marts.
            t0 = time.perf_counter()
            for start in range(0, len(items), BATCH):
                land_batch(con, items[start : start + BATCH])
            t1 = time.perf_counter()
            core = derive_core(con)
            t2 = time.perf_counter()
            refresh_marts(con, now=fetched_at)
            t3 = time.perf_counter()
            rebuild_from_raw(con)
            t4 = time.perf_counter()
            refresh_marts(con, now=fetched_at)
            t5 = time.perf_counter()
            events = con.execute("SELECT count(*) FROM core.job_events").fetchall()[0][0]
            transitions = con.execute(
                "SELECT count(*) FROM core.job_status_transitions").fetchall()[0][0]
            quarantined = con.execute(
                "SELECT count(*) FROM ops.job_ledger WHERE outcome = 'quarantined'"
            ).fetchall()[0][0]
            floor_parse, floor_write = measured_floor(con, Path(tmp))
            land_floor = landing_floor(con, Path(tmp), payloads)
        for size in SMALL_BATCHES:
            pair = _per_batch(Path(tmp) / f"empty{size}.duckdb", Path(tmp) / "bench.duckdb",
                              small[size, "empty"], small[size, "full"], size)
            for where, figures_ in pair.items():
                batch_ms[size, where] = figures_
    figures.update(
        events=events,
        transitions=transitions,
        quarantined=quarantined,
        events_per_job=events / len(items),
        land_seconds=t1 - t0,
        derive_core_seconds=t2 - t1,
        derive_core_chunks=core.chunks,
        marts_seconds=t3 - t2,
        pipeline_seconds=t3 - t0,
        rebuild_seconds=t4 - t3,
        rebuild_marts_seconds=(t4 - t3) + (t5 - t4),
        peak_rss_mb_duckdb=_peak_rss_mb(),
        floor_parse_seconds=floor_parse,
        floor_write_seconds=floor_write,
        floor_seconds=floor_parse + floor_write,
        land_floor_seconds=land_floor,
    )
    for size in SMALL_BATCHES:
        for where in ("empty", "full"):
            mean, median = batch_ms[size, where]
            figures[f"per_batch_{size}_{where}_mean_ms"] = mean * 1000
            figures[f"per_batch_{size}_{where}_median_ms"] = median * 1000
        figures[f"per_batch_growth_{size}"] = batch_ms[size, "full"][1] / batch_ms[size, "empty"][1]
    figures["pipeline_events_per_s"] = events / figures["pipeline_seconds"]
    figures["rebuild_events_per_s"] = events / figures["rebuild_marts_seconds"]
    figures["floor_events_per_s"] = events / figures["floor_seconds"]
    figures["pipeline_over_rebuild"] = figures["pipeline_seconds"] / figures[
        "rebuild_marts_seconds"]
    figures["rebuild_over_floor"] = figures["rebuild_marts_seconds"] / figures["floor_seconds"]
    # What any design that lands the bodies raw (issue 12, item 1) can reach at best: the
    # pipeline is at least this rebuild plus storing the bodies, and at least the floor
    # plus storing them.
    figures["pipeline_over_rebuild_bound"] = (
        figures["rebuild_marts_seconds"] + land_floor) / figures["rebuild_marts_seconds"]

    t6 = time.perf_counter()
    pandas_transitions = pandas_baseline(payloads)
    figures["pandas_seconds"] = time.perf_counter() - t6
    figures["pandas_transitions"] = pandas_transitions
    figures["pandas_events_per_s"] = events / figures["pandas_seconds"]
    figures["peak_rss_mb_with_pandas"] = _peak_rss_mb()
    figures["pipeline_speedup_over_pandas"] = figures["pandas_seconds"] / figures[
        "pipeline_seconds"]
    figures["speedup_over_pandas_bound"] = figures["pandas_seconds"] / (
        figures["floor_seconds"] + land_floor)
    figures["load_average"] = list(os.getloadavg())
    goals = {"pipeline_over_rebuild": ("<=", 1.5), "rebuild_over_floor": ("<=", 1.3),
             **{f"per_batch_growth_{size}": ("<=", 1.3) for size in SMALL_BATCHES},
             "pipeline_speedup_over_pandas": (">=", 4.0)}
    met = {key: (figures[key] <= goal if op == "<=" else figures[key] >= goal)
           for key, (op, goal) in goals.items()}
    figures["goals_met"] = all(met.values())

    print(f"bench_warehouse: {figures['jobs']:,} jobs, {events:,} events "
          f"({figures['events_per_job']:.2f}/job), {transitions:,} transitions, "
          f"{quarantined:,} quarantined (payloads generated in {generate_s:.1f} s)")
    print(f"  load average (1, 5, 15 min) at the end: "
          f"{', '.join(f'{x:.2f}' for x in figures['load_average'])} on {os.cpu_count()} cores")
    print(f"  pipeline: land_batch x{BATCH:,} (raw+ledger+parents) {t1 - t0:7.2f} s")
    print(f"            derive_core ({core.chunks} chunks)            {t2 - t1:7.2f} s")
    print(f"            refresh_marts                          {t3 - t2:7.2f} s")
    print(f"            total                                  {figures['pipeline_seconds']:7.2f} s"
          f"  {figures['pipeline_events_per_s']:>12,.0f} events/s")
    print(f"  rebuild_from_raw + refresh_marts   {figures['rebuild_marts_seconds']:7.2f} s  "
          f"{figures['rebuild_events_per_s']:>12,.0f} events/s")
    print(f"  floor: parse only {floor_parse:.2f} s + write the rows only {floor_write:.2f} s "
          f"= {figures['floor_seconds']:7.2f} s  {figures['floor_events_per_s']:>12,.0f} "
          f"events/s")
    print(f"  landing floor: the bodies alone, Arrow + sha256 + append, x{BATCH:,} "
          f"{land_floor:7.2f} s")
    print(f"  pandas baseline (to transitions)   {figures['pandas_seconds']:7.2f} s  "
          f"{figures['pandas_events_per_s']:>12,.0f} events/s")
    for size in SMALL_BATCHES:
        print(f"  land_batch of {size:>5,} jobs: empty warehouse "
              f"{figures[f'per_batch_{size}_empty_median_ms']:7.1f} ms median "
              f"(mean {figures[f'per_batch_{size}_empty_mean_ms']:.1f}), {jobs:,}-job warehouse "
              f"{figures[f'per_batch_{size}_full_median_ms']:7.1f} ms median "
              f"(mean {figures[f'per_batch_{size}_full_mean_ms']:.1f})")
    print(f"  peak RSS: {figures['peak_rss_mb_duckdb']:,.0f} MB after DuckDB "
          f"(memory_limit {MEMORY_LIMIT}), {figures['peak_rss_mb_with_pandas']:,.0f} MB "
          f"after pandas")
    for key, (op, goal) in goals.items():
        print(f"  {key:<30} {figures[key]:6.2f}  (goal {op} {goal}: "
              f"{'met' if met[key] else 'NOT met'})")
    print(f"  bounds from the floors: pipeline_over_rebuild >= "
          f"{figures['pipeline_over_rebuild_bound']:.2f} (this rebuild + the landing floor), "
          f"pipeline_speedup_over_pandas <= {figures['speedup_over_pandas_bound']:.2f} "
          f"(pandas / (floor + landing floor))")
    return figures


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=1_000_000)
    main(parser.parse_args().jobs)
