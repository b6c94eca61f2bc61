"""The code location's one registry, loaded by `workspace.yaml`."""

from __future__ import annotations

import dagster as dg

from assets.checks import ALL_CHECKS
from assets.core import core_tables
from assets.fetch import job_payloads
from assets.intake import job_ledger
from assets.marts import mart_tables
from assets.publish import read_copy
from assets.report import jobs_report
from pipelines.jobs import ALL_JOBS
from pipelines.resources import build_resources
from pipelines.schedules import ALL_SCHEDULES
from pipelines.sensors import alerts_sensor, inbox_sensor


def build_definitions(
    resources: dict[str, dg.ConfigurableResource] | None = None,
) -> dg.Definitions:
    """Everything the code location serves, with resources read from the environment
    (or `resources`, e.g. a benchmark's own fetch workers)."""
    return dg.Definitions(
        assets=[job_ledger, job_payloads, core_tables, mart_tables, jobs_report, read_copy],
        asset_checks=ALL_CHECKS,
        jobs=ALL_JOBS,
        schedules=ALL_SCHEDULES,
        sensors=[inbox_sensor, alerts_sensor],
        resources=resources or build_resources(),
    )


defs = build_definitions()
