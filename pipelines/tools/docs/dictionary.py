"""`docs/data-dictionary.md`, generated from the schema the migrations build, so it can't drift.

Tables, columns and types come from a fresh warehouse's `information_schema`;
table descriptions from the Dagster assets that own them (the same text the UI
shows); column meanings from `COLUMNS` below, then from the comment beside the
column in its migration. A column in no list still appears, marked undescribed,
and a test fails until it is described.
"""

from __future__ import annotations

import re

import warehouse
from warehouse.db import SQL_DIR, migrations

SCHEMAS = ("ops", "raw", "core", "marts")

# The warehouse contract: users and dashboards rely on these names and columns.
CONTRACT: dict[str, tuple[str, ...]] = {
    "ops.job_ledger": ("job_id", "source", "requested_at", "last_attempt_at", "attempts",
                       "outcome", "http_status", "error_code", "error_detail", "request_id",
                       "is_terminal"),
    "raw.job_payloads": ("job_id", "fetched_at", "payload", "payload_sha256"),
    "core.jobs": ("job_id", "organization_id", "project_id", "job_type", "status", "status_raw",
                  "target_type", "target_id", "parent_id", "created_at", "updated_at",
                  "completed_at", "is_terminal", "error_code", "error_message", "payload",
                  "fetched_at"),
    "core.job_events": ("job_id", "event_seq", "status", "status_raw", "event_at"),
    "core.job_status_transitions": ("job_id", "transition_seq", "from_status", "to_status",
                                    "from_at", "to_at", "duration_seconds"),
    "marts.job_durations": ("job_id", "job_type", "project_id", "final_status", "is_terminal",
                            "created_at", "queued_seconds", "running_seconds", "total_seconds",
                            "run_attempts", "n_events"),
    "marts.failure_rates": ("day", "job_type", "jobs", "completed", "failed", "canceled",
                            "failure_rate", "failure_rate_ci_low", "failure_rate_ci_high"),
    "marts.duration_stats": ("job_type", "phase", "n", "mean_seconds", "p50_seconds",
                             "p90_seconds", "p95_seconds", "p99_seconds", "max_seconds"),
    "marts.transition_matrix": ("from_status", "to_status", "n", "mean_seconds", "p50_seconds",
                                "p95_seconds"),
    "marts.stuck_jobs": ("job_id", "job_type", "status", "status_since", "age_seconds",
                         "threshold_seconds"),
    "marts.job_trees": ("parent_id", "parent_type", "n_children", "children_failed",
                        "children_canceled", "parent_total_seconds", "children_span_seconds"),
    "marts.regressions": ("job_type", "metric", "window_start", "window_end", "baseline_n",
                          "current_n", "baseline_value", "current_value", "ratio", "p_value",
                          "is_regression"),
}

# Tables no asset describes.
TABLES = {
    "ops.schema_version": "One row per applied schema migration.",
    "ops.publications": "One row per publication of the read-only copy (`<stem>.read.duckdb`): "
                        "the copy holds every row committed before its newest `published_at`.",
    "ops.discovery_state": "The discovery watermark: the newest `created_at` registered "
                           "through `GET /jobs`, so each run lists only what is new.",
    "ops.core_watermark": "One row: the highest `raw.job_payloads.payload_seq` core has "
                          "derived. The core step processes the payloads stored since, in "
                          "chunks (one transaction each); `rebuild_from_raw` resets it to 0.",
    "raw.latest_payloads": "One row per job with a stored payload: its newest payload's "
                           "sequence number, sha256 and quarantine verdict (used to dedupe).",
    "core.unknown_statuses": "View: status spellings outside the canonical mapping and how "
                             "many events carry each (a data-quality check reads it).",
}

STATUS = "canonical status: PENDING, RUNNING, COMPLETED, FAILED, CANCELED (or an unknown " \
         "spelling, upper-cased)"

