"""Contract: marts follow docs/data-dictionary.md (Wilson, percentiles, stuck thresholds, trees)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import duckdb
import pytest

from tests.helpers import load, loaded
from warehouse import refresh_marts

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def iso(seconds: float) -> str:
    return (T0 + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


def job(job_id: str, steps: list[tuple[str, float]], *, job_type: str = "compare",
        parent_id: str | None = None) -> dict:
    return {"id": job_id, "type": job_type, "status": steps[-1][0], "parent_id": parent_id,
            "created_at": iso(steps[0][1]),
            "events": [{"status": s, "timestamp": iso(t)} for s, t in steps]}


@pytest.fixture
def marts(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    jobs = [
        # Parent with three children: one completed, one failed, one canceled.
        job("job_P", [("PENDING", 0), ("RUNNING", 1), ("FAILED", 100)], job_type="parse"),
        job("job_1", [("PENDING", 2), ("RUNNING", 4), ("COMPLETED", 14)],
            job_type="legend_parse", parent_id="job_P"),
        job("job_2", [("PENDING", 3), ("RUNNING", 5), ("FAILED", 25)],
            job_type="legend_parse", parent_id="job_P"),
        job("job_3", [("PENDING", 4), ("CANCELED", 50)],
            job_type="legend_parse", parent_id="job_P"),
        # compare: queued 1, 2, 3, 4 s; one failure of four finished.
        job("job_c1", [("PENDING", 0), ("RUNNING", 1), ("COMPLETED", 11)]),
        job("job_c2", [("PENDING", 0), ("RUNNING", 2), ("COMPLETED", 22)]),
        job("job_c3", [("PENDING", 0), ("RUNNING", 3), ("COMPLETED", 33)]),
        job("job_c4", [("PENDING", 0), ("RUNNING", 4), ("FAILED", 44)]),
        # Open compare jobs, measured at T0 + 1000 s.
        job("job_o1", [("PENDING", 0), ("RUNNING", 900)]),  # running 100 s
        job("job_o2", [("PENDING", 0), ("RUNNING", 10)]),  # running 990 s
        job("job_o3", [("PENDING", 500)]),  # pending 500 s
        job("job_o4", [("PENDING", 0), ("RUNNING", 5), ("RUNNING", 400)]),  # since 5: 995 s
    ]
    load(con, [loaded(j["id"], j, wrap=True) for j in jobs])
    refresh_marts(con, now=T0 + timedelta(seconds=1000), stuck_floor_seconds=600)
    return con


def test_failure_rates_with_wilson_interval(marts: duckdb.DuckDBPyConnection) -> None:
    row = marts.execute(
        "SELECT day, jobs, completed, failed, canceled, failure_rate, failure_rate_ci_low,"
        " failure_rate_ci_high FROM marts.failure_rates WHERE job_type = 'compare'").fetchone()
    # Wilson 95% for 1 of 4: [0.0456, 0.6994].
    assert row[:6] == (T0.date(), 8, 3, 1, 0, 0.25)
    assert row[6] == pytest.approx(0.04558, abs=1e-4)
    assert row[7] == pytest.approx(0.69936, abs=1e-4)
    row = marts.execute("SELECT jobs, failure_rate, failure_rate_ci_low FROM marts.failure_rates"
                        " WHERE job_type = 'legend_parse'").fetchone()
    # 1 failed of 3 finished (canceled counts in the denominator): [0.0615, 0.7923].
    assert row[0] == 3 and row[1] == pytest.approx(1 / 3)
    assert row[2] == pytest.approx(0.06149, abs=1e-4)


def test_duration_stats_percentiles(marts: duckdb.DuckDBPyConnection) -> None:
    queued = marts.execute(
        "SELECT n, mean_seconds, p50_seconds, p90_seconds, p95_seconds, p99_seconds, max_seconds"
        " FROM marts.duration_stats WHERE job_type = 'compare' AND phase = 'queued'").fetchone()
    # Queued of c1..c4 (1, 2, 3, 4) and the open jobs that ran (900, 10, 5); o3 never ran.
    values = sorted([1, 2, 3, 4, 900, 10, 5])
    assert queued[0] == 7 and queued[6] == 900
    assert queued[2] == pytest.approx(4.0)  # median of 7 values
    assert queued[3] == pytest.approx(10 + 0.4 * (900 - 10))  # interpolated, rank 5.4
    assert queued[1] == pytest.approx(sum(values) / 7)
    total = marts.execute("SELECT n, p50_seconds FROM marts.duration_stats"
                          " WHERE job_type = 'compare' AND phase = 'total'").fetchone()
    assert total == (4, pytest.approx(27.5))  # 11, 22, 33, 44


def test_transition_matrix(marts: duckdb.DuckDBPyConnection) -> None:
    row = marts.execute(
        "SELECT n, mean_seconds, p50_seconds FROM marts.transition_matrix"
        " WHERE from_status = 'RUNNING' AND to_status = 'COMPLETED'").fetchone()
    assert row == (4, pytest.approx(70 / 4), pytest.approx(15.0))  # 10, 10, 20, 30
    assert marts.execute("SELECT n FROM marts.transition_matrix WHERE from_status = 'RUNNING'"
                         " AND to_status = 'RUNNING'").fetchone() == (1,)


def test_stuck_jobs_threshold_from_history_with_floor(marts: duckdb.DuckDBPyConnection) -> None:
    rows = marts.execute(
        "SELECT job_id, status, status_since, age_seconds, threshold_seconds"
        " FROM marts.stuck_jobs ORDER BY job_id").fetchall()
    # compare RUNNING history (terminal jobs): 10, 20, 30, 40 s -> p99 40.3 s < floor 600.
    assert rows == [
        ("job_o2", "RUNNING", T0 + timedelta(seconds=10), 990.0, 600.0),
        ("job_o4", "RUNNING", T0 + timedelta(seconds=5), 995.0, 600.0),
    ]


def test_stuck_threshold_above_floor(con: duckdb.DuckDBPyConnection) -> None:
    slow = [job(f"job_s{i}", [("PENDING", 0), ("RUNNING", 1), ("COMPLETED", 1 + 100 * i)])
            for i in range(1, 11)]
    open_job = job("job_open", [("PENDING", 0), ("RUNNING", 1)])
    load(con, [loaded(j["id"], j, wrap=True) for j in [*slow, open_job]])
    refresh_marts(con, now=T0 + timedelta(seconds=991), stuck_floor_seconds=60)
    assert con.execute("SELECT count(*) FROM marts.stuck_jobs").fetchone()[0] == 0
    refresh_marts(con, now=T0 + timedelta(seconds=1001), stuck_floor_seconds=60)
    # p99 of 100..1000 = 991; aged 1000 s.
    assert con.execute("SELECT job_id, threshold_seconds FROM marts.stuck_jobs").fetchall() == [
        ("job_open", pytest.approx(991.0))]


def test_job_trees(marts: duckdb.DuckDBPyConnection) -> None:
    assert marts.execute("SELECT * FROM marts.job_trees").fetchall() == [
        ("job_P", "parse", 3, 1, 1, 100.0, 48.0)]  # children from 2 s to 50 s
