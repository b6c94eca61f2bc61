"""A job's end and its durations (docs/api-contract.md, "A job's end and its durations"):
retried failures, cut-off events and open jobs, on real histories; no duration is ever
negative, queued and running never exceed total; an upgraded warehouse gets the same end."""

from __future__ import annotations

import random
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.helpers import FETCHED_AT, load, loaded
from warehouse import connect, rebuild_from_raw, refresh_marts

T0 = datetime(2026, 1, 1, tzinfo=UTC)
TERMINAL = {"COMPLETED", "FAILED", "CANCELED"}


def _at(seconds: float | None) -> str | None:
    return None if seconds is None else (T0 + timedelta(seconds=seconds)).isoformat()


def _body(job_id: str, top: str, events: list[tuple[str, float]], *,
          completed: float | None = None, updated: float | None = None,
          created: float = 0.0) -> dict:
    return {"id": job_id, "type": "compare", "status": top, "created_at": _at(created),
            "completed_at": _at(completed), "updated_at": _at(updated),
            "events": [{"status": s, "timestamp": _at(t)} for s, t in events]}


def _durations(con: duckdb.DuckDBPyConnection) -> dict[str, dict]:
    refresh_marts(con, now=FETCHED_AT)
    cursor = con.execute("SELECT * FROM marts.job_durations")
    columns = [d[0] for d in cursor.description]
    return {row[0]: dict(zip(columns, row, strict=True)) for row in cursor.fetchall()}


M = 60.0
# job_id -> (top-level status, events, completed_at, updated_at) and what the definition
# gives: (end in seconds after T0, queued, running, total, failed_attempts, run_attempts).
# Each expectation differs from the old rule's (the end at the first terminal event).
CASES = {
    # Failed an attempt, run again, completed: it took 600 s, running from 2:00.
    "job_retried_then_done": (
        "COMPLETED", [("PENDING", 0), ("RUNNING", 2 * M), ("FAILED", 5 * M),
                      ("RUNNING", 6 * M), ("COMPLETED", 10 * M)], None, None,
        (10 * M, 2 * M, 8 * M, 10 * M, 1, 2)),
    # Still running after a failed attempt: open, so no end, no running or total time.
    "job_open_after_failure": (
        "RUNNING", [("PENDING", 0), ("RUNNING", 1 * M), ("FAILED", 3 * M),
                    ("PENDING", 4 * M), ("RUNNING", 5 * M)], None, 5 * M,
        (None, 1 * M, None, None, 1, 2)),
    # FAILED then RUNNING (cut off): the end is updated_at, never before the last event.
    "job_failed_then_running": (
        "FAILED", [("FAILED", 1), ("RUNNING", 5)], None, 8,
        (8, 4, 3, 7, 1, 1)),
    "job_failed_then_running_updated_early": (
        "FAILED", [("FAILED", 1), ("RUNNING", 5)], None, 3,
        (5, 4, 0, 4, 1, 1)),
    # Completed, then a RUNNING event after it: cut off, so completed_at (Vision) stands.
    "job_done_then_running_cut": (
        "COMPLETED", [("PENDING", 0), ("RUNNING", 10), ("COMPLETED", 50), ("RUNNING", 60)],
        90, 95, (90, 10, 80, 90, 0, 2)),
    # Two failures retried, then failed for good: ends at its last FAILED.
    "job_failed_for_good": (
        "FAILED", [("PENDING", 0), ("RUNNING", 10), ("FAILED", 20), ("RUNNING", 30),
                   ("FAILED", 40), ("PENDING", 41), ("RUNNING", 50), ("FAILED", 70)],
        None, None, (70, 10, 60, 70, 2, 3)),
}


@pytest.fixture
def cases(con: duckdb.DuckDBPyConnection) -> dict[str, dict]:
    load(con, [loaded(job_id, _body(job_id, top, events, completed=completed, updated=updated),
                      wrap=True)
               for job_id, (top, events, completed, updated, _) in CASES.items()])
    return _durations(con)


