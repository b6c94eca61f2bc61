"""Marts: durations, failure rates, percentiles, transitions, stuck jobs and job trees."""


import dagster as dg

from assets.metadata import preview, table_metadata
from pipelines.instance import WAREHOUSE_POOL
from pipelines.resources import WarehouseResource
from pipelines.steps import utcnow
from warehouse import refresh_marts

# (description, ORDER BY for the preview): fixed strings, never input.
MARTS = {
    "job_durations": ("Per job: final status, queued/running/total seconds, run attempts "
                      "(re-queues) and number of events.", "total_seconds DESC NULLS LAST"),
    "failure_rates": ("Per day of creation and job type: jobs, completed, failed, canceled and "
                      "the failure rate with its 95% Wilson interval.", "day DESC, jobs DESC"),
    "duration_stats": ("Per job type and phase (queued, running, total): n, mean, p50, p90, "
                       "p95, p99 and max seconds.", "p95_seconds DESC NULLS LAST"),
    "transition_matrix": ("Per (from, to) status pair: how often it happens and how long the "
                          "from-status lasted (mean, p50, p95).", "n DESC"),
    "stuck_jobs": ("Non-terminal jobs in their status for longer than its threshold (the p99 "
                   "of finished jobs of the type, at least the floor).", "age_seconds DESC"),
    "job_trees": ("Per parent job: children, failed and canceled children, the parent's total "
                  "time and the span of its children.", "n_children DESC"),
}


class MartsConfig(dg.Config):
    stuck_floor_seconds: float = 3600.0
    """The least time in a status that counts as stuck, whatever history says."""


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
        rows = refresh_marts(con, now=utcnow(), stuck_floor_seconds=config.stuck_floor_seconds)
        context.log.info("marts refreshed: " + ", ".join(f"{k} {v}" for k, v in rows.items()))
        for name, (_, order_by) in MARTS.items():
            yield dg.MaterializeResult(
                asset_key=["marts", name],
                metadata=table_metadata(con, "marts", name,
                                        preview=preview(con, "marts", name, order_by)),
            )
