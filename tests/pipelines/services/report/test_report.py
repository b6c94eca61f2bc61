"""The report: one offline HTML file beside the warehouse, every chart named by its table."""

from __future__ import annotations

import re

import warehouse
from pipelines.services.report import CHARTS, KEY_CHART, build_report, report_path
from pipelines.services.report.build import chart_sql
from tests.helpers import run_cli


def _charts(html: str) -> dict[str, str]:
    """chart id → the markup of its <figure>."""
    return dict(re.findall(r'<figure data-chart="(\w+)">(.*?)</figure>', html, flags=re.S))


def test_the_report_asset_writes_every_chart_beside_the_warehouse(loaded_warehouse):
    path = report_path(loaded_warehouse.path)
    assert path == loaded_warehouse.path.parent / "report.html" and path.exists()
    html = path.read_text()
    figures = _charts(html)
    assert set(figures) == {chart.id for chart in CHARTS}
    for chart in CHARTS:
        assert "<svg" in figures[chart.id] and "<path" in figures[chart.id]
        for table in chart.tables:  # each chart names the table it comes from
            assert f"<code>{table}</code>" in figures[chart.id]
        assert f'id="sql-{chart.id}"' in html


def test_the_report_needs_nothing_from_the_network(loaded_warehouse):
    html = report_path(loaded_warehouse.path).read_text()
    assert not re.search(r"<script[^>]+src=|<link[^>]+href=|@import|@font-face|url\((?!#)", html)
    # The only URLs are XML namespaces of the inline SVGs.
    urls = set(re.findall(r"https?://[^\s\"'<>)]+", html))
    assert urls <= {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}


def test_the_materialization_shows_the_key_chart_and_the_path(loaded_warehouse):
    metadata = loaded_warehouse.report_metadata
    assert metadata["path"].value == str(report_path(loaded_warehouse.path).resolve())
    key = next(chart for chart in CHARTS if chart.id == KEY_CHART)
    markdown = metadata["key_chart"].value
    assert "](data:image/png;base64,iVBOR" in markdown  # a PNG, inline
    assert all(table in markdown for table in key.tables)
    # The count it shows is the charts the file really holds.
    figures = _charts(report_path(loaded_warehouse.path).read_text())
    assert metadata["charts"].value == len(figures) == len(CHARTS)


def test_an_empty_warehouse_gives_no_data_panels_not_an_error(tmp_path):
    path = tmp_path / "empty.duckdb"
    with warehouse.connect(path) as con:
        report = build_report(con, tmp_path / "report.html", warehouse=str(path))
    assert set(report.empty_charts) == {chart.id for chart in CHARTS}
    figures = _charts(report.path.read_text())
    assert all("<path" in figures[chart.id] for chart in CHARTS)  # a drawn panel each
    assert report.key_png.startswith(b"\x89PNG")


def test_cli_report_writes_where_asked_and_says_where(loaded_warehouse, tmp_path):
    out = tmp_path / "mine.html"
    done = run_cli("report", "--warehouse", str(loaded_warehouse.path), "--output", str(out))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"report: {out.resolve()}")
    assert set(_charts(out.read_text())) == {chart.id for chart in CHARTS}


def test_cli_report_without_a_warehouse_says_what_to_run(tmp_path):
    done = run_cli("report", "--warehouse", str(tmp_path / "none.duckdb"))
    assert done.returncode == 1
    assert "bedrock-jobs ingest" in done.stderr and "Traceback" not in done.stderr


def test_where_a_trees_time_goes_is_drawn_from_the_critical_paths(loaded_warehouse, tmp_path):
    """The chapter reads marts.tree_critical_path: per kind of tree the median tree's shares
    sum to 1, and the slowest tree's segments lie inside its length."""
    with warehouse.connect(loaded_warehouse.path) as con:
        report = build_report(con, tmp_path / "report.html",
                              warehouse=str(loaded_warehouse.path))
        shares_sql, paths_sql = (chart_sql(_chart(name)) for name in ("tree_shares", "tree_paths"))
        shares = con.execute(f"SELECT root_type, sum(share) FROM ({shares_sql})"
                             " GROUP BY root_type").fetchall()
        paths = con.execute("SELECT max(offset_seconds + seconds - tree_seconds),"
                            f" min(offset_seconds) FROM ({paths_sql})").fetchall()
    assert report.rows["tree_shares"] > 0 and report.rows["tree_paths"] > 0
    assert shares and all(abs(total - 1) < 1e-9 for _, total in shares)
    assert abs(paths[0][0]) < 1e-6 and paths[0][1] == 0


def _chart(chart_id: str):
    return next(chart for chart in CHARTS if chart.id == chart_id)
