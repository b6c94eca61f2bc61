"""A simulator shift is flagged with its type and metric after a real run; no shift, no flag."""

from __future__ import annotations

import re

import dagster as dg
import duckdb

from assets.checks import ALL_CHECKS
from assets.core import core_tables
from assets.fetch import job_payloads
from assets.intake import job_ledger
from assets.marts import mart_tables
from pipelines.services.summary import summary_text
from pipelines.simulator import DataConfig, RateLimitConfig, Shift
from tests.helpers import EPOCH_ISO
from warehouse.what_changed import RegressionSettings

ASSETS = [job_ledger, job_payloads, core_tables, mart_tables]
# Three days of history: the last day is the window, two days the (shorter) baseline.
DATA = DataConfig(jobs=1500, seed=5, history_days=3.0)


def _flagged(make_simulator, resources_for, warehouse_path, instance, data):
    sim = make_simulator(data, rate_limit=RateLimitConfig(enabled=False))
    result = dg.materialize(
        [*ASSETS, *ALL_CHECKS], instance=instance, resources=resources_for(sim),
        run_config={"ops": {
            "ops__job_ledger": {"config": {"discover": True}},
            # The simulator's clock is fixed at EPOCH: the window ends there.
            "mart_tables": {"config": {"regressions": {
                "window_end": EPOCH_ISO}}},
        }},
        raise_on_error=False,
    )
    assert result.success
    with duckdb.connect(str(warehouse_path), read_only=True) as con:
        rows = con.execute("SELECT job_type, metric FROM marts.regressions"
                           " WHERE is_regression").fetchall()
        # Every type with enough finished jobs in the window had its failure rate tested
        # (the shifted one among them), so "not flagged" means "not worse", not "left out".
        minimum = RegressionSettings().min_current_n
        tested = {row[0] for row in con.execute(
            "SELECT job_type FROM marts.regressions"
            " WHERE metric = 'failure_rate' AND current_n >= ?", [minimum]).fetchall()}
        enough = {row[0] for row in con.execute(
            "SELECT job_type FROM marts.job_durations,"
            " (SELECT max(window_start) AS s, max(window_end) AS e FROM marts.regressions)"
            " WHERE is_terminal AND created_at >= s AND created_at < e"
            " GROUP BY job_type HAVING count(*) >= ?", [minimum]).fetchall()}
    assert tested == enough and "symbol_match" in tested, (tested, enough)
    return set(rows), result


def test_a_slower_job_type_is_flagged(make_simulator, resources_for, warehouse_path, instance):
    data = DataConfig(**{**DATA.__dict__, "shifts": (
        Shift("symbol_match", "duration", 3.0, hours_before_epoch=24),)})
    flagged, result = _flagged(make_simulator, resources_for, warehouse_path, instance, data)
    assert {("symbol_match", "queued_p95_seconds"), ("symbol_match", "running_p95_seconds"),
            ("symbol_match", "total_p95_seconds")} <= flagged
    # Only symbol_match and the parse jobs that wait for it got slower.
    assert {job_type for job_type, _ in flagged} <= {"symbol_match", "parse"}
    assert all(metric.endswith("_p95_seconds") for _, metric in flagged)
    # The warning check lists them.
    check = next(e for e in result.get_asset_check_evaluations()
                 if e.check_name == "regressions")
    assert not check.passed
    assert check.metadata["regressions_found"].value == len(flagged)
    assert "| symbol_match | total_p95_seconds |" in check.metadata["flagged"].value
    # The closing summary starts with them, after naming the windows compared and how much
    # of the 14 days of baseline had data (the simulator's history is three days).
    text = summary_text(warehouse_path)
    assert re.search(r"what changed \(jobs created 2025-12-31 00:00 – 2026-01-01 00:00 UTC "
                     r"against the jobs before it; baseline: 2\.0 days of data, of 14 "
                     r"configured\):\n  symbol_match \S+: .*; baseline: [12]\.\d days of data\)"
                     r" — new\n", text), text[:600]
    assert text.index("what changed") < text.index("requested job IDs")


def test_no_shift_flags_nothing(make_simulator, resources_for, warehouse_path, instance):
    flagged, result = _flagged(make_simulator, resources_for, warehouse_path, instance, DATA)
    assert flagged == set()
    check = next(e for e in result.get_asset_check_evaluations()
                 if e.check_name == "regressions")
    assert check.passed
    assert "what changed (jobs created 2025-12-31 00:00 – 2026-01-01 00:00 UTC against the " \
           "jobs before it; baseline: 2.0 days of data, of 14 configured):\n" \
           "  nothing significant\n" in summary_text(warehouse_path)
