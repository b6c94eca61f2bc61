"""Report: the marts drawn as charts in one self-contained HTML file beside the warehouse.

Presentation never fails the data: a chart that cannot be drawn is a note in the page and
a warning in the run, and a page that cannot be written at all is a warning too (the
materialization says why); the run goes on to publish the read-only copy."""

import base64

import dagster as dg

from pipelines.instance import WAREHOUSE_POOL
from pipelines.resources import WarehouseResource
from pipelines.services.report import (
    CHARTS,
    KEY_CHART,
    Report,
    build_report,
    report_path,
)
from pipelines.services.text import one_line
from warehouse import registry


@dg.asset(
    key=["report", "jobs_report"],
    deps=[table.key for table in registry.layer("marts")],
    group_name="report",
    pool=WAREHOUSE_POOL,
    kinds={"html"},
    description=(
        "`report.html` beside the warehouse file: charts of durations per job type and phase, "
        "the daily failure rate with its 95% band, the status transition graph, stuck jobs, "
        "parent/child fan-out and the credits lost to failures and retries per week, each "
        "naming its mart and showing its SQL. Works offline. A chart that cannot be drawn "
        "is a note in its place and a warning in the run, never a failed run."
    ),
)
def jobs_report(context: dg.AssetExecutionContext,
                warehouse: WarehouseResource) -> dg.MaterializeResult:
    out = report_path(warehouse.path)
    with warehouse.connect() as con:
        try:
            report = build_report(con, out, warehouse=warehouse.path)
        except Exception as error:
            # Each chart's own failure is already a note in the page: this is the page as
            # a whole (its folder or the disk refused it).
            why = one_line(error)
            context.log.warning(f"report not written to {out.resolve()}: {why}")
            return dg.MaterializeResult(metadata={
                "written": False, "reason": dg.MetadataValue.text(why),
                "path": dg.MetadataValue.path(str(out.resolve()))})
    context.log.info(f"report written to {report.path.resolve()}")
    for part, why in report.failed.items():
        context.log.warning(f"report: {part} could not be drawn ({why}); the page says so "
                            "in its place")
    return dg.MaterializeResult(metadata=_metadata(report))


def _metadata(report: Report) -> dict:
    key = next(chart for chart in CHARTS if chart.id == KEY_CHART)
    if report.key_png:
        image = base64.b64encode(report.key_png).decode("ascii")
        shown = f"![{key.title}](data:image/png;base64,{image})"
    else:
        why = report.failed.get(key.id) or report.failed.get("key_png", "no image")
        shown = f"_could not be drawn: {why}_"
    return {
        "written": True,
        "path": dg.MetadataValue.path(str(report.path.resolve())),
        "key_chart": dg.MetadataValue.md(
            f"**{key.title}** (from {', '.join(key.tables)})\n\n{shown}"),
        "charts": len(report.rows),
        "charts_without_data": dg.MetadataValue.text(", ".join(report.empty_charts) or "none"),
        "charts_not_drawn": dg.MetadataValue.text(
            "; ".join(f"{part}: {why}" for part, why in report.failed.items()) or "none"),
    }
