"""Typed job records from both documented shapes (docs/api-contract.md): the Python reader.

The job document is read for the warehouse by one model only, the staging model
(`warehouse/core/stg_payloads.sql` + `schema/macros.sql`): the fetch path stores the
body as received and reads no field of it in Python. This reader remains for what
never reaches the warehouse, discovery's `GET /jobs` list items, and for client
users; `tests/pipelines/bedrock/test_records_agree.py` proves it reads every adversarial
case the simulator makes as the staging model does, and that the two status tables agree.

- **CMS**: `{"data": {...}}`, `id`, `target_type`/`target_id`, `updated_at`.
- **Vision**: a bare object, `job_id`, `target{type,id}`, `completed_at`, `results`.

Parsing is lenient where the docs are vague and strict where data would be
lost silently:

- absent or `null` fields become `None` (`events` missing/`null` → no events);
- timestamps accept `Z`, offsets, fractions, and are returned as aware UTC;
  a naive timestamp is read as UTC;
- statuses are canonicalised case-insensitively (docs/api-contract.md, Statuses); an
  unknown spelling is kept as its trimmed upper-case form, never dropped;
- a field that is *present but malformed* (an event that isn't an object, a
  timestamp that isn't one, an ID that isn't a string) raises `RecordError`, and so
  does an event without a status or a timestamp (the staging model quarantines both).
  The fetch still counts as `loaded` with the raw payload kept, and the
  warehouse quarantines it: better than guessing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from pipelines.bedrock.errors import BedrockError

Shape = Literal["cms", "vision"]

PENDING, RUNNING, COMPLETED, FAILED, CANCELED = (
    "PENDING", "RUNNING", "COMPLETED", "FAILED", "CANCELED",
)  # fmt: skip
TERMINAL_STATUSES = frozenset({COMPLETED, FAILED, CANCELED})
_CANONICAL = {
    "pending": PENDING, "queued": PENDING,
    "running": RUNNING, "started": RUNNING,
    "completed": COMPLETED, "succeeded": COMPLETED,
    "failed": FAILED, "error": FAILED,
    "canceled": CANCELED, "cancelled": CANCELED,
}  # fmt: skip


class RecordError(BedrockError, ValueError):
    """A payload that does not fit the documented job shapes."""


def canonical_status(raw: str) -> str:
    """The canonical status for any documented spelling; unknown ones trimmed and upper-cased."""
    trimmed = raw.strip()
    return _CANONICAL.get(trimmed.lower(), trimmed.upper())


def parse_timestamp(value: object, *, name: str = "timestamp") -> datetime | None:
    """An aware UTC datetime from ISO 8601 text (`Z`, offsets, fractions) or epoch seconds.

    `None` stays `None`; anything else that isn't a timestamp raises `RecordError`.
    """
    if value is None:
        return None
    if isinstance(value, bool):
        raise RecordError(f"{name} is not a timestamp: {value!r}")
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, tz=UTC)
    if not isinstance(value, str):
        raise RecordError(f"{name} is not a timestamp: {type(value).__name__}")
    text = value.strip()
    if text.endswith(("z", "Z")):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise RecordError(f"{name} is not an ISO 8601 timestamp: {value[:64]!r}") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


@dataclass(frozen=True, slots=True)
class JobEvent:
    """One entry of a job's `events` array, in the API's order."""

    status: str  # canonical
    status_raw: str  # as sent
    at: datetime  # aware UTC


@dataclass(frozen=True, slots=True)
class JobFailure:
    """A failed job's `error` object."""

    code: str | None
    message: str | None


