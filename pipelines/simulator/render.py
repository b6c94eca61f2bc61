"""Turn a simulated job into the JSON the API would send at a given moment.

Two documented shapes share `GET /jobs/{id}` (docs/api-contract.md, "Job shapes"):

- **cms**: `{"data": {...}}`, `id`, UPPER statuses, `target_type`/`target_id`,
  `payload`, `events`, `updated_at`, and `error` on failure.
- **vision**: a bare object, `job_id`, Title-case statuses, `target{type,id}`,
  `results` / `completed_at` once completed, `error` once failed.

`mixed` picks one of the two per job (stable for a job), as a client talking to
both API sections would see.

The adversarial mode makes a share of jobs messy in the ways the docs leave
open (reference, Open questions 2, 4, 11): events out of order, exact
duplicates, unknown or alternative status spellings, missing/null/empty
events, timestamps with offsets and fractional seconds, and a top-level status
that disagrees with the last event. The choice is a pure function of the
seed and the job ID, so the same job is messy the same way on every fetch.
"""

from __future__ import annotations

import hashlib
import random
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Literal

from pipelines.simulator.generator import (
    CANCELED,
    COMPLETED,
    FAILED,
    PENDING,
    RUNNING,
    TERMINAL,
    Event,
    SimJob,
)

Shape = Literal["cms", "vision", "mixed"]
SHAPES: tuple[str, ...] = ("cms", "vision", "mixed")

VISION_STATUS = {
    PENDING: "Queued",
    RUNNING: "Started",
    COMPLETED: "Completed",
    FAILED: "Failed",
    CANCELED: "Canceled",
}
# Spellings the docs use elsewhere for the same states (docs/api-contract.md, Statuses).
ALTERNATIVE_SPELLINGS = {
    PENDING: ("queued", "Pending", "QUEUED"),
    RUNNING: ("started", "Running", "STARTED"),
    COMPLETED: ("succeeded", "completed", "Succeeded"),
    FAILED: ("error", "failed", "Error"),
    CANCELED: ("cancelled", "Cancelled", "canceled"),
}
UNKNOWN_STATUSES = ("PAUSED", "Retrying", "awaiting_upload", "TIMED_OUT")

QUIRKS = (
    "unsorted_events",
    "duplicate_event",
    "unknown_status",
    "alternative_spellings",
    "missing_events",
    "null_events",
    "empty_events",
    "offset_timestamps",
    "status_disagrees",
)


@dataclass(frozen=True)
class RenderConfig:
    shape: Shape = "cms"
    adversarial_share: float = 0.0
    seed: int = 7
    indent: int | None = None
    """Pretty-print job bodies with this indent (None: compact). The docs promise JSON,
    not its whitespace: a client must store what it got, not a re-serialization."""

    def __post_init__(self) -> None:
        if self.shape not in SHAPES:
            raise ValueError(f"shape must be one of {SHAPES}, not {self.shape!r}")
        if not 0.0 <= self.adversarial_share <= 1.0:
            raise ValueError("adversarial_share must be within 0..1")


def iso(at: float) -> str:
    """The docs' timestamp form: ISO 8601 UTC, whole seconds, `Z`."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(at))


_PLUS_TWO = timezone(timedelta(hours=2))


def _iso_offset(at: float) -> str:
    """The same instant written with a +02:00 offset and milliseconds."""
    return datetime.fromtimestamp(at, tz=_PLUS_TWO).isoformat(timespec="milliseconds")


def _job_rng(config: RenderConfig, job_id: str, purpose: str) -> random.Random:
    digest = hashlib.blake2b(f"{config.seed}:{purpose}:{job_id}".encode(), digest_size=8).digest()
    return random.Random(int.from_bytes(digest, "big"))


def shape_of(config: RenderConfig, job: SimJob) -> str:
    if config.shape != "mixed":
        return config.shape
    return "vision" if _job_rng(config, job.id, "shape").random() < 0.5 else "cms"


def quirk_of(config: RenderConfig, job: SimJob) -> str | None:
    """The one adversarial quirk this job has, if any (stable for the job)."""
    if config.adversarial_share <= 0:
        return None
    rng = _job_rng(config, job.id, "quirk")
    if rng.random() >= config.adversarial_share:
        return None
    return rng.choice(QUIRKS)


def visible_events(job: SimJob, now: float) -> list[Event]:
    """The part of a job's timeline that has happened by `now`."""
    return [event for event in job.events if event[1] <= now]


