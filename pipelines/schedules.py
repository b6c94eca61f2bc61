"""Schedules: hourly discovery and refresh of in-flight jobs, daily marts."""

from __future__ import annotations

import dagster as dg

from pipelines.jobs import refresh_in_flight, refresh_marts

hourly_refresh = dg.ScheduleDefinition(
    name="hourly_refresh",
    job=refresh_in_flight,
    cron_schedule="7 * * * *",
    execution_timezone="UTC",
    description="Every hour: register newly created jobs and re-fetch those still in flight.",
    default_status=dg.DefaultScheduleStatus.STOPPED,
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
