"""Fixtures for the warehouse tests: real DuckDB files in tmp_path, payload builders."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest

from pipelines.simulator.generator import DataConfig, generate
from pipelines.simulator.render import RenderConfig, render_job
from warehouse import BatchSummary, FetchedItem, connect, derive_core, land_batch

FETCHED_AT = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def wh_path(tmp_path: Path) -> Path:
    return tmp_path / "bedrock.duckdb"


@pytest.fixture
def con(wh_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    with connect(wh_path) as connection:
        yield connection


def loaded(job_id: str, body: dict[str, Any] | str, *, wrap: bool = False,
           at: datetime = FETCHED_AT, attempts: int = 1) -> FetchedItem:
    """A `loaded` fetch result whose body is `body` (wrapped in `data` if asked)."""
    text = body if isinstance(body, str) else json.dumps({"data": body} if wrap else body)
    return FetchedItem(job_id, "loaded", at, 200, request_id=f"req_{job_id}",
                       attempts=attempts, payload_text=text)


def load(con: duckdb.DuckDBPyConnection, items: list[FetchedItem]) -> BatchSummary:
    """Land `items` as one fetch batch, then bring core up to date, as a run's fetch and
    core steps do; returns what landing did."""
    summary = land_batch(con, items)
    derive_core(con)
    return summary


@pytest.fixture
def make_loaded() -> Callable[..., FetchedItem]:
    return loaded


def simulator_items(jobs: int = 300, *, shape: str = "mixed", adversarial: float = 0.5,
                    seed: int = 3, now: float | None = None) -> list[FetchedItem]:
    """Fetch results for the simulator's jobs, bodies exactly as the API sends them."""
    config = DataConfig(jobs=jobs, seed=seed)
    _, sim_jobs = generate(config)
    render = RenderConfig(shape=shape, adversarial_share=adversarial, seed=seed)
    at = now if now is not None else config.epoch
    items = []
    for job in sim_jobs:
        body = render_job(job, at, render)
        if body is None:
            items.append(FetchedItem(job.id, "not_found", FETCHED_AT, 404,
                                     error_code="NOT_FOUND"))
        else:
            items.append(loaded(job.id, body, wrap="id" in body))
    return items


@pytest.fixture(scope="session")
def sim_items() -> list[FetchedItem]:
    return simulator_items()


def table(con: duckdb.DuckDBPyConnection, name: str, order: str) -> list[tuple]:
    """All rows of a table in a fixed order (name and order from the test, not input)."""
    return con.execute(f"SELECT * FROM {name} ORDER BY {order}").fetchall()  # noqa: S608