@pytest.mark.parametrize("job_id", list(CASES))
def test_each_history_ends_where_the_definition_says(cases: dict, job_id: str) -> None:
    end, queued, running, total, failed_attempts, run_attempts = CASES[job_id][-1]
    row = cases[job_id]
    assert row["terminal_at"] == (None if end is None else T0 + timedelta(seconds=end))
    assert (row["queued_seconds"], row["running_seconds"], row["total_seconds"]) == (
        queued, running, total)
    assert (row["failed_attempts"], row["run_attempts"]) == (failed_attempts, run_attempts)


def test_a_job_without_events_or_with_contradicting_times_has_no_negative_total(
        con: duckdb.DuckDBPyConnection) -> None:
    load(con, [loaded("job_vision_done", _body("job_vision_done", "COMPLETED", [],
                                               completed=300, created=100), wrap=False),
               loaded("job_done_before_created",
                      _body("job_done_before_created", "COMPLETED", [], completed=50,
                            created=100), wrap=False),
               loaded("job_cut_no_times", _body("job_cut_no_times", "COMPLETED",
                                                [("PENDING", 0), ("RUNNING", 5)]), wrap=True)])
    rows = _durations(con)
    assert rows["job_vision_done"]["total_seconds"] == 200
    # completed_at before created_at: the end is known, the total is not.
    assert rows["job_done_before_created"]["terminal_at"] == T0 + timedelta(seconds=50)
    assert rows["job_done_before_created"]["total_seconds"] is None
    # Events cut off and no completed_at/updated_at: the end is unknown, not the last event.
    assert rows["job_cut_no_times"]["terminal_at"] is None
    assert rows["job_cut_no_times"]["queued_seconds"] == 5


def test_trees_end_their_children_by_the_same_definition(con: duckdb.DuckDBPyConnection) -> None:
    parent = _body("job_parent", "COMPLETED", [("PENDING", 0), ("RUNNING", 1),
                                               ("COMPLETED", 700)])
    child = CASES["job_retried_then_done"]
    child_body = _body("job_child", child[0], child[1], updated=child[3]) | {
        "parent_id": "job_parent"}
    load(con, [loaded("job_parent", parent, wrap=True), loaded("job_child", child_body, wrap=True)])
    refresh_marts(con, now=FETCHED_AT)
    assert con.execute("SELECT children_span_seconds FROM marts.job_trees").fetchall() == [
        (600.0,)]


# -- The invariants, over generated histories ---------------------------------------------

def _reference_end(top: str, events: list[tuple[str, float]], completed: float | None,
                   updated: float | None) -> float | None:
    """The definition, written plainly over deduplicated events in time order."""
    terminal = top in TERMINAL or bool(events and events[-1][0] in TERMINAL)
    if not terminal:
        return None
    reported = completed if completed is not None else updated
    if not events:
        return reported
    last = max((i for i, (s, _) in enumerate(events) if s in TERMINAL), default=None)
    if last is not None and not any(s in ("PENDING", "RUNNING") for s, _ in events[last + 1:]):
        return events[last][1]
    return None if reported is None else max(reported, events[-1][1])


STATUSES = ["PENDING", "RUNNING", "FAILED", "COMPLETED", "CANCELED"]
attempt = st.lists(st.sampled_from(["PENDING", "RUNNING"]), min_size=1, max_size=3)
history = st.builds(
    lambda attempts, outcome, gaps, mangle, seed, top, reported: (
        attempts, outcome, gaps, mangle, seed, top, reported),
    st.lists(attempt, min_size=1, max_size=4),            # attempts, each ending FAILED
    st.sampled_from(["COMPLETED", "FAILED", "CANCELED", None]),  # the last attempt's outcome
    st.lists(st.integers(0, 400), min_size=20, max_size=20),  # seconds between events
    st.sampled_from(["none", "shuffle", "duplicate", "truncate", "truncate_shuffle"]),
    st.integers(0, 10_000),
    st.sampled_from(["same", *STATUSES]),                  # the top-level status
    st.sampled_from(["none", "completed", "updated", "early", "late"]),
)


