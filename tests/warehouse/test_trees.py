"""Where a tree's time goes (docs/trees.md): marts.tree_critical_path against a plain walk
written from the definition, on a worked example, the simulator's trees and generated
trees (deep, wide, overlapping, ties, a child ending after its parent, one starting before
it, an unfinished or missing child); marts.tree_stage_shares ranks the dominant stage."""

from __future__ import annotations

import tempfile
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipelines.simulator.generator import DataConfig, Shift, generate
from pipelines.simulator.render import RenderConfig, render_job
from tests.helpers import FETCHED_AT, load, loaded, simulator_items
from warehouse import connect, refresh_marts
from warehouse.db import sql

T0 = datetime(2026, 1, 1, tzinfo=UTC)
Segment = tuple  # (root_id, job_id, depth, phase, start, end)


def _at(seconds: float) -> str:
    return (T0 + timedelta(seconds=seconds)).isoformat()


def _job(job_id: str, job_type: str, start: float, running: float | None, end: float | None,
         parent: str | None = None) -> dict:
    """A CMS body: PENDING at start, RUNNING at `running` (None: never ran), COMPLETED at
    `end` (None: still running)."""
    events = [("PENDING", start)] + ([("RUNNING", running)] if running is not None else [])
    events += [("COMPLETED", end)] if end is not None else []
    return {"id": job_id, "type": job_type, "parent_id": parent, "created_at": _at(start),
            "status": "COMPLETED" if end is not None else "RUNNING",
            "events": [{"status": s, "timestamp": _at(t)} for s, t in events]}


def _load(con: duckdb.DuckDBPyConnection, bodies: list[dict]) -> None:
    load(con, [loaded(body["id"], body, wrap=True) for body in bodies])
    refresh_marts(con, now=FETCHED_AT)


def _mart(con: duckdb.DuckDBPyConnection) -> set[Segment]:
    return set(con.execute(
        "SELECT root_id, job_id, depth, phase, segment_start, segment_end"
        " FROM marts.tree_critical_path").fetchall())


# -- The definition, written plainly ------------------------------------------------------

def reference_walk(con: duckdb.DuckDBPyConnection) -> set[Segment]:
    """The critical path of every tree, walked job by job as the definition says, from
    core.jobs' intervals (first event or created_at, to the job's end)."""
    rows = con.execute("SELECT job_id, parent_id, coalesce(first_event_at, created_at),"
                       " terminal_at, first_running_at FROM core.jobs").fetchall()
    jobs = {r[0]: r[1:] for r in rows}
    children = defaultdict(list)
    for job_id, (parent, *_) in jobs.items():
        if parent is not None:
            children[parent].append(job_id)
    segments: set[Segment] = set()

    def own(root: str, job: str, depth: int, start: datetime, end: datetime) -> None:
        running = jobs[job][3]
        for phase, a, b in (("queued", start, min(end, running or end)),
                            ("running", max(start, running or end), end)):
            if b > a:
                segments.add((root, job, depth, phase, a, b))

    def visit(root: str, job: str, depth: int, clip: datetime) -> None:
        t, taken = jobs[job][2], set()
        while True:
            done = sorted(c for c in children[job] if c not in taken and jobs[c][2] is not None
                          and jobs[c][2] >= jobs[c][1] and jobs[c][2] <= t)
            # Ends last; ties: the later start, then the smaller job_id (max keeps the first
            # of equals, and `done` is sorted by job_id).
            child = max(done, key=lambda c: (jobs[c][2], jobs[c][1]), default=None)
            if child is None or jobs[child][2] <= clip:
                own(root, job, depth, clip, t)
                return
            taken.add(child)
            own(root, job, depth, jobs[child][2], t)
            child_clip = max(jobs[child][1], clip)
            visit(root, child, depth + 1, child_clip)
            t = child_clip

    for job_id, (parent, start, end, _) in jobs.items():
        if (end is not None and end >= start and children[job_id]
                and (parent is None or parent not in jobs)):
            visit(job_id, job_id, 0, start)
    return segments


