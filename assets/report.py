"""Report: the marts drawn as charts in one self-contained HTML file beside the warehouse."""

import base64

import dagster as dg

from pipelines.instance import WAREHOUSE_POOL
from pipelines.resources import WarehouseResource
from pipelines.services.report import CHARTS, KEY_CHART, build_report, report_path
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
        "naming its mart and showing its SQL. Works offline."
    ),
)
def jobs_report(context: dg.AssetExecutionContext,
                warehouse: WarehouseResource) -> dg.MaterializeResult:
    out = report_path(warehouse.path)
    with warehouse.connect() as con:
        report = build_report(con, out, warehouse=warehouse.path)
    context.log.info(f"report written to {report.path.resolve()}")
    key = next(chart for chart in CHARTS if chart.id == KEY_CHART)
    image = base64.b64encode(report.key_png).decode("ascii")
    return dg.MaterializeResult(metadata={
        "path": dg.MetadataValue.path(str(report.path.resolve())),
        "key_chart": dg.MetadataValue.md(
            f"**{key.title}** (from {', '.join(key.tables)})\n\n"
            f"![{key.title}](data:image/png;base64,{image})"),
        "charts": len(report.rows),
        "charts_without_data": dg.MetadataValue.text(", ".join(report.empty_charts) or "none"),
    })
