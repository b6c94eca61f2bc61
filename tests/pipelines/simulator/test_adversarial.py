"""Adversarial mode: every messy case the docs leave open shows up, the same way every time."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from pipelines.simulator import RenderConfig
from pipelines.simulator.render import QUIRKS, quirk_of, render_job

KNOWN = {"PENDING", "RUNNING", "COMPLETED", "FAILED", "CANCELED"}


def test_each_quirk_appears_and_is_stable(sim):
    config = RenderConfig(adversarial_share=0.5, seed=1)
    jobs = list(sim.store.by_id.values())
    quirks = Counter(quirk_of(config, job) for job in jobs)
    assert set(QUIRKS) <= set(quirks)
    assert 0.4 < 1 - quirks[None] / len(jobs) < 0.6
    assert [quirk_of(config, j) for j in jobs] == [quirk_of(config, j) for j in jobs]
    assert all(quirk_of(RenderConfig(), j) is None for j in jobs)


def _rendered(sim, quirk):
    config = RenderConfig(adversarial_share=1.0, seed=1)
    now = sim.clock.now()
    for job in sim.store.by_id.values():
        if quirk_of(config, job) == quirk and job.created_at <= now and len(
                [e for e in job.events if e[1] <= now]) >= 3:
            return job, render_job(job, now, config)
    raise AssertionError(f"no job with {quirk}")


def test_the_quirks_look_like_their_names(sim):
    job, body = _rendered(sim, "unsorted_events")
    stamps = [e["timestamp"] for e in body["events"]]
    assert stamps != sorted(stamps)

    job, body = _rendered(sim, "duplicate_event")
    pairs = [(e["status"], e["timestamp"]) for e in body["events"]]
    assert len(pairs) == len(set(pairs)) + 1

    job, body = _rendered(sim, "unknown_status")
    assert {e["status"] for e in body["events"]} - KNOWN

    job, body = _rendered(sim, "alternative_spellings")
    assert any(e["status"] not in KNOWN for e in body["events"])

    assert "events" not in _rendered(sim, "missing_events")[1]
    assert _rendered(sim, "null_events")[1]["events"] is None
    assert _rendered(sim, "empty_events")[1]["events"] == []

    job, body = _rendered(sim, "offset_timestamps")
    parsed = [datetime.fromisoformat(e["timestamp"]) for e in body["events"]]
    assert all(p.utcoffset().total_seconds() == 7200 for p in parsed)
    assert all(p.microsecond for p in parsed)
    assert parsed == sorted(parsed)
    assert [p.timestamp() // 1 for p in parsed] == [at for _, at in job.events[:len(parsed)]]

    job, body = _rendered(sim, "status_disagrees")
    assert body["status"] != body["events"][-1]["status"]
