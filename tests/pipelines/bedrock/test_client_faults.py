"""Contract: transient faults are retried within bounds; every fetchable ID loads exactly once."""

from __future__ import annotations

import socket
import time

import pytest

from pipelines.bedrock import Outcome, RetriesExhaustedError
from pipelines.simulator import DataConfig, FaultConfig, RateLimitConfig
from tests.helpers import Canned, home_ids

NO_LIMIT = RateLimitConfig(enabled=False)


def test_fault_mix_loads_every_id_exactly_once(make_simulator, make_client) -> None:
    faults = FaultConfig(seed=11, error_rate=0.10, drop_rate=0.05, slow_rate=0.03,
                         slow_seconds=1.5, malformed_rate=0.06)
    sim = make_simulator(DataConfig(jobs=400), faults=faults, rate_limit=NO_LIMIT)
    ids = home_ids(sim)[:200]
    stream = make_client(sim, workers=16, read_timeout=0.5, max_attempts=12).fetch_jobs(ids)
    results = list(stream)

    assert sorted(r.job_id for r in results) == sorted(ids)  # one result per ID
    assert {r.outcome for r in results} == {Outcome.LOADED}, [
        (r.job_id, r.error_detail) for r in results if r.outcome is not Outcome.LOADED]
    assert all(r.record is not None and r.record.job_id == r.job_id for r in results)
    served = sim.stats_snapshot()
    faulty_200s = sum(served["faults"].get(k, 0) for k in ("drop", "slow", "malformed"))
    # Exactly one clean 200 per ID: nothing was fetched successfully twice.
    assert served["responses"]["200"] - faulty_200s == len(ids)
    retries = stream.stats.retries_by_reason
    assert {"server_error", "connection", "timeout", "malformed"} <= set(retries), retries
    assert sum(r.attempts for r in results) == served["total_requests"]
    assert stream.stats.requests == served["total_requests"]


def test_attempts_are_bounded(make_simulator, make_client) -> None:
    sim = make_simulator(faults=FaultConfig(error_rate=1.0), rate_limit=NO_LIMIT)
    ids = home_ids(sim)[:5]
    results = list(make_client(sim, max_attempts=3).fetch_jobs(ids))
    assert [r.outcome for r in results] == [Outcome.FAILED] * 5
    for result in results:
        assert result.attempts == 3 and result.http_status in (500, 502, 503)
        assert result.error_detail and "last" in result.error_detail
    assert sim.stats_snapshot()["fetches"] == {job_id: 3 for job_id in ids}


def test_total_time_is_bounded(make_simulator, make_client) -> None:
    sim = make_simulator(faults=FaultConfig(drop_rate=1.0), rate_limit=NO_LIMIT)
    client = make_client(sim, max_attempts=1000, max_total_seconds=0.6, backoff_base=0.1,
                         backoff_cap=0.2)
    started = time.monotonic()
    result = client.fetch_job(home_ids(sim)[0])
    assert time.monotonic() - started < 2.0
    assert result.outcome is Outcome.FAILED and 2 <= result.attempts < 1000
    assert result.error_code == "CONNECTION" and "0.6s" in (result.error_detail or "")


def test_bad_json_is_retried_not_loaded(scripted, make_client) -> None:
    scripted.route("/jobs/job_a", Canned(200, b'{"data": {"id": "job_a", "ev'),
                   Canned(200, b"<html>oops</html>"),
                   Canned(502, b"<h1>502 Bad Gateway</h1>", {"Content-Type": "text/html"}),
                   Canned(200, {"data": {"id": "job_a"}}))
    result = make_client(scripted.base_url).fetch_job("job_a")
    assert result.outcome is Outcome.LOADED and result.attempts == 4
    assert result.payload == {"data": {"id": "job_a"}}


def test_unreachable_server_fails_each_id(make_client) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = make_client(f"http://127.0.0.1:{port}", max_attempts=2, connect_timeout=0.5)
    results = list(client.fetch_jobs(["job_a", "job_b"]))
    assert [r.outcome for r in results] == [Outcome.FAILED] * 2
    assert all(r.error_code == "CONNECTION" and r.attempts == 2 for r in results)


def test_listing_gives_up_with_the_last_reason(make_simulator, make_client) -> None:
    sim = make_simulator(faults=FaultConfig(error_rate=1.0), rate_limit=NO_LIMIT)
    with pytest.raises(RetriesExhaustedError) as raised:
        list(make_client(sim, max_attempts=3).list_jobs())
    assert raised.value.http_status in (500, 502, 503)
    assert sim.stats_snapshot()["requests"]["/jobs"] == 3
