"""Contract: the Python reader (parse_job) reads every simulator case as the SQL staging model."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from pipelines.bedrock.records import _CANONICAL, RecordError, canonical_status, parse_job
from pipelines.simulator.generator import DataConfig, generate
from pipelines.simulator.render import (
    ALTERNATIVE_SPELLINGS,
    QUIRKS,
    UNKNOWN_STATUSES,
    VISION_STATUS,
    RenderConfig,
    quirk_of,
    render_job,
    shape_of,
)
from warehouse import FetchedItem, connect, derive_core, land_batch
from warehouse.db import sql

AT = datetime(2026, 1, 1, tzinfo=UTC)
# Cases the two readers once disagreed on (issue 12), beside the simulator's.
HAND_MADE = {
    "job_h1": {"data": {"id": "job_h1", "status": "RUNNING", "target_type": "Block",
                        "events": [{"status": "PENDING", "timestamp": "2026-01-01T00:00:00Z"}]},
               "id": "job_outer"},
    "job_h2": {"data": {"id": "job_h2", "status": "RUNNING",
                        "events": [{"status": "PENDING"}]}},
    "job_h3": {"job_id": "job_h3", "status": "  cancelled ", "events": None,
               "target": {"type": "Sheet", "id": "sh_1"}},
    "job_h4": {"data": {"job_id": "job_h4", "status": "Started",
                        "events": [{"timestamp": "2026-01-01T00:00:00Z"}]}},
}


def _bodies() -> dict[str, str]:
    """One body per job: every quirk in both shapes, at three moments of the data."""
    data = DataConfig(jobs=1500, seed=21)
    _, jobs = generate(data)
    render = RenderConfig(shape="mixed", adversarial_share=1.0, seed=21)
    bodies: dict[str, str] = {}
    seen = set()
    for index, job in enumerate(jobs):
        at = data.epoch + (0, 1800, 3600)[index % 3]
        body = render_job(job, at, render)
        if body is None:
            continue
        seen.add((quirk_of(render, job), shape_of(render, job)))
        bodies[job.id] = json.dumps({"data": body} if "id" in body else body)
    assert seen >= {(q, s) for q in QUIRKS for s in ("cms", "vision")}
    bodies.update({job_id: json.dumps(body) for job_id, body in HAND_MADE.items()})
    return bodies


@pytest.fixture(scope="module")
def both(tmp_path_factory) -> tuple[dict[str, str], dict[str, tuple], dict[str, set], dict]:
    bodies = _bodies()
    path: Path = tmp_path_factory.mktemp("agree") / "w.duckdb"
    with connect(path) as con:
        land_batch(con, [FetchedItem(job_id, "loaded", AT, 200, payload_text=text)
                         for job_id, text in bodies.items()])
        derive_core(con)
        jobs = {row[0]: row[1:] for row in con.execute(
            "SELECT job_id, organization_id, project_id, job_type, reported_status,"
            " reported_status_raw, target_type, target_id, parent_id, created_at, updated_at,"
            " completed_at, error_code, error_message, is_terminal, payload_shape"
            " FROM core.jobs").fetchall()}
        events: dict[str, set] = {}
        for job_id, status, event_at in con.execute(
                "SELECT job_id, status, event_at FROM core.job_events").fetchall():
            events.setdefault(job_id, set()).add((status, event_at))
        quarantined = dict(con.execute(
            "SELECT job_id, quarantine_reason FROM raw.job_payloads"
            " WHERE quarantine_reason IS NOT NULL").fetchall())
    return bodies, jobs, events, quarantined


def test_every_case_reads_the_same_in_python_and_sql(both) -> None:
    bodies, jobs, events, quarantined = both
    # Both readers really ran: SQL gave every body a core row or a refusal, some of each.
    assert set(jobs) | set(quarantined) == set(bodies) and jobs and quarantined
    for job_id, text in bodies.items():
        try:
            record = parse_job(json.loads(text))
        except RecordError as error:
            assert job_id in quarantined, (job_id, str(error))
            continue
        assert job_id not in quarantined, (job_id, quarantined.get(job_id))
        assert record.job_id == job_id
        python = (record.organization_id, record.project_id, record.job_type, record.status,
                  record.status_raw, record.target_type, record.target_id, record.parent_id,
                  record.created_at, record.updated_at, record.completed_at,
                  record.error.code if record.error else None,
                  record.error.message if record.error else None,
                  record.is_terminal, record.shape)
        assert python == jobs[job_id], job_id
        # Core keeps one of each (status, instant); Python keeps the array as sent.
        assert {(e.status, e.at) for e in record.events} == events.get(job_id, set()), job_id


def test_both_status_tables_map_every_spelling_alike() -> None:
    mapped = dict(re.findall(r"WHEN '([A-Z]+)' THEN '([A-Z]+)'",
                             sql("schema", "macros").split("canonical_status(s)")[0]))
    assert {k.upper(): v for k, v in _CANONICAL.items()} == mapped
    spellings = {s for group in ALTERNATIVE_SPELLINGS.values() for s in group}
    spellings |= set(VISION_STATUS.values()) | set(UNKNOWN_STATUSES) | {" Paused ", "rUnNiNg"}
    with connect(":memory:") as con:
        for spelling in sorted(spellings):
            assert con.execute("SELECT canonical_status(?)", [spelling]).fetchone()[0] \
                == canonical_status(spelling), spelling
