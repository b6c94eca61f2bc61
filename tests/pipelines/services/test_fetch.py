"""Contract: raw holds bodies as sent; parents land with children; any crash reruns clean."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pytest
import requests

import warehouse
from pipelines.bedrock import BedrockClient, ClientConfig
from pipelines.services.fetch import fetch_and_load, pending_ids
from pipelines.services.intake import utcnow
from pipelines.simulator import DEMO_API_KEY, Clock, DataConfig, RateLimitConfig, RenderConfig
from tests.helpers import EPOCH, home_ids
from warehouse import connect, derive_core, rebuild_from_raw

# What "equal to a clean run" compares: every row, without the columns that record when
# or in which order we happened to fetch (payload_seq, ledger_seq) or which request
# served it.
COMPARED = {
    "raw.job_payloads": "SELECT * EXCLUDE (fetched_at, payload_seq) FROM raw.job_payloads",
    "raw.latest_payloads": "SELECT * EXCLUDE (payload_seq, ledger_seq) FROM raw.latest_payloads",
    "ops.job_ledger": "SELECT job_id, source, attempts, outcome, http_status, error_code,"
                      " error_detail, is_terminal, loaded_at IS NOT NULL FROM ops.job_ledger",
    "core.jobs": "SELECT * EXCLUDE (fetched_at, payload_seq) FROM core.jobs",
    "core.job_events": "SELECT * FROM core.job_events",
    "core.job_status_transitions": "SELECT * FROM core.job_status_transitions",
}


def snapshot(path: Path) -> dict[str, list]:
    with duckdb.connect(str(path), read_only=True) as con:
        return {name: sorted(con.execute(query).fetchall(), key=repr)
                for name, query in COMPARED.items()}


class Crash(BaseException):
    """A process dying mid-transaction: nothing catches it, nothing rolls back."""


class CrashingConnection:
    """A real connection that dies before the `crash_at`-th statement run inside a
    transaction (its COMMIT counts as one), counting across every connection it wraps;
    `log` gets each such statement (a commit as "COMMIT")."""

    def __init__(self, con: duckdb.DuckDBPyConnection, counter: list[int],
                 crash_at: int | None, log: list[str] | None = None) -> None:
        self.con, self.counter, self.crash_at = con, counter, crash_at
        self.log = [] if log is None else log
        self.in_transaction = False

    def _tick(self, statement: str) -> None:
        if self.in_transaction:
            self.counter[0] += 1
            self.log.append(" ".join(statement.split()))
            if self.counter[0] == self.crash_at:
                raise Crash(f"crash before statement {self.crash_at}")

    def begin(self) -> object:
        self.in_transaction = True
        return self.con.begin()

    def commit(self) -> object:
        self._tick("COMMIT")
        self.in_transaction = False
        return self.con.commit()

    def execute(self, query: str, *args: object) -> duckdb.DuckDBPyConnection:
        self._tick(query)
        return self.con.execute(query, *args)

    def __getattr__(self, name: str) -> object:
        return getattr(self.con, name)


def crashing_connect(path: Path, counter: list[int], crash_at: int | None) -> Callable:
    @contextmanager
    def open_() -> Iterator[CrashingConnection]:
        with connect(path) as con:
            yield CrashingConnection(con, counter, crash_at)
    return open_


def fetch_run(sim, path: Path, ids: list[str], *, connect_for_batches=None,
              batch_size: int = 7) -> None:
    """What the fetch asset does (a main round, then rounds for newly found parents)."""
    with connect(path) as con:
        warehouse.register_ids(con, ids, "config", utcnow())

    @contextmanager
    def plain() -> Iterator[duckdb.DuckDBPyConnection]:
        with connect(path) as con:
            yield con

    with BedrockClient(ClientConfig(base_url=sim.base_url, api_key=DEMO_API_KEY,
                                    workers=2)) as client:
        for round_number in range(6):
            filters = {"unattempted_only": round_number > 0}
            with connect(path) as con:
                total, until = warehouse.count_to_fetch(con, **filters)
            if not total:
                return
            seqs: dict[str, int] = {}
            summary = fetch_and_load(
                client, connect_for_batches or plain,
                pending_ids(plain, requested_until=until, ledger_seqs=seqs, **filters),
                total=total, batch_size=batch_size, flush_seconds=60, ledger_seqs=seqs)
            if not summary.parents_registered:
                return


@pytest.fixture
def children(make_simulator):
    """A simulator, and the IDs of child jobs only (their parents are found by fetching):
    finished children of parents still in flight first, then others."""
    # 50 minutes past the data's epoch: jobs created since are in flight.
    sim = make_simulator(DataConfig(jobs=1000, seed=5), clock=Clock.fixed(EPOCH + 3000),
                         rate_limit=RateLimitConfig(enabled=False),
                         render=RenderConfig(shape="mixed", seed=5))
    now = sim.clock.now()
    jobs = sim.store.by_id
    visible = [j for j in jobs.values() if j.parent_id and j.created_at <= now
               and j.organization_id == sim.store.home_organization_id]
    finished_early = sorted(j.id for j in visible
                            if j.ends_at <= now < jobs[j.parent_id].ends_at)
    assert finished_early, "the data has no finished child of a parent in flight"
    others = sorted(j.id for j in visible if j.id not in finished_early)
    return sim, finished_early[:12] + others[:12]


def test_raw_bodies_are_byte_identical_to_what_the_simulator_sent(make_simulator,
                                                                 tmp_path) -> None:
    # Pretty-printed bodies: a re-serialization could never match them by accident.
    sim = make_simulator(DataConfig(jobs=120, seed=9), rate_limit=RateLimitConfig(enabled=False),
                         render=RenderConfig(shape="mixed", adversarial_share=0.5, seed=9,
                                             indent=2))
    ids = sorted(home_ids(sim))
    path = tmp_path / "w.duckdb"
    fetch_run(sim, path, ids, batch_size=25)
    with connect(path) as con:
        stored = dict(con.execute(
            "SELECT job_id, coalesce(payload::VARCHAR, payload_text) FROM raw.job_payloads"
        ).fetchall())
        assert con.execute("SELECT count(*) FROM ops.job_ledger WHERE outcome NOT IN"
                           " ('loaded', 'quarantined')").fetchone() == (0,)
    assert set(stored) >= set(ids)
    with requests.Session() as http:
        for job_id, text in stored.items():
            sent = http.get(f"{sim.base_url}/jobs/{job_id}",
                            headers={"Authorization": f"Bearer {DEMO_API_KEY}"}).content
            assert b"\n  " in sent
            assert text.encode() == sent, job_id


def test_a_crash_between_any_two_statements_of_a_batch_then_a_rerun_equals_a_clean_run(
        children, tmp_path) -> None:
    sim, kids = children
    clean = tmp_path / "clean.duckdb"
    counter = [0]
    fetch_run(sim, clean, kids, connect_for_batches=crashing_connect(clean, counter, None))
    with connect(clean) as con:
        derive_core(con)
        # The case that once lost a parent for good: a finished child, its parent in flight.
        assert con.execute(
            "SELECT count(*) FROM core.jobs AS child JOIN core.jobs AS parent"
            " ON parent.job_id = child.parent_id"
            " WHERE child.is_terminal AND NOT parent.is_terminal").fetchone()[0] > 0
    expected = snapshot(clean)
    # Statements (and commits) of the first batch: a crash before any of them, so before
    # each of its writes (payloads, ledger rows) and before its commit.
    first_batch = _statements_in_first_batch(sim, tmp_path, kids)
    for write in ("INSERT INTO raw.job_payloads", "INSERT INTO ops.job_ledger", "COMMIT"):
        assert any(s.startswith(write) for s in first_batch), (write, first_batch)
    for crash_at in range(1, len(first_batch) + 1):
        path = tmp_path / f"crash_{crash_at}.duckdb"
        with pytest.raises(Crash):
            fetch_run(sim, path, kids,
                      connect_for_batches=crashing_connect(path, [0], crash_at))
        with connect(path) as con:  # nothing of the batch in flight was kept
            assert con.execute("SELECT count(*) FROM raw.job_payloads").fetchone() == (0,)
        fetch_run(sim, path, kids)
        with connect(path) as con:
            derive_core(con)
        assert snapshot(path) == expected, f"crash before statement {crash_at}"


def _statements_in_first_batch(sim, tmp_path: Path, kids: list[str]) -> list[str]:
    """Statements run inside transactions (commits included) while the first batch is
    written, on every connection it opens."""
    path = tmp_path / "count.duckdb"
    counter: list[int] = [0]
    log: list[str] = []

    @contextmanager
    def open_() -> Iterator[CrashingConnection]:
        with connect(path) as con:
            yield CrashingConnection(con, counter, None, log)
        raise Crash("the first batch is written")

    with pytest.raises(Crash):
        fetch_run(sim, path, kids, connect_for_batches=open_)
    return log


def test_a_crash_between_any_two_statements_of_a_core_chunk_then_a_rerun_equals_a_clean_run(
        children, tmp_path) -> None:
    sim, kids = children
    landed = tmp_path / "landed.duckdb"
    fetch_run(sim, landed, kids)
    clean = tmp_path / "clean.duckdb"
    clean.write_bytes(landed.read_bytes())
    statements: list[str] = []
    with connect(clean) as con:
        summary = derive_core(CrashingConnection(con, [0], None, statements), chunk_size=10)
    # One transaction per chunk, and more chunks than the two the crashes land in.
    commits = [number for number, s in enumerate(statements, start=1) if s == "COMMIT"]
    assert len(commits) == summary.chunks > 2 and summary.jobs_changed > 0
    expected = snapshot(clean)
    with connect(clean) as con:
        expected_watermark = warehouse.core_watermark(con)
    crash_points = range(1, commits[1] + 1)  # the first two chunks, commits included
    for crash_at in crash_points:
        path = tmp_path / f"crash_{crash_at}.duckdb"
        path.write_bytes(landed.read_bytes())
        with connect(path) as con, pytest.raises(Crash):
            derive_core(CrashingConnection(con, [0], crash_at), chunk_size=10)
        with connect(path) as con:
            derive_core(con, chunk_size=10)
            assert warehouse.core_watermark(con) == expected_watermark
        assert snapshot(path) == expected, f"crash before statement {crash_at}"


def test_incremental_core_equals_a_rebuild_from_raw_row_for_row(children, tmp_path) -> None:
    sim, kids = children
    path = tmp_path / "w.duckdb"
    for seconds in (0, 600, 3600):  # in-flight jobs advance between runs
        sim.clock.advance(seconds)
        fetch_run(sim, path, kids)
        with connect(path) as con:
            con.execute("UPDATE ops.job_ledger SET is_terminal = false")  # fetch all again
            derive_core(con, chunk_size=9)
    tables = ("core.jobs", "core.job_events", "core.job_status_transitions")
    with connect(path) as con:
        incremental = {t: con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall()  # noqa: S608
                       for t in tables}
        assert con.execute("SELECT count(DISTINCT job_id) < count(*) FROM raw.job_payloads"
                           ).fetchone() == (True,)  # jobs stored more than once
        summary = rebuild_from_raw(con)
        assert summary.rebuilt and summary.jobs_changed == len(incremental["core.jobs"])
        for t in tables:
            assert con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall() \
                == incremental[t], t  # noqa: S608