@dataclass(frozen=True)
class JobRecord:
    """One job, whatever shape it came in. `raw` is the unwrapped JSON object."""

    job_id: str
    shape: Shape
    organization_id: str | None
    project_id: str | None
    job_type: str | None
    status: str | None  # canonical top-level status
    status_raw: str | None
    target_type: str | None  # as sent (CMS `Block`, Vision `block`), as core keeps it
    target_id: str | None
    parent_id: str | None
    events: tuple[JobEvent, ...]
    error: JobFailure | None
    created_at: datetime | None
    updated_at: datetime | None
    completed_at: datetime | None
    raw: Mapping[str, Any] = field(repr=False, compare=False)

    @property
    def is_terminal(self) -> bool:
        """Terminal when the top-level status or the last event is (warehouse/core/jobs.sql)."""
        last = self.events[-1].status if self.events else None
        return self.status in TERMINAL_STATUSES or last in TERMINAL_STATUSES


def unwrap(payload: object) -> Mapping[str, Any]:
    """The job object inside a response body: `{"data": {...}}` (CMS) or bare (Vision).

    As the staging model reads it: a `data` object with an `id` or `job_id` is the job,
    whatever the outer object also holds."""
    if not isinstance(payload, Mapping):
        raise RecordError(f"job payload is not an object: {type(payload).__name__}")
    inner = payload.get("data")
    if isinstance(inner, Mapping) and (inner.get("id") is not None
                                       or inner.get("job_id") is not None):
        return inner
    return payload


def parse_job(payload: object) -> JobRecord:
    """Parse one job body (either shape, wrapped or bare) into a `JobRecord`."""
    job = unwrap(payload)
    shape: Shape = "cms" if job is not payload else "vision"  # wrapped in `data` or bare
    job_id = job.get("id") if job.get("id") is not None else job.get("job_id")
    if not isinstance(job_id, str) or not job_id:
        raise RecordError("job has no string `id` or `job_id`")

    target = job.get("target")
    if target is not None and not isinstance(target, Mapping):
        raise RecordError("`target` is not an object")
    target = target or {}
    target_type = _text(job, "target_type") or _text(target, "type", "target.type")
    target_id = _text(job, "target_id") or _text(target, "id", "target.id")
    status_raw = _text(job, "status")

    return JobRecord(
        job_id=job_id,
        shape=shape,
        organization_id=_text(job, "organization_id"),
        project_id=_text(job, "project_id"),
        job_type=_text(job, "type"),
        status=canonical_status(status_raw) if status_raw is not None else None,
        status_raw=status_raw,
        target_type=target_type,
        target_id=target_id,
        parent_id=_text(job, "parent_id"),
        events=_events(job.get("events")),
        error=_error(job.get("error")),
        created_at=parse_timestamp(job.get("created_at"), name="created_at"),
        updated_at=parse_timestamp(job.get("updated_at"), name="updated_at"),
        completed_at=parse_timestamp(job.get("completed_at"), name="completed_at"),
        raw=job,
    )


def _text(obj: Mapping[str, Any], key: str, name: str | None = None) -> str | None:
    value = obj.get(key)
    if value is None or isinstance(value, str):
        return value
    raise RecordError(f"`{name or key}` is not a string: {type(value).__name__}")


def _events(value: object) -> tuple[JobEvent, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise RecordError(f"`events` is not a list: {type(value).__name__}")
    events = []
    for index, item in enumerate(value):
        if not isinstance(item, Mapping):
            raise RecordError(f"events[{index}] is not an object")
        status_raw = item.get("status")
        if not isinstance(status_raw, str):
            raise RecordError(f"events[{index}].status is not a string")
        at = parse_timestamp(item.get("timestamp"), name=f"events[{index}].timestamp")
        if at is None:
            raise RecordError(f"events[{index}] has no timestamp")
        events.append(JobEvent(canonical_status(status_raw), status_raw, at))
    return tuple(events)


def _error(value: object) -> JobFailure | None:
    if value is None:
        return None
    if isinstance(value, str):  # undocumented, but a bare message is still an error
        return JobFailure(None, value)
    if not isinstance(value, Mapping):
        raise RecordError("`error` is not an object")
    code, message = value.get("code"), value.get("message")
    return JobFailure(
        code if code is None else str(code),
        message if message is None else str(message),
    )
