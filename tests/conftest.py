"""Shared fixtures: simulators on loopback (port 0), stopped after each test; a warehouse,
an inbox and a Dagster instance in tmp; the code location's resources pointed at them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
import requests

from pipelines.resources import BedrockApiResource, InboxResource, WarehouseResource
from pipelines.simulator import DEMO_API_KEY, Clock, DataConfig, Simulator
from tests.helpers import EPOCH


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


@pytest.fixture
def warehouse_path(tmp_path: Path) -> Path:
    return tmp_path / "warehouse" / "bedrock.duckdb"


@pytest.fixture
def inbox_path(tmp_path: Path) -> Path:
    path = tmp_path / "inbox"
    path.mkdir()
    return path


@pytest.fixture
def instance() -> Iterator[dg.DagsterInstance]:
    with dg.instance_for_test() as instance:
        yield instance


@pytest.fixture
def resources_for(warehouse_path: Path, inbox_path: Path):
    """The code location's resources pointed at a simulator and the tmp warehouse/inbox."""

    def make(sim: Simulator, api_key: str = DEMO_API_KEY) -> dict[str, dg.ConfigurableResource]:
        return {
            "bedrock": BedrockApiResource(base_url=sim.base_url, api_key=api_key, workers=8),
            "warehouse": WarehouseResource(path=str(warehouse_path)),
            "inbox": InboxResource(path=str(inbox_path), settle_seconds=0),
        }

    return make
