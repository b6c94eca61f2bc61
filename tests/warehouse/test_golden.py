"""Contract: messy payloads of both shapes and quarantine give hand-computed core rows."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import duckdb
import pytest

from tests.helpers import load, loaded, table
from warehouse import refresh_marts

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


# Unsorted, duplicated (same canonical status and instant, written differently), alternative
# spellings, +02:00 offset with fractions, re-queued, top-level status lagging the events.
JOB_A = {
    "id": "job_A", "organization_id": "org_1", "project_id": "prj_1", "type": "compare",
    "status": "RUNNING", "target_type": "Block", "target_id": "blk_A", "parent_id": None,
    "payload": {"type": "Block", "old_id": "blk_1", "new_id": "blk_2"},
    "events": [
        {"status": "RUNNING", "timestamp": "2026-01-01T00:00:02Z"},
        {"status": "queued", "timestamp": "2026-01-01T02:00:00.500+02:00"},
        {"status": "PENDING", "timestamp": "2026-01-01T00:00:00.5Z"},
        {"status": "Started", "timestamp": "2026-01-01T00:00:02Z"},
        {"status": "PENDING", "timestamp": "2026-01-01T00:00:10Z"},
        {"status": "running", "timestamp": "2026-01-01T00:00:12Z"},
        {"status": "Succeeded", "timestamp": "2026-01-01T00:01:00Z"},
    ],
    "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:01:00Z",
}
# Vision shape, events null: durations from created_at/completed_at.
JOB_B = {
    "job_id": "job_B", "project_id": "prj_1", "type": "compare", "status": "Completed",
    "target": {"type": "block", "id": "blk_B"}, "parent_id": "job_A", "events": None,
    "results": {"overlay": {"score": 0.8}},
    "created_at": "2026-01-01T00:00:00Z", "completed_at": "2026-01-01T00:01:30Z",
}
# CMS, events [], failed with an error object: total from updated_at.
JOB_C = {
    "id": "job_C", "project_id": "prj_1", "type": "parse", "status": "FAILED",
    "parent_id": "job_A", "events": [],
    "error": {"code": "PROCESSING_ERROR", "message": "Vectorization failed on page 3"},
    "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:30Z",
}
# Vision, events missing, still running: nothing known but the status.
JOB_D = {"job_id": "job_D", "type": "parse", "status": "Started",
         "created_at": "2026-01-01T00:00:00Z"}
# An unknown spelling is kept trimmed and upper-cased; ties keep array order.
JOB_E = {
    "id": "job_E", "type": "parse", "status": "FAILED",
    "events": [
        {"status": "error", "timestamp": "2026-01-01T00:00:20Z"},
        {"status": "PENDING", "timestamp": "2026-01-01T00:00:00Z"},
        {"status": " paused ", "timestamp": "2026-01-01T00:00:00Z"},
        {"status": "RUNNING", "timestamp": "2026-01-01T00:00:10Z"},
    ],
    "created_at": "2026-01-01T00:00:00Z",
}
QUARANTINED = {
    "job_Q1": ('{"data": {"status": "RUNNING", "events": []}}', "payload has no id or job_id"),
    "job_Q2": (json.dumps({"data": {"id": "job_Q2", "events": {"status": "PENDING"}}}),
               "events is not a list (object)"),
    "job_Q3": (json.dumps({"job_id": "job_Q3", "events": [
        {"status": "PENDING", "timestamp": "2026-01-01T00:00:00Z"},
        {"status": "RUNNING", "timestamp": "yesterday"}]}),
        "unparseable event timestamp: yesterday"),
    "job_Q4": ('{"data": {"id": "job_Q4", "events": [', "payload is not valid JSON"),
    "job_Q5": (json.dumps({"id": "job_Q5", "created_at": "soon"}), "unparseable created_at: soon"),
    "job_Q6": ("[1, 2]", "payload is not a JSON object"),
}


@pytest.fixture
def golden(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    items = [loaded("job_A", JOB_A, wrap=True), loaded("job_B", JOB_B),
             loaded("job_C", JOB_C, wrap=True), loaded("job_D", JOB_D),
             loaded("job_E", JOB_E, wrap=True)]
    items += [loaded(job_id, text) for job_id, (text, _) in QUARANTINED.items()]
    summary = load(con, items)
    assert (summary.payloads_stored, summary.quarantined) == (11, 6)
    assert con.execute("SELECT count(*) FROM core.jobs").fetchone() == (5,)
    refresh_marts(con, now=at(3600))
    return con


def test_events_sorted_deduplicated_canonical(golden: duckdb.DuckDBPyConnection) -> None:
    assert table(golden, "core.job_events", "job_id, event_seq") == [
        ("job_A", 0, "PENDING", "queued", at(0.5)),
        ("job_A", 1, "RUNNING", "RUNNING", at(2)),
        ("job_A", 2, "PENDING", "PENDING", at(10)),
        ("job_A", 3, "RUNNING", "running", at(12)),
        ("job_A", 4, "COMPLETED", "Succeeded", at(60)),
        ("job_E", 0, "PENDING", "PENDING", at(0)),
        ("job_E", 1, "PAUSED", " paused ", at(0)),
        ("job_E", 2, "RUNNING", "RUNNING", at(10)),
        ("job_E", 3, "FAILED", "error", at(20)),
    ]


def test_transitions(golden: duckdb.DuckDBPyConnection) -> None:
    assert table(golden, "core.job_status_transitions", "job_id, transition_seq") == [
        ("job_A", 0, "PENDING", "RUNNING", at(0.5), at(2), 1.5),
        ("job_A", 1, "RUNNING", "PENDING", at(2), at(10), 8.0),
        ("job_A", 2, "PENDING", "RUNNING", at(10), at(12), 2.0),
        ("job_A", 3, "RUNNING", "COMPLETED", at(12), at(60), 48.0),
        ("job_E", 0, "PENDING", "PAUSED", at(0), at(0), 0.0),
        ("job_E", 1, "PAUSED", "RUNNING", at(0), at(10), 10.0),
        ("job_E", 2, "RUNNING", "FAILED", at(10), at(20), 10.0),
    ]


def test_jobs_from_both_shapes(golden: duckdb.DuckDBPyConnection) -> None:
    rows = golden.execute(
        "SELECT job_id, job_type, status, status_raw, reported_status, target_type, target_id,"
        " parent_id, created_at, updated_at, completed_at, is_terminal, error_code,"
        " error_message, payload_shape, payload->>'$.new_id' FROM core.jobs ORDER BY job_id"
    ).fetchall()
    assert rows == [
        ("job_A", "compare", "COMPLETED", "Succeeded", "RUNNING", "Block", "blk_A", None,
         at(0), at(60), None, True, None, None, "cms", "blk_2"),
        ("job_B", "compare", "COMPLETED", "Completed", "COMPLETED", "block", "blk_B", "job_A",
         at(0), None, at(90), True, None, None, "vision", None),
        ("job_C", "parse", "FAILED", "FAILED", "FAILED", None, None, "job_A",
         at(0), at(30), None, True, "PROCESSING_ERROR", "Vectorization failed on page 3",
         "cms", None),
        ("job_D", "parse", "RUNNING", "Started", "RUNNING", None, None, None,
         at(0), None, None, False, None, None, "vision", None),
        ("job_E", "parse", "FAILED", "error", "FAILED", None, None, None,
         at(0), None, None, True, None, None, "cms", None),
    ]


def test_job_durations(golden: duckdb.DuckDBPyConnection) -> None:
    rows = golden.execute(
        "SELECT job_id, final_status, is_terminal, queued_seconds, running_seconds,"
        " total_seconds, run_attempts, n_events FROM marts.job_durations ORDER BY job_id"
    ).fetchall()
    assert rows == [
        ("job_A", "COMPLETED", True, 1.5, 58.0, 59.5, 2, 5),
        ("job_B", "COMPLETED", True, None, None, 90.0, 0, 0),
        ("job_C", "FAILED", True, None, None, 30.0, 0, 0),
        ("job_D", "RUNNING", False, None, None, None, 0, 0),
        ("job_E", "FAILED", True, 10.0, 10.0, 20.0, 1, 4),
    ]


def test_quarantine_keeps_raw_and_reason(golden: duckdb.DuckDBPyConnection) -> None:
    ledger = golden.execute(
        "SELECT job_id, outcome, error_detail, is_terminal FROM ops.job_ledger"
        " WHERE job_id LIKE 'job_Q%' ORDER BY job_id").fetchall()
    assert ledger == [(job_id, "quarantined", reason, False)
                      for job_id, (_, reason) in sorted(QUARANTINED.items())]
    raw = golden.execute(
        "SELECT job_id, coalesce(payload::VARCHAR, payload_text), quarantine_reason"
        " FROM raw.job_payloads WHERE job_id LIKE 'job_Q%' ORDER BY job_id").fetchall()
    assert raw == [(job_id, text, reason)
                   for job_id, (text, reason) in sorted(QUARANTINED.items())]
    assert golden.execute("SELECT count(*) FROM core.jobs WHERE job_id LIKE 'job_Q%'"
                          ).fetchone()[0] == 0


def test_quarantined_refetch_keeps_last_good_state(golden: duckdb.DuckDBPyConnection) -> None:
    before = table(golden, "core.jobs", "job_id")
    load(golden, [loaded("job_A", '{"data": {"id": "job_A", "events": 3}}')])
    assert table(golden, "core.jobs", "job_id") == before
    assert golden.execute("SELECT outcome, attempts FROM ops.job_ledger WHERE job_id = 'job_A'"
                          ).fetchone() == ("quarantined", 2)


def test_unknown_statuses_view(golden: duckdb.DuckDBPyConnection) -> None:
    assert golden.execute("SELECT * FROM core.unknown_statuses").fetchall() == [
        ("PAUSED", " paused ", 1)]