# -- A worked example (docs/trees.md) -----------------------------------------------------

PARSE_TREE = [
    _job("job_p", "parse", 0, 10, 500),
    _job("job_l", "legend_parse", 20, 25, 100, "job_p"),
    _job("job_s1", "symbol_match", 100, 150, 300, "job_p"),
    _job("job_s2", "symbol_match", 100, 110, 350, "job_p"),
    _job("job_s3", "symbol_match", 120, 130, 200, "job_p"),
    _job("job_a", "symbol_aggregate", 360, 370, 480, "job_p"),
]


def test_the_worked_example_walks_as_documented(con: duckdb.DuckDBPyConnection) -> None:
    _load(con, PARSE_TREE)
    rows = con.execute(
        "SELECT job_id, depth, phase, epoch(segment_start) - epoch(TIMESTAMPTZ '2026-01-01'),"
        " seconds, share, complete FROM marts.tree_critical_path"
        " ORDER BY segment_start").fetchall()
    assert [(job, depth, phase, start, seconds) for job, depth, phase, start, seconds, _, _
            in rows] == [
        ("job_p", 0, "queued", 0, 10), ("job_p", 0, "running", 10, 10),
        ("job_l", 1, "queued", 20, 5), ("job_l", 1, "running", 25, 75),
        ("job_s2", 1, "queued", 100, 10), ("job_s2", 1, "running", 110, 240),
        ("job_p", 0, "running", 350, 10),
        ("job_a", 1, "queued", 360, 10), ("job_a", 1, "running", 370, 110),
        ("job_p", 0, "running", 480, 20),
    ]
    assert sum(r[5] for r in rows) == pytest.approx(1.0)
    assert all(r[6] for r in rows)
    assert _mart(con) == reference_walk(con)
    shares = con.execute("SELECT job_type, phase, trees, rank, p50_share"
                         " FROM marts.tree_stage_shares ORDER BY rank").fetchall()
    assert shares[0] == ("symbol_match", "running", 1, 1, pytest.approx(240 / 500))
    assert con.execute(sql("checks", "critical_paths_sum_to_totals")).fetchall() == [(0,)]


def test_children_outside_the_parent_and_unfinished_ones(con: duckdb.DuckDBPyConnection) -> None:
    _load(con, [
        _job("job_r", "compare", 100, 110, 400),
        _job("job_late", "compare", 150, 160, 450, "job_r"),     # ends after its parent
        _job("job_early", "compare", 50, 60, 300, "job_r"),     # starts before its parent
        _job("job_g", "compare", 70, 80, 200, "job_early"),       # inside the clipped child
        _job("job_open_root", "parse", 0, 5, 90),
        _job("job_open", "legend_parse", 10, 20, None, "job_open_root"),
        _job("job_orphan", "parse", 0, 1, 50, "job_never_loaded"),
        _job("job_orphan_child", "legend_parse", 5, 6, 40, "job_orphan"),
    ])
    assert _mart(con) == reference_walk(con)
    complete = dict(con.execute("SELECT DISTINCT root_id, complete"
                                " FROM marts.tree_critical_path").fetchall())
    assert complete == {"job_r": True, "job_open_root": False, "job_orphan": False}
    # job_late is never on the path; job_early is walked from the root's start only.
    path = con.execute("SELECT job_id, min(segment_start), sum(seconds)"
                       " FROM marts.tree_critical_path WHERE root_id = 'job_r'"
                       " GROUP BY job_id").fetchall()
    assert {job: (start - T0).total_seconds() for job, start, _ in path} == {
        "job_r": 300.0, "job_early": 200.0, "job_g": 100.0}
    assert sum(s for _, _, s in path) == 300.0
    # Incomplete trees are left out of the shares.
    assert {r[0] for r in con.execute("SELECT root_type FROM marts.tree_stage_shares")
            .fetchall()} == {"compare"}


