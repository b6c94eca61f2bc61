"""Terminal means finished: a terminal top-level status or last event ends a job (the
top-level first when both are terminal and disagree), it is never fetched again, and the
disagreement stays visible through the warning check; the client's rule agrees."""

from __future__ import annotations

import pytest

from pipelines.bedrock.records import parse_job
from tests.helpers import FETCHED_AT, load, loaded
from warehouse import ids_to_fetch, register_ids
from warehouse.db import sql
from warehouse.transform import refresh_marts

E0, E1, E2 = "2026-01-01T10:00:00Z", "2026-01-01T10:00:05Z", "2026-01-01T10:01:00Z"

# (top-level status, event statuses in time order) -> (status, is_terminal)
CASES = {
    "job_top_done_events_cut": ("COMPLETED", ["PENDING", "RUNNING"], "COMPLETED", True),
    "job_top_lags_event_failed": ("RUNNING", ["PENDING", "RUNNING", "FAILED"], "FAILED", True),
    "job_both_terminal_differ": ("COMPLETED", ["PENDING", "RUNNING", "FAILED"], "COMPLETED",
                                 True),
    "job_top_canceled_vision": ("Canceled", ["Queued"], "CANCELED", True),
    "job_in_flight": ("PENDING", ["PENDING", "RUNNING"], "RUNNING", False),
    "job_no_events_done": ("succeeded", [], "COMPLETED", True),
    "job_agree_done": ("COMPLETED", ["PENDING", "RUNNING", "COMPLETED"], "COMPLETED", True),
}


def _body(job_id: str, top: str, events: list[str]) -> dict:
    times = [E0, E1, E2][: len(events)]
    return {"id": job_id, "type": "compare", "status": top, "created_at": E0,
            "events": [{"status": s, "timestamp": t} for s, t in zip(events, times, strict=True)]}


@pytest.fixture
def loaded_cases(con):
    register_ids(con, list(CASES), "test", FETCHED_AT)
    load(con, [loaded(job_id, _body(job_id, top, events), wrap=True)
               for job_id, (top, events, _, _) in CASES.items()])
    return con


def test_status_and_terminal_follow_the_rule_both_ways(loaded_cases) -> None:
    rows = dict((r[0], (r[1], r[2])) for r in loaded_cases.execute(
        "SELECT job_id, status, is_terminal FROM core.jobs").fetchall())
    assert rows == {job_id: (status, terminal)
                    for job_id, (_, _, status, terminal) in CASES.items()}


def test_a_finished_job_is_never_fetched_again(loaded_cases) -> None:
    ledger = dict(loaded_cases.execute(
        "SELECT job_id, is_terminal FROM ops.job_ledger").fetchall())
    assert ledger == {job_id: case[3] for job_id, case in CASES.items()}
    assert ids_to_fetch(loaded_cases) == ["job_in_flight"]


def test_disagreements_stay_visible_in_the_warning_check(loaded_cases) -> None:
    failures = loaded_cases.execute(sql("checks", "status_disagrees")).fetchall()[0][0]
    # top done/events cut, top lags, both terminal but different, Vision canceled early,
    # in flight (PENDING vs RUNNING); not the job without events nor the agreeing one.
    assert failures == 5


def test_durations_the_events_do_not_hold_stay_unknown(loaded_cases) -> None:
    refresh_marts(loaded_cases, now=FETCHED_AT)
    row = loaded_cases.execute(
        "SELECT final_status, is_terminal, queued_seconds, total_seconds "
        "FROM marts.job_durations WHERE job_id = 'job_top_done_events_cut'").fetchall()
    assert row == [("COMPLETED", True, 5.0, None)]


@pytest.mark.parametrize("job_id", list(CASES))
def test_the_client_reads_the_same_rule(job_id: str) -> None:
    top, events, _, terminal = CASES[job_id]
    assert parse_job({"data": _body(job_id, top, events)}).is_terminal is terminal
