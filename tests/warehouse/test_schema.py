"""Contract: contract tables and types exist, migrate in place, CLI 1.5 reads the file."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from warehouse import LATEST_VERSION, connect, rebuild_from_raw, schema_version
from warehouse.db import migrations

CONTRACT = {
    "ops.job_ledger": "job_id, source, requested_at, last_attempt_at, attempts, outcome, "
    "http_status, error_code, error_detail, request_id, is_terminal",
    "raw.job_payloads": "job_id, fetched_at, payload, payload_sha256",
    "core.jobs": "job_id, organization_id, project_id, job_type, status, status_raw, "
    "target_type, target_id, parent_id, created_at, updated_at, completed_at, is_terminal, "
    "error_code, error_message, payload, fetched_at",
    "core.job_events": "job_id, event_seq, status, status_raw, event_at",
    "core.job_status_transitions": "job_id, transition_seq, from_status, to_status, from_at, "
    "to_at, duration_seconds",
    "marts.job_durations": "job_id, job_type, project_id, final_status, is_terminal, "
    "created_at, queued_seconds, running_seconds, total_seconds, run_attempts, n_events",
    "marts.failure_rates": "day, job_type, jobs, completed, failed, canceled, failure_rate, "
    "failure_rate_ci_low, failure_rate_ci_high",
    "marts.duration_stats": "job_type, phase, n, mean_seconds, p50_seconds, p90_seconds, "
    "p95_seconds, p99_seconds, max_seconds",
    "marts.transition_matrix": "from_status, to_status, n, mean_seconds, p50_seconds, "
    "p95_seconds",
    "marts.stuck_jobs": "job_id, job_type, status, status_since, age_seconds, "
    "threshold_seconds",
    "marts.job_trees": "parent_id, parent_type, n_children, children_failed, "
    "children_canceled, parent_total_seconds, children_span_seconds",
}


def _columns(con: duckdb.DuckDBPyConnection) -> dict[str, dict[str, str]]:
    found: dict[str, dict[str, str]] = {}
    rows = con.execute(
        "SELECT table_schema || '.' || table_name, column_name, data_type "
        "FROM information_schema.columns WHERE table_catalog = current_database()"
    ).fetchall()
    for table, column, data_type in rows:
        found.setdefault(table, {})[column] = data_type
    return found


def test_every_contract_column_exists_with_its_type(con: duckdb.DuckDBPyConnection) -> None:
    found = _columns(con)
    for table, columns in CONTRACT.items():
        for column in columns.split(", "):
            assert column in found[table], f"{table}.{column}"
    for table, columns in found.items():
        for column, data_type in columns.items():
            if column.endswith("_at") or column == "status_since":
                assert data_type == "TIMESTAMP WITH TIME ZONE", f"{table}.{column}"
            if column.endswith("_seconds"):
                assert data_type == "DOUBLE", f"{table}.{column}"
    assert found["raw.job_payloads"]["payload"] == "JSON"
    assert found["core.jobs"]["payload"] == "JSON"


def test_reopening_keeps_version_and_data(wh_path: Path) -> None:
    with connect(wh_path) as con:
        con.execute("INSERT INTO ops.job_ledger (job_id) VALUES ('job_1')")
    with connect(wh_path) as con:
        assert schema_version(con) == LATEST_VERSION
        # One row per migration shipped (numbers may skip one another branch holds).
        assert con.execute("SELECT count(*) FROM ops.schema_version").fetchone()[0] == len(
            migrations())
        assert con.execute("SELECT job_id FROM ops.job_ledger").fetchall() == [("job_1",)]
        assert con.execute("SELECT current_setting('TimeZone')").fetchone()[0] == "UTC"


def test_previous_schema_version_is_upgraded_in_place(wh_path: Path) -> None:
    requested = datetime(2026, 1, 1, tzinfo=UTC)
    body = ('{"data": {"id": "job_1", "type": "compare", "status": "COMPLETED", "events": ['
            '{"status": "PENDING", "timestamp": "2026-01-01T00:00:00Z"},'
            '{"status": "COMPLETED", "timestamp": "2026-01-01T00:00:05Z"}]}}')
    with connect(wh_path, migrate_to=1) as con:
        assert schema_version(con) == 1
        assert "last_requested_at" not in _columns(con)["ops.job_ledger"]
        con.execute(
            "INSERT INTO ops.job_ledger (job_id, source, requested_at, outcome, attempts) "
            "VALUES ('job_1', 'inbox', ?, 'loaded', 1)", [requested])
        con.execute(
            "INSERT INTO raw.job_payloads (job_id, fetched_at, payload, payload_sha256, "
            "payload_seq) VALUES ('job_1', ?, ?, sha256(?), 1)", [requested, body, body])
    with connect(wh_path) as con:
        assert schema_version(con) == LATEST_VERSION
        assert con.execute(
            "SELECT job_id, requested_at, last_requested_at FROM ops.job_ledger"
        ).fetchall() == [("job_1", requested, requested)]
        assert rebuild_from_raw(con).jobs_changed == 1
        assert con.execute("SELECT status, is_terminal FROM core.jobs").fetchall() == [
            ("COMPLETED", True)]
        assert con.execute("SELECT count(*) FROM core.unknown_statuses").fetchone()[0] == 0
        # Schema 9: the bodies kept, and stored with zstd.
        assert con.execute("SELECT payload::VARCHAR FROM raw.job_payloads").fetchall() == [(body,)]
        con.execute("CHECKPOINT")
        assert {row[0] for row in con.execute(
            "SELECT compression FROM pragma_storage_info('raw.job_payloads')"
            " WHERE column_name = 'payload' AND segment_type <> 'VALIDITY'").fetchall()} == {"ZSTD"}


def test_duckdb_cli_1_5_reads_the_warehouse(wh_path: Path, sim_items: list) -> None:
    from tests.warehouse.conftest import load
    from warehouse import refresh_marts

    with connect(wh_path) as con:
        load(con, sim_items[:50])
        refresh_marts(con, now=datetime(2026, 1, 1, tzinfo=UTC))
        expected = con.execute("SELECT count(*) FROM core.job_events").fetchone()[0]
    cli = Path(sys.executable).parent / "duckdb"
    version = subprocess.run([str(cli), "--version"], capture_output=True, text=True,
                             check=True).stdout
    assert version.startswith("v1.5"), version
    result = subprocess.run(
        [str(cli), "-readonly", "-csv", "-noheader", str(wh_path), "-c",
         "SELECT count(*) FROM core.job_events; SELECT count(*) > 0 FROM marts.job_durations;"],
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [str(expected), "true"]
