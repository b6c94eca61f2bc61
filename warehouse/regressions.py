"""What got worse: the settings of `marts.regressions` and plain readers of its rows.

The statistics live in `marts/regressions.sql` and the `fisher_greater_midp` macro
(`schema/macros.sql`); docs/regressions.md explains the choices. This module holds the
defaults (the Dagster config documents the same ones) and turns them into the SQL's
bind parameters.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

import duckdb

METRICS = ("failure_rate", "requeue_share", "queued_p95_seconds", "running_p95_seconds",
           "total_p95_seconds")


@dataclass(frozen=True)
class RegressionSettings:
    """Windows and thresholds of `marts.regressions` (defaults: docs/regressions.md)."""

    window_hours: float = 24.0  # the current window: created_at in the last N hours before now
    baseline_days: float = 14.0  # the trailing baseline: the N days before the window
    alpha: float = 0.01  # flag only when the one-sided mid-p is below this
    min_current_n: int = 30  # jobs in the window behind the figure, at least
    min_baseline_n: int = 100  # jobs in the baseline behind the figure, at least
    rate_min_ratio: float = 2.0  # failure rate: current at least this × baseline
    rate_min_increase: float = 0.02  # ... and at least this much higher (2 points)
    requeue_min_ratio: float = 2.0  # re-queue share: as the failure rate
    requeue_min_increase: float = 0.02
    p95_min_ratio: float = 1.5  # a p95: current at least this × baseline
    p95_min_increase_seconds: float = 1.0  # ... and at least this many seconds longer

    def __post_init__(self) -> None:
        if self.window_hours <= 0 or self.baseline_days <= 0:
            raise ValueError("regression windows must be positive")
        if not 0 < self.alpha < 1:
            raise ValueError("alpha must be between 0 and 1")

    def params(self, now: datetime) -> dict[str, Any]:
        """The bind parameters of `marts/regressions.sql` for a refresh at `now`."""
        values = asdict(self)
        window_hours = values.pop("window_hours")
        baseline_days = values.pop("baseline_days")
        return {
            "now": now,
            "window_seconds": float(window_hours) * 3600.0,
            "baseline_seconds": float(baseline_days) * 86_400.0,
            **{k: float(v) for k, v in values.items()},
        }


def regressions(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """The flagged rows of `marts.regressions`, worst (smallest p-value) first."""
    cursor = con.execute(
        "SELECT job_type, metric, window_start, window_end, baseline_start, baseline_n, "
        "current_n, baseline_value, current_value, ratio, p_value FROM marts.regressions "
        "WHERE is_regression ORDER BY p_value, job_type, metric")
    columns = [d[0] for d in cursor.description]
    return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def format_value(metric: str, value: float | None) -> str:
    """A metric's value for people: a rate in percent, a p95 in seconds."""
    if value is None:
        return "n/a"
    if metric in ("failure_rate", "requeue_share"):
        return f"{100 * value:.1f}%"
    return f"{value:.1f}s"


def describe(row: dict[str, Any]) -> str:
    """One line for a flagged row: type, metric, baseline → current, p-value."""
    metric = row["metric"]
    return (f"{row['job_type']} {metric}: {format_value(metric, row['baseline_value'])} → "
            f"{format_value(metric, row['current_value'])} "
            f"(n {row['baseline_n']} → {row['current_n']}, p={row['p_value']:.2g})")
