"""Calibration of marts.regressions on data where the truth is known (issue 14).

Each scenario is one dataset from the simulator's generator (no HTTP): 15 days of
history, so the default windows (the last 24 h against the 14 days before) are full,
and the refresh's now is the data's epoch. What the API would show at the epoch
(events up to then) goes into `marts.job_durations` of an in-memory warehouse, and
`marts/regressions.sql` runs on it with its default settings.

- Shift scenarios: one job type's own failure probability × 3 and another type's
  queue and run times × 2, both from the start of the window. Failure shifts go to
  the types whose failures are their own (leaf-like, base rate >= 1%, so that ×3 is
  also the +2 points the materiality rule asks for); duration shifts to leaf types, whose
  total time is their own queue + run, so their p95 doubles. A failure trial is detected
  when the type's `failure_rate` is flagged; a p95 trial when its `total_p95_seconds` is.
  Trials count toward the goal when the type has >= 50 jobs behind the figure in the
  window; the figures are also printed per size of the window.
- No-shift scenarios: every (type, metric) row with at least the minimum counts is a
  window that could alarm; a flag there is a false alarm.

Goals: detection >= 95% for both; false alarms <= 1 per 200 type-metric windows.

    .venv/bin/python benchmarks/bench_regressions.py [--scenarios N] [--quick]
"""

from __future__ import annotations

import argparse
import time
from collections import defaultdict
from datetime import UTC, datetime

import duckdb
import pandas as pd

from pipelines.simulator.generator import RUNNING, TERMINAL, DataConfig, Shift, generate
from warehouse.db import connect, sql
from warehouse.what_changed import RegressionSettings

DETECTION_GOAL = 0.95
FALSE_ALARM_GOAL = 1 / 200
MIN_WINDOW_N = 50
FAILURE_TYPES = ("compare", "overlay.generate", "vision.overlay.change.detect",
                 "vision.overlay.change.compile")
DURATION_TYPES = ("compare", "overlay.generate", "vision.overlay.change.detect",
                  "vision.overlay.change.compile", "legend_parse", "symbol_match",
                  "sheet.preprocess", "vision.block.overlay.generate", "block_preprocess")
HISTORY_DAYS = 15.0
BUCKETS = ((50, 100), (100, 200), (200, 400), (400, 10**9))


def job_durations(config: DataConfig) -> pd.DataFrame:
    """marts.job_durations as the pipeline would build it from the API at the epoch."""
    now = config.epoch
    rows = []
    for job in generate(config)[1]:
        if job.created_at > now:
            continue
        events = [(status, at) for status, at in job.events if at <= now]
        first_at = events[0][1]
        running = [at for status, at in events if status == RUNNING]
        terminal = next((at for status, at in events if status in TERMINAL), None)
        attempts = sum(1 for i, (status, _) in enumerate(events)
                       if status == RUNNING and (i == 0 or events[i - 1][0] != RUNNING))
        rows.append((job.id, job.type, events[-1][0], terminal is not None,
                     datetime.fromtimestamp(job.created_at, UTC),
                     running[0] - first_at if running else None,
                     terminal - running[0] if running and terminal is not None else None,
                     terminal - first_at if terminal is not None else None, attempts))
    return pd.DataFrame(rows, columns=["job_id", "job_type", "final_status", "is_terminal",
                                       "created_at", "queued_seconds", "running_seconds",
                                       "total_seconds", "run_attempts"])


def regressions(con: duckdb.DuckDBPyConnection, frame: pd.DataFrame,
                now: datetime, settings: RegressionSettings) -> pd.DataFrame:
    """marts.regressions over `frame`, with the production SQL and settings."""
    con.execute("DELETE FROM marts.job_durations")
    con.register("_frame", frame)
    con.execute("INSERT INTO marts.job_durations BY NAME SELECT * FROM _frame")
    con.unregister("_frame")
    return con.execute(sql("marts", "regressions"), settings.params(now)).df()


def _bucket(n: int) -> tuple[int, str]:
    for low, high in BUCKETS:
        if low <= n < high:
            return low, f"{low}-{high - 1}" if high < 10**9 else f">={low}"
    return 0, f"<{MIN_WINDOW_N}"


def _ratio(hits: int, total: int) -> float:
    return hits / total if total else float("nan")


VARIANTS = {"exact p (default)": RegressionSettings(), "mid-p": RegressionSettings(mid_p=True)}


