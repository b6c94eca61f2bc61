"""Generated docs: the committed cookbook and data dictionary are what their generators write."""

from __future__ import annotations

from pathlib import Path

import warehouse
from pipelines.tools.docs import GENERATED, stale_docs
from pipelines.tools.docs.dictionary import CONTRACT, describe, live_schema, migration_comments

ROOT = Path(__file__).parents[2]


def test_committed_docs_match_their_generators():
    stale = stale_docs(ROOT)
    assert not stale, f"{', '.join(stale)} out of date: run `.venv/bin/bedrock-jobs docs`"


def test_every_contract_column_exists_and_every_column_is_described():
    schema = live_schema()
    comments = migration_comments()
    for table, columns in CONTRACT.items():
        assert set(columns) <= {c for c, _, _ in schema[table]}, table
    undescribed = [f"{table}.{column}" for table, columns in schema.items()
                   for column, _, _ in columns if not describe(table, column, comments)]
    assert not undescribed, "describe these in pipelines/tools/docs/dictionary.py: " + ", ".join(
        undescribed)


def test_the_dictionary_reflects_the_schema_of_a_real_warehouse(tmp_path):
    with warehouse.connect(tmp_path / "w.duckdb") as con:
        tables = {f"{s}.{t}" for s, t in con.execute(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_schema IN ('ops', 'raw', 'core', 'marts')").fetchall()}
    page = (ROOT / "docs" / "data-dictionary.md").read_text()
    assert all(f"## {table}\n" in page for table in tables)
    assert set(GENERATED) == {"docs/cookbook.md", "docs/data-dictionary.md"}
