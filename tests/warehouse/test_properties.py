"""Contract: core invariants; loading twice = once; incremental = rebuild from raw."""

from __future__ import annotations

import json
import tempfile
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import duckdb
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.helpers import load, loaded, simulator_items
from warehouse import connect, rebuild_from_raw, refresh_marts

T0 = datetime(2026, 1, 1, tzinfo=UTC)
SPELLINGS = ["PENDING", "queued", "Queued", "RUNNING", "Started", "running", "COMPLETED",
             "succeeded", "Failed", "error", "cancelled", "CANCELED", "Paused", " retrying "]
ZONES = [UTC, timezone(timedelta(hours=2)), timezone(timedelta(hours=-5, minutes=-30))]

events = st.lists(
    st.tuples(st.sampled_from(SPELLINGS), st.integers(0, 5_000), st.sampled_from([0, 250, 500]),
              st.sampled_from(ZONES)),
    max_size=8,
)
jobs = st.lists(
    st.tuples(events, st.sampled_from(["cms", "vision"]), st.integers(0, 3)),
    min_size=1, max_size=12,
)
SETTINGS = settings(max_examples=25, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])


def _items(drawn: list) -> list:
    items = []
    for index, (evs, shape, variant) in enumerate(drawn):
        job_id = f"job_{index}"
        rendered = [{"status": s, "timestamp": (T0 + timedelta(seconds=t, milliseconds=ms))
                     .astimezone(zone).isoformat()} for s, t, ms, zone in evs]
        body: dict = {"type": "compare", "status": "RUNNING", "created_at": T0.isoformat(),
                      "events": [rendered, rendered, None, []][variant] if variant else rendered,
                      "id" if shape == "cms" else "job_id": job_id}
        items.append(loaded(job_id, body, wrap=shape == "cms"))
    return items


def _snapshot(con: duckdb.DuckDBPyConnection) -> dict[str, list]:
    out = {}
    for name, order in (("core.jobs", "job_id"), ("core.job_events", "job_id, event_seq"),
                        ("core.job_status_transitions", "job_id, transition_seq"),
                        ("raw.job_payloads", "payload_seq")):
        out[name] = con.execute(f"SELECT * FROM {name} ORDER BY {order}").fetchall()  # noqa: S608
    return out


@SETTINGS
@given(jobs)
def test_core_invariants(drawn: list) -> None:
    with tempfile.TemporaryDirectory() as tmp, connect(Path(tmp) / "w.duckdb") as con:
        load(con, _items(drawn))
        # event_seq is 0..n-1 and transitions = events - 1 per job.
        bad_seq = con.execute(
            "SELECT job_id FROM core.job_events GROUP BY job_id"
            " HAVING list_sort(list(event_seq)) <> range(count(*)::INTEGER)").fetchall()
        assert bad_seq == []
        counts = con.execute(
            "SELECT jobs.job_id, count(DISTINCT e.event_seq), count(DISTINCT t.transition_seq)"
            " FROM core.jobs AS jobs LEFT JOIN core.job_events AS e USING (job_id)"
            " LEFT JOIN core.job_status_transitions AS t USING (job_id) GROUP BY ALL").fetchall()
        assert len(counts) == len(drawn)
        for _, n_events, n_transitions in counts:
            assert n_transitions == max(n_events - 1, 0)
        # Durations sum to last event - first event; events are in time order.
        sums = con.execute(
            "SELECT e.job_id, date_diff('microsecond', min(e.event_at), max(e.event_at)) / 1e6,"
            " (SELECT coalesce(sum(duration_seconds), 0) FROM core.job_status_transitions t"
            "  WHERE t.job_id = e.job_id), bool_and(t2.duration_seconds >= 0)"
            " FROM core.job_events AS e"
            " LEFT JOIN core.job_status_transitions AS t2 USING (job_id) GROUP BY e.job_id"
        ).fetchall()
        for _, span, total, ordered in sums:
            assert abs(span - total) < 1e-6
            assert ordered in (True, None)
        # No two events of a job share (status, instant).
        assert con.execute("SELECT count(*) FROM (SELECT 1 FROM core.job_events"
                           " GROUP BY job_id, status, event_at HAVING count(*) > 1)"
                           ).fetchone()[0] == 0


@SETTINGS
@given(jobs, jobs)
def test_twice_equals_once_and_incremental_equals_rebuild(first: list, second: list) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        with connect(Path(tmp) / "once.duckdb") as con:
            load(con, _items(first))
            load(con, _items(second))
            once = _snapshot(con)
        with connect(Path(tmp) / "twice.duckdb") as con:
            for batch in (_items(first), _items(first), _items(second), _items(second)):
                load(con, batch)
            assert _snapshot(con) == once
            rebuild_from_raw(con)
            assert _snapshot(con) == once


def test_simulator_batches_incremental_equals_rebuild(tmp_path: Path) -> None:
    epoch = datetime(2026, 1, 1, tzinfo=UTC).timestamp()
    with connect(tmp_path / "w.duckdb") as con:
        for minutes in (0, 30, 90):  # in-flight jobs advance between fetches
            items = simulator_items(400, adversarial=0.4, now=epoch + 60 * minutes)
            for start in range(0, len(items), 97):
                load(con, items[start:start + 97])
        incremental = _snapshot(con)
        marts_before = refresh_marts(con, now=T0)
        assert rebuild_from_raw(con).jobs_changed == len(incremental["core.jobs"])
        assert _snapshot(con) == incremental
        assert refresh_marts(con, now=T0) == marts_before
        # Every simulator payload parses: nothing quarantined, every job has a status.
        assert con.execute("SELECT count(*) FROM ops.job_ledger WHERE outcome = 'quarantined'"
                           ).fetchone()[0] == 0
        assert con.execute("SELECT count(*) FROM core.jobs WHERE status IS NULL").fetchone()[0] == 0
        assert json.loads(con.execute("SELECT payload FROM raw.job_payloads LIMIT 1"
                                      ).fetchone()[0])
