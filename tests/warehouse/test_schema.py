"""Contract: the registry describes the warehouse exactly, contract columns exist with their
types, warehouses migrate in place, the DuckDB CLI 1.5 reads the file."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from tests.helpers import load
from warehouse import (
    LATEST_VERSION,
    connect,
    rebuild_from_raw,
    refresh_marts,
    registry,
    schema_version,
)
from warehouse.db import migrations


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
    refresh_marts(con, now=datetime(2026, 1, 1, tzinfo=UTC))  # marts are their models' results
    found = _columns(con)
    for table in registry.tables():
        for column in table.contract:
            assert column in found[table.qualified], f"{table.qualified}.{column}"
    for table, columns in found.items():
        for column, data_type in columns.items():
            if column.endswith("_at") or column == "status_since":
                assert data_type == "TIMESTAMP WITH TIME ZONE", f"{table}.{column}"
            if column.endswith("_seconds"):
                assert data_type == "DOUBLE", f"{table}.{column}"
    assert found["raw.job_payloads"]["payload"] == "JSON"
    assert found["core.jobs"]["payload"] == "JSON"


def test_the_registry_describes_the_warehouse_exactly(con: duckdb.DuckDBPyConnection) -> None:
    """Every table and column the migrations build is registered with its meaning, and the
    registry names nothing they don't build: the docs and the UI can't miss or invent one.
    Marts are their models' results: refreshed once, each has its model's columns."""
    refresh_marts(con, now=datetime(2026, 1, 1, tzinfo=UTC))
    found = _columns(con)
    assert {t.qualified for t in registry.tables()} == set(found)
    for table in registry.tables():
        assert [c.name for c in table.columns] == list(found[table.qualified]), table.qualified
    kinds = dict(con.execute(
        "SELECT table_schema || '.' || table_name, table_type FROM information_schema.tables"
        " WHERE table_catalog = current_database()").fetchall())
    for table in registry.tables():
        assert (kinds[table.qualified] == "VIEW") == (table.kind == "view"), table.qualified
    assert all(table.contract for table in registry.asset_tables())


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
