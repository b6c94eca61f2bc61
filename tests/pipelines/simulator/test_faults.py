"""Seeded fault injection: each fault happens at about its configured rate, and looks real."""

from __future__ import annotations

import json
import time

import pytest
import requests

from pipelines.simulator import FaultConfig, RateLimitConfig
from tests.helpers import home_ids

N = 400


def _job_id(sim):
    return home_ids(sim)[0]


def _outcome(http, url, headers, timeout=2.0):
    try:
        response = http.get(url, headers=headers, timeout=timeout)
    except requests.exceptions.ReadTimeout:
        return "timeout"
    except requests.exceptions.ConnectionError:
        return "dropped"
    if response.status_code != 200:
        return response.status_code
    try:
        json.loads(response.content)
    except ValueError:
        return "malformed"
    return 200


def _within(count, rate, n=N):
    # Four standard deviations of a binomial: fails on a wrong rate, not on luck.
    sd = (n * rate * (1 - rate)) ** 0.5
    return abs(count - n * rate) <= 4 * sd + 1


def test_no_faults_by_default(sim, http):
    url = f"{sim.base_url}/jobs/{_job_id(sim)}"
    assert {_outcome(http, url, sim.auth_headers()) for _ in range(100)} == {200}
    assert sim.stats_snapshot()["faults"] == {}


def test_error_drop_and_malformed_rates_match_their_settings(make_simulator, http):
    config = FaultConfig(seed=3, error_rate=0.15, drop_rate=0.05, malformed_rate=0.05)
    sim = make_simulator(faults=config, rate_limit=RateLimitConfig(enabled=False))
    url = f"{sim.base_url}/jobs/{_job_id(sim)}"
    outcomes = [_outcome(http, url, sim.auth_headers()) for _ in range(N)]
    errors = sum(1 for o in outcomes if o in (500, 502, 503))
    assert _within(errors, 0.15)
    assert {o for o in outcomes if isinstance(o, int) and o != 200} <= {500, 502, 503}
    assert _within(outcomes.count("dropped"), 0.05)
    assert _within(outcomes.count("malformed"), 0.05)
    faults = sim.stats_snapshot()["faults"]
    assert faults["server_error"] == errors and faults["drop"] == outcomes.count("dropped")


def test_same_fault_seed_same_sequence(make_simulator, http):
    runs = []
    for _ in range(2):
        sim = make_simulator(faults=FaultConfig(seed=9, error_rate=0.3),
                             rate_limit=RateLimitConfig(enabled=False))
        url = f"{sim.base_url}/jobs/{_job_id(sim)}"
        runs.append([_outcome(http, url, sim.auth_headers()) for _ in range(60)])
    assert runs[0] == runs[1]


def test_slow_responses_outlast_a_client_timeout(make_simulator, http):
    sim = make_simulator(faults=FaultConfig(seed=1, slow_rate=1.0, slow_seconds=1.0))
    url = f"{sim.base_url}/jobs/{_job_id(sim)}"
    assert _outcome(http, url, sim.auth_headers(), timeout=0.3) == "timeout"


def test_added_latency_delays_every_response(make_simulator, http):
    sim = make_simulator(faults=FaultConfig(latency_ms=40, jitter_ms=10))
    url = f"{sim.base_url}/jobs/{_job_id(sim)}"
    http.get(url, headers=sim.auth_headers())  # connect first
    started = time.perf_counter()
    for _ in range(10):
        assert http.get(url, headers=sim.auth_headers()).status_code == 200
    per_request = (time.perf_counter() - started) / 10
    assert 0.04 <= per_request < 0.2


def test_429_bursts_refuse_everyone_for_a_while(make_simulator, http):
    sim = make_simulator(faults=FaultConfig(seed=2, burst_rate=0.05, burst_seconds=0.5),
                         rate_limit=RateLimitConfig(enabled=False))
    url = f"{sim.base_url}/jobs/{_job_id(sim)}"
    codes = []
    for _ in range(300):
        response = http.get(url, headers=sim.auth_headers())
        codes.append(response.status_code)
        if response.status_code == 429:
            assert int(response.headers["Retry-After"]) >= 1
            assert response.json()["code"] == "RATE_LIMITED"
    runs = "".join("x" if c == 429 else "." for c in codes).split(".")
    assert max(len(r) for r in runs) >= 3  # a burst, not isolated refusals


def test_rates_are_validated():
    with pytest.raises(ValueError):
        FaultConfig(error_rate=0.7, drop_rate=0.5)
    with pytest.raises(ValueError):
        FaultConfig(drop_rate=-0.1)
