"""Contract: fetch_jobs gives each ID exactly one outcome; bad IDs never reach the wire."""

from __future__ import annotations

import logging
import secrets
import threading

import pytest

from pipelines import __version__
from pipelines.bedrock import (
    AuthenticationError,
    BedrockClient,
    ClientConfig,
    Outcome,
    UnsupportedRequestError,
)
from pipelines.simulator import DataConfig, RateLimitConfig
from tests.helpers import Canned, foreign_ids, home_ids

NO_LIMIT = RateLimitConfig(enabled=False)
BAD_IDS = ["", "a" * 129, "../jobs", "..", "job_1/../../_sim/stats", "job_1?status=Failed",
           "job_1#x", "job 1", "job%2F1", "jöb_1", "job_1\n", None, 42]


def test_each_outcome(make_simulator, make_client) -> None:
    sim = make_simulator(rate_limit=NO_LIMIT)
    home, foreign = home_ids(sim)[:5], foreign_ids(sim)[:3]
    missing = ["job_00000000000000000000000000", "job_missing"]
    stream = make_client(sim, workers=4).fetch_jobs(home + foreign + missing + BAD_IDS)
    results = list(stream)
    by_outcome: dict[Outcome, list[str]] = {}
    for result in results:
        by_outcome.setdefault(result.outcome, []).append(result.job_id)
    assert sorted(by_outcome[Outcome.LOADED]) == sorted(home)
    assert sorted(by_outcome[Outcome.FORBIDDEN]) == sorted(foreign)
    assert sorted(by_outcome[Outcome.NOT_FOUND]) == sorted(missing)
    assert len(by_outcome[Outcome.INVALID_ID]) == len(BAD_IDS)
    assert len(results) == len(home + foreign + missing + BAD_IDS)

    served = sim.stats_snapshot()
    assert served["total_requests"] == len(home + foreign + missing)  # none for bad IDs
    assert set(served["fetches"]) == set(home + foreign + missing)
    forbidden = next(r for r in results if r.outcome is Outcome.FORBIDDEN)
    assert (forbidden.http_status, forbidden.error_code) == (403, "FORBIDDEN")
    assert forbidden.request_id and forbidden.request_id.startswith("req_")
    assert forbidden.attempts == 1 and forbidden.record is None
    loaded = next(r for r in results if r.outcome is Outcome.LOADED)
    assert loaded.http_status == 200 and loaded.request_id and loaded.attempts == 1
    assert loaded.payload is not None and loaded.fetched_at is not None
    assert loaded.fetched_at.tzinfo is not None
    assert stream.stats.outcomes == {"loaded": 5, "forbidden": 3, "not_found": 2,
                                     "invalid_id": len(BAD_IDS)}


def test_invalid_ids_make_zero_requests(sim, make_client) -> None:
    results = list(make_client(sim).fetch_jobs(BAD_IDS))
    assert [r.outcome for r in results] == [Outcome.INVALID_ID] * len(BAD_IDS)
    assert all(r.attempts == 0 and r.http_status is None and r.error_detail for r in results)
    assert sim.stats_snapshot()["total_requests"] == 0


def test_api_400_is_invalid_id_with_detail(scripted, make_client) -> None:
    detail = "Must be 1-64 letters."
    scripted.route("/jobs/job_" + "x" * 100, Canned(400, {
        "type": "https://docs.bedrock.cv/errors/validation", "status": 400,
        "code": "VALIDATION_ERROR", "detail": detail, "request_id": "req_ABC"}))
    result = make_client(scripted.base_url).fetch_job("job_" + "x" * 100)
    assert result.outcome is Outcome.INVALID_ID
    assert (result.http_status, result.error_code, result.error_detail, result.request_id) == (
        400, "VALIDATION_ERROR", detail, "req_ABC")


def test_headers_on_every_request(scripted, make_client) -> None:
    scripted.route("/jobs/job_a", Canned(200, {"data": {"id": "job_a", "events": []}}))
    client = make_client(scripted.base_url)
    assert client.fetch_job("job_a").outcome is Outcome.LOADED
    assert client.fetch_job("job_b").outcome is Outcome.NOT_FOUND
    assert [path for path, _ in scripted.requests] == ["/jobs/job_a", "/jobs/job_b"]
    for _, headers in scripted.requests:
        assert headers["Authorization"] == "Bearer sk_scripted_test_key"
        assert headers["X-API-Version"] == "2026-01-01"
        assert headers["User-Agent"].startswith(f"bedrock-jobs/{__version__}")


