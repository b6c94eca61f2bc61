"""What got worse: the settings of `marts.regressions` and plain readers of its rows.

The statistics live in `marts/regressions.sql` and the `fisher_greater` macro
(`schema/macros.sql`); docs/what-changed.md explains the choices. This module holds the
defaults (the Dagster config documents the same ones) and turns them into the SQL's
bind parameters.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

import duckdb

from warehouse.db import sql

TABLE = "marts.regressions"
"""The mart this module reads; its SQL is `marts/regressions.sql`."""
CHECK = "regressions"
"""Its asset check: `checks/regressions.sql`, the flagged rows."""
METRICS = ("failure_rate", "requeue_share", "queued_p95_seconds", "running_p95_seconds",
           "total_p95_seconds")


@dataclass(frozen=True)
class RegressionSettings:
    """Windows and thresholds of `marts.regressions` (defaults: docs/what-changed.md)."""

    window_hours: float = 24.0  # the current window: created_at in the last N hours before now
    baseline_days: float = 14.0  # the trailing baseline: the N days before the window
    alpha: float = 0.01  # flag only when the one-sided p-value is below this
    min_current_n: int = 30  # jobs in the window behind the figure, at least
    min_baseline_n: int = 100  # jobs in the baseline behind the figure, at least
    rate_min_ratio: float = 2.0  # failure rate: current at least this × baseline
    rate_min_increase: float = 0.02  # ... and at least this much higher (2 points)
    requeue_min_ratio: float = 2.0  # re-queue share: as the failure rate
    requeue_min_increase: float = 0.02
    p95_min_ratio: float = 1.5  # a p95: current at least this × baseline
    p95_min_increase_seconds: float = 1.0  # ... and at least this many seconds longer
    mid_p: bool = False  # Lancaster's mid-p instead of the exact (conservative) p-value
    window_end: datetime | None = None  # where the current window ends (default: the refresh's now)

    def __post_init__(self) -> None:
        if self.window_hours <= 0 or self.baseline_days <= 0:
            raise ValueError("regression windows must be positive")
        if not 0 < self.alpha < 1:
            raise ValueError("alpha must be between 0 and 1")
        if self.window_end is not None and self.window_end.tzinfo is None:
            raise ValueError("window_end must be timezone-aware")

    def params(self, now: datetime) -> dict[str, Any]:
        """The bind parameters of `marts/regressions.sql` for a refresh at `now`."""
        values = asdict(self)
        window_hours = values.pop("window_hours")
        baseline_days = values.pop("baseline_days")
        window_end = values.pop("window_end") or now
        mid_p = bool(values.pop("mid_p"))
        return {
            "window_end": window_end,
            "window_seconds": float(window_hours) * 3600.0,
            "baseline_seconds": float(baseline_days) * 86_400.0,
            "mid_p": mid_p,
            **{k: float(v) for k, v in values.items()},
        }


def flagged(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """The flagged rows of `marts.regressions`, worst (smallest p-value) first."""
    cursor = con.execute(sql("checks", CHECK))
    columns = [d[0] for d in cursor.description]
    return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def format_value(metric: str, value: float | None) -> str:
    """A metric's value for people: a rate in percent, a p95 in seconds."""
    if value is None:
        return "n/a"
    if metric in ("failure_rate", "requeue_share"):
        return f"{100 * value:.1f}%"
    return f"{value:.1f}s"


def windows(con: duckdb.DuckDBPyConnection) -> tuple[datetime, datetime, datetime] | None:
    """(baseline_start, window_start, window_end) of the last refresh, None before any rows."""
    rows = con.execute(f"SELECT baseline_start, window_start, window_end FROM {TABLE}"  # noqa: S608
                       " LIMIT 1").fetchall()
    return tuple(rows[0]) if rows else None


def describe_windows(bounds: tuple[datetime, datetime, datetime]) -> str:
    baseline_start, window_start, window_end = bounds
    return (f"{window_start:%Y-%m-%d %H:%M} – {window_end:%Y-%m-%d %H:%M} UTC against "
            f"{baseline_start:%Y-%m-%d %H:%M} – {window_start:%Y-%m-%d %H:%M} UTC")


def describe_change(row: dict[str, Any]) -> str:
    """One line for a flagged row: type, metric, baseline → current, p-value."""
    metric = row["metric"]
    return (f"{row['job_type']} {metric}: {format_value(metric, row['baseline_value'])} → "
            f"{format_value(metric, row['current_value'])} "
            f"(n {row['baseline_n']} → {row['current_n']}, p={row['p_value']:.2g})")


def is_computed(con: duckdb.DuckDBPyConnection) -> bool:
    """False for a warehouse from before schema version 6 (no such mart), opened read-only."""
    schema, name = TABLE.split(".")
    return bool(con.execute(
        "SELECT count(*) FROM information_schema.tables"
        " WHERE table_schema = ? AND table_name = ?", [schema, name]).fetchall()[0][0])


@dataclass(frozen=True)
class WhatChanged:
    """What the last refresh found: the windows it compared (None when it had no jobs in
    either, or the warehouse predates the mart) and the regressions, worst first."""

    computed: bool
    windows: tuple[datetime, datetime, datetime] | None
    rows: list[dict[str, Any]]

    @property
    def heading(self) -> str:
        if not self.computed:
            return "not computed yet (the warehouse predates marts.regressions)"
        if self.windows is None:
            return "no jobs in the current window or its baseline"
        return f"jobs created {describe_windows(self.windows)}"


def what_changed_summary(con: duckdb.DuckDBPyConnection) -> WhatChanged:
    if not is_computed(con):
        return WhatChanged(False, None, [])
    return WhatChanged(True, windows(con), flagged(con))


def what_changed(con: duckdb.DuckDBPyConnection) -> list[str]:
    """'What changed' in plain lines: a heading naming the windows compared, then one line
    per regression, or 'nothing significant'."""
    found = what_changed_summary(con)
    if found.windows is None:
        return [f"what changed: {found.heading}"]
    lines = [f"what changed ({found.heading}):"]
    lines += [f"  {describe_change(row)}" for row in found.rows] or ["  nothing significant"]
    return lines
