"""Contract: one shared pacer spends >= 97% of the allowance, spread, no 429s; a 429 pauses all."""

from __future__ import annotations

import contextlib
import math
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

from pipelines.bedrock import Outcome
from pipelines.bedrock.backoff import retry_after_seconds
from pipelines.bedrock.errors import Cancelled
from pipelines.bedrock.pacing import Pacer
from pipelines.simulator import DataConfig, FaultConfig, RateLimitConfig
from tests.helpers import Canned, home_ids

LIMIT, WINDOW = 40, 2.0


def test_pacing_spends_the_allowance_without_429(make_simulator, make_client) -> None:
    sim = make_simulator(DataConfig(jobs=400), rate_limit=RateLimitConfig(LIMIT, WINDOW))
    ids = list(sim.store.by_id)[:200]  # a partial window, then >= 3 full ones
    stream = make_client(sim, workers=8).fetch_jobs(ids)
    results = list(stream)
    assert len(results) == len(ids)
    assert {r.outcome for r in results} <= {Outcome.LOADED, Outcome.FORBIDDEN, Outcome.NOT_FOUND}
    served = sim.stats_snapshot()
    assert served["responses"].get("429", 0) == 0
    assert served["total_requests"] == len(ids)

    # Independently of the client's own figures: completions per simulator window
    # (windows are aligned to multiples of WINDOW), first and last left out as partial.
    per_window = Counter(math.floor(r.fetched_at.timestamp() / WINDOW) for r in results)
    first, last = min(per_window), max(per_window)
    inner = [per_window.get(w, 0) for w in range(first + 1, last)]
    assert len(inner) >= 3
    assert sum(inner) >= 0.97 * LIMIT * len(inner), per_window
    # Spread, not burst: the first tenth of a full window carries about a tenth of it.
    early = Counter(math.floor(r.fetched_at.timestamp() / WINDOW) for r in results
                    if r.fetched_at.timestamp() % WINDOW < WINDOW / 10)
    assert max(early.get(w, 0) for w in range(first + 1, last)) <= LIMIT / 10 + 3

    stats = stream.stats
    assert (stats.allowance_limit, stats.allowance_window_seconds) == (LIMIT, WINDOW)
    assert stats.allowance_rate == LIMIT / WINDOW
    assert stats.allowance_used is not None and stats.allowance_used >= 0.97
    assert stats.rate_limited == 0 and stats.requests == len(ids)
    assert stats.latency_p50_seconds is not None and stats.latency_p95_seconds is not None


def test_configured_ceiling(make_simulator, make_client) -> None:
    sim = make_simulator(rate_limit=RateLimitConfig(enabled=False))
    client = make_client(sim, workers=8, max_requests_per_minute=600)  # 10 per second
    started = time.monotonic()
    results = list(client.fetch_jobs(list(sim.store.by_id)[:16]))
    elapsed = time.monotonic() - started
    assert len(results) == 16
    assert elapsed >= 15 / 10 * 0.95


def test_retry_after_pauses_every_worker(make_simulator, make_client, http) -> None:
    sim = make_simulator(rate_limit=RateLimitConfig(limit=3, window_seconds=3))
    ids = home_ids(sim)[:4]
    while True:  # use up the key's window from outside the client, far enough from its end
        response = http.get(f"{sim.base_url}/jobs/{ids[0]}", headers=sim.auth_headers())
        if response.status_code == 429:
            reset = float(response.headers["X-RateLimit-Reset"])
            if reset - time.time() > 1.0:
                break
            time.sleep(max(0.0, reset - time.time()) + 0.05)
    assert int(response.headers["Retry-After"]) >= 1
    before = sim.stats_snapshot()["responses"]["429"]

    stream = make_client(sim, workers=4).fetch_jobs(ids)
    results = list(stream)
    assert [r.outcome for r in results] == [Outcome.LOADED] * 4
    assert min(r.fetched_at.timestamp() for r in results) >= reset - 0.05
    # One 429 for the whole pool: the others were paused, not sent into the wall.
    assert sim.stats_snapshot()["responses"]["429"] - before == 1
    assert stream.stats.rate_limited == 1 and stream.stats.retries_by_reason == {
        "rate_limited": 1}