def test_unparseable_payload_is_loaded_with_parse_error(scripted, make_client) -> None:
    body = {"data": {"id": "job_a", "events": [{"status": "PENDING", "timestamp": "soon"}]}}
    scripted.route("/jobs/job_a", Canned(200, body))
    scripted.route("/jobs/job_b", Canned(200, {"data": {"id": "job_OTHER"}}))
    results = {r.job_id: r for r in make_client(scripted.base_url).fetch_jobs(["job_a", "job_b"])}
    assert results["job_a"].outcome is Outcome.LOADED and results["job_a"].record is None
    assert results["job_a"].payload == body and "timestamp" in results["job_a"].parse_error
    assert results["job_b"].record is None and "job_OTHER" in results["job_b"].parse_error


def test_bad_key_fails_fast(make_simulator, make_client) -> None:
    sim = make_simulator(rate_limit=NO_LIMIT)
    client = make_client(sim, api_key="sk_wrong_key", workers=8)
    with pytest.raises(AuthenticationError) as raised:
        list(client.fetch_jobs(home_ids(sim)[:200]))
    assert raised.value.http_status == 401 and raised.value.code == "UNAUTHORIZED"
    assert sim.stats_snapshot()["total_requests"] <= 8  # at most one round of the pool


def test_revoked_key_stops_every_worker(make_simulator, make_client) -> None:
    """A key revoked mid-run: at most the requests already in flight follow the first 401."""
    workers = 8
    sim = make_simulator(DataConfig(jobs=1500), rate_limit=NO_LIMIT)
    ids = home_ids(sim)
    stream = make_client(sim, workers=workers).fetch_jobs(ids)
    loaded = 0
    with pytest.raises(AuthenticationError):
        for _ in stream:
            loaded += 1
            if loaded == 100:
                sim.api.revoke_key(sim.api_keys[0])  # the simulator answers 401 from now on
    served = sim.stats_snapshot()
    assert 0 < served["responses"]["401"] <= workers
    assert served["total_requests"] < len(ids)
    assert not [t for t in threading.enumerate() if t.name.startswith("bedrock-fetch")]


def test_unsupported_api_version_is_fatal(sim, make_client) -> None:
    with pytest.raises(UnsupportedRequestError, match="Unsupported API version"):
        list(make_client(sim, api_version="1999-01-01").fetch_jobs(home_ids(sim)[:50]))
    assert sim.stats_snapshot()["total_requests"] <= 8


def test_key_never_leaks(make_simulator, make_client, caplog) -> None:
    secret = "sk_canary_" + secrets.token_hex(12)  # a fresh canary, nothing real
    sim = make_simulator(api_keys=(secret,), rate_limit=NO_LIMIT)
    caplog.set_level(logging.DEBUG)
    config = ClientConfig(base_url=sim.base_url, api_key=secret, backoff_base=0.01)
    client = BedrockClient(config)
    stream = client.fetch_jobs(home_ids(sim)[:3] + foreign_ids(sim)[:2] + ["job_nope", "../x"])
    texts = [repr(r) for r in stream] + [repr(config), str(config), repr(client),
                                         repr(client._session.auth), repr(stream.stats)]
    bad = BedrockClient(ClientConfig(base_url=sim.base_url, api_key=secret + "x"))
    with pytest.raises(AuthenticationError) as raised:
        bad.fetch_job(home_ids(sim)[0])
    texts += [str(raised.value), repr(raised.value), repr(raised.value.__dict__)]
    texts += [record.getMessage() for record in caplog.records]
    # The canary itself (the refused key is the canary plus a letter, so it is caught too).
    assert texts and not [t for t in texts if secret in t]
    client.close()
    bad.close()


def test_connections_are_kept_alive_and_pooled(scripted, make_client) -> None:
    ids = [f"job_{n}" for n in range(120)]
    for job_id in ids:
        scripted.route(f"/jobs/{job_id}", Canned(200, {"job_id": job_id}))
    results = list(make_client(scripted.base_url, workers=6).fetch_jobs(ids))
    assert {r.outcome for r in results} == {Outcome.LOADED}
    assert len(scripted.requests) == 120
    assert len(scripted.client_ports) <= 6  # one connection per worker, reused
