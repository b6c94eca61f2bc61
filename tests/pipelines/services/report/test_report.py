"""The report: one offline HTML file beside the warehouse, every chart named by its table."""

from __future__ import annotations

import re
from datetime import timedelta
from html import escape

import warehouse
from pipelines.services.report import CHARTS, KEY_CHART, build_report, report_path
from pipelines.services.report.build import chart_sql
from tests.helpers import REGRESSION_NOW, job_bodies, load, loaded, run_cli
from warehouse import refresh_marts


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


def test_a_chart_that_cannot_be_drawn_is_a_note_in_its_place_and_the_rest_draw(tmp_path):
    path = tmp_path / "w.duckdb"
    jobs = job_bodies("compare", 30, start=REGRESSION_NOW - timedelta(days=3),
                      span=timedelta(days=2), failed_every=4)
    with warehouse.connect(path) as con:
        load(con, [loaded(job["id"], job, wrap=True) for job in jobs])
        refresh_marts(con, now=REGRESSION_NOW)
        # What no refresh writes: a negative count (the graph's arrow widths take its log),
        # and a mart without the columns its chart reads (a warehouse of another version).
        con.execute("UPDATE marts.transition_matrix SET n = -1")
        con.execute("CREATE OR REPLACE TABLE marts.credits_by_week AS SELECT 1 AS other")
        report = build_report(con, tmp_path / "report.html", warehouse=str(path))
    assert report.failed["transitions"] == "ValueError: math domain error"
    assert report.failed["credits"].startswith("BinderException: Binder Error: ")
    assert set(report.failed) == {"transitions", "credits"}
    html = report.path.read_text()
    figures = dict(re.findall(r'<figure data-chart="(\w+)"[^>]*>(.*?)</figure>', html, re.S))
    assert set(figures) == {chart.id for chart in CHARTS}
    for chart_id, markup in figures.items():
        if chart_id in report.failed:  # the note, in one line, in the chart's place
            assert "<svg" not in markup
            [note] = re.findall(r'<p class="note" role="note">(.*?)</p>', markup)
            assert note == f"This chart could not be drawn: {escape(report.failed[chart_id])}"
        else:
            assert "<svg" in markup and 'class="note"' not in markup
    # The rows the failed graph read are still there to read, under its note.
    transitions = html[html.index('<section id="transitions">'):]
    assert "<table" in transitions[:transitions.index("</section>")]
    assert report.key_png.startswith(b"\x89PNG")
    # `bedrock-jobs report` writes the page all the same and names what it left out.
    done = run_cli("report", "--warehouse", str(path), "--live",
                   "--output", str(tmp_path / "cli.html"))
    assert done.returncode == 0, done.stderr
    assert ("warning: transitions could not be drawn: ValueError: math domain error"
            in done.stderr.splitlines())


def test_a_headline_that_cannot_be_read_is_a_note_in_its_place(tmp_path):
    path = tmp_path / "w.duckdb"
    jobs = job_bodies("compare", 10, start=REGRESSION_NOW - timedelta(days=2),
                      span=timedelta(days=1))
    with warehouse.connect(path) as con:
        load(con, [loaded(job["id"], job, wrap=True) for job in jobs])
        refresh_marts(con, now=REGRESSION_NOW)
        con.execute("CREATE OR REPLACE TABLE marts.job_durations AS SELECT 1 AS other")
        report = build_report(con, tmp_path / "report.html", warehouse=str(path))
    assert set(report.failed) == {"headline", "durations"}  # both read marts.job_durations
    header = report.path.read_text().split("</header>")[0]
    assert f"The headline could not be drawn: {escape(report.failed['headline'])}" in header
    assert 'class="headline"' not in header and "<nav>" in header
