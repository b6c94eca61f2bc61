"""Benchmark: the tree marts on big trees, against marts.job_trees in the same run.

Payloads are bench_warehouse's: the simulator's generator (its fan-out: parse trees of
hundreds of children, drawing.preprocess -> sheet.preprocess -> block work) rendered as
the API sends them and replicated with new IDs (parent links stay inside each copy) up to
`--jobs` jobs. They are landed and derived as a run does and the marts refreshed once.
Then, under the memory_limit of a run's connections, each model is materialized as
`refresh_marts` does (`CREATE OR REPLACE TABLE marts.x AS <model>`), ROUNDS times in
turn, so that all three see the same load on this shared machine; medians compared.

Goal (issue 20): marts.tree_critical_path and marts.tree_stage_shares each within 2x the
time of marts.job_trees (`ratio_*`), and together (`ratio_both_over_job_trees`). Beside
them, the floor of any exact walk measured on the same rows: ordering each parent's
finished children as the walk chooses them (one window sort), over marts.job_trees.

    .venv/bin/python benchmarks/bench_trees.py [--jobs N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from bench_warehouse import BATCH, MEMORY_LIMIT, make_payloads  # noqa: E402

from pipelines.resources import WarehouseResource  # noqa: E402
from warehouse import FetchedItem, connect, derive_core, land_batch, refresh_marts  # noqa: E402
from warehouse.db import sql, transaction  # noqa: E402

ROUNDS = 5
MARTS = ("job_trees", "tree_critical_path", "tree_stage_shares")
GOAL = 2.0
RUN_MEMORY_LIMIT = WarehouseResource.model_fields["memory_limit"].default
"""The marts are timed under the memory_limit of a run's connections (loading, untimed,
under bench_warehouse's larger one)."""
# The least any exact walk costs: each parent's finished children in the walk's order
# (by end, start, job_id). "The child that ends last at or before t" needs that order.
FLOOR = """
SELECT count(*), sum(child_rank) FROM (
    SELECT row_number() OVER (PARTITION BY parent_id
                              ORDER BY terminal_at, first_event_at, job_id DESC) AS child_rank
    FROM core.jobs
    WHERE parent_id IS NOT NULL AND terminal_at IS NOT NULL
)
"""


def _materialize(con, name: str) -> float:
    started = time.perf_counter()
    if name == "floor":
        con.execute(FLOOR).fetchall()
    else:
        with transaction(con):
            con.execute(f"CREATE OR REPLACE TABLE marts.{name} AS {sql('marts', name)}")
    return time.perf_counter() - started


def main(jobs: int = 1_000_000) -> dict[str, float]:
    fetched_at = datetime(2026, 1, 1, tzinfo=UTC)
    items = [FetchedItem(job_id, "loaded", fetched_at, 200, payload_text=text)
             for job_id, text in make_payloads(jobs)]
    timings: dict[str, list[float]] = {name: [] for name in (*MARTS, "floor")}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.duckdb"
        with connect(path, memory_limit=MEMORY_LIMIT) as con:
            for start in range(0, len(items), BATCH):
                land_batch(con, items[start : start + BATCH])
            derive_core(con)
            refresh_marts(con, now=fetched_at)
            shape = con.execute(
                "SELECT count(*), count(DISTINCT root_id),"
                " max(depth), (SELECT max(n_children) FROM marts.job_trees)"
                " FROM marts.tree_critical_path").fetchall()[0]
            jobs_in_trees = con.execute(
                "SELECT count(*) FROM core.jobs WHERE parent_id IS NOT NULL").fetchall()[0][0]
        with connect(path, memory_limit=RUN_MEMORY_LIMIT) as con:
            for _ in range(ROUNDS):
                for name in (*MARTS, "floor"):
                    timings[name].append(_materialize(con, name))
    median = {name: statistics.median(values) for name, values in timings.items()}
    figures = {
        "jobs": len(items),
        "child_jobs": jobs_in_trees,
        "segments": shape[0],
        "trees": shape[1],
        "deepest_segment": shape[2],
        "widest_parent_children": shape[3],
        **{f"{name}_seconds": round(value, 3) for name, value in median.items()},
        "ratio_tree_critical_path_over_job_trees": round(
            median["tree_critical_path"] / median["job_trees"], 2),
        "ratio_tree_stage_shares_over_job_trees": round(
            median["tree_stage_shares"] / median["job_trees"], 2),
        "ratio_both_over_job_trees": round(
            (median["tree_critical_path"] + median["tree_stage_shares"])
            / median["job_trees"], 2),
        "ratio_floor_over_job_trees": round(median["floor"] / median["job_trees"], 2),
        "memory_limit": RUN_MEMORY_LIMIT,
    }
    _print(figures)
    return figures


def _print(f: dict) -> None:
    print(f"tree marts on {f['jobs']:,} jobs ({f['child_jobs']:,} children; {f['trees']:,} "
          f"trees, {f['segments']:,} critical-path segments, up to depth "
          f"{f['deepest_segment']}, up to {f['widest_parent_children']} children), "
          f"memory_limit {f['memory_limit']}; medians of {ROUNDS} rounds:")
    for name in MARTS:
        print(f"  marts.{name:<22} {f[name + '_seconds']:8.3f} s")
    print(f"  floor (children ordered)     {f['floor_seconds']:8.3f} s: "
          f"{f['ratio_floor_over_job_trees']:.2f}x marts.job_trees")
    for key in ("ratio_tree_critical_path_over_job_trees",
                "ratio_tree_stage_shares_over_job_trees", "ratio_both_over_job_trees"):
        verdict = "met" if f[key] <= GOAL else "NOT met"
        print(f"  {key:<42} {f[key]:5.2f}  (goal <= {GOAL}: {verdict})")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=1_000_000)
    main(parser.parse_args().jobs)
