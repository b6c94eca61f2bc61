"""The published read-only copy: whole, atomic, readable by plain DuckDB and the 1.5 CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from tests.helpers import load
from warehouse import connect, refresh_marts
from warehouse.publish import PeriodicPublisher, PublishError, publish, read_copy_path
from warehouse.query import QueryError, readable_path, run_query

NOW = datetime(2026, 1, 1, tzinfo=UTC)
TABLES = ("ops.job_ledger", "raw.job_payloads", "core.jobs", "core.job_events",
          "core.job_status_transitions", "marts.job_durations", "marts.failure_rates")


def _counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    return {t: con.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0] for t in TABLES}  # noqa: S608


def test_copy_path_sits_beside_the_warehouse() -> None:
    assert read_copy_path("warehouse/bedrock.duckdb") == Path("warehouse/bedrock.read.duckdb")
    assert read_copy_path("/data/jobs.db") == Path("/data/jobs.read.db")


def test_publish_copies_every_schema_for_a_plain_read_only_client(wh_path, sim_items) -> None:
    with connect(wh_path) as con:
        load(con, sim_items[:200])
        refresh_marts(con, now=NOW)
        expected = _counts(con)
        publication = publish(con, wh_path, run_id="run-1")
    assert publication.path == read_copy_path(wh_path) and publication.path.exists()
    assert publication.jobs == expected["core.jobs"] > 0
    assert publication.bytes == publication.path.stat().st_size
    assert not list(wh_path.parent.glob(".*.tmp"))  # no temp file left behind
    # What a notebook does: no macros, no retries, read-only.
    with duckdb.connect(str(publication.path), read_only=True) as reader:
        assert _counts(reader) == expected
        assert reader.execute("SELECT run_id, trigger FROM ops.publications").fetchall() == [
            ("run-1", "run end")]


def test_duckdb_cli_1_5_opens_the_published_copy(wh_path, sim_items) -> None:
    with connect(wh_path) as con:
        load(con, sim_items[:50])
        refresh_marts(con, now=NOW)
        jobs = con.execute("SELECT count(*) FROM core.jobs").fetchall()[0][0]
        publish(con, wh_path)
    cli = Path(sys.executable).parent / "duckdb"
    result = subprocess.run(
        [str(cli), "-readonly", "-csv", "-noheader", str(read_copy_path(wh_path)), "-c",
         "SELECT count(*) FROM core.jobs; SELECT count(*) FROM ops.publications;"],
        capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [str(jobs), "1"]


def test_an_open_reader_keeps_its_view_and_a_new_one_sees_the_new_copy(wh_path,
                                                                       sim_items) -> None:
    with connect(wh_path) as con:
        load(con, sim_items[:100])
        publish(con, wh_path)
    copy = read_copy_path(wh_path)
    old_reader = duckdb.connect(str(copy), read_only=True)
    try:
        before = old_reader.execute("SELECT count(*) FROM raw.job_payloads").fetchall()[0][0]
        with connect(wh_path) as con:  # a writer while the reader holds the copy open
            load(con, sim_items[100:250])
            publish(con, wh_path)
        # Another client (its own process: in one process DuckDB hands a new connect() the
        # database instance already open on that path) sees the new copy.
        after = int(subprocess.run(
            [sys.executable, "-c", "import duckdb, sys; print(duckdb.connect(sys.argv[1], "
             "read_only=True).execute('SELECT count(*) FROM raw.job_payloads').fetchall()[0][0])",
             str(copy)], capture_output=True, text=True, check=True, timeout=60).stdout)
        assert after > before
        # The old connection still reads the file it opened, whole and unchanged.
        assert old_reader.execute("SELECT count(*) FROM raw.job_payloads").fetchall()[0][0] \
            == before
    finally:
        old_reader.close()


def test_periodic_publisher_publishes_at_once_without_a_copy_then_when_due(wh_path,
                                                                            sim_items) -> None:
    publisher = PeriodicPublisher(wh_path, every_seconds=3600, run_id="run-2")
    with connect(wh_path) as con:
        load(con, sim_items[:20])
        first = publisher(con)  # no copy yet: readers get one after the first batch
        load(con, sim_items[20:40])
        second = publisher(con)  # a copy exists and an hour has not passed
        publisher.every_seconds = 0
        load(con, sim_items[40:60])
        third = publisher(con)
    assert first is not None and second is None and third is not None
    with duckdb.connect(str(read_copy_path(wh_path)), read_only=True) as reader:
        rows = reader.execute(
            "SELECT trigger FROM ops.publications ORDER BY published_at").fetchall()
    assert rows == [("during fetch",), ("during fetch",)]
    assert len(publisher.published) == 2


def test_readers_get_the_copy_by_default_the_working_file_with_live(wh_path, sim_items) -> None:
    with pytest.raises(QueryError, match="bedrock-jobs ingest") as missing:
        readable_path(wh_path)
    assert "no warehouse" in str(missing.value)
    with connect(wh_path) as con:
        load(con, sim_items[:30])
    with pytest.raises(QueryError, match=r"no run has\s+finished writing it"):
        readable_path(wh_path)
    assert readable_path(wh_path, live=True) == wh_path
    with connect(wh_path) as con:
        publish(con, wh_path)
        load(con, sim_items[30:60])  # written after the copy: only --live sees it
    published = run_query(readable_path(wh_path), "SELECT count(*) AS n FROM raw.job_payloads",
                          output="csv")
    live = run_query(readable_path(wh_path, live=True),
                     "SELECT count(*) AS n FROM raw.job_payloads", output="csv")
    assert int(published.splitlines()[1]) < int(live.splitlines()[1])


def _publications(path: Path) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as reader:
        return reader.execute("SELECT published_at, run_id, trigger FROM ops.publications"
                              " ORDER BY published_at").fetchall()


def test_the_copy_holds_its_own_row_and_the_working_file_the_same_one(wh_path,
                                                                      sim_items) -> None:
    with connect(wh_path) as con:
        load(con, sim_items[:20])
        first = publish(con, wh_path, run_id="run-a")
        second = publish(con, wh_path, run_id="run-b", trigger="during fetch")
        working = con.execute("SELECT published_at, run_id, trigger FROM ops.publications"
                              " ORDER BY published_at").fetchall()
    # Readers ask the copy how fresh it is: its newest row is the copy itself.
    assert working == _publications(second.path) == [
        (first.published_at, "run-a", "run end"), (second.published_at, "run-b", "during fetch")]


def test_a_refused_rename_records_nothing_and_the_next_publish_tries_again(wh_path,
                                                                            sim_items) -> None:
    target = read_copy_path(wh_path)
    target.mkdir(parents=True)  # something that is not a copy holds the name: rename refused
    (target / "keep").write_text("not ours")
    with connect(wh_path) as con:
        load(con, sim_items[:30])
        with pytest.raises(PublishError, match=r"bedrock.read.duckdb not published: .*"
                                               r"Is a directory"):
            publish(con, wh_path, run_id="run-1")
        assert con.execute("SELECT count(*) FROM ops.publications").fetchall() == [(0,)]
        assert not [p for p in wh_path.parent.iterdir() if p.name.startswith(".")]  # no temp
        (target / "keep").unlink()
        target.rmdir()
        publication = publish(con, wh_path, run_id="run-1")
        assert con.execute("SELECT count(*) FROM ops.publications").fetchall() == [(1,)]
    assert _publications(publication.path) == [(publication.published_at, "run-1", "run end")]


# Run in its own process: a file size limit (RLIMIT_FSIZE) makes the copy's writes fail
# with EFBIG as a full disk makes them fail with ENOSPC, then the limit is lifted.
DISK_FULL = """
import json, resource, signal, sys
from warehouse import connect
from warehouse.publish import PublishError, publish
path, limit = sys.argv[1], int(sys.argv[2])
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails, not the process
soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
out = {}
with connect(path) as con:
    con.execute("CHECKPOINT")  # the working file writes nothing more while the limit holds
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, hard))
    try:
        publish(con, path, run_id="full")
    except PublishError as error:
        out["error"] = str(error)
    resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
    out["rows"] = con.execute("SELECT run_id FROM ops.publications ORDER BY 1").fetchall()
    out["again"] = str(publish(con, path, run_id="after").published_at)
