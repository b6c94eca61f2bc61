"""The clock: in-flight jobs advance as it moves; real, fixed and accelerated modes."""

from __future__ import annotations

import time

import pytest

from pipelines.simulator import Clock
from pipelines.simulator.generator import TERMINAL
from tests.helpers import EPOCH


def test_fixed_clock_stands_still_until_advanced():
    clock = Clock.fixed(EPOCH)
    time.sleep(0.02)
    assert clock.now() == EPOCH
    assert clock.advance(90) == EPOCH + 90
    with pytest.raises(ValueError):
        clock.advance(-1)


def test_real_and_accelerated_clocks_run():
    real, fast = Clock(start=EPOCH), Clock.accelerated(EPOCH, 100.0)
    time.sleep(0.05)
    assert 0.04 < real.now() - EPOCH < 1.0
    assert 4.0 < fast.now() - EPOCH < 100.0
    assert fast.mode.startswith("accelerated") and real.mode == "real"


def test_in_flight_job_shows_more_events_after_the_clock_moves(sim, http):
    now = sim.clock.now()
    job = next(j for j in sim.store.by_id.values()
               if j.organization_id == sim.store.home_organization_id
               and j.created_at <= now < j.events[-1][1] and len(j.events) >= 3)
    url = f"{sim.base_url}/jobs/{job.id}"
    before = http.get(url, headers=sim.auth_headers()).json()["data"]
    assert before["status"] not in TERMINAL
    sim.clock.advance(job.ends_at - now)
    after = http.get(url, headers=sim.auth_headers()).json()["data"]
    assert after["status"] == job.final_status
    assert len(after["events"]) > len(before["events"])
    assert after["events"][: len(before["events"])] == before["events"]


def test_clock_can_be_moved_over_http(sim, http):
    response = http.post(f"{sim.base_url}/_sim/clock", params={"advance": 120})
    assert response.status_code == 200
    assert sim.clock.now() == EPOCH + 120
    assert http.get(f"{sim.base_url}/_sim/clock").json()["mode"] == "fixed"
    assert http.post(f"{sim.base_url}/_sim/clock", params={"advance": -5}).status_code == 400