def test_retry_after_as_http_date(scripted, make_client) -> None:
    when = datetime.now(UTC) + timedelta(seconds=2)
    scripted.route("/jobs/job_a",
                   Canned(429, {"code": "RATE_LIMITED"},
                          {"Retry-After": format_datetime(when, usegmt=True)}),
                   Canned(200, {"job_id": "job_a"}))
    started = time.monotonic()
    result = make_client(scripted.base_url).fetch_job("job_a")
    elapsed = time.monotonic() - started
    assert result.outcome is Outcome.LOADED and result.attempts == 2
    assert 0.9 <= elapsed < 4.0


def test_retry_after_is_capped(scripted, make_client) -> None:
    scripted.route("/jobs/job_a", Canned(429, {"code": "RATE_LIMITED"}, {"Retry-After": "3600"}),
                   Canned(200, {"job_id": "job_a"}))
    started = time.monotonic()
    result = make_client(scripted.base_url, retry_after_cap=0.3).fetch_job("job_a")
    assert result.outcome is Outcome.LOADED
    assert 0.25 <= time.monotonic() - started < 2.0


def test_retry_after_parsing() -> None:
    soon = datetime.now(UTC) + timedelta(seconds=30)
    assert retry_after_seconds({"Retry-After": "12"}, cap=60) == 12
    assert retry_after_seconds({"Retry-After": "120"}, cap=60) == 60
    date = retry_after_seconds({"Retry-After": format_datetime(soon, usegmt=True)}, cap=60)
    assert date is not None and 28 <= date <= 30
    reset = str(int(time.time()) + 10)
    fallback = retry_after_seconds({"Retry-After": "soon", "X-RateLimit-Reset": reset}, cap=60)
    assert fallback is not None and 8 <= fallback <= 10
    assert retry_after_seconds({}, cap=60) is None


def test_pacing_holds_under_faults(make_simulator, make_client) -> None:
    # Faulty answers are counted by the limiter too: retries must go through the pacer.
    faults = FaultConfig(seed=5, error_rate=0.10, drop_rate=0.05, malformed_rate=0.05)
    sim = make_simulator(DataConfig(jobs=400), faults=faults,
                         rate_limit=RateLimitConfig(LIMIT, WINDOW))
    ids = home_ids(sim)[:110]
    results = list(make_client(sim, workers=8, max_attempts=10).fetch_jobs(ids))
    assert {r.outcome for r in results} == {Outcome.LOADED}
    served = sim.stats_snapshot()
    assert served["responses"].get("429", 0) == 0
    assert sum(served["faults"].values()) > 0



def test_the_servers_count_lowers_the_budget_when_others_spend_the_key() -> None:
    # Another run on the same key spent most of the window after our probe: the next
    # answer's `Remaining` is below our own count, and only that many more go out.
    pacer = Pacer()
    reset = time.time() + 2.0
    headers = {"X-RateLimit-Limit": "40", "X-RateLimit-Reset": f"{reset}"}
    probe = pacer.acquire()
    pacer.observe(probe, 200, {**headers, "X-RateLimit-Remaining": "38"})
    first = pacer.acquire()
    pacer.observe(first, 200, {**headers, "X-RateLimit-Remaining": "5"})
    stop = threading.Event()  # before the window ends: its budget, not the next window's
    timer = threading.Timer(max(0.5, reset - time.time() - 0.05), stop.set)
    timer.start()
    sent = 0
    with contextlib.suppress(Cancelled):
        while True:
            pacer.acquire(stop)
            sent += 1
    timer.cancel()
    assert 1 <= sent <= 5