print(json.dumps(out))
"""


def test_a_full_disk_keeps_the_previous_copy_records_nothing_and_the_next_one_publishes(
        wh_path, sim_items) -> None:
    with connect(wh_path) as con:
        load(con, sim_items[:200])
        before = publish(con, wh_path, run_id="before")
    copy = read_copy_path(wh_path)
    size = copy.stat().st_size
    done = subprocess.run([sys.executable, "-c", DISK_FULL, str(wh_path), str(size // 2)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert "not published" in out["error"] and "File too large" in out["error"]
    # The failed copy left no row in the working file; the next publish went through.
    assert out["rows"] == [["before"]]
    rows = _publications(copy)
    assert [r[1] for r in rows] == ["before", "after"]
    assert rows[0][0] == before.published_at and str(rows[1][0]) == out["again"]
    assert not [p for p in wh_path.parent.iterdir() if p.name.startswith(".")]


def test_periodic_publisher_warns_goes_on_and_tries_again_when_due(wh_path, sim_items) -> None:
    warnings: list[str] = []
    publisher = PeriodicPublisher(wh_path, every_seconds=3600, run_id="run-3",
                                  warn=warnings.append)
    blocker = read_copy_path(wh_path).with_name(".bedrock.read.duckdb.tmp")
    blocker.mkdir()  # the temporary file cannot be written
    with connect(wh_path) as con:
        load(con, sim_items[:20])
        assert publisher(con) is None  # no copy yet: it tries at once, and fails
        load(con, sim_items[20:40])
        assert publisher(con) is None  # failed an instant ago: no new try per batch
        blocker.rmdir()
        publisher.every_seconds = 0
        assert publisher(con) is not None  # due: tries again, and publishes
        assert con.execute("SELECT count(*) FROM ops.publications").fetchall() == [(1,)]
    assert len(publisher.failures) == 1 and len(publisher.published) == 1
    assert warnings == [f"{publisher.failures[0]}; the fetch goes on, the previous copy stays, "
                        "and the next publish tries again in 3600 s"]
    assert "Is a directory" in warnings[0]
