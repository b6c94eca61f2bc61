"""The UI's metadata: column meanings from the data dictionary, readable previews, trend numbers."""

from __future__ import annotations

from datetime import timedelta

import pytest

from assets.marts import MARTS, PREVIEW_COLUMNS
from assets.metadata import TABLES, column_schema, mart_trends, preview
from pipelines.tools.docs.dictionary import describe, migration_comments
from tests.warehouse.conftest import load, loaded
from tests.warehouse.test_regressions import NOW, _jobs
from warehouse import connect, refresh_marts


@pytest.fixture
def con(tmp_path):
    window, baseline = NOW - timedelta(hours=24), NOW - timedelta(days=15)
    jobs = [
        *_jobs("compare", 400, start=baseline, span=timedelta(days=14), failed_every=20),
        *_jobs("compare", 80, start=window, span=timedelta(hours=23), failed_every=4),
        *_jobs("parse", 300, start=baseline, span=timedelta(days=14), running=50.0),
        *_jobs("legend_parse", 100, start=baseline, span=timedelta(days=14)),
    ]
    with connect(tmp_path / "w.duckdb") as connection:
        load(connection, [loaded(j["id"], j, wrap=True) for j in jobs])
        refresh_marts(connection, now=NOW)
        yield connection


def test_every_column_of_every_asset_table_has_the_dictionarys_meaning(con):
    comments = migration_comments()
    for schema, table in sorted(TABLES):
        for column in column_schema(con, schema, table).columns:
            meaning = describe(f"{schema}.{table}", column.name, comments)
            assert meaning and column.description == meaning, f"{schema}.{table}.{column.name}"


def test_previews_are_narrow_and_show_what_matters_first(con):
    assert set(PREVIEW_COLUMNS) == set(MARTS)
    for name, (_, order_by) in MARTS.items():
        text = preview(con, "marts", name, order_by, columns=PREVIEW_COLUMNS[name]).value
        if name in ("stuck_jobs", "job_trees"):  # nothing stuck, no parents here
            assert text == "_(no rows)_"
            continue
        header = text.splitlines()[0]
        assert [c.strip() for c in header.strip("|").split("|")] == list(PREVIEW_COLUMNS[name])
        assert len(PREVIEW_COLUMNS[name]) <= 7
    text = preview(con, "marts", "regressions", MARTS["regressions"][1],
                   columns=PREVIEW_COLUMNS["regressions"]).value
    first = text.splitlines()[2]
    assert "compare" in first and "failure_rate" in first and "True" in first
    assert "e-" in first  # the p-value in significant digits, not "0.00"
    with pytest.raises(ValueError):
        preview(con, "marts", "regressions", "p_value", columns=("job_type", "nope"))


def test_trend_numbers(con):
    trends = mart_trends(con, busiest=2)
    assert trends["regressions"] == {"regressions_found": 1}
    terminal, failed = con.execute(
        "SELECT count(*) FILTER (WHERE is_terminal), count(*) FILTER (WHERE final_status ="
        " 'FAILED') FROM marts.job_durations").fetchone()
    assert trends["failure_rates"] == {"terminal_jobs": terminal,
                                       "overall_failure_rate": pytest.approx(failed / terminal)}
    assert failed == 40 and terminal == 880
    # The two busiest types (most jobs): compare (480) and parse (300), p95 of total time.
    p95 = dict(con.execute("SELECT job_type, p95_seconds FROM marts.duration_stats"
                           " WHERE phase = 'total'").fetchall())
    assert trends["duration_stats"] == {"p95_total_seconds compare": round(p95["compare"], 2),
                                        "p95_total_seconds parse": round(p95["parse"], 2)}
    assert all(isinstance(v, float) for v in trends["duration_stats"].values())
    assert trends["stuck_jobs"] == {"stuck_now": 0}