def test_the_simulators_trees_sum_to_their_totals(tmp_path: Path) -> None:
    with connect(tmp_path / "w.duckdb") as con:
        load(con, simulator_items(1500, adversarial=0.3))
        refresh_marts(con, now=FETCHED_AT)
        sums = con.execute(
            "SELECT p.root_id, sum(p.seconds), any_value(d.total_seconds)"
            " FROM marts.tree_critical_path AS p"
            " JOIN marts.job_durations AS d ON d.job_id = p.root_id GROUP BY p.root_id"
        ).fetchall()
        assert len(sums) > 50
        assert all(path == pytest.approx(total, abs=1e-6) for _, path, total in sums)
        assert _mart(con) == reference_walk(con)
        assert con.execute(sql("checks", "critical_paths_sum_to_totals")).fetchall() == [(0,)]


# -- Generated trees ----------------------------------------------------------------------

node = st.tuples(st.integers(0, 12), st.integers(0, 3), st.integers(0, 12),
                 st.sampled_from(["done", "done", "done", "open", "never_ran"]))


@st.composite
def forests(draw: st.DrawFn) -> list[dict]:
    """Up to 3 trees, 4 levels deep, up to 4 children each; small integer times so ties,
    zero-length jobs and overlaps are common; a child may start before or end after its
    parent."""
    bodies: list[dict] = []

    def grow(job_id: str, parent: str | None, level: int, base: int) -> None:
        offset, queued, length, state = draw(node)
        start = base + offset - 4
        end = start + queued + length
        bodies.append(_job(job_id, "parse" if level == 0 else f"stage_{level}", start,
                           None if state == "never_ran" else start + queued,
                           None if state == "open" else end, parent))
        if level < 3:
            for index in range(draw(st.integers(0 if level else 1, 4))):
                grow(f"{job_id}_{index}", job_id, level + 1, start)

    for tree in range(draw(st.integers(1, 3))):
        grow(f"job_{tree}", None, 0, 20)
    return bodies


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(forests())
def test_generated_trees_walk_as_defined(bodies: list[dict]) -> None:
    with tempfile.TemporaryDirectory() as tmp, connect(Path(tmp) / "w.duckdb") as con:
        _load(con, bodies)
        assert _mart(con) == reference_walk(con)
        totals = con.execute(
            "SELECT d.total_seconds, (SELECT coalesce(sum(seconds), 0)"
            "  FROM marts.tree_critical_path AS p WHERE p.root_id = d.job_id)"
            " FROM marts.job_durations AS d"
            " WHERE d.job_id IN (SELECT root_id FROM marts.tree_critical_path)").fetchall()
        assert all(path == pytest.approx(total, abs=1e-6) for total, path in totals)


def _simulated(tmp: Path, shift: str | None) -> list[tuple]:
    """The parse trees' stage ranking of the simulator's data (6,000 jobs), shifted or not."""
    config = DataConfig(jobs=6000, seed=4, shifts=(Shift.parse(shift),) if shift else ())
    _, jobs = generate(config)
    render = RenderConfig(shape="mixed", adversarial_share=0.0, seed=4)
    bodies = [(job.id, render_job(job, config.epoch, render)) for job in jobs]
    with connect(tmp / f"{shift or 'none'}.duckdb") as con:
        load(con, [loaded(job_id, body, wrap="id" in body) for job_id, body in bodies if body])
        refresh_marts(con, now=FETCHED_AT)
        return con.execute("SELECT job_type, phase FROM marts.tree_stage_shares"
                           " WHERE root_type = 'parse' ORDER BY rank").fetchall()


def test_a_queueing_shift_makes_its_stage_dominate_the_trees(tmp_path: Path) -> None:
    """`--shift symbol_match:queued:8` (from before all the data): symbol_match's queueing
    becomes the stage that dominates parse trees; without it, it ranks well below."""
    unshifted = _simulated(tmp_path, None)
    shifted = _simulated(tmp_path, "symbol_match:queued:8@1000h")
    assert shifted[0] == ("symbol_match", "queued")
    assert unshifted.index(("symbol_match", "queued")) >= 3
    assert unshifted[0] == ("symbol_match", "running")
