"""What got worse: the settings of `marts.regressions` and plain readers of its rows.

The statistics live in `marts/regressions.sql` and the `fisher_greater` macro
(`schema/macros.sql`); docs/what-changed.md explains the choices. This module holds the
defaults (the Dagster config documents the same ones), turns them into the SQL's bind
parameters, and words what the mart knows, once, for every reader (the closing summary,
the report, the regressions check, the alerts):

- each row's `verdict`: a regression, within noise, too few jobs, or no current data;
- how much of the baseline had data (`baseline_days_actual`), not the configured span:
  a warehouse loaded six days ago compares against six days;
- when a flag was first raised (`first_flagged_at`): "new" for a flag this refresh raised,
  "flagged since ..." for one a refresh inside the window had raised already. The runs of
  flags live in `ops.regression_flags`, extended by `record_flags` in the refresh's
  transaction;
- when no type has a job in the current window, one line that says so, with when the
  newest job was created (`queries/data_currency.sql`) and when a fetch last succeeded
  (the freshness check's rule, `checks/freshness.sql`), instead of "nothing significant".
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime
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


def record_flags(con: duckdb.DuckDBPyConnection) -> None:
    """Extend `ops.regression_flags` by the rows the refresh just flagged
    (`marts/record_regression_flags.sql`); run after the marts, in their transaction."""
    con.execute(sql("marts", "record_regression_flags"))


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


def format_time(at: datetime) -> str:
    """A moment for people, to the minute: '2026-03-01 00:00 UTC'."""
    return f"{at:%Y-%m-%d %H:%M} UTC"


def format_window(start: datetime, end: datetime) -> str:
    """A window for people, to the minute: '2026-02-28 00:00 – 2026-03-01 00:00 UTC'."""
    return f"{start:%Y-%m-%d %H:%M} – {format_time(end)}"


def describe_baseline(days: float) -> str:
    """How much of the baseline had data: 'baseline: 6.0 days of data'."""
    return f"baseline: {days:.1f} days of data"


def baseline_suffix(row: dict[str, Any]) -> str:
    """'; baseline: N days of data' for a row ('' for a row refreshed before the column)."""
    days = row.get("baseline_days_actual")
    return f"; {describe_baseline(days)}" if days is not None else ""


@dataclass(frozen=True)
class Windows:
    """The windows of the last refresh, and the widest baseline span any row had data for."""

    baseline_start: datetime
    window_start: datetime
    window_end: datetime
    baseline_days_actual: float | None

    @property
    def baseline_days(self) -> float:
        """The configured baseline, in days."""
        return (self.window_start - self.baseline_start).total_seconds() / 86_400.0


def windows(con: duckdb.DuckDBPyConnection) -> Windows | None:
    """The windows of the last refresh, None before any rows."""
    rows = con.execute(f"SELECT baseline_start, window_start, window_end,"  # noqa: S608
                       f" max(baseline_days_actual) FROM {TABLE} GROUP BY ALL LIMIT 1").fetchall()
    return Windows(*rows[0]) if rows else None


def describe_windows(bounds: Windows) -> str:
    """'<window> UTC against the jobs before it; baseline: N days of data[, of M
    configured]': the span the baseline had data for, not only the one configured."""
    actual = bounds.baseline_days_actual
    span = format_window(bounds.window_start, bounds.window_end)
    if actual is None:  # rows of a refresh from before schema version 11
        return f"{span} against the {bounds.baseline_days:g} days before"
    configured = (f", of {bounds.baseline_days:g} configured"
                  if round(actual, 1) < round(bounds.baseline_days, 1) else "")
    return f"{span} against the jobs before it; {describe_baseline(actual)}{configured}"


def flag_status(row: dict[str, Any]) -> str:
    """'new' when this refresh raised the flag, 'flagged since …' when a refresh inside the
    window had raised it already ('' for a row from before first_flagged_at existed)."""
    first = row.get("first_flagged_at")
    if first is None:
        return ""
    return "new" if first == row["window_end"] else f"flagged since {format_time(first)}"