# Column meanings: "table.column" first, then the bare column name.
COLUMNS: dict[str, str] = {
    "job_id": "Bedrock job ID (`job_…`).",
    "job_type": "The job's type, e.g. `drawing.preprocess`, `compare`.",
    "project_id": "Project the job belongs to.",
    "organization_id": "Organization the job belongs to.",
    "status": f"The job's {STATUS}.",
    "status_raw": "The status exactly as the API sent it.",
    "is_terminal": "True once the job is COMPLETED, FAILED or CANCELED (it never changes again).",
    "error_code": "Error code (the job's `error.code`, or the API's error for the request).",
    "created_at": "When the job was created (UTC).",
    "payload": "The response body as JSON.",
    "fetched_at": "When the payload was fetched (UTC).",
    "n": "Number of rows behind the figures.",
    "mean_seconds": "Mean, in seconds.",
    "p50_seconds": "Median (50th percentile), in seconds.",
    "p90_seconds": "90th percentile, in seconds.",
    "p95_seconds": "95th percentile, in seconds.",
    "p99_seconds": "99th percentile, in seconds.",
    "max_seconds": "Maximum, in seconds.",
    "payload_seq": "Load order of the payload in `raw.job_payloads` (higher is newer).",
    "payload_sha256": "SHA-256 of the payload text; identical payloads are stored once.",
    "quarantine_reason": "Why the payload could not be understood (NULL when it could).",
    "ops.job_ledger.source": "Where the ID came from: `inbox`, `config`, `discovery`, `parent`.",
    "ops.job_ledger.requested_at": "When the ID was first registered.",
    "ops.job_ledger.last_requested_at": "When the ID was last registered again by a source.",
    "ops.job_ledger.last_attempt_at": "When the last fetch of the ID ended.",
    "ops.job_ledger.attempts": "HTTP attempts made for the ID (retries included).",
    "ops.job_ledger.outcome": "How the latest fetch ended: `pending`, `loaded`, `not_found`, "
                              "`forbidden`, `invalid_id`, `failed` or `quarantined`.",
    "ops.job_ledger.http_status": "HTTP status of the last response (NULL when none arrived).",
    "ops.job_ledger.error_detail": "What went wrong, in words (RFC 7807 `detail` or ours).",
    "ops.job_ledger.request_id": "The API's `X-Request-Id` of the last response.",
    "ops.job_ledger.is_terminal": "True once the job loaded in a terminal state (the rule of "
                                  "`core.jobs.is_terminal`, applied when the batch lands): "
                                  "never fetched again.",
    "ops.job_ledger.loaded_at": "Last attempt that returned a usable payload.",
    "ops.job_ledger.ledger_seq": "Registration order (fetch order: requested_at, then job_id): "
                                 "the numeric key a fetch batch's lookups filter on, since "
                                 "DuckDB's per-row-group min/max of text never skips a group.",
    "ops.job_ledger.id_hash": "`md5_number_lower(job_id)`: lets a batch find which parents "
                              "are registered by scanning integers, not text.",
    "raw.latest_payloads.ledger_seq": "The job's `ops.job_ledger.ledger_seq` (the batch lookup "
                                      "key).",
    "ops.schema_version.version": "Migration number.",
    "ops.schema_version.name": "Migration file name.",
    "ops.schema_version.applied_at": "When the migration was applied.",
    "ops.discovery_state.source": "`jobs_list`: discovery through `GET /jobs?created_after=…`.",
    "ops.discovery_state.watermark": "The newest `created_at` registered so far.",
    "ops.discovery_state.updated_at": "When the watermark last moved.",
    "ops.core_watermark.payload_seq": "Core holds every raw payload up to this one.",
    "ops.core_watermark.derived_at": "When the core step last moved it.",
    "raw.job_payloads.payload": "The response body exactly as sent, byte for byte (NULL if it "
                                "was not JSON).",
    "raw.job_payloads.payload_text": "The body when it is not valid JSON.",
    "core.jobs.updated_at": "When the job last changed, per the API.",
    "core.jobs.completed_at": "When the job finished, per the API (Vision shape).",
    "core.jobs.target_type": "Kind of object the job works on (drawing, sheet, …).",
    "core.jobs.target_id": "ID of the object the job works on.",
    "core.jobs.parent_id": "The parent job's ID, for child jobs.",
    "core.jobs.error_message": "The job's `error.message`, for failed jobs.",
    "core.jobs.payload": "The latest payload of the job, as JSON.",
    "core.jobs.fetched_at": "When the latest payload was fetched.",
    "core.jobs.status": f"The job's {STATUS}. Terminal means finished: when the top-level "
                        "status or the last event is terminal, this is that terminal status "
                        "(the top-level one first when both are terminal and disagree); "
                        "otherwise the last event's, or the top-level one without events.",
    "core.jobs.is_terminal": "True when the top-level status or the last event is COMPLETED, "
                             "FAILED or CANCELED: the job is never fetched again.",
    "core.jobs.reported_status": "Canonical form of the payload's top-level `status` field.",
    "core.jobs.reported_status_raw": "The top-level `status` field as sent.",
    "core.jobs.results": "Vision `results`, as JSON.",
    "core.jobs.payload_shape": "`cms` (wrapped in `data`) or `vision` (bare object).",
    "core.jobs.payload_seq": "The `raw.job_payloads` row this state comes from.",
    "core.jobs.n_events": "Rows of the job in `core.job_events`.",
    "core.jobs.first_event_at": "Time of the job's first event.",
    "core.jobs.first_running_at": "Time of the job's first RUNNING event.",
    "core.jobs.terminal_event_at": "Time of the job's first terminal event.",
    "core.jobs.run_attempts": "Entries into RUNNING (more than 1: the job was re-queued).",
    "core.jobs.status_since": "When the job entered its current status.",
    "core.job_events.event_seq": "Position of the event in the job's history, from 0.",
    "core.job_events.status": f"The event's {STATUS}.",
    "core.job_events.event_at": "When the event happened (UTC).",
    "core.job_status_transitions.transition_seq": "Position of the pair, from 0.",
    "core.job_status_transitions.from_status": "Status of the earlier event.",
    "core.job_status_transitions.to_status": "Status of the later event.",
    "core.job_status_transitions.from_at": "Time of the earlier event.",
    "core.job_status_transitions.to_at": "Time of the later event.",
    "core.job_status_transitions.duration_seconds": "Time spent in `from_status`, in seconds.",
    "core.unknown_statuses.status": "The unknown status, upper-cased.",
    "core.unknown_statuses.n_events": "Events carrying the spelling.",
    "marts.job_durations.final_status": "The job's current canonical status.",
    "marts.job_durations.queued_seconds": "First RUNNING event − first event (NULL when the "
                                          "events don't say).",
    "marts.job_durations.running_seconds": "Terminal event − first RUNNING event.",
    "marts.job_durations.total_seconds": "Terminal event − first event (`created_at` where "
                                         "events are missing).",
    "marts.job_durations.run_attempts": "Entries into RUNNING (more than 1: re-queued).",
    "marts.job_durations.n_events": "Events of the job.",
    "marts.job_durations.first_event_at": "Time of the first event.",
    "marts.job_durations.first_running_at": "Time of the first RUNNING event.",
    "marts.job_durations.terminal_at": "First terminal event (or `completed_at`/`updated_at`).",
    "marts.failure_rates.day": "Day (UTC) the jobs were created.",
    "marts.failure_rates.jobs": "Jobs created that day, of the type.",
    "marts.failure_rates.completed": "Of them, COMPLETED.",
    "marts.failure_rates.failed": "Of them, FAILED.",
    "marts.failure_rates.canceled": "Of them, CANCELED.",
    "marts.failure_rates.failure_rate": "failed / (completed + failed + canceled).",
    "marts.failure_rates.failure_rate_ci_low": "Lower bound of the 95% Wilson interval.",
    "marts.failure_rates.failure_rate_ci_high": "Upper bound of the 95% Wilson interval.",
    "marts.duration_stats.phase": "`queued`, `running` or `total` (see marts.job_durations).",
    "marts.duration_stats.n": "Jobs with a known duration for the phase.",
    "marts.transition_matrix.from_status": "Status left.",
    "marts.transition_matrix.to_status": "Status entered.",
    "marts.transition_matrix.n": "How many times the pair occurs.",
    "marts.transition_matrix.mean_seconds": "Mean time spent in `from_status`.",
    "marts.transition_matrix.p50_seconds": "Median time spent in `from_status`.",
    "marts.transition_matrix.p95_seconds": "95th percentile of the time spent in `from_status`.",
    "marts.stuck_jobs.status": "The status the job is stuck in.",
    "marts.stuck_jobs.status_since": "When the job entered it.",
    "marts.stuck_jobs.age_seconds": "Time in the status when the marts were refreshed.",
    "marts.stuck_jobs.threshold_seconds": "The p99 of finished jobs of the type in that status, "
                                          "at least the floor (default 1 h).",
    "marts.job_trees.parent_id": "The parent job's ID.",
    "marts.job_trees.parent_type": "The parent's job type.",
    "marts.job_trees.n_children": "Children loaded in the warehouse.",
    "marts.job_trees.children_failed": "Of them, FAILED.",
    "marts.job_trees.children_canceled": "Of them, CANCELED.",
    "marts.job_trees.parent_total_seconds": "The parent's total duration.",
    "marts.job_trees.children_span_seconds": "First child's first event to last child's "
                                             "terminal event.",
}

