"""`FetchResult`: the answer for one requested ID, as the ledger records it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from pipelines.bedrock.contract import JobRecord


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

    `loaded` always carries `payload` (the JSON body as parsed, wrapper included);
    `record` is None and `parse_error` says why when the payload does not fit the
    contract (the warehouse quarantines it).
    """

    job_id: str
    outcome: Outcome
    http_status: int | None = None
    error_code: str | None = None
    error_detail: str | None = None
    request_id: str | None = None
    attempts: int = 0
    fetched_at: datetime | None = None  # UTC, when the result was settled (last attempt)
    record: JobRecord | None = None
    payload: dict[str, Any] | None = field(default=None, repr=False)
    parse_error: str | None = None

    @property
    def is_definitive(self) -> bool:
        """True unless the API never answered for good (`failed`: try again later)."""
        return self.outcome is not Outcome.FAILED
