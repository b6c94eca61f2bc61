"""Marts: durations, failure rates, percentiles, transitions, stuck jobs, job trees and
regressions."""


from datetime import datetime

import dagster as dg

from assets.metadata import mart_trends, preview, table_metadata
from pipelines.instance import WAREHOUSE_POOL
from pipelines.resources import WarehouseResource
from pipelines.services.intake import utcnow
from warehouse import refresh_marts
from warehouse.what_changed import RegressionSettings, describe, regressions

# (description, ORDER BY for the preview): fixed strings, never input.
MARTS = {
    "job_durations": ("Per job: final status, queued/running/total seconds, run attempts "
                      "(re-queues) and number of events.", "total_seconds DESC NULLS LAST"),
    "failure_rates": ("Per day of creation and job type: jobs, completed, failed, canceled and "
                      "the failure rate with its 95% Wilson interval.",
                      "failure_rate_ci_low DESC NULLS LAST, jobs DESC"),
    "duration_stats": ("Per job type and phase (queued, running, total): n, mean, p50, p90, "
                       "p95, p99 and max seconds.", "p95_seconds DESC NULLS LAST"),
    "transition_matrix": ("Per (from, to) status pair: how often it happens and how long the "
                          "from-status lasted (mean, p50, p95).", "n DESC"),
    "stuck_jobs": ("Non-terminal jobs in their status for longer than its threshold (the p99 "
                   "of finished jobs of the type, at least the floor).", "age_seconds DESC"),
    "job_trees": ("Per parent job: children, failed and canceled children, the parent's total "
                  "time and the span of its children.", "n_children DESC"),
    "regressions": ("Per job type and metric (failure rate, re-queue share, p95 of queued, "
                    "running and total seconds): the last 24 h of created_at against the 14 "
                    "days before, with a one-sided p-value; is_regression flags what got "
                    "materially and significantly worse (docs/regressions.md).",
                    "is_regression DESC, p_value NULLS LAST"),
}

# The preview's columns: the rows worth reading (the slowest jobs and types, the highest
# failure rates with evidence, the regressions) in few enough columns to read in the UI's
# dialog without scrolling sideways.
PREVIEW_COLUMNS = {
    "job_durations": ("job_type", "final_status", "queued_seconds", "running_seconds",
                      "total_seconds", "run_attempts"),
    "failure_rates": ("day", "job_type", "jobs", "failed", "failure_rate",
                      "failure_rate_ci_low"),
    "duration_stats": ("job_type", "phase", "n", "p50_seconds", "p95_seconds", "max_seconds"),
    "transition_matrix": ("from_status", "to_status", "n", "p50_seconds", "p95_seconds"),
    "stuck_jobs": ("job_type", "status", "status_since", "age_seconds", "threshold_seconds"),
    "job_trees": ("parent_type", "n_children", "children_failed", "parent_total_seconds"),
    "regressions": ("job_type", "metric", "baseline_value", "current_value", "current_n",
                    "p_value", "is_regression"),
}


_REGRESSION_DEFAULTS = RegressionSettings()


class RegressionsConfig(dg.Config):
    """Windows and thresholds of marts.regressions (docs/regressions.md)."""

    window_hours: float = _REGRESSION_DEFAULTS.window_hours
    """The current window: jobs created in the last N hours before the refresh (24)."""
    baseline_days: float = _REGRESSION_DEFAULTS.baseline_days
    """The baseline: jobs created in the N days before the current window (14)."""
    alpha: float = _REGRESSION_DEFAULTS.alpha
    """Flag only when the one-sided p-value is below this (0.01)."""
    min_current_n: int = _REGRESSION_DEFAULTS.min_current_n
    """Least jobs in the current window behind a figure for it to be flagged (30)."""
    min_baseline_n: int = _REGRESSION_DEFAULTS.min_baseline_n
    """Least jobs in the baseline behind a figure for it to be flagged (100)."""
    rate_min_ratio: float = _REGRESSION_DEFAULTS.rate_min_ratio
    """Failure rate: flagged only at this many times the baseline or more (2)."""
    rate_min_increase: float = _REGRESSION_DEFAULTS.rate_min_increase
    """Failure rate: ... and at least this much higher, as a share (0.02 = 2 points)."""
    requeue_min_ratio: float = _REGRESSION_DEFAULTS.requeue_min_ratio
    """Re-queue share: flagged only at this many times the baseline or more (2)."""
    requeue_min_increase: float = _REGRESSION_DEFAULTS.requeue_min_increase
    """Re-queue share: ... and at least this much higher, as a share (0.02)."""
    p95_min_ratio: float = _REGRESSION_DEFAULTS.p95_min_ratio
    """A p95 duration: flagged only at this many times the baseline or more (1.5)."""
    p95_min_increase_seconds: float = _REGRESSION_DEFAULTS.p95_min_increase_seconds
    """A p95 duration: ... and at least this many seconds longer (1)."""

    mid_p: bool = _REGRESSION_DEFAULTS.mid_p
    """Use Lancaster's mid-p (more power, false alarms nearer alpha) instead of the exact
    test's p-value (false)."""
    window_end: str | None = None
    """Where the current window ends, ISO 8601 with a zone (default: the refresh's now)."""

    def settings(self) -> RegressionSettings:
        values = self.model_dump()
        end = values.pop("window_end")
        parsed = datetime.fromisoformat(end.replace("Z", "+00:00")) if end else None
        return RegressionSettings(**values, window_end=parsed)


class MartsConfig(dg.Config):
    stuck_floor_seconds: float = 3600.0
    """The least time in a status that counts as stuck, whatever history says."""
    regressions: RegressionsConfig = RegressionsConfig()
    """Windows and thresholds of marts.regressions."""


@dg.multi_asset(
    specs=[
        dg.AssetSpec(["marts", name], description=text, group_name="marts", kinds={"duckdb"},
                     deps=[["core", "jobs"], ["core", "job_events"],
                           ["core", "job_status_transitions"]])
        for name, (text, _) in MARTS.items()
    ],
    pool=WAREHOUSE_POOL,
)
def mart_tables(context: dg.AssetExecutionContext, config: MartsConfig,
                warehouse: WarehouseResource):
    with warehouse.connect() as con:
        rows = refresh_marts(con, now=utcnow(), stuck_floor_seconds=config.stuck_floor_seconds,
                             regressions=config.regressions.settings())
        context.log.info("marts refreshed: " + ", ".join(f"{k} {v}" for k, v in rows.items()))
        found = regressions(con)
        for row in found:
            context.log.warning(f"regression: {describe(row)}")
        trends = mart_trends(con)  # numbers Dagster plots across runs
        for name, (_, order_by) in MARTS.items():
            yield dg.MaterializeResult(
                asset_key=["marts", name],
                metadata=table_metadata(
                    con, "marts", name, **trends.get(name, {}),
                    preview=preview(con, "marts", name, order_by,
                                    columns=PREVIEW_COLUMNS[name])),
            )
