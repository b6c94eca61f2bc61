"""Stuck jobs: `marts.stuck_jobs`' names and whether the data in flight can judge them.

The mart (`marts/stuck_jobs.sql`) measures each in-flight job's time in its status up to
the job's last successful fetch, so a fetch outage never makes a job stuck. While nothing
in flight has been fetched for longer than the stuck floor (1 h, the least threshold), a
job may have passed its threshold unseen: the data is stale and stuck jobs can't be
judged. That rule is `queries/in_flight_fetch.sql`; this module reads it for the asset
check and the alerts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import duckdb

from warehouse.db import first_row, sql
from warehouse.transform import DEFAULT_STUCK_FLOOR_SECONDS

TABLE = "marts.stuck_jobs"
"""The mart; its SQL is `marts/stuck_jobs.sql`."""
CHECK = "stuck_jobs"
"""Its asset check: `checks/stuck_jobs.sql`, unless the data in flight is stale."""


@dataclass(frozen=True)
class InFlightFetch:
    """The last successful fetch of the jobs in flight, and whether it is too old to judge
    stuck jobs (`queries/in_flight_fetch.sql`)."""

    in_flight: int
    last_fetched_at: datetime | None  # None: nothing in flight
    age_seconds: float | None
    is_stale: bool

    def describe(self) -> str:
        """What a reader needs to know when the data is stale ('' when it is not)."""
        if not self.is_stale or self.last_fetched_at is None or self.age_seconds is None:
            return ""
        return (f"in-flight data is stale: last successful fetch "
                f"{self.last_fetched_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC "
                f"({self.age_seconds / 3600:.1f} h ago); stuck jobs cannot be judged until "
                "a fetch succeeds")


def in_flight_fetch(con: duckdb.DuckDBPyConnection, now: datetime | None = None,
                    floor_seconds: float = DEFAULT_STUCK_FLOOR_SECONDS) -> InFlightFetch:
    """When the jobs in flight were last fetched successfully, judged at `now` (aware;
    default: the current time) against `floor_seconds`."""
    now = now or datetime.now(UTC)
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    row = first_row(con.execute(sql("queries", "in_flight_fetch"),
                                {"now": now, "floor_seconds": float(floor_seconds)}))
    in_flight, last, age, stale = row or (0, None, None, False)
    return InFlightFetch(int(in_flight), last, age, bool(stale))
