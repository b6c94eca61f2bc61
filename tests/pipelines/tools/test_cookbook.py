"""SQL cookbook: every recipe runs on a real warehouse, in plain DuckDB, and answers with rows."""

from __future__ import annotations

import duckdb
import pytest

from pipelines.tools.docs import cookbook_markdown, recipes

RECIPES = recipes()


def test_every_recipe_is_a_numbered_question_on_the_page():
    assert [r.number for r in RECIPES] == list(range(1, len(RECIPES) + 1))
    page = cookbook_markdown()
    for recipe in RECIPES:
        assert recipe.question.endswith("?") and recipe.notes, recipe.path
        assert f"## {recipe.number}. {recipe.question}" in page and recipe.body in page


@pytest.mark.parametrize("recipe", RECIPES, ids=[r.name for r in RECIPES])
def test_recipe_runs_against_the_warehouse(recipe, loaded_warehouse):
    # A bare read-only connection, no session macros: what a user's DuckDB client has.
    with duckdb.connect(str(loaded_warehouse.path), read_only=True) as con:
        con.execute("SET TimeZone = 'UTC'")
        frame = con.execute(recipe.text).df()
    assert len(frame.columns) > 1
    if recipe.may_be_empty is None:
        assert not frame.empty, f"{recipe.path} returned no rows"
