"""The closing summary `make demo` and `bedrock-jobs ingest` print, read from the marts."""

from __future__ import annotations

from pathlib import Path

from pipelines.services.id_files import inbox_files
from warehouse.db import sql
from warehouse.publish import read_copy_path
from warehouse.query import open_read_only
from warehouse.what_changed import what_changed


def summary_text(path: str | Path) -> str:
    """What changed, jobs by outcome, failure rate by type, p50/p95 durations by type."""
    con = open_read_only(path)
    try:
        changed = what_changed(con)
        outcomes = con.execute(sql("queries", "ledger_outcomes")).df()
        # The report's per-type query: durations and failure rates, one source of truth.
        by_type = con.execute(sql("queries", "chart_job_types")).df()
    finally:
        con.close()
    failures = (by_type[by_type["terminal"] > 0]
                .sort_values(["failure_rate", "terminal"], ascending=False))
    durations = by_type[by_type["n"] > 0].sort_values("p95_seconds", ascending=False)
    total = int(outcomes["ids"].sum()) if not outcomes.empty else 0
    lines = [f"warehouse: {Path(path)}", "", *changed, "",
             f"requested job IDs by outcome ({total}):"]
    lines += [f"  {row.outcome:<12} {row.ids:>8}" for row in outcomes.itertuples()]
    lines += ["", "failure rate by job type (terminal jobs; 95% Wilson interval):"]
    lines += [
        f"  {row.job_type:<34} {int(row.terminal):>6} jobs  {row.failure_rate:6.1%}"
        f"  [{row.failure_rate_ci_low:5.1%}, {row.failure_rate_ci_high:5.1%}]"
        for row in failures.itertuples()
    ]
    lines += ["", "total duration by job type (seconds):"]
    lines += [f"  {'job type':<34} {'n':>6} {'p50':>9} {'p95':>9}"]
    lines += [
        f"  {row.job_type:<34} {row.n:>6} {row.p50_seconds:>9.1f} {row.p95_seconds:>9.1f}"
        for row in durations.itertuples()
    ]
    return "\n".join(lines)


EXAMPLE_QUERIES = ('"SELECT * FROM marts.failure_rates ORDER BY day DESC LIMIT 5"',
                   '"SELECT * FROM marts.duration_stats ORDER BY p95_seconds DESC LIMIT 10"')


def readers_text(path: str | Path) -> str:
    """Where every other SQL client reads, with the commands that do it."""
    copy = read_copy_path(path).resolve()
    return "\n".join([
        f"published read-only copy, for any SQL client (DuckDB CLI, notebooks, BI tools): {copy}",
        f"  duckdb -readonly {copy} {EXAMPLE_QUERIES[0]}",
        f"  bedrock-jobs sql {EXAMPLE_QUERIES[1]}",
    ])


def inbox_note(inbox: str | Path) -> str | None:
    """A line when ID files wait in the inbox: nothing reads them without a daemon."""
    waiting = inbox_files(Path(inbox))
    if not waiting:
        return None
    names = ", ".join(p.name for p in waiting[:3]) + (" ..." if len(waiting) > 3 else "")
    return (f"note: {len(waiting)} file(s) wait in the inbox {Path(inbox).resolve()} ({names}). "
            "The inbox_sensor starts a run for each wherever the Dagster daemon runs "
            "(`dg dev` or `make ui`; `dagster-daemon run` in production); without one, "
            "ingest a file with `bedrock-jobs ingest --ids FILE`.")


def print_summary(path: str | Path, inbox: str | Path | None = None) -> None:
    print(summary_text(path))
    print()
    print(readers_text(path))
    note = inbox_note(inbox) if inbox is not None else None
    if note:
        print()
        print(note)
