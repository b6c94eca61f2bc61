"""Data tests beside the data: asset checks over the warehouse tables.

Blocking checks stop downstream assets in the same run (a broken core never
feeds the marts); warnings flag what the API sent that we had to repair.
"""


from datetime import timedelta
from typing import Any

import dagster as dg

from pipelines.resources import WarehouseResource
from pipelines.services.intake import utcnow
from warehouse.db import first_row, sql
from warehouse.what_changed import (
    describe,
    describe_windows,
    format_value,
    regressions,
    windows,
)

FRESHNESS_WINDOW = timedelta(hours=2)  # the hourly schedule, plus slack


def _query(warehouse: WarehouseResource, name: str, **params: Any) -> dict[str, Any]:
    with warehouse.connect() as con:
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


def _check(name: str, asset: list[str], description: str, *, blocking: bool,
           **params: Any) -> dg.AssetChecksDefinition:
    severity = dg.AssetCheckSeverity.ERROR if blocking else dg.AssetCheckSeverity.WARN

    @dg.asset_check(asset=dg.AssetKey(asset), name=name, blocking=blocking,
                    description=description)
    def check(warehouse: WarehouseResource) -> dg.AssetCheckResult:
        values = {k: (v() if callable(v) else v) for k, v in params.items()}
        return _result(_query(warehouse, name, **values), severity, description)

    return check


CHECKS = [
    _check("ledger_outcomes", ["ops", "job_ledger"],
           "Every requested ID has exactly one ledger row with a known outcome.", blocking=True),
    _check("unique_jobs", ["core", "jobs"], "One row per job.", blocking=True),
    _check("unique_events", ["core", "job_events"],
           "(job_id, event_seq) is unique and runs 0..n-1 per job.", blocking=True),
    _check("transitions_match_events", ["core", "job_status_transitions"],
           "Each job has one transition fewer than events, each numbered once.", blocking=True),
    _check("unknown_statuses", ["core", "job_events"],
           "Status spellings outside the canonical mapping.", blocking=False),
    _check("messy_events", ["core", "jobs"],
           "Payloads with events out of time order or exact duplicates (repaired in core).",
           blocking=False),
    _check("status_disagrees", ["core", "jobs"],
           "Top-level status differs from the last event's (core.jobs.status takes the "
           "terminal one, the top-level first).",
           blocking=False),
    _check("stuck_jobs", ["marts", "stuck_jobs"],
           "Non-terminal jobs stuck longer than their threshold.", blocking=False),
]


@dg.asset_check(asset=dg.AssetKey(["raw", "job_payloads"]), name="freshness",
                description=f"A payload was fetched within the last {FRESHNESS_WINDOW}.")
def freshness(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    found = _query(warehouse, "freshness", now=utcnow())
    age = found["age_seconds"]
    return dg.AssetCheckResult(
        passed=age is not None and age <= FRESHNESS_WINDOW.total_seconds(),
        severity=dg.AssetCheckSeverity.WARN,
        metadata={"age_seconds": round(age, 1) if age is not None else "never fetched",
                  "window_seconds": FRESHNESS_WINDOW.total_seconds()},
    )


@dg.asset_check(asset=dg.AssetKey(["marts", "regressions"]), name="regressions",
                description="Job types and metrics that got materially and significantly worse "
                            "in the current window (docs/regressions.md).")
def regressions_check(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    with warehouse.connect() as con:
        found = regressions(con)
        bounds = windows(con)
    metadata: dict[str, Any] = {
        "regressions": len(found),
        "compared": describe_windows(bounds) if bounds else "no jobs in either window",
    }
    if found:
        lines = ["| job type | metric | baseline → current | jobs | p-value |",
                 "|---|---|---|---|---|"]
        lines += [f"| {r['job_type']} | {r['metric']} | "
                  f"{format_value(r['metric'], r['baseline_value'])} → "
                  f"{format_value(r['metric'], r['current_value'])} | "
                  f"{r['baseline_n']} → {r['current_n']} | {r['p_value']:.2g} |" for r in found]
        metadata["flagged"] = dg.MetadataValue.md("\n".join(lines))
    return dg.AssetCheckResult(passed=not found, severity=dg.AssetCheckSeverity.WARN,
                               description="; ".join(describe(r) for r in found)
                               or "nothing significant", metadata=metadata)


ALL_CHECKS = [*CHECKS, freshness, regressions_check]
