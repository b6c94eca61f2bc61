"""Queries → figures → one HTML file: the report the `report` asset and CLI write."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

import duckdb
import pandas as pd
from matplotlib.figure import Figure

from pipelines.services.report.charts import CHARTS, KEY_CHART, Chart
from pipelines.services.report.figures import to_png, to_svg
from pipelines.services.report.html import (
    ChartPanel,
    chart_section,
    headline_block,
    note,
    render_page,
    what_changed_section,
)
from pipelines.services.text import one_line
from warehouse.db import first_row, sql
from warehouse.what_changed import what_changed_summary

REPORT_NAME = "report.html"
T = TypeVar("T")


@dataclass(frozen=True)
class Report:
    """A written report: where it is, what each chart drew, the key chart as PNG, and what
    could not be drawn."""

    path: Path
    rows: dict[str, int]  # chart id → rows its query returned
    key_png: bytes  # empty when the key chart could not be drawn
    failed: dict[str, str] = field(default_factory=dict)
    """Chart id (or `headline`, `what_changed`) → why it could not be drawn, in one line;
    the page shows that line in its place. `key_png`: the key chart drew on the page, but
    its PNG for the run's metadata could not be made."""

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


def _guarded(name: str, draw: Callable[[], T], fallback: T, failed: dict[str, str]) -> T:
    """`draw()`, or `fallback` with why in `failed[name]`: one part of the page that cannot
    be drawn never stops the rest (nor the run). Any error, because a drawing library can
    raise anything on data it did not expect; each is reported, never dropped."""
    try:
        return draw()
    except duckdb.InterruptException:
        raise  # a person stopping the run, not a drawing that failed
    except Exception as error:
        failed[name] = one_line(error)
        return fallback


def _chart_section(con: duckdb.DuckDBPyConnection, chart: Chart,
                   failed: dict[str, str]) -> tuple[str, int, Figure | None]:
    """The chart's section, the rows it drew and its figure; a section with a note in
    place of the figure (and no figure) when its query or its drawing fails."""
    frame = pd.DataFrame()

    def draw() -> tuple[str, int, Figure | None]:
        nonlocal frame
        frame = chart_frame(con, chart)
        figure = chart.figure(frame)
        panel = ChartPanel(chart, to_svg(figure, salt=chart.id), chart_sql(chart), frame)
        return chart_section(panel), len(frame), figure

    drawn = _guarded(chart.id, draw, None, failed)
    if drawn is not None:
        return drawn
    panel = ChartPanel(chart, "", chart_sql(chart), frame, note=failed[chart.id])
    # With the rows it read, when they were read and can be shown; else without them.
    section = _guarded(chart.id, lambda: chart_section(panel), None, {})
    return section or chart_section(replace(panel, frame=pd.DataFrame())), len(frame), None


def build_report(con: duckdb.DuckDBPyConnection, out: str | Path, *, warehouse: str,
                 now: datetime | None = None) -> Report:
    """Draw every chart from the marts behind `con` and write the page to `out`.

    Empty marts (a fresh warehouse) give 'no data yet' panels, not an error. A chart (or
    the headline, or "What changed") that cannot be drawn anyway gets a one-line note in
    its place and in `Report.failed`; only writing the page raises.
    """
    failed: dict[str, str] = {}
    sections: list[tuple[Chart, str]] = []
    rows: dict[str, int] = {}
    key_png = b""
    for chart in CHARTS:
        section, rows[chart.id], figure = _chart_section(con, chart, failed)
        sections.append((chart, section))
        if chart.id == KEY_CHART and figure is not None:
            key_png = _guarded("key_png", lambda f=figure: to_png(f), b"", failed)
    top = _guarded("headline", lambda: headline_block(headline(con)), "", failed)
    changed = _guarded("what_changed", lambda: what_changed_section(what_changed_summary(con)),
                       "", failed)
    page = render_page(
        sections,
        note(f"The headline could not be drawn: {failed['headline']}")
        if "headline" in failed else top,
        what_changed_section(None, failed["what_changed"]) if "what_changed" in failed
        else changed,
        warehouse=warehouse, generated_at=(now or datetime.now(UTC)).astimezone(UTC))
    path = Path(out)
    _write_atomically(path, page)
    return Report(path, rows, key_png, failed)