def describe_change(row: dict[str, Any]) -> str:
    """One line for a flagged row: type, metric, baseline → current, p-value, the baseline's
    data, and whether the flag is new."""
    metric, status = row["metric"], flag_status(row)
    return (f"{row['job_type']} {metric}: {format_value(metric, row['baseline_value'])} → "
            f"{format_value(metric, row['current_value'])} "
            f"(n {row['baseline_n']} → {row['current_n']}, p={row['p_value']:.2g}"
            f"{baseline_suffix(row)})"
            + (f" — {status}" if status else ""))


@dataclass(frozen=True)
class DataCurrency:
    """Whether any type had a job in the current window and when the newest job was created
    (`queries/data_currency.sql`), and when a fetch last returned a usable payload (the
    freshness check's `last_loaded_at`, `checks/freshness.sql`)."""

    has_current_data: bool
    newest_created_at: datetime | None
    last_loaded_at: datetime | None


def data_currency(con: duckdb.DuckDBPyConnection) -> DataCurrency:
    has_current_data, newest = con.execute(sql("queries", "data_currency")).fetchall()[0]
    # The last successful fetch by the freshness check's own rule (its age is not needed).
    fetched = con.execute(sql("checks", "freshness"), {"now": datetime.now(UTC)}).fetchall()
    return DataCurrency(bool(has_current_data), newest, fetched[0][0])


def describe_no_current_data(bounds: Windows | None, currency: DataCurrency) -> str:
    """The one line said instead of 'nothing significant' when no type had a job in the
    current window: which window was empty, and how current the data is."""
    empty = (format_window(bounds.window_start, bounds.window_end)
             if bounds else "in the current window or its baseline")
    newest = (f"newest job created {format_time(currency.newest_created_at)}"
              if currency.newest_created_at else "no job loaded yet")
    fetched = (f"last successful fetch {format_time(currency.last_loaded_at)}"
               if currency.last_loaded_at else "no successful fetch yet")
    return f"no current data: no job created {empty} ({newest}, {fetched})"


def is_computed(con: duckdb.DuckDBPyConnection) -> bool:
    """False for a warehouse from before schema version 11 (no such mart, or none that
    says what it knows), opened read-only."""
    schema, name = TABLE.split(".")
    return bool(con.execute(
        "SELECT count(*) FROM information_schema.columns WHERE table_schema = ?"
        " AND table_name = ? AND column_name = 'first_flagged_at'", [schema, name]
    ).fetchall()[0][0])


@dataclass(frozen=True)
class WhatChanged:
    """What the last refresh found: the windows it compared (None when it had no jobs in
    either, or the warehouse predates the mart), the regressions, worst first, and how
    current the data is (None when not computed)."""

    computed: bool
    windows: Windows | None
    rows: list[dict[str, Any]]
    currency: DataCurrency | None = None

    @property
    def no_current_data(self) -> str | None:
        """The line said when no type had a job in the current window, else None."""
        if self.currency is None or self.currency.has_current_data:
            return None
        return describe_no_current_data(self.windows, self.currency)

    @property
    def heading(self) -> str:
        if not self.computed:
            return "not computed yet (the warehouse predates this version of what changed)"
        if self.windows is None:
            return "no jobs in the current window or its baseline"
        return f"jobs created {describe_windows(self.windows)}"


def what_changed_summary(con: duckdb.DuckDBPyConnection) -> WhatChanged:
    if not is_computed(con):
        return WhatChanged(False, None, [])
    return WhatChanged(True, windows(con), flagged(con), data_currency(con))


def what_changed(con: duckdb.DuckDBPyConnection) -> list[str]:
    """'What changed' in plain lines: a heading naming the windows compared, then one line
    per regression (new, or flagged since when), or 'nothing significant'; one line when
    no type had a job in the current window."""
    found = what_changed_summary(con)
    if found.no_current_data:
        return [f"what changed: {found.no_current_data}"]
    if found.windows is None:
        return [f"what changed: {found.heading}"]
    lines = [f"what changed ({found.heading}):"]
    lines += [f"  {describe_change(row)}" for row in found.rows] or ["  nothing significant"]
    return lines
