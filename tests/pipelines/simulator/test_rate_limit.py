"""A fixed-window rate limit per key with the documented headers and 429 (docs/api-contract.md)."""

from __future__ import annotations

import math
import time

from pipelines.simulator import RateLimitConfig
from tests.helpers import home_ids


def _job_id(sim):
    return home_ids(sim)[0]


def _wait_for_fresh_window(window: float) -> None:
    # Start right after a window boundary so the test's requests share one window.
    time.sleep(window - (time.time() % window) + 0.01)


def test_limit_plus_one_request_gets_429_with_retry_after(make_simulator, http):
    sim = make_simulator(rate_limit=RateLimitConfig(limit=10, window_seconds=3))
    job_id = _job_id(sim)
    _wait_for_fresh_window(3)
    remaining = []
    for _ in range(10):
        response = http.get(f"{sim.base_url}/jobs/{job_id}", headers=sim.auth_headers())
        assert response.status_code == 200
        assert response.headers["X-RateLimit-Limit"] == "10"
        remaining.append(int(response.headers["X-RateLimit-Remaining"]))
    assert remaining == list(range(9, -1, -1))
    refused = http.get(f"{sim.base_url}/jobs/{job_id}", headers=sim.auth_headers())
    assert refused.status_code == 429
    body = refused.json()
    assert body["code"] == "RATE_LIMITED" and body["status"] == 429
    retry_after = int(refused.headers["Retry-After"])
    reset = int(refused.headers["X-RateLimit-Reset"])
    assert 1 <= retry_after <= 3
    assert 0 <= reset - time.time() <= 3.5
    # After the window resets the key is served again.
    time.sleep(max(0.0, reset - time.time()) + 0.05)
    assert http.get(f"{sim.base_url}/jobs/{job_id}",
                    headers=sim.auth_headers()).status_code == 200


def test_limits_are_per_key_and_refusals_do_not_count(make_simulator, http):
    sim = make_simulator(api_keys=("sk_a", "sk_b"),
                         rate_limit=RateLimitConfig(limit=3, window_seconds=3))
    job_id = _job_id(sim)
    _wait_for_fresh_window(3)
    codes_a = [http.get(f"{sim.base_url}/jobs/{job_id}",
                        headers={"Authorization": "Bearer sk_a"}).status_code for _ in range(6)]
    codes_b = [http.get(f"{sim.base_url}/jobs/{job_id}",
                        headers={"Authorization": "Bearer sk_b"}).status_code for _ in range(3)]
    assert codes_a == [200, 200, 200, 429, 429, 429]
    assert codes_b == [200, 200, 200]


def test_rate_limit_can_be_switched_off(make_simulator, http):
    sim = make_simulator(rate_limit=RateLimitConfig(limit=2, enabled=False))
    job_id = _job_id(sim)
    responses = [http.get(f"{sim.base_url}/jobs/{job_id}", headers=sim.auth_headers())
                 for _ in range(10)]
    assert {r.status_code for r in responses} == {200}
    # No limit, so no limit headers to slow a client down.
    assert not any("X-RateLimit-Limit" in r.headers for r in responses)


def test_a_refused_request_reports_no_budget_left(make_simulator, http):
    sim = make_simulator(rate_limit=RateLimitConfig(limit=1, window_seconds=3))
    job_id = _job_id(sim)
    _wait_for_fresh_window(3)
    http.get(f"{sim.base_url}/jobs/{job_id}", headers=sim.auth_headers())
    refused = http.get(f"{sim.base_url}/jobs/{job_id}", headers=sim.auth_headers())
    assert refused.status_code == 429 and refused.headers["X-RateLimit-Remaining"] == "0"


def test_a_revoked_key_is_refused_at_once(sim, http):
    url = f"{sim.base_url}/jobs/{_job_id(sim)}"
    assert http.get(url, headers=sim.auth_headers()).status_code == 200
    sim.api.revoke_key(sim.api_keys[0])
    assert http.get(url, headers=sim.auth_headers()).status_code == 401


def test_reset_header_is_the_end_of_the_window(make_simulator, http):
    sim = make_simulator(rate_limit=RateLimitConfig(limit=100, window_seconds=60))
    response = http.get(f"{sim.base_url}/jobs", headers=sim.auth_headers())
    reset = int(response.headers["X-RateLimit-Reset"])
    assert reset % 60 == 0 and 0 < reset - time.time() <= 60
    assert math.isclose(int(response.headers["X-RateLimit-Remaining"]), 99)
