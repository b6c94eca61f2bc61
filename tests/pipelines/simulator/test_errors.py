"""Auth, versioning and every documented error as an RFC 7807 problem (docs/api-contract.md)."""

from __future__ import annotations

import pytest

from pipelines.simulator import DataConfig
from tests.helpers import home_jobs

PROBLEM_FIELDS = {"type", "title", "status", "detail", "code", "request_id"}


def _problem(response, status, code):
    assert response.status_code == status
    assert response.headers["Content-Type"] == "application/problem+json"
    body = response.json()
    assert PROBLEM_FIELDS <= set(body)
    assert body["status"] == status and body["code"] == code
    assert body["type"].startswith("https://docs.bedrock.cv/errors/")
    assert body["request_id"] == response.headers["X-Request-Id"]
    assert body["request_id"].startswith("req_")
    return body


def _a_home_job(sim):
    return home_jobs(sim)[0]


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer sk_wrong"},
                                     {"Authorization": "Basic sk_demo_local_simulator"},
                                     {"X-API-Key": "nope"}])
def test_missing_or_unknown_key_is_401(sim, http, headers):
    response = http.get(f"{sim.base_url}/jobs/{_a_home_job(sim).id}", headers=headers)
    _problem(response, 401, "UNAUTHORIZED")


def test_x_api_key_header_and_extra_keys_are_accepted(make_simulator, http):
    sim = make_simulator(api_keys=("sk_one", "sk_two"))
    job = _a_home_job(sim)
    assert http.get(f"{sim.base_url}/jobs/{job.id}",
                    headers={"X-API-Key": "sk_two"}).status_code == 200
    assert http.get(f"{sim.base_url}/jobs/{job.id}",
                    headers={"Authorization": "Bearer sk_one"}).status_code == 200


def test_other_organizations_job_is_403(sim, http):
    foreign = next(j for j in sim.store.by_id.values()
                   if j.organization_id != sim.store.home_organization_id)
    response = http.get(f"{sim.base_url}/jobs/{foreign.id}", headers=sim.auth_headers())
    _problem(response, 403, "FORBIDDEN")


def test_unknown_id_is_404_naming_the_job(sim, http):
    response = http.get(f"{sim.base_url}/jobs/job_DOESNOTEXIST", headers=sim.auth_headers())
    body = _problem(response, 404, "NOT_FOUND")
    assert "job_DOESNOTEXIST" in body["detail"]


@pytest.mark.parametrize("raw_id", ["bad%20id", "x" * 129, "job%2Fetc", "%00"])
def test_malformed_id_is_400_validation_error(sim, http, raw_id):
    response = http.get(f"{sim.base_url}/jobs/{raw_id}", headers=sim.auth_headers())
    body = _problem(response, 400, "VALIDATION_ERROR")
    assert "job_id" in body["errors"]


def test_unsupported_api_version_is_400_bad_request(sim, http):
    headers = {**sim.auth_headers(), "X-API-Version": "99"}
    response = http.get(f"{sim.base_url}/jobs/{_a_home_job(sim).id}", headers=headers)
    body = _problem(response, 400, "BAD_REQUEST")
    assert "Unsupported API version: 99" in body["detail"]
    ok = {**sim.auth_headers(), "X-API-Version": "2026-01-01"}
    assert http.get(f"{sim.base_url}/jobs/{_a_home_job(sim).id}", headers=ok).status_code == 200


def test_unknown_route_and_method(sim, http):
    _problem(http.get(f"{sim.base_url}/projects/prj_1/jobs", headers=sim.auth_headers()),
             404, "NOT_FOUND")
    _problem(http.post(f"{sim.base_url}/jobs", headers=sim.auth_headers(), json={}),
             405, "METHOD_NOT_ALLOWED")


def test_every_response_has_request_id_and_rate_limit_headers(sim, http):
    urls = [f"{sim.base_url}/jobs/{_a_home_job(sim).id}", f"{sim.base_url}/jobs",
            f"{sim.base_url}/jobs/nope"]
    ids = set()
    for url in urls:
        for headers in (sim.auth_headers(), {}):
            response = http.get(url, headers=headers)
            ids.add(response.headers["X-Request-Id"])
            for name in ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"):
                assert response.headers[name].isdigit()
    assert len(ids) == 6  # one per request


def test_future_jobs_do_not_exist_yet(make_simulator, http):
    sim = make_simulator(DataConfig(jobs=600, future_share=0.2))
    future = [j for j in sim.store.by_id.values()
              if j.created_at > sim.clock.now()
              and j.organization_id == sim.store.home_organization_id]
    assert future
    response = http.get(f"{sim.base_url}/jobs/{future[0].id}", headers=sim.auth_headers())
    _problem(response, 404, "NOT_FOUND")
