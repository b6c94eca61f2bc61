"""Contract: both documented job shapes (CMS wrapped, Vision bare) parse into one JobRecord."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from pipelines.bedrock import Outcome, RecordError, canonical_status, parse_job, parse_timestamp
from pipelines.simulator import RateLimitConfig, RenderConfig
from pipelines.simulator.render import shape_of, visible_events
from tests.helpers import home_ids

CMS = {"data": {
    "id": "job_01JABCD123", "organization_id": "org_1", "project_id": "prj_1",
    "type": "overlay.generate", "status": "COMPLETED",
    "target_type": "Block", "target_id": "blk_01JABCD123", "parent_id": None,
    "payload": {"type": "Block"},
    "events": [
        {"status": "PENDING", "timestamp": "2024-06-17T08:55:00Z"},
        {"status": "RUNNING", "timestamp": "2024-06-17T08:55:02Z"},
        {"status": "COMPLETED", "timestamp": "2024-06-17T08:56:30Z"}],
    "created_at": "2024-06-17T08:55:00Z", "updated_at": "2024-06-17T08:56:30Z"}}  # fmt: skip
VISION = {
    "job_id": "job_01JABCD123", "type": "compare", "status": "Failed",
    "target": {"type": "block", "id": "blk_01JABCD100"},
    "error": {"code": "PROCESSING_ERROR", "message": "source image missing"},
    "created_at": "2024-01-15T10:00:00Z",
}


def test_cms_shape() -> None:
    record = parse_job(CMS)
    assert record.shape == "cms" and record.job_id == "job_01JABCD123"
    assert (record.target_type, record.target_id) == ("Block", "blk_01JABCD123")
    assert [e.status for e in record.events] == ["PENDING", "RUNNING", "COMPLETED"]
    assert record.events[1].at == datetime(2024, 6, 17, 8, 55, 2, tzinfo=UTC)
    assert record.updated_at == datetime(2024, 6, 17, 8, 56, 30, tzinfo=UTC)
    assert record.is_terminal and record.error is None
    assert record.raw is CMS["data"]


def test_vision_shape() -> None:
    record = parse_job(VISION)
    assert record.shape == "vision" and record.job_id == "job_01JABCD123"
    assert (record.target_type, record.target_id) == ("block", "blk_01JABCD100")
    assert (record.status, record.status_raw) == ("FAILED", "Failed")
    assert record.events == () and record.is_terminal
    assert record.error is not None and record.error.code == "PROCESSING_ERROR"
    assert record.completed_at is None


@pytest.mark.parametrize(("text", "expected"), [
    ("2024-06-17T08:55:02Z", datetime(2024, 6, 17, 8, 55, 2, tzinfo=UTC)),
    ("2024-06-17T10:55:02+02:00", datetime(2024, 6, 17, 8, 55, 2, tzinfo=UTC)),
    ("2024-06-17T10:55:02.250+02:00", datetime(2024, 6, 17, 8, 55, 2, 250000, tzinfo=UTC)),
    ("2024-06-17T08:55:02.123456789Z", datetime(2024, 6, 17, 8, 55, 2, 123456, tzinfo=UTC)),
    ("2024-06-17T08:55:02", datetime(2024, 6, 17, 8, 55, 2, tzinfo=UTC)),
    (1718614502, datetime(2024, 6, 17, 8, 55, 2, tzinfo=UTC)),
    (None, None),
])  # fmt: skip
def test_timestamps_are_lenient_and_utc(text: object, expected: datetime | None) -> None:
    parsed = parse_timestamp(text)
    assert parsed == expected
    assert parsed is None or parsed.utcoffset() is not None and parsed.tzinfo == UTC


def test_statuses_canonical_and_unknown_kept() -> None:
    assert [canonical_status(s) for s in ("Queued", "started", "Succeeded", "error",
                                          "Cancelled", " paused ")] == [
        "PENDING", "RUNNING", "COMPLETED", "FAILED", "CANCELED", "PAUSED"]


@pytest.mark.parametrize("payload", [
    [], "job", {"data": {"type": "x"}}, {"id": 7},
    {"id": "job_1", "events": "PENDING"},
    {"id": "job_1", "events": [["PENDING", "2024-01-01T00:00:00Z"]]},
    {"id": "job_1", "events": [{"status": "PENDING", "timestamp": "yesterday"}]},
    {"id": "job_1", "created_at": "not a time"},
    {"job_id": "job_1", "target": "block"},
])  # fmt: skip
def test_malformed_payloads_raise_contract_error(payload: object) -> None:
    with pytest.raises(RecordError):
        parse_job(payload)


@pytest.mark.parametrize("shape", ["cms", "vision", "mixed"])
def test_simulator_shapes_round_trip(make_simulator, make_client, shape: str) -> None:
    render = RenderConfig(shape=shape)
    sim = make_simulator(render=render, rate_limit=RateLimitConfig(enabled=False))
    ids = home_ids(sim)[:120]
    results = list(make_client(sim, workers=8).fetch_jobs(ids))
    assert sorted(r.job_id for r in results) == sorted(ids)
    now = sim.clock.now()
    shapes = set()
    for result in results:
        assert result.outcome is Outcome.LOADED and result.parse_error is None
        record, job = result.record, sim.store.by_id[result.job_id]
        assert record is not None and result.payload is not None
        shapes.add(record.shape)
        assert record.shape == shape_of(render, job)
        assert (record.target_type.lower(), record.target_id) == (job.target_type, job.target_id)
        assert (record.job_type, record.parent_id) == (job.type, job.parent_id)
        assert [e.status for e in record.events] == [s for s, _ in visible_events(job, now)]
        assert [e.at.timestamp() for e in record.events] == [
            float(int(at)) for _, at in visible_events(job, now)]
    assert shapes == ({"cms", "vision"} if shape == "mixed" else {shape})


def test_adversarial_payloads_all_parse(make_simulator, make_client) -> None:
    sim = make_simulator(render=RenderConfig(shape="mixed", adversarial_share=1.0),
                         rate_limit=RateLimitConfig(enabled=False))
    ids = home_ids(sim)[:150]
    results = list(make_client(sim, workers=8).fetch_jobs(ids))
    assert len(results) == len(ids)
    assert all(r.outcome is Outcome.LOADED and r.record is not None for r in results), [
        r.parse_error for r in results if r.parse_error]
    raw_statuses = {e.status for r in results for e in r.record.events}  # type: ignore[union-attr]
    assert raw_statuses & {"PAUSED", "RETRYING", "AWAITING_UPLOAD", "TIMED_OUT"}
