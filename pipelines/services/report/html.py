"""The report page: one self-contained HTML file (inline SVG and CSS, no external asset).

Every chart sits in a `<figure data-chart="…">` with a caption naming its tables,
followed by the exact SQL behind it (copy-paste into `bedrock-jobs sql`) and the
rows it drew. A part that could not be drawn shows a one-line note in its place
(`<p class="note">`; its figure is marked `data-failed`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from html import escape

import pandas as pd

from pipelines.services.report.charts import Chart
from warehouse import what_changed
from warehouse.db import sql
from warehouse.what_changed import WhatChanged

MAX_TABLE_ROWS = 25

CSS = """
:root { color-scheme: light; }
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #222;
       margin: 0; background: #f6f7f9; }
header, main { max-width: 1080px; margin: 0 auto; padding: 0 24px; }
header { padding-top: 28px; }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 19px; margin: 0 0 2px; }
.meta, .question, figcaption { color: #666; }
.headline { display: flex; flex-wrap: wrap; gap: 12px; margin: 18px 0 6px; padding: 0; }
.headline li { list-style: none; background: #fff; border: 1px solid #e2e4e8; border-radius: 8px;
               padding: 8px 14px; min-width: 110px; }
.headline b { display: block; font-size: 20px; }
nav ol { columns: 2; padding-left: 20px; margin: 10px 0 0; }
section { background: #fff; border: 1px solid #e2e4e8; border-radius: 10px; padding: 18px 20px;
          margin: 18px 0; }
figure { margin: 10px 0 6px; }
figure svg { width: 100%; height: auto; display: block; }
code, pre { font: 13px/1.45 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
pre { background: #f3f4f6; padding: 10px 12px; border-radius: 6px; overflow-x: auto;
      margin: 8px 0; }
details { margin-top: 6px; }
summary { cursor: pointer; color: #2f6db5; }
button.copy { float: right; font-size: 12px; margin-top: 6px; }
table { border-collapse: collapse; font-size: 13px; margin-top: 8px; }
th, td { border-bottom: 1px solid #eee; padding: 3px 8px; text-align: right; }
th:first-child, td:first-child { text-align: left; }
#what-changed { border-left: 4px solid #2f6db5; }
#what-changed.flagged { border-left-color: #c0392b; }
#what-changed ul { margin: 8px 0 0; padding-left: 20px; }
#what-changed .flag { font-size: 12px; color: #555; background: #f3f4f6; border-radius: 4px;
                      padding: 1px 6px; }
.note { background: #fdf3e7; border-left: 4px solid #e08a1e; padding: 8px 12px;
        border-radius: 4px; }
footer { color: #888; font-size: 13px; max-width: 1080px; margin: 0 auto 30px; padding: 0 24px; }
"""

# Copies the SQL of a chart; the only script, inline, and harmless where the clipboard is off.
SCRIPT = """
document.querySelectorAll("button.copy").forEach(function (button) {
  button.addEventListener("click", function () {
    var text = document.getElementById(button.dataset.target).textContent;
    if (navigator.clipboard) {
      navigator.clipboard.writeText(text).then(
        function () { button.textContent = "Copied"; },
        function () { button.textContent = "Select and copy"; });
    }
  });
});
"""


@dataclass(frozen=True)
class ChartPanel:
    """What the page shows for one chart."""

    chart: Chart
    svg: str
    sql: str
    frame: pd.DataFrame
    note: str | None = None
    """Why the chart could not be drawn (one line), shown in place of `svg`."""


def _table(frame: pd.DataFrame) -> str:
    if frame.empty:
        return "<p><em>(no rows)</em></p>"
    shown = frame.head(MAX_TABLE_ROWS)
    more = (f"<p class='meta'>first {MAX_TABLE_ROWS} of {len(frame)} rows</p>"
            if len(frame) > MAX_TABLE_ROWS else "")
    return shown.to_html(index=False, border=0, float_format=lambda v: f"{v:,.3g}",
                         na_rep="–", escape=True) + more


def note(text: str) -> str:
    """A part of the page that could not be drawn, and why, in its place."""
    return f'<p class="note" role="note">{escape(text)}</p>'


def chart_section(panel: ChartPanel) -> str:
    """A chart's section: question, figure (or the note saying why it is missing), the SQL
    behind it and its rows."""
    chart = panel.chart
    drawing = (note(f"This chart could not be drawn: {panel.note}") if panel.note
               else panel.svg)
    failed = ' data-failed="true"' if panel.note else ""
    tables = ", ".join(f"<code>{escape(t)}</code>" for t in chart.tables)
    sql_id = f"sql-{chart.id}"
    return f"""
<section id="{chart.id}">
  <h2>{escape(chart.title)}</h2>
  <p class="question">{escape(chart.question)}</p>
  <figure data-chart="{chart.id}"{failed}>
    {drawing}
    <figcaption>Source: {tables} · {len(panel.frame)} rows</figcaption>
  </figure>
  <details>
    <summary>SQL behind this chart</summary>
    <button class="copy" type="button" data-target="{sql_id}">Copy</button>
    <pre><code id="{sql_id}">{escape(panel.sql.strip())}</code></pre>
  </details>
  <details>
    <summary>Data</summary>
    {_table(panel.frame)}
  </details>
</section>"""


def headline_block(figures: dict[str, object]) -> str:
    """The page's top figures: jobs, terminal, failed, rate, re-queued, stuck, the span."""
    def number(key: str) -> str:
        value = figures.get(key)
        return "–" if value is None or pd.isna(value) else f"{int(value):,}"

    jobs = figures.get("jobs") or 0
    terminal = figures.get("terminal") or 0
    failed = figures.get("failed") or 0
    rate = f"{failed / terminal:.1%}" if terminal else "–"
    items = [("jobs", number("jobs")), ("terminal", number("terminal")),
             ("failed", number("failed")), ("failure rate", rate),
             ("re-queued", number("requeued")), ("stuck now", number("stuck"))]
    first, last = figures.get("first_created_at"), figures.get("last_created_at")
    span = (f"created {pd.Timestamp(first):%Y-%m-%d %H:%M} to {pd.Timestamp(last):%Y-%m-%d %H:%M}"
            f" UTC" if jobs and first is not None and not pd.isna(first) else "no jobs yet")
    cells = "".join(f"<li><b>{escape(v)}</b>{escape(k)}</li>" for k, v in items)
    return f'<ul class="headline">{cells}</ul><p class="meta">Jobs {escape(span)}.</p>'


def _change_item(row: dict) -> str:
    """One flagged row: type, metric, baseline → current, jobs, p-value, the baseline's
    data, and whether the flag is new or since when it stands."""
    metric, status = row["metric"], what_changed.flag_status(row)
    return (f"<li><b>{escape(row['job_type'])}</b> {escape(metric)}: "
            f"{escape(what_changed.format_value(metric, row['baseline_value']))} → "
            f"<b>{escape(what_changed.format_value(metric, row['current_value']))}</b> "
            f"<span class='meta'>({row['baseline_n']:,} → {row['current_n']:,} jobs, "
            f"p = {row['p_value']:.2g}{escape(what_changed.baseline_suffix(row))})</span>"
            + (f" <span class='flag'>{escape(status)}</span>" if status else "") + "</li>")


def what_changed_section(changed: WhatChanged | None, failed: str | None = None) -> str:
    """The first section: what got worse in the last window, 'nothing significant', or one
    line saying the window had no jobs and how current the data is."""
    if failed is not None:
        return f"""
<section id="what-changed">
  <h2>What changed</h2>
  {note(f"This list could not be drawn: {failed}")}
</section>"""
    if changed is None:
        return ""
    query = sql("checks", what_changed.CHECK).strip()
    if changed.rows:
        items = "".join(_change_item(r) for r in changed.rows)
        body = f"<ul data-flagged='{len(changed.rows)}'>{items}</ul>"
    elif changed.no_current_data:
        body = (f"<p data-flagged='0' data-current='0'>"
                f"<b>{escape(changed.no_current_data)}</b></p>")
    elif changed.windows is not None:
        body = "<p data-flagged='0'><b>Nothing significant.</b></p>"
    else:
        body = "<p data-flagged='0'>Nothing to compare.</p>"
    flagged = " class='flagged'" if changed.rows else ""
    return f"""
<section id="what-changed"{flagged}>
  <h2>What changed</h2>
  <p class="question">Which job types got materially and significantly worse:
  {escape(changed.heading)}. Failure rate, re-queue share and p95 of queued, running and
  total time; how it is decided: docs/what-changed.md.</p>
  {body}
  <p class="meta">Source: <code>{what_changed.TABLE}</code></p>
  <details>
    <summary>SQL behind this list</summary>
    <button class="copy" type="button" data-target="sql-what-changed">Copy</button>
    <pre><code id="sql-what-changed">{escape(query)}</code></pre>
  </details>
</section>"""


def render_page(sections: Sequence[tuple[Chart, str]], headline: str, changed: str, *,
                warehouse: str, generated_at: datetime) -> str:
    """The whole report as one HTML document: each chart's section (`chart_section`), the
    headline (`headline_block`) and "What changed" (`what_changed_section`, or "")."""
    contents = "".join(f'<li><a href="#{chart.id}">{escape(chart.title)}</a></li>'
                       for chart, _ in sections)
    if changed:
        contents = f'<li><a href="#what-changed">What changed</a></li>{contents}'
    body = "".join(section for _, section in sections)
    stamp = f"{generated_at:%Y-%m-%d %H:%M:%S} UTC"
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Bedrock jobs report</title>
<style>{CSS}</style>
</head>
<body>
<header>
  <h1>Bedrock jobs: how long they take and where they fail</h1>
  <p class="meta">Generated {escape(stamp)} from <code>{escape(warehouse)}</code>.
  Every figure below names its table; its SQL runs as is with
  <code>bedrock-jobs sql "…"</code>.</p>
  {headline}
  <nav><ol>{contents}</ol></nav>
</header>
<main>{changed}{body}
</main>
<footer>bedrock-jobs · durations in seconds (s), minutes (m), hours (h) and days (d) ·
statuses are canonical (see docs/data-dictionary.md)</footer>
<script>{SCRIPT}</script>
</body>
</html>
"""
