"""Contract: the ledger accounts for every ID; a batch is one transaction; dedupe."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import duckdb
import pytest

from tests.helpers import FETCHED_AT, load, loaded, table
from warehouse import FetchedItem, ids_to_fetch, land_batch, register_ids

RUNNING = {"id": "job_1", "type": "compare", "status": "RUNNING", "events": [
    {"status": "PENDING", "timestamp": "2026-01-01T00:00:00Z"},
    {"status": "RUNNING", "timestamp": "2026-01-01T00:00:02Z"}]}
DONE = {**RUNNING, "status": "COMPLETED", "events": [
    *RUNNING["events"], {"status": "COMPLETED", "timestamp": "2026-01-01T00:01:00Z"}]}


def test_register_ids_pending_once(con: duckdb.DuckDBPyConnection) -> None:
    first = datetime(2026, 1, 1, tzinfo=UTC)
    assert register_ids(con, ["job_1", " job_2 ", "", "job_1"], "inbox", first) == 2
    assert register_ids(con, ["job_2", "job_3"], "config", first + timedelta(hours=1)) == 1
    assert con.execute(
        "SELECT job_id, source, requested_at, last_requested_at, attempts, outcome, is_terminal"
        " FROM ops.job_ledger ORDER BY job_id").fetchall() == [
        ("job_1", "inbox", first, first, 0, "pending", False),
        ("job_2", "inbox", first, first + timedelta(hours=1), 0, "pending", False),
        ("job_3", "config", first + timedelta(hours=1), first + timedelta(hours=1), 0,
         "pending", False),
    ]
    assert ids_to_fetch(con) == ["job_1", "job_2", "job_3"]
    assert ids_to_fetch(con, limit=1) == ["job_1"]


def test_outcomes_and_what_is_fetched_again(con: duckdb.DuckDBPyConnection) -> None:
    ids = ["job_1", "job_2", "job_3", "job_4", "job_5"]
    register_ids(con, ids, "inbox", FETCHED_AT)
    load(con, [
        loaded("job_1", RUNNING, wrap=True),
        FetchedItem("job_2", "not_found", FETCHED_AT, 404, "NOT_FOUND", "Job not found",
                    "req_2"),
        FetchedItem("job_3", "forbidden", FETCHED_AT, 403, "FORBIDDEN"),
        FetchedItem("job_4", "failed", FETCHED_AT, 503, None, "Service Unavailable",
                    attempts=3),
        FetchedItem("job_6", "invalid_id", FETCHED_AT, 400, "VALIDATION_ERROR"),
    ])
    rows = con.execute("SELECT job_id, source, attempts, outcome, http_status, is_terminal"
                       " FROM ops.job_ledger ORDER BY job_id").fetchall()
    assert rows == [
        ("job_1", "inbox", 1, "loaded", 200, False),
        ("job_2", "inbox", 1, "not_found", 404, True),
        ("job_3", "inbox", 1, "forbidden", 403, True),
        ("job_4", "inbox", 3, "failed", 503, False),
        ("job_5", "inbox", 0, "pending", None, False),
        ("job_6", "unregistered", 1, "invalid_id", 400, True),
    ]
    assert ids_to_fetch(con) == ["job_1", "job_4", "job_5"]
    assert ids_to_fetch(con, max_attempts=3) == ["job_1", "job_5"]
    load(con, [loaded("job_1", DONE, wrap=True, at=FETCHED_AT + timedelta(minutes=5))])
    assert ids_to_fetch(con) == ["job_4", "job_5"]
    assert con.execute("SELECT attempts, is_terminal, last_attempt_at FROM ops.job_ledger"
                       " WHERE job_id = 'job_1'").fetchone() == (
        2, True, FETCHED_AT + timedelta(minutes=5))


def test_identical_payload_is_stored_once(con: duckdb.DuckDBPyConnection) -> None:
    load(con, [loaded("job_1", RUNNING, wrap=True)])
    summary = load(con, [loaded("job_1", RUNNING, wrap=True,
                                      at=FETCHED_AT + timedelta(minutes=1))])
    assert (summary.payloads_stored, summary.duplicates) == (0, 1)
    load(con, [loaded("job_1", DONE, wrap=True, at=FETCHED_AT + timedelta(minutes=2)),
                     loaded("job_1", DONE, wrap=True, at=FETCHED_AT + timedelta(minutes=3))])
    raw = con.execute("SELECT payload_seq, fetched_at, payload_sha256 = sha256(payload::VARCHAR)"
                      " FROM raw.job_payloads ORDER BY payload_seq").fetchall()
    assert raw == [(1, FETCHED_AT, True), (2, FETCHED_AT + timedelta(minutes=2), True)]
    assert con.execute("SELECT status, fetched_at FROM core.jobs").fetchall() == [
        ("COMPLETED", FETCHED_AT + timedelta(minutes=2))]
    # Going back to an older payload is a change, so it is stored again.
    load(con, [loaded("job_1", RUNNING, wrap=True)])
    assert con.execute("SELECT count(*) FROM raw.job_payloads").fetchone()[0] == 3
    assert con.execute("SELECT attempts FROM ops.job_ledger").fetchone()[0] == 5


class _Recorder:
    """A connection that records the SQL it runs (land_batch takes any such object)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, fail_on: str | None = None) -> None:
        self.con = con
        self.statements: list[str] = []
        self.fail_on = fail_on

    def execute(self, query: str, *args: object) -> duckdb.DuckDBPyConnection:
        statement = " ".join(query.split())
        self.statements.append(statement)
        if self.fail_on and statement.startswith(self.fail_on):
            raise duckdb.ConstraintException(f"injected: {self.fail_on}")
        return self.con.execute(query, *args)

    def __getattr__(self, name: str) -> object:
        return getattr(self.con, name)