_CREATE = re.compile(r"CREATE TABLE (?:IF NOT EXISTS )?(\w+\.\w+)\s*\(")
_COLUMN = re.compile(r"^\s*(\w+)\s+[A-Z][^-]*?--\s*(.+)$")
_ALTER = re.compile(r"ALTER TABLE (\w+\.\w+) ADD COLUMN (\w+)\b[^;]*;\s*--\s*(.+)$")


def migration_comments() -> dict[str, str]:
    """`table.column` → the comment beside the column in its migration (marks like
    'extra:' removed)."""
    found: dict[str, str] = {}
    for _, name in migrations():
        table = None
        for line in (SQL_DIR / "schema" / f"{name}.sql").read_text().splitlines():
            if match := _CREATE.search(line):
                table = match.group(1)
                continue
            if match := _ALTER.search(line):
                found[f"{match.group(1)}.{match.group(2)}"] = match.group(3)
                continue
            if table and line.strip().startswith(")"):
                table = None
            elif table and (match := _COLUMN.match(line)):
                found[f"{table}.{match.group(1)}"] = match.group(2)
    return {key: re.sub(r"^extra:?\s*", "", text).strip() for key, text in found.items()}


def asset_descriptions() -> dict[str, str]:
    """`schema.table` → the description of the Dagster asset that owns the table."""
    from pipelines.definitions import build_definitions

    return {".".join(spec.key.path): spec.description or ""
            for spec in build_definitions().resolve_all_asset_specs()
            if len(spec.key.path) == 2 and spec.key.path[0] in SCHEMAS}


