"""The analytics report: charts drawn from the marts into one self-contained HTML file.

    with warehouse.connect(path) as con:
        report = build_report(con, report_path(path), warehouse=str(path))

Plain functions, no Dagster: the `report` asset, `bedrock-jobs report` and the
tests all call `build_report`. A part that cannot be drawn is a one-line note in its place
and in `Report.failed`, never an exception; only writing the page can raise.
"""

from pipelines.services.report.build import (
           Report,
           build_report,
           chart_frame,
           chart_sql,
           report_path,
)
from pipelines.services.report.charts import CHARTS, KEY_CHART, Chart

__all__ = ["CHARTS", "KEY_CHART", "Chart", "Report", "build_report", "chart_frame", "chart_sql",
           "report_path"]
