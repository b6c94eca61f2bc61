"""Contract: fetch_jobs reads any iterable lazily, bounds what is in flight, and stops cleanly."""

from __future__ import annotations

import threading
from collections.abc import Iterator

from pipelines.bedrock import Outcome
from pipelines.simulator import FaultConfig, RateLimitConfig
from tests.helpers import home_ids

NO_LIMIT = RateLimitConfig(enabled=False)


def test_huge_generator_is_read_lazily(make_simulator, make_client) -> None:
    sim = make_simulator(rate_limit=NO_LIMIT)
    pulled = 0

    def million() -> Iterator[str]:
        nonlocal pulled
        for n in range(1_000_000):
            pulled += 1
            yield f"job_{n:026d}"

    client = make_client(sim, workers=4)
    stream = client.fetch_jobs(million())
    taken = [next(stream) for _ in range(50)]
    stream.close()
    assert {r.outcome for r in taken} == {Outcome.NOT_FOUND}
    bound = client.config.pending_bound
    assert pulled <= 50 + bound + 1
    assert sim.stats_snapshot()["total_requests"] <= 50 + bound
    assert not [t for t in threading.enumerate() if t.name.startswith("bedrock-fetch")]


def test_results_arrive_in_completion_order(make_simulator, make_client) -> None:
    # One slow response must not hold back the others behind it.
    sim = make_simulator(faults=FaultConfig(seed=3, slow_rate=0.05, slow_seconds=0.6),
                         rate_limit=NO_LIMIT)
    ids = home_ids(sim)[:60]
    results = list(make_client(sim, workers=8, read_timeout=5.0).fetch_jobs(ids))
    assert sorted(r.job_id for r in results) == sorted(ids)
    slow = sim.stats_snapshot()["faults"].get("slow", 0)
    assert slow >= 1
    finished = [r.fetched_at.timestamp() for r in results]
    # Yielded as they finish (no result waits behind a slower one by more than a blink).
    pairs = zip(finished, finished[1:], strict=False)
    assert all(later >= earlier - 0.05 for earlier, later in pairs)
    assert [r.job_id for r in results] != ids


def test_empty_input(sim, make_client) -> None:
    stream = make_client(sim).fetch_jobs([])
    assert list(stream) == []
    assert stream.stats.requests == 0
