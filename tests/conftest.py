"""Shared fixtures: simulators on loopback (port 0), stopped after each test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests

from pipelines.simulator import Clock, DataConfig, Simulator

EPOCH = DataConfig().epoch  # 2026-01-01T00:00:00Z, the data's "now" in tests


@pytest.fixture
def make_simulator() -> Iterator[Callable[..., Simulator]]:
    """Start simulators (fixed clock at EPOCH unless given one); all stop at teardown."""
    started: list[Simulator] = []

    def make(data: DataConfig | None = None, **kwargs: Any) -> Simulator:
        kwargs.setdefault("clock", Clock.fixed(EPOCH))
        sim = Simulator(data or DataConfig(jobs=600), **kwargs).start()
        started.append(sim)
        return sim

    yield make
    for sim in started:
        sim.stop()


@pytest.fixture
def sim(make_simulator: Callable[..., Simulator]) -> Simulator:
    """A default simulator: 600 jobs, CMS shape, no faults, fixed clock."""
    return make_simulator()


@pytest.fixture
def http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        yield session
