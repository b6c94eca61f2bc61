"""Generated docs: the committed cookbook and data dictionary are what their generators write,
and the dictionary shows every table of a real warehouse with the registry's contract marks."""

from __future__ import annotations

import warehouse
from pipelines.tools.docs import stale_docs
from pipelines.tools.docs.dictionary import dictionary_markdown
from tests.helpers import ROOT
from warehouse import registry


def test_committed_docs_match_their_generators():
    stale = stale_docs(ROOT)
    assert not stale, f"{', '.join(stale)} out of date: run `.venv/bin/bedrock-jobs docs`"


def test_the_dictionary_reflects_the_schema_of_a_real_warehouse(tmp_path):
    with warehouse.connect(tmp_path / "w.duckdb") as con:
        tables = {f"{s}.{t}" for s, t in con.execute(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_schema IN ('ops', 'raw', 'core', 'marts')").fetchall()}
    page = dictionary_markdown()
    assert all(f"## {table}\n" in page for table in tables)
    for table in registry.tables():
        section = page.split(f"## {table.qualified}\n", 1)[1].split("\n## ", 1)[0]
        assert table.description in section
        for column in table.columns:
            row = next(line for line in section.splitlines()
                       if line.startswith(f"| `{column.name}` |"))
            assert ("| contract |" in row) == column.contract, f"{table.qualified}.{column.name}"