def live_schema() -> dict[str, list[tuple[str, str, str]]]:
    """`schema.table` → [(column, type, 'table'|'view')] of a freshly migrated warehouse."""
    with warehouse.connect(":memory:") as con:
        rows = con.execute(
            """
            SELECT c.table_schema || '.' || c.table_name, c.column_name, c.data_type,
                   CASE t.table_type WHEN 'VIEW' THEN 'view' ELSE 'table' END
            FROM information_schema.columns AS c
            JOIN information_schema.tables AS t USING (table_catalog, table_schema, table_name)
            WHERE c.table_schema IN ('ops', 'raw', 'core', 'marts')
            ORDER BY c.table_schema, c.table_name, c.ordinal_position
            """
        ).fetchall()
    tables: dict[str, list[tuple[str, str, str]]] = {}
    for table, column, kind, table_type in rows:
        tables.setdefault(table, []).append((column, kind, table_type))
    order = {schema: i for i, schema in enumerate(SCHEMAS)}
    return dict(sorted(tables.items(), key=lambda item: (order[item[0].split(".")[0]],
                                                         item[0])))


def describe(table: str, column: str, comments: dict[str, str]) -> str:
    """The meaning of `table.column`, or '' when nothing describes it."""
    key = f"{table}.{column}"
    return COLUMNS.get(key) or comments.get(key) or COLUMNS.get(column, "")


def dictionary_markdown() -> str:
    """The whole data dictionary as markdown (deterministic: same schema, same text)."""
    schema = live_schema()
    comments = migration_comments()
    descriptions = {**TABLES, **asset_descriptions()}
    lines = [
        "# Data dictionary",
        "",
        "<!-- Generated by `bedrock-jobs docs` from the schema the migrations build; "
        "do not edit by hand. -->",
        "",
        "Every table and view of the warehouse (`BEDROCK_WAREHOUSE`), its columns and their "
        "types, as the migrations in `warehouse/schema/` create them. Columns marked "
        "**contract** are the stable SQL interface users and dashboards rely on; others may "
        "change. Timestamps are `TIMESTAMPTZ` in UTC; durations are `DOUBLE` seconds.",
        "",
        f"Schema version {migrations()[-1][0]}.",
        "",
    ]
    lines += [f"- [`{table}`](#{table.replace('.', '')})" for table in schema]
    for table, columns in schema.items():
        kind = columns[0][2]
        contract = CONTRACT.get(table, ())
        lines += ["", f"## {table}", ""]
        text = descriptions.get(table, "")
        lines += [f"{'View. ' if kind == 'view' else ''}{text}".strip() or "_(no description)_",
                  ""]
        lines += ["| column | type | contract | meaning |", "|---|---|---|---|"]
        for column, data_type, _ in columns:
            meaning = describe(table, column, comments) or "_(undescribed)_"
            mark = "contract" if column in contract else ""
            lines.append(f"| `{column}` | `{data_type}` | {mark} | {meaning.replace('|', '/')} |")
    return "\n".join(lines) + "\n"

