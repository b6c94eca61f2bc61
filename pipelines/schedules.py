"""Schedules: hourly discovery and refresh of in-flight jobs, daily marts."""

from __future__ import annotations

import dagster as dg

from assets.intake import intake_run_config
from pipelines.jobs import refresh_in_flight, refresh_marts

hourly_refresh = dg.ScheduleDefinition(
    name="hourly_refresh",
    job=refresh_in_flight,
    cron_schedule="7 * * * *",
    execution_timezone="UTC",
    description="Every hour: register newly created jobs and re-fetch those still in flight. "
                "It leaves the inbox to the inbox sensor, which reads a file only once it "
                "is whole.",
    default_status=dg.DefaultScheduleStatus.STOPPED,
    # No inbox files: a file being written when the hour strikes would be read half.
    run_config=intake_run_config(inbox_files=[]),
)

daily_marts = dg.ScheduleDefinition(
    name="daily_marts",
    job=refresh_marts,
    cron_schedule="30 2 * * *",
    execution_timezone="UTC",
    description="Every day: recompute the marts and the report.",
    default_status=dg.DefaultScheduleStatus.STOPPED,
)

ALL_SCHEDULES = [hourly_refresh, daily_marts]