def render_job(job: SimJob, now: float, config: RenderConfig) -> dict[str, Any] | None:
    """The job object as the API shows it at `now` (unwrapped), or None before it exists."""
    if job.created_at > now:
        return None
    events = visible_events(job, now)
    status = events[-1][0]
    shape = shape_of(config, job)
    quirk = quirk_of(config, job)
    stamp = _iso_offset if quirk == "offset_timestamps" else iso
    raw_events = _raw_events(config, job, events, shape, quirk, stamp)
    spell = (lambda s: VISION_STATUS.get(s, s)) if shape == "vision" else (lambda s: s)
    shown_status = spell(status)
    if quirk == "status_disagrees" and len(events) > 1:
        shown_status = spell(events[-2][0])

    terminal = status in TERMINAL
    last_at = events[-1][1]
    if shape == "cms":
        body: dict[str, Any] = {
            "id": job.id,
            "organization_id": job.organization_id,
            "project_id": job.project_id,
            "type": job.type,
            "status": shown_status,
            "target_type": job.target_type.capitalize(),
            "target_id": job.target_id,
            "parent_id": job.parent_id,
            "payload": job.payload,
            "events": raw_events,
            "created_at": stamp(job.created_at),
            "updated_at": stamp(last_at),
        }
        if terminal and status == FAILED and job.error:
            body["error"] = job.error
    else:
        body = {
            "job_id": job.id,
            "organization_id": job.organization_id,
            "project_id": job.project_id,
            "type": job.type,
            "status": shown_status,
            "target": {"type": job.target_type, "id": job.target_id},
            "parent_id": job.parent_id,
            "events": raw_events,
            "created_at": stamp(job.created_at),
        }
        if status == COMPLETED:
            body["results"] = job.results or {}
            body["completed_at"] = stamp(last_at)
        if status == FAILED and job.error:
            body["error"] = job.error
    if quirk == "missing_events":
        del body["events"]
    return body


def _raw_events(
    config: RenderConfig,
    job: SimJob, events: list[Event], shape: str, quirk: str | None, stamp: Any
) -> list[dict[str, str]] | None:
    if quirk == "null_events":
        return None
    if quirk == "empty_events":
        return []
    spell = VISION_STATUS.get if shape == "vision" else (lambda s, _=None: s)
    rendered = [{"status": spell(status, status), "timestamp": stamp(at)} for status, at in events]
    if quirk is None:
        return rendered
    rng = _job_rng(config, job.id, "events")
    if quirk == "offset_timestamps":
        # Fractions that grow along the array, so the order of events is kept.
        rendered = [
            {"status": e["status"], "timestamp": _iso_offset(at + (i + 1) / (len(events) + 2))}
            for i, (e, (_, at)) in enumerate(zip(rendered, events, strict=True))
        ]
    elif quirk == "alternative_spellings":
        for event, (status, _) in zip(rendered, events, strict=True):
            event["status"] = rng.choice(ALTERNATIVE_SPELLINGS[status])
    elif quirk == "unknown_status" and len(rendered) > 1:
        rendered.insert(1, {"status": rng.choice(UNKNOWN_STATUSES),
                            "timestamp": rendered[1]["timestamp"]})
    elif quirk == "duplicate_event":
        index = rng.randrange(len(rendered))
        rendered.insert(index, dict(rendered[index]))
    elif quirk == "unsorted_events" and len(rendered) > 1:
        rendered.reverse()
    return rendered
