"""Fixtures for pipeline tests: a simulator, a warehouse file and a Dagster instance in tmp."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest

from pipelines.resources import BedrockApiResource, InboxResource, WarehouseResource
from pipelines.simulator import DEMO_API_KEY, Simulator


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
            "inbox": InboxResource(path=str(inbox_path)),
        }

    return make
