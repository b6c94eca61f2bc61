"""The UI's metadata: column meanings from the registry, readable previews, trend numbers."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest

from assets.metadata import column_schema, preview, table_metadata
from tests.helpers import REGRESSION_NOW as NOW
from tests.helpers import job_bodies, load, loaded
from warehouse import connect, refresh_marts, registry


@pytest.fixture
def con(tmp_path):
    window, baseline = NOW - timedelta(hours=24), NOW - timedelta(days=15)
    jobs = [
        *job_bodies("compare", 400, start=baseline, span=timedelta(days=14), failed_every=20),
        *job_bodies("compare", 80, start=window, span=timedelta(hours=23), failed_every=4),
        *job_bodies("parse", 300, start=baseline, span=timedelta(days=14), running=50.0),
        *job_bodies("legend_parse", 100, start=baseline, span=timedelta(days=14)),
    ]
    with connect(tmp_path / "w.duckdb") as connection:
        load(connection, [loaded(j["id"], j, wrap=True) for j in jobs])
        refresh_marts(connection, now=NOW)
        yield connection


def test_every_column_of_every_asset_table_has_the_registrys_meaning(con):
    for table in registry.asset_tables():
        columns = column_schema(con, table).columns
        assert [c.name for c in columns] == [c.name for c in table.columns]
        for column in columns:
            assert column.description == table.column(column.name).description
            assert column.description, f"{table.qualified}.{column.name}"


def test_previews_are_narrow_and_show_what_matters_first(con):
    for table in registry.layer("marts"):
        assert table.preview is not None, table.qualified
        text = preview(con, table).value
        if not con.execute(f"SELECT count(*) FROM {table.qualified}").fetchone()[0]:
            assert text == "_(no rows)_"
            continue
        header = [c.strip() for c in text.splitlines()[0].strip("|").split("|")]
        # Narrow as shown: at most 7 columns, the preview's own, in its order.
        assert header == list(table.preview.columns) and len(header) <= 7, table.qualified
    first = preview(con, registry.table("marts.regressions")).value.splitlines()[2]
    assert "compare" in first and "failure_rate" in first and "| regression " in first
    assert "e-" in first  # the p-value in significant digits, not "0.00"
    with pytest.raises(ValueError, match="no preview"):
        preview(con, registry.table("core.jobs"))


def test_trend_numbers(con):
    def figures(name):
        metadata = table_metadata(con, registry.table(name))
        return {k: v for k, v in metadata.items()
                if k not in ("dagster/row_count", "dagster/column_schema", "table", "preview")}

    assert figures("marts.regressions") == {"regressions_found": 1}
    terminal, failed = con.execute(
        "SELECT count(*) FILTER (WHERE is_terminal), count(*) FILTER (WHERE final_status ="
        " 'FAILED') FROM marts.job_durations").fetchone()
    assert figures("marts.failure_rates") == {
        "terminal_jobs": terminal, "overall_failure_rate": pytest.approx(failed / terminal)}
    assert failed == 40 and terminal == 880
    # The three busiest types (most jobs): compare (480), parse (300), legend_parse (100).
    p95 = dict(con.execute("SELECT job_type, p95_seconds FROM marts.duration_stats"
                           " WHERE phase = 'total'").fetchall())
    durations = figures("marts.duration_stats")
    assert durations == {f"p95_total_seconds {t}": round(p95[t], 2)
                         for t in ("compare", "parse", "legend_parse")}
    assert all(isinstance(v, float) for v in durations.values())
    assert figures("marts.stuck_jobs") == {"stuck_now": 0}
    assert isinstance(figures("marts.failure_rates")["terminal_jobs"], int)
    assert figures("marts.job_trees") == {}  # no trend query: counts and schema only


def test_a_part_that_cannot_be_drawn_is_left_out_with_its_reason_and_a_warning(con, caplog):
    # A mart without the columns its preview reads (a warehouse of another version); its
    # trend figures come from marts.job_durations and are still there.
    con.execute("CREATE OR REPLACE TABLE marts.failure_rates AS SELECT 1 AS other")
    with caplog.at_level(logging.WARNING):
        metadata = table_metadata(con, registry.table("marts.failure_rates"), extra=1)
    assert metadata["dagster/row_count"] == 1 and metadata["extra"] == 1
    assert "preview" not in metadata and metadata["terminal_jobs"] == 880
    left_out = metadata["metadata_not_drawn"].value
    assert left_out.startswith("preview: ValueError: not columns of marts.failure_rates: ")
    assert f"marts.failure_rates: metadata left out ({left_out})" in caplog.messages
