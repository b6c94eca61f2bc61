"""Data tests beside the data: asset checks over the warehouse tables.

Blocking checks stop downstream assets in the same run (a broken core never
feeds the marts); warnings flag what the API sent that we had to repair. Each
check opens the warehouse, so each is in the `bedrock_warehouse` pool too: one at a
time with the writing steps of every run, never waiting on another's lock.
"""


from datetime import timedelta
from typing import Any

import dagster as dg
import duckdb

from pipelines.instance import WAREHOUSE_POOL
from pipelines.resources import WarehouseResource
from pipelines.services.intake import utcnow
from warehouse import registry, stuck, what_changed
from warehouse.db import first_row, sql
from warehouse.transform import DEFAULT_STUCK_FLOOR_SECONDS

FRESHNESS_WINDOW = timedelta(hours=2)  # the hourly schedule, plus slack


def _query(warehouse: WarehouseResource, name: str, **params: Any) -> dict[str, Any]:
    with warehouse.connect() as con:
        return _row(con, name, **params)


def _row(con: duckdb.DuckDBPyConnection, name: str, **params: Any) -> dict[str, Any]:
    cursor = con.execute(sql("checks", name), params or None)
    columns = [d[0] for d in cursor.description]
    row = first_row(cursor)
    return dict(zip(columns, row or [None] * len(columns), strict=True))


def _result(found: dict[str, Any], severity: dg.AssetCheckSeverity,
            description: str) -> dg.AssetCheckResult:
    failures = int(found.pop("failures") or 0)
    return dg.AssetCheckResult(
        passed=failures == 0,
        severity=severity,
        description=description,
        metadata={"failures": failures, **{k: v for k, v in found.items() if v is not None}},
    )


def _check(table: registry.Table, check: registry.Check) -> dg.AssetChecksDefinition:
    severity = dg.AssetCheckSeverity.ERROR if check.blocking else dg.AssetCheckSeverity.WARN

    @dg.asset_check(asset=dg.AssetKey(table.key), name=check.name, blocking=check.blocking,
                    description=check.description, pool=WAREHOUSE_POOL)
    def evaluate(warehouse: WarehouseResource) -> dg.AssetCheckResult:
        return _result(_query(warehouse, check.name), severity, check.description)

    return evaluate


# The checks the registry declares beside each table (warehouse/*/tables.yml), each the
# SQL of checks/<name>.sql.
CHECKS = [_check(table, check) for table in registry.tables() for check in table.checks]


@dg.asset_check(asset=dg.AssetKey(registry.table("raw.job_payloads").key),
                name="freshness", pool=WAREHOUSE_POOL,
                description="A fetch returned a usable payload within the last "
                            f"{FRESHNESS_WINDOW.total_seconds() / 3600:g} h "
                            "(ops.job_ledger.loaded_at, any ID).")
def freshness(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    found = _query(warehouse, "freshness", now=utcnow())
    age, last = found["age_seconds"], found["last_loaded_at"]
    return dg.AssetCheckResult(
        passed=age is not None and age <= FRESHNESS_WINDOW.total_seconds(),
        severity=dg.AssetCheckSeverity.WARN,
        metadata={"age_seconds": round(age, 1) if age is not None else "never fetched",
                  "last_successful_fetch": last.isoformat() if last else "never",
                  "window_seconds": FRESHNESS_WINDOW.total_seconds()},
    )


@dg.asset_check(asset=dg.AssetKey(registry.table(stuck.TABLE).key), name=stuck.CHECK,
                pool=WAREHOUSE_POOL,
                description="Non-terminal jobs stuck longer than their threshold; while "
                            "nothing in flight has been fetched successfully within the "
                            f"stuck floor ({DEFAULT_STUCK_FLOOR_SECONDS / 3600:g} h), it "
                            "fails saying the data is stale instead.")
def stuck_jobs_check(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    with warehouse.connect() as con:
        fetch = stuck.in_flight_fetch(con, utcnow())
        found = _row(con, stuck.CHECK)
    last = fetch.last_fetched_at.isoformat() if fetch.last_fetched_at else "nothing in flight"
    if fetch.is_stale:
        return dg.AssetCheckResult(
            passed=False, severity=dg.AssetCheckSeverity.WARN, description=fetch.describe(),
            metadata={"stale": True, "last_successful_fetch": last,
                      "fetch_age_seconds": round(fetch.age_seconds or 0.0, 1),
                      "in_flight": fetch.in_flight})
    return _result({**found, "stale": False, "last_successful_fetch": last},
                   dg.AssetCheckSeverity.WARN, "Non-terminal jobs stuck longer than their "
                   "threshold, measured up to each job's last successful fetch.")


def _days(days: float | None) -> str:
    return f"{days:.1f} days" if days is not None else "n/a"


def _flagged_table(rows: list[dict[str, Any]]) -> str:
    value = what_changed.format_value
    lines = ["| job type | metric | baseline → current | jobs | p-value | baseline data | flag |",
             "|---|---|---|---|---|---|---|"]
    lines += [f"| {r['job_type']} | {r['metric']} | "
              f"{value(r['metric'], r['baseline_value'])} → "
              f"{value(r['metric'], r['current_value'])} | "
              f"{r['baseline_n']} → {r['current_n']} | {r['p_value']:.2g} | "
              f"{_days(r['baseline_days_actual'])} | {what_changed.flag_status(r)} |"
              for r in rows]
    return "\n".join(lines)


@dg.asset_check(asset=dg.AssetKey(registry.table(what_changed.TABLE).key),
                name=what_changed.CHECK, pool=WAREHOUSE_POOL,
                description="Job types and metrics that got materially and significantly worse "
                            "in the current window (docs/what-changed.md).")
def what_changed_check(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    with warehouse.connect() as con:
        found = what_changed.what_changed_summary(con)
    metadata: dict[str, Any] = {
        "regressions_found": len(found.rows),
        "new": sum(what_changed.flag_status(r) == "new" for r in found.rows),
        "compared": what_changed.describe_windows(found.windows) if found.windows
        else "no jobs in either window",
    }
    if found.rows:
        metadata["flagged"] = dg.MetadataValue.md(_flagged_table(found.rows))
    if found.currency is not None:
        metadata["current_data"] = found.currency.has_current_data
    description = ("; ".join(what_changed.describe_change(r) for r in found.rows)
                   or found.no_current_data or "nothing significant")
    return dg.AssetCheckResult(passed=not found.rows, severity=dg.AssetCheckSeverity.WARN,
                               description=description, metadata=metadata)


ALL_CHECKS = [*CHECKS, freshness, stuck_jobs_check, what_changed_check]
