"""The report opens with "What changed": each regression, or "nothing significant" + windows."""

from __future__ import annotations

import re
from datetime import timedelta

from pipelines.services.report import build_report, report_path
from tests.helpers import REGRESSION_NOW as NOW
from tests.helpers import job_bodies, load, loaded
from warehouse import connect, refresh_marts


def _section(html: str) -> str:
    main = html[html.index("<main>"):]
    first = re.search(r"<section id=\"([\w-]+)\"[^>]*>(.*?)</section>", main, flags=re.S)
    assert first and first.group(1) == "what-changed", "What changed is not the first section"
    return first.group(2)


def _report(tmp_path, jobs) -> str:
    path = tmp_path / "w.duckdb"
    with connect(path) as con:
        load(con, [loaded(j["id"], j, wrap=True) for j in jobs])
        refresh_marts(con, now=NOW)
        return build_report(con, tmp_path / "report.html", warehouse=str(path)).path.read_text()


def test_regressions_are_listed_first(tmp_path):
    window, baseline = NOW - timedelta(hours=24), NOW - timedelta(days=15)
    html = _report(tmp_path, [
        *job_bodies("compare", 400, start=baseline, span=timedelta(days=14), failed_every=20),
        *job_bodies("compare", 80, start=window, span=timedelta(hours=23), failed_every=4),
    ])
    section = _section(html)
    assert "data-flagged='1'" in section
    assert re.search(r"<b>compare</b> failure_rate: 5\.0% → <b>25\.0%</b> <span class='meta'>"
                     r"\(400 → 80 jobs, p = [0-9.e-]+; baseline: 14\.0 days of data\)</span>"
                     r" <span class='flag'>new</span>", section)
    assert "jobs created 2026-02-28 00:00 – 2026-03-01 00:00 UTC against the jobs before it; " \
           "baseline: 14.0 days of data." in section
    assert "<code>marts.regressions</code>" in section and "Nothing significant" not in section
    assert html.index('href="#what-changed"') < html.index('href="#', html.index(
        'href="#what-changed"') + 1)  # first in the contents too


def test_nothing_significant_names_the_windows(tmp_path):
    window, baseline = NOW - timedelta(hours=24), NOW - timedelta(days=15)
    section = _section(_report(tmp_path, [
        *job_bodies("compare", 400, start=baseline, span=timedelta(days=14), failed_every=20),
        *job_bodies("compare", 80, start=window, span=timedelta(hours=23), failed_every=20),
    ]))
    assert "<b>Nothing significant.</b>" in section and "data-flagged='0'" in section
    assert "jobs created 2026-02-28 00:00 – 2026-03-01 00:00 UTC against" in section


def test_the_pipeline_report_has_the_section(loaded_warehouse):
    section = _section(report_path(loaded_warehouse.path).read_text())
    assert "jobs created 2025-12-31 00:00 – 2026-01-01 00:00 UTC against the jobs before it; " \
           "baseline: " in section