def _events_of(attempts: list, outcome: str | None, gaps: list[int], mangle: str,
               seed: int) -> list[tuple[str, float]]:
    statuses = [s for i, a in enumerate(attempts)
                for s in a + (["FAILED"] if i < len(attempts) - 1 else [])]
    statuses += [outcome] if outcome else []
    t, events = 0.0, []
    for status, gap in zip(statuses, gaps * 3, strict=False):
        t += gap
        events.append((status, t))
    rng = random.Random(seed)
    if "truncate" in mangle and events:
        events = events[: rng.randrange(len(events) + 1)]
    if mangle == "duplicate" and events:
        events.insert(rng.randrange(len(events)), rng.choice(events))
    if "shuffle" in mangle:
        rng.shuffle(events)
    return events


def _reported(kind: str, events: list[tuple[str, float]]) -> tuple[float | None, float | None]:
    last = max((t for _, t in events), default=0.0)
    return {"none": (None, None), "completed": (last + 30, last + 40),
            "updated": (None, last + 20), "early": (None, max(last - 50, 0)),
            "late": (last + 900, None)}[kind]


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(history, min_size=1, max_size=15))
def test_durations_hold_the_invariants_on_generated_histories(drawn: list) -> None:
    expected, orders, items = {}, {}, []
    for index, (attempts, outcome, gaps, mangle, seed, top, kind) in enumerate(drawn):
        job_id = f"job_{index}"
        events = _events_of(attempts, outcome, gaps, mangle, seed)
        completed, updated = _reported(kind, events)
        top_status = (events[-1][0] if events else "PENDING") if top == "same" else top
        ordered = sorted(dict.fromkeys(events), key=lambda e: e[1])  # time, then array order
        expected[job_id] = _reference_end(top_status, ordered, completed, updated)
        orders[job_id] = ordered
        items.append(loaded(job_id, _body(job_id, top_status, events, completed=completed,
                                          updated=updated), wrap=True))
    with tempfile.TemporaryDirectory() as tmp, connect(Path(tmp) / "w.duckdb") as con:
        load(con, items)
        rows = _durations(con)
        for job_id, end in expected.items():
            row = rows[job_id]
            assert row["terminal_at"] == (None if end is None else T0 + timedelta(seconds=end))
            queued, running, total = (row["queued_seconds"], row["running_seconds"],
                                      row["total_seconds"])
            assert all(v is None or v >= 0 for v in (queued, running, total)), row
            if total is not None:
                assert queued is None or queued <= total, row
                assert running is None or running <= total, row
            if not row["is_terminal"]:
                assert (row["terminal_at"], running, total) == (None, None, None), row
            statuses = [s for s, _ in orders[job_id]]
            last_running = max((i for i, s in enumerate(statuses) if s == "RUNNING"), default=0)
            assert row["failed_attempts"] == statuses[:last_running].count("FAILED"), row
        incremental = con.execute("SELECT * FROM core.jobs ORDER BY job_id").fetchall()
        rebuild_from_raw(con)
        assert con.execute("SELECT * FROM core.jobs ORDER BY job_id").fetchall() == incremental


def test_an_upgraded_warehouse_gets_the_same_end(wh_path: Path) -> None:
    """Schema 10 fills the end of the jobs already in core with the same macros."""
    items = [loaded(job_id, _body(job_id, top, events, completed=completed, updated=updated),
                    wrap=True)
             for job_id, (top, events, completed, updated, _) in CASES.items()]
    items.append(loaded("job_vision_done", _body("job_vision_done", "COMPLETED", [],
                                                 completed=300, created=100)))
    query = "SELECT job_id, terminal_at, failed_attempts FROM core.jobs ORDER BY job_id"
    with connect(wh_path) as con:
        load(con, items)
        derived = con.execute(query).fetchall()
        # The warehouse as schema 9 left it: no end, no failed attempts.
        con.execute("ALTER TABLE core.jobs DROP COLUMN terminal_at")
        con.execute("ALTER TABLE core.jobs DROP COLUMN failed_attempts")
        con.execute("ALTER TABLE core.jobs ADD COLUMN terminal_event_at TIMESTAMPTZ")
        con.execute("ALTER TABLE marts.job_durations DROP COLUMN failed_attempts")
        con.execute("DELETE FROM ops.schema_version WHERE version = 10")
    with connect(wh_path) as con:
        assert con.execute(query).fetchall() == derived
        assert any(end is not None for _, end, _ in derived)
