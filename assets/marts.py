"""Marts: the SQL models of `warehouse/marts/`, refreshed from core in one step, in the
registry's run order (`warehouse/marts/tables.yml`)."""

from datetime import datetime

import dagster as dg

from assets.metadata import table_metadata
from pipelines.instance import WAREHOUSE_POOL
from pipelines.resources import WarehouseResource
from pipelines.services.intake import utcnow
from warehouse import registry
from warehouse.credits import DEFAULT_PRICES
from warehouse.transform import DEFAULT_STUCK_FLOOR_SECONDS, refresh_marts
from warehouse.what_changed import RegressionSettings, describe_change, flagged

MART_TABLES = registry.layer("marts")


_REGRESSION_DEFAULTS = RegressionSettings()


class RegressionsConfig(dg.Config):
    """Windows and thresholds of what changed (docs/what-changed.md)."""

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
    stuck_floor_seconds: float = DEFAULT_STUCK_FLOOR_SECONDS
    """The least time in a status that counts as stuck, whatever history says (3600)."""
    regressions: RegressionsConfig = RegressionsConfig()
    """Windows and thresholds of what changed (docs/what-changed.md)."""
    credit_prices: dict[str, float] = dict(DEFAULT_PRICES)
    """Credits per job, by job type, set over the defaults (`warehouse.credits.DEFAULT_PRICES`,
    the documented prices: docs/api-contract.md, "Credits"); any other type costs 0."""


@dg.multi_asset(
    specs=[
        dg.AssetSpec(table.key, description=table.description, group_name="marts",
                     kinds={"duckdb"}, deps=[core.key for core in registry.layer("core")])
        for table in MART_TABLES
    ],
    pool=WAREHOUSE_POOL,
)
def mart_tables(context: dg.AssetExecutionContext, config: MartsConfig,
                warehouse: WarehouseResource):
    with warehouse.connect() as con:
        rows = refresh_marts(con, now=utcnow(), stuck_floor_seconds=config.stuck_floor_seconds,
                             regression_settings=config.regressions.settings(),
                             credit_prices=config.credit_prices)
        context.log.info("marts refreshed: " + ", ".join(f"{k} {v}" for k, v in rows.items()))
        for row in flagged(con):
            context.log.warning(f"regression: {describe_change(row)}")
        for table in MART_TABLES:
            yield dg.MaterializeResult(asset_key=table.key, metadata=table_metadata(con, table))
