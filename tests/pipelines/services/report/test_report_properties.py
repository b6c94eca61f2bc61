"""The report draws any small warehouse the pipeline can produce: generated job records go
through the real loading path (land, derive core, refresh the marts) and the whole report and
every asset table's metadata are drawn; every chart draws (none is left as a note) and
nothing raises. A few shapes are always tried (no job loaded, one job, none failed, all
failed, none finished, durations all NULL, a single tree), then a few random ones: few jobs,
types and days, unknown statuses, unreadable creation times, missing events."""

from __future__ import annotations

import re
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from assets.metadata import table_metadata
from pipelines.services.report import CHARTS, build_report
from tests.helpers import failed_fetch, load, loaded
from warehouse import connect, refresh_marts, registry

T0 = datetime(2026, 2, 2, tzinfo=UTC)
TYPES = ("compare", "parse", "custom")  # two priced types, one without a price
OUTCOMES = ("COMPLETED", "FAILED", "CANCELED", "RUNNING", "PENDING", "Paused")

# One generated job: (type, day, outcome, queued s, running s, re-queued, parent, events kept,
# created_at readable).
JOB = st.tuples(st.integers(0, len(TYPES) - 1), st.integers(0, 2), st.sampled_from(OUTCOMES),
                st.sampled_from([0, 1, 30, 4000]), st.sampled_from([0, 2, 600, 90_000]),
                st.booleans(), st.one_of(st.none(), st.integers(0, 5)),
                st.sampled_from(["all", "all", "none", "first"]), st.booleans())
WAREHOUSES = st.tuples(st.lists(JOB, max_size=8), st.integers(0, 3))
SETTINGS = settings(max_examples=4, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


def _at(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _body(index: int, job: tuple) -> dict:
    """A CMS job body: queued, then running (re-queued once if asked), ending in its outcome
    (or still in flight); `events` all, none, or only the first."""
    kind, day, outcome, queued, running, requeued, parent, kept, readable = job
    created = T0 + timedelta(days=day, minutes=7 * index)
    events = [("PENDING", 0)]
    if outcome != "PENDING":
        events.append(("RUNNING", queued))
        if requeued:
            events += [("PENDING", queued + 1), ("RUNNING", queued + 5)]
        if outcome not in ("RUNNING", "Paused"):
            events.append((outcome, events[-1][1] + running))
    kept_events = {"all": events, "none": [], "first": events[:1]}[kept]
    body = {"id": f"job_{index:03d}", "type": TYPES[kind], "status": outcome,
            "created_at": _at(created) if readable else "yesterday",
            "events": [{"status": s, "timestamp": _at(created + timedelta(seconds=t))}
                       for s, t in kept_events]}
    if parent is not None and parent < index:
        body["parent_id"] = f"job_{parent:03d}"
    return body


def _figures(html: str) -> set[str]:
    return set(re.findall(r'<figure data-chart="(\w+)"', html))


@pytest.mark.filterwarnings("error::FutureWarning")  # what pandas will raise next
@SETTINGS
@given(WAREHOUSES)
@example(([], 3))  # only failed fetches: a ledger, no core
@example(([(0, 0, "COMPLETED", 1, 2, False, None, "all", True)], 0))  # one job
@example(([(0, 0, "COMPLETED", 1, 2, False, None, "all", True)] * 6, 0))  # none failed, one day
@example(([(1, 1, "FAILED", 30, 600, False, None, "all", True)] * 5, 0))  # all failed
@example(([(0, 0, "RUNNING", 4000, 0, False, None, "all", True)] * 3, 0))  # nothing finished
@example(([(0, 0, "COMPLETED", 0, 0, False, None, "none", True)] * 3, 0))  # NULL-only durations
@example(([(0, 0, "COMPLETED", 1, 600, False, None, "all", True),
           (1, 0, "COMPLETED", 30, 90_000, True, 0, "all", True)], 0))  # a single tree
def test_the_report_draws_any_small_warehouse(drawn: tuple) -> None:
    jobs, failures = drawn
    bodies = [_body(index, job) for index, job in enumerate(jobs)]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "w.duckdb"
        with connect(path) as con:
            load(con, [loaded(b["id"], b, wrap=True) for b in bodies]
                 + failed_fetch([f"job_{900 + i}" for i in range(failures)], T0))
            refresh_marts(con, now=T0 + timedelta(days=4))
            report = build_report(con, Path(tmp) / "report.html", warehouse=str(path))
            for table in registry.asset_tables():  # the UI's metadata and previews too
                table_metadata(con, table)
        html = report.path.read_text()
    assert report.failed == {}, report.failed
    assert _figures(html) == {chart.id for chart in CHARTS}
    assert report.key_png.startswith(b"\x89PNG")
