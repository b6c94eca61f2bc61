"""Fixtures for the reliability suite: pipeline runs against a simulator in tmp folders (the
runner and the table comparison are in tests/helpers.py)."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def workspace(tmp_path: Path):
    """(warehouse path, inbox path) for one pipeline, under tmp."""
    def make(name: str) -> tuple[Path, Path]:
        root = tmp_path / name
        (root / "inbox").mkdir(parents=True)
        return root / "bedrock.duckdb", root / "inbox"
    return make