def _report(name: str, trials: dict[str, list[tuple[int, bool, str]]], windows: int,
            alarm_rows: list[str], settings: RegressionSettings) -> dict:
    figures: dict = {}
    print(f"\n--- {name}: alpha {settings.alpha:g}, window {settings.window_hours:g} h, "
          f"baseline {settings.baseline_days:g} d")
    for kind, label in (("failure", "failure rate x3"), ("p95", "total p95 x2")):
        eligible = [(n, hit, t) for n, hit, t in trials[kind] if n >= MIN_WINDOW_N]
        detected = sum(hit for _, hit, _ in eligible)
        rate = _ratio(detected, len(eligible))
        print(f"{label}: detected {detected}/{len(eligible)} = {rate:.1%} of trials with "
              f">= {MIN_WINDOW_N} jobs in the window (goal >= {DETECTION_GOAL:.0%}: "
              f"{'met' if rate >= DETECTION_GOAL else 'NOT met'}); "
              f"{len(trials[kind]) - len(eligible)} smaller trials left out")
        by_bucket: dict[tuple[int, str], list[bool]] = defaultdict(list)
        by_type: dict[str, list[bool]] = defaultdict(list)
        for n, hit, job_type in trials[kind]:
            by_bucket[_bucket(n)].append(hit)
            if n >= MIN_WINDOW_N:
                by_type[job_type].append(hit)
        for (_, bucket), hits in sorted(by_bucket.items()):
            print(f"  jobs in window {bucket:>9}: {sum(hits):>3}/{len(hits):<3} "
                  f"{_ratio(sum(hits), len(hits)):6.1%}")
        for job_type, hits in sorted(by_type.items()):
            print(f"  {job_type:34} {sum(hits):>3}/{len(hits):<3} "
                  f"{_ratio(sum(hits), len(hits)):6.1%}")
        figures[f"{kind}_trials"] = len(eligible)
        figures[f"{kind}_detection_rate"] = round(rate, 4)
        figures[f"ratio_{kind}_detection_to_goal"] = round(rate / DETECTION_GOAL, 3)
        figures[f"{kind}_detection_goal_met"] = rate >= DETECTION_GOAL
    alarms = len(alarm_rows)
    per_200 = 200 * _ratio(alarms, windows)
    print(f"no shift: {alarms} false alarms in {windows} type-metric windows with the minimum "
          f"counts = {per_200:.2f} per 200 (goal <= 1 per 200: "
          f"{'met' if per_200 <= 1 else 'NOT met'})")
    for line in alarm_rows:
        print(f"  {line}")
    figures.update({"null_windows": windows, "false_alarms": alarms,
                    "false_alarms_per_200_windows": round(per_200, 3),
                    "ratio_false_alarms_to_goal": round(per_200 / 1.0, 3),
                    "false_alarm_goal_met": per_200 <= 1.0})
    return figures


def main(scenarios: int = 36, null_scenarios: int = 24, seed: int = 1000) -> dict:
    """Run the benchmark, print it, and return its figures (the default settings' at the
    top level, the mid-p variant's under `mid_p`)."""
    started = time.perf_counter()
    trials = {v: {"failure": [], "p95": []} for v in VARIANTS}
    windows = dict.fromkeys(VARIANTS, 0)
    alarm_rows: dict[str, list[str]] = {v: [] for v in VARIANTS}
    with connect(":memory:") as con:
        for i in range(scenarios):
            failure_type = FAILURE_TYPES[i % len(FAILURE_TYPES)]
            duration_type = next(t for t in DURATION_TYPES[(i * 5) % len(DURATION_TYPES):]
                                 + DURATION_TYPES if t != failure_type)
            jobs = (20_000, 40_000, 60_000)[(i // len(FAILURE_TYPES)) % 3]
            config = DataConfig(seed=seed + i, jobs=jobs, history_days=HISTORY_DAYS, shifts=(
                Shift(failure_type, "failure", 3.0, hours_before_epoch=24.0),
                Shift(duration_type, "duration", 2.0, hours_before_epoch=24.0)))
            now = datetime.fromtimestamp(config.epoch, UTC)
            frame = job_durations(config)
            for variant, settings in VARIANTS.items():
                found = regressions(con, frame, now, settings).set_index(["job_type", "metric"])
                for kind, job_type, metric in (("failure", failure_type, "failure_rate"),
                                               ("p95", duration_type, "total_p95_seconds")):
                    if (job_type, metric) in found.index:
                        row = found.loc[(job_type, metric)]
                        trials[variant][kind].append(
                            (int(row["current_n"]), bool(row["is_regression"]), job_type))
        for i in range(null_scenarios):
            config = DataConfig(seed=seed + 10_000 + i, jobs=(20_000, 40_000)[i % 2],
                                history_days=HISTORY_DAYS)
            now = datetime.fromtimestamp(config.epoch, UTC)
            frame = job_durations(config)
            for variant, settings in VARIANTS.items():
                found = regressions(con, frame, now, settings)
                eligible = found[(found["current_n"] >= settings.min_current_n)
                                 & (found["baseline_n"] >= settings.min_baseline_n)]
                windows[variant] += len(eligible)
                alarm_rows[variant] += [
                    f"seed {config.seed}: {r.job_type} {r.metric} {r.baseline_value:.3g} -> "
                    f"{r.current_value:.3g} (n {r.current_n}, p={r.p_value:.2g})"
                    for r in eligible[eligible["is_regression"]].sort_values(
                        ["job_type", "metric"]).itertuples()]

    print(f"marts.regressions on {scenarios} shift and {null_scenarios} no-shift scenarios "
          f"(simulator generator, {HISTORY_DAYS:g} days of history, 20k-60k jobs each)")
    results = {v: _report(v, trials[v], windows[v], alarm_rows[v], s)
               for v, s in VARIANTS.items()}
    default, mid_p = results.values()
    figures = {"scenarios": scenarios, "null_scenarios": null_scenarios, **default,
               "mid_p": mid_p, "seconds": round(time.perf_counter() - started, 1)}
    print(f"\n{figures['seconds']}s")
    return figures


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenarios", type=int, default=36, help="shift scenarios (36)")
    parser.add_argument("--null-scenarios", type=int, default=24, help="no-shift ones (24)")
    parser.add_argument("--quick", action="store_true", help="12 and 8 scenarios")
    args = parser.parse_args()
    if args.quick:
        main(12, 8)
    else:
        main(args.scenarios, args.null_scenarios)
