"""Contract: rules a mutation check found unguarded (spellings, dedupe, p95, runs, totals, trees)"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import duckdb
import pytest

from tests.helpers import load, loaded
from warehouse import refresh_marts

T0 = datetime(2026, 1, 1, tzinfo=UTC)

# Every spelling the contract maps (docs/api-contract.md, "Statuses and terminal states").
CANONICAL = {
    "pending": "PENDING", "queued": "PENDING",
    "running": "RUNNING", "started": "RUNNING",
    "completed": "COMPLETED", "succeeded": "COMPLETED",
    "failed": "FAILED", "error": "FAILED",
    "canceled": "CANCELED", "cancelled": "CANCELED",
}


def casings(word: str) -> list[str]:
    """lower, UPPER, Title, aLtErNaTiNg and padded: every casing the mapping must accept."""
    alternating = "".join(c.upper() if i % 2 else c for i, c in enumerate(word))
    return sorted({word, word.upper(), word.title(), alternating, alternating.swapcase(),
                   f"  {word.title()} "})


SPELLINGS = [(spelling, canonical) for word, canonical in CANONICAL.items()
             for spelling in casings(word)]


def iso(seconds: float) -> str:
    return (T0 + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


def job(job_id: str, steps: list[tuple[str, float]], **fields) -> dict:
    body = {"id": job_id, "type": "compare", "status": steps[-1][0] if steps else "PENDING",
            "created_at": iso(0), "events": [{"status": s, "timestamp": iso(t)} for s, t in steps]}
    return {**body, **fields}


def test_every_alternative_spelling_in_every_casing_is_canonical_in_core(
        con: duckdb.DuckDBPyConnection) -> None:
    with_events = [job(f"job_e{i}", [(spelling, 10)]) for i, (spelling, _) in enumerate(SPELLINGS)]
    top_level_only = [job(f"job_t{i}", [], status=spelling, events=None)
                      for i, (spelling, _) in enumerate(SPELLINGS)]
    load(con, [loaded(j["id"], j, wrap=True) for j in with_events + top_level_only])
    events = dict(con.execute(
        "SELECT job_id, list(status) FROM core.job_events GROUP BY job_id").fetchall())
    tops = dict(con.execute(
        "SELECT job_id, reported_status FROM core.jobs WHERE job_id LIKE 'job_t%'").fetchall())
    statuses = dict(con.execute("SELECT job_id, status FROM core.jobs").fetchall())
    for i, (spelling, canonical) in enumerate(SPELLINGS):
        assert events[f"job_e{i}"] == [canonical], spelling
        assert statuses[f"job_e{i}"] == canonical, spelling
        assert tops[f"job_t{i}"] == canonical, spelling
        assert statuses[f"job_t{i}"] == canonical, spelling


def test_events_already_in_time_order_still_lose_exact_duplicates(
        con: duckdb.DuckDBPyConnection) -> None:
    in_order = job("job_d", [("PENDING", 0), ("RUNNING", 5), ("RUNNING", 5), ("COMPLETED", 9)])
    # The same instant written with an offset is the same event.
    in_order["events"][2]["timestamp"] = (T0 + timedelta(seconds=5)).astimezone(
        timezone(timedelta(hours=2))).isoformat()
    load(con, [loaded("job_d", in_order, wrap=True)])
    assert con.execute("SELECT list(status ORDER BY event_seq) FROM core.job_events").fetchone() \
        == (["PENDING", "RUNNING", "COMPLETED"],)
    assert con.execute("SELECT n_events FROM core.jobs").fetchone() == (3,)
    assert con.execute("SELECT count(*) FROM core.job_status_transitions").fetchone() == (2,)


def test_p95_and_p99_are_interpolated_at_their_own_ranks(con: duckdb.DuckDBPyConnection) -> None:
    queued = [1, 2, 3, 4, 5, 10, 900]
    load(con, [loaded(f"job_q{i}", job(f"job_q{i}", [("PENDING", 0), ("RUNNING", q),
                                                       ("COMPLETED", q + 1)]), wrap=True)
               for i, q in enumerate(queued)])
    refresh_marts(con, now=T0 + timedelta(days=1))
    p90, p95, p99 = con.execute(
        "SELECT p90_seconds, p95_seconds, p99_seconds FROM marts.duration_stats"
        " WHERE phase = 'queued'").fetchone()
    # quantile_cont over 7 sorted values: rank q * 6 between neighbours.
    assert p90 == pytest.approx(10 + 0.4 * 890)   # rank 5.4
    assert p95 == pytest.approx(10 + 0.7 * 890)   # rank 5.7
    assert p99 == pytest.approx(10 + 0.94 * 890)  # rank 5.94


def test_run_attempts_count_entries_into_running_not_running_events(
        con: duckdb.DuckDBPyConnection) -> None:
    jobs = [
        job("job_rr", [("PENDING", 0), ("RUNNING", 1), ("RUNNING", 2), ("RUNNING", 3),
                       ("COMPLETED", 4)]),
        job("job_rq", [("PENDING", 0), ("RUNNING", 1), ("RUNNING", 2), ("PENDING", 3),
                       ("RUNNING", 4), ("COMPLETED", 5)]),
    ]
    load(con, [loaded(j["id"], j, wrap=True) for j in jobs])
    refresh_marts(con, now=T0 + timedelta(days=1))
    assert dict(con.execute("SELECT job_id, run_attempts FROM core.jobs").fetchall()) == {
        "job_rr": 1, "job_rq": 2}
    assert dict(con.execute("SELECT job_id, run_attempts FROM marts.job_durations").fetchall()) \
        == {"job_rr": 1, "job_rq": 2}


def test_total_without_events_takes_completed_at_over_updated_at(
        con: duckdb.DuckDBPyConnection) -> None:
    both = job("job_b", [], status="COMPLETED", events=[], completed_at=iso(50),
               updated_at=iso(100))
    updated_only = job("job_u", [], status="FAILED", events=None, updated_at=iso(70))
    load(con, [loaded(j["id"], j, wrap=True) for j in (both, updated_only)])
    refresh_marts(con, now=T0 + timedelta(days=1))
    assert dict(con.execute("SELECT job_id, total_seconds FROM marts.job_durations").fetchall()) \
        == {"job_b": 50.0, "job_u": 70.0}


def test_job_tree_span_waits_for_every_child(con: duckdb.DuckDBPyConnection) -> None:
    jobs = [
        job("job_P", [("PENDING", 0), ("RUNNING", 1)], type="parse"),
        job("job_1", [("PENDING", 2), ("RUNNING", 3), ("COMPLETED", 10)], parent_id="job_P"),
        job("job_2", [("PENDING", 4), ("RUNNING", 5)], parent_id="job_P"),  # still running
        job("job_Q", [("PENDING", 0), ("RUNNING", 1), ("COMPLETED", 40)], type="parse"),
        job("job_3", [("PENDING", 2), ("RUNNING", 3), ("COMPLETED", 30)], parent_id="job_Q"),
    ]
    load(con, [loaded(j["id"], j, wrap=True) for j in jobs])
    refresh_marts(con, now=T0 + timedelta(days=1))
    spans = dict(con.execute(
        "SELECT parent_id, children_span_seconds FROM marts.job_trees").fetchall())
    assert spans == {"job_P": None, "job_Q": 28.0}