def test_batch_is_one_transaction(con: duckdb.DuckDBPyConnection) -> None:
    load(con, [loaded("job_1", RUNNING, wrap=True)])
    before = {name: table(con, name, "1, 2") for name in
              ("raw.job_payloads", "raw.latest_payloads", "ops.job_ledger", "core.jobs")}
    # The ledger's insert (after raw was written) fails: nothing of the batch stays.
    failing = _Recorder(con, fail_on="INSERT INTO ops.job_ledger BY NAME")
    with pytest.raises(duckdb.Error):
        land_batch(failing, [loaded("job_1", DONE, wrap=True), loaded("job_2", RUNNING)])
    assert any(s.startswith("INSERT INTO raw.job_payloads") for s in failing.statements)
    after = {name: table(con, name, "1, 2") for name in before}
    assert after == before


def test_naive_timestamps_are_refused(con: duckdb.DuckDBPyConnection) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        land_batch(con, [FetchedItem("job_1", "failed", datetime(2026, 1, 1))])
    with pytest.raises(ValueError, match="outcome"):
        land_batch(con, [FetchedItem("job_1", "maybe", FETCHED_AT)])


def test_batch_never_reads_raw(con: duckdb.DuckDBPyConnection) -> None:
    # Per-batch work must not grow with raw: raw.job_payloads is only appended to;
    # the last stored sha256/verdict per job comes from raw.latest_payloads.
    load(con, [loaded("job_1", RUNNING, wrap=True), loaded("job_2", "not json")])
    recorder = _Recorder(con)
    summary = land_batch(recorder, [loaded("job_1", DONE, wrap=True),
                                    loaded("job_2", "not json"),
                                    loaded("job_3", {**RUNNING, "id": "job_3"})])
    assert (summary.payloads_stored, summary.duplicates, summary.quarantined) == (2, 1, 1)
    reads = [s for s in recorder.statements
             if re.search(r"\b(FROM|JOIN)\s+raw\.job_payloads\b", s, re.IGNORECASE)]
    assert reads == []
    assert any(s.startswith("INSERT INTO raw.job_payloads") for s in recorder.statements)
    assert con.execute("SELECT job_id, payload_seq, quarantine_reason IS NOT NULL"
                       " FROM raw.latest_payloads ORDER BY job_id").fetchall() == [
        ("job_1", 3, False), ("job_2", 2, True), ("job_3", 4, False)]


def test_batch_lookups_by_job_id_filter_on_the_batch_ledger_seq_range(
        con: duckdb.DuckDBPyConnection) -> None:
    # DuckDB's text min/max per row group never skips on job_id; ledger_seq (numbered at
    # registration, in fetch order) does. Every lookup of the batch's own rows in the
    # ledger and raw.latest_payloads filters on the batch's range first.
    register_ids(con, [f"job_{i}" for i in range(1, 6)], "inbox", FETCHED_AT)
    seqs = dict(con.execute("SELECT job_id, ledger_seq FROM ops.job_ledger").fetchall())
    assert sorted(seqs.values()) == [1, 2, 3, 4, 5]  # numbered at registration, in order
    body = {**RUNNING, "id": "job_2"}
    land_batch(con, [loaded("job_2", body, wrap=True)])  # no ledger_seq: looks everywhere
    recorder = _Recorder(con)
    land_batch(recorder, [
        FetchedItem("job_2", "loaded", FETCHED_AT, 200, payload_text=json.dumps({"data": {
            **body, "status": "COMPLETED"}}), ledger_seq=seqs["job_2"]),
        FetchedItem("job_3", "not_found", FETCHED_AT, 404, ledger_seq=seqs["job_3"])])
    lookups = {s: found.group(1) for s in recorder.statements if (found := re.search(
        r"\b(?:FROM|JOIN)\s+(ops\.job_ledger|raw\.latest_payloads)\b(?!\s+USING)", s))
        and "max(" not in s and "_ids" not in s}
    # The batch's ledger rows and latest payloads are each read, and each deleted (to be
    # replaced), and every one of those lookups filters on the range.
    assert {("delete" if s.startswith("DELETE") else "read", table)
            for s, table in lookups.items()} == {
        (kind, table) for kind in ("read", "delete")
        for table in ("ops.job_ledger", "raw.latest_payloads")}
    assert all("ledger_seq BETWEEN $lo AND $hi" in s for s in lookups), list(lookups)
    assert con.execute("SELECT job_id, outcome, ledger_seq FROM ops.job_ledger"
                       " WHERE job_id IN ('job_2', 'job_3') ORDER BY 1").fetchall() == [
        ("job_2", "loaded", seqs["job_2"]), ("job_3", "not_found", seqs["job_3"])]
    assert con.execute("SELECT ledger_seq FROM raw.latest_payloads").fetchall() == [
        (seqs["job_2"],)]


def test_ids_landed_without_registration_are_numbered_after_the_ledger(
        con: duckdb.DuckDBPyConnection) -> None:
    # An ID landed without a ledger row (e.g. fetched before it was registered) gets the
    # next numbers after the ledger's last: every ledger row keeps its own number.
    register_ids(con, ["job_1", "job_2"], "inbox", FETCHED_AT)
    land_batch(con, [loaded(job_id, {**RUNNING, "id": job_id}, wrap=True)
                     for job_id in ("job_3", "job_4", "job_5")])
    assert con.execute("SELECT job_id, ledger_seq FROM ops.job_ledger ORDER BY job_id"
                       ).fetchall() == [("job_1", 1), ("job_2", 2), ("job_3", 3),
                                        ("job_4", 4), ("job_5", 5)]
