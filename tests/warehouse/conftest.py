"""Fixtures for the warehouse tests: real DuckDB files in tmp_path (the payload builders are
in tests/helpers.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from tests.helpers import simulator_items
from warehouse import FetchedItem, connect


@pytest.fixture
def wh_path(tmp_path: Path) -> Path:
    return tmp_path / "bedrock.duckdb"


@pytest.fixture
def con(wh_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    with connect(wh_path) as connection:
        yield connection


@pytest.fixture(scope="session")
def sim_items() -> list[FetchedItem]:
    """`simulator_items()`: fetch results for 300 simulator jobs, half of them messy."""
    return simulator_items()
