"""`FetchResult`: the answer for one requested ID, as the ledger records it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from functools import cached_property
from typing import Any

from pipelines.bedrock.records import JobRecord, RecordError, parse_job


class Outcome(StrEnum):
    """How a fetch by ID ended (the ledger's `outcome`, minus `pending`/`quarantined`)."""

    LOADED = "loaded"
    NOT_FOUND = "not_found"
    FORBIDDEN = "forbidden"
    INVALID_ID = "invalid_id"
    FAILED = "failed"


@dataclass(frozen=True)
class FetchResult:
    """One requested ID's result.

    `loaded` always carries `body` (the response body exactly as received, the text
    the warehouse stores) and `payload` (that body as parsed, wrapper included).
    `record` reads the job from `payload` (`records.parse_job`) only when asked: the
    fetch-and-land path never asks (the warehouse's staging model reads the job); it is
    None and `parse_error` says why when the payload does not fit the contract.
    """

    job_id: str
    outcome: Outcome
    http_status: int | None = None
    error_code: str | None = None
    error_detail: str | None = None
    request_id: str | None = None
    attempts: int = 0
    fetched_at: datetime | None = None  # UTC, when the result was settled (last attempt)
    payload: dict[str, Any] | None = field(default=None, repr=False)
    body: str | None = field(default=None, repr=False)

    @cached_property
    def _parsed(self) -> tuple[JobRecord | None, str | None]:
        if self.outcome is not Outcome.LOADED or self.payload is None:
            return None, None
        try:
            record = parse_job(self.payload)
        except RecordError as error:
            return None, str(error)
        if record.job_id != self.job_id:
            return None, f"asked for {self.job_id}, got {record.job_id}"
        return record, None

    @property
    def record(self) -> JobRecord | None:
        """The job as `records.parse_job` reads it (None if it does not fit)."""
        return self._parsed[0]

    @property
    def parse_error(self) -> str | None:
        """Why `record` is None for a loaded result."""
        return self._parsed[1]

    @property
    def is_definitive(self) -> bool:
        """True unless the API never answered for good (`failed`: try again later)."""
        return self.outcome is not Outcome.FAILED
