"""Queries → figures → one HTML file: the report the `report` asset and CLI write."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pandas as pd

from pipelines.services.report.charts import CHARTS, KEY_CHART, Chart
from pipelines.services.report.figures import to_png, to_svg
from pipelines.services.report.html import ChartPanel, render_page
from warehouse.db import first_row, sql
from warehouse.what_changed import what_changed_summary

REPORT_NAME = "report.html"


@dataclass(frozen=True)
class Report:
    """A written report: where it is, what each chart drew, and the key chart as PNG."""

    path: Path
    rows: dict[str, int]  # chart id → rows its query returned
    key_png: bytes

    @property
    def empty_charts(self) -> list[str]:
        return [chart for chart, n in self.rows.items() if n == 0]


def report_path(warehouse_path: str | Path) -> Path:
    """Where the report of a warehouse lives: `report.html` beside the DuckDB file."""
    return Path(warehouse_path).with_name(REPORT_NAME)


def chart_sql(chart: Chart) -> str:
    """The SQL behind `chart` (`warehouse/queries/chart_<id>.sql`)."""
    return sql("queries", chart.sql_name)


def chart_frame(con: duckdb.DuckDBPyConnection, chart: Chart) -> pd.DataFrame:
    """The rows `chart` draws; none while a mart it reads has never been refreshed (marts
    are created by their first refresh, so a new warehouse has only the oldest ones)."""
    try:
        return con.execute(chart_sql(chart)).df()
    except duckdb.CatalogException:
        return pd.DataFrame()


def headline(con: duckdb.DuckDBPyConnection) -> dict[str, object]:
    """Jobs, terminal, failed, re-queued, stuck and the creation span, for the page's top."""
    cursor = con.execute(sql("queries", "report_headline"))
    names = [d[0] for d in cursor.description]
    row = first_row(cursor)
    return dict(zip(names, row, strict=True)) if row else {}


def _write_atomically(path: Path, text: str) -> None:
    """Replace `path` in one step: a browser reloading it never sees half a page."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".report-", suffix=".html")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.chmod(temporary, 0o644)  # mkstemp makes it private; a report is for reading
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def build_report(con: duckdb.DuckDBPyConnection, out: str | Path, *, warehouse: str,
                 now: datetime | None = None) -> Report:
    """Draw every chart from the marts behind `con` and write the page to `out`.

    Empty marts (a fresh warehouse) give 'no data yet' panels, not an error.
    """
    panels: list[ChartPanel] = []
    key_png = b""
    for chart in CHARTS:
        frame = chart_frame(con, chart)
        figure = chart.figure(frame)
        panels.append(ChartPanel(chart, to_svg(figure, salt=chart.id), chart_sql(chart), frame))
        if chart.id == KEY_CHART:
            key_png = to_png(figure)
    page = render_page(panels, headline(con), warehouse=warehouse,
                       generated_at=(now or datetime.now(UTC)).astimezone(UTC),
                       changed=what_changed_summary(con))
    path = Path(out)
    _write_atomically(path, page)
    return Report(path, {p.chart.id: len(p.frame) for p in panels}, key_png)
