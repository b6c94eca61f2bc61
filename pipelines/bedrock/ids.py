"""Which job IDs may go on the wire.

The docs never state the ID format (docs/api-contract.md, "Job IDs"), so this is a safety rule,
not a format check: an ID becomes one path segment, and anything that could
change the URL's meaning (`/`, `..`, `?`, `#`, `%`, spaces, control or
non-ASCII characters) or is absurdly long is refused before any request.
"""

from __future__ import annotations

import re
from urllib.parse import quote

MAX_JOB_ID_LENGTH = 128
_JOB_ID = re.compile(rf"[A-Za-z0-9_-]{{1,{MAX_JOB_ID_LENGTH}}}")


def invalid_reason(job_id: object) -> str | None:
    """Why `job_id` can't be requested, or None if it can."""
    if not isinstance(job_id, str):
        return f"job id must be a string, not {type(job_id).__name__}"
    if not job_id:
        return "job id is empty"
    if len(job_id) > MAX_JOB_ID_LENGTH:
        return f"job id is longer than {MAX_JOB_ID_LENGTH} characters"
    if not _JOB_ID.fullmatch(job_id):
        return "job id may only contain letters, digits, '-' and '_'"
    return None


def job_path(job_id: str) -> str:
    """`/jobs/{job_id}`, quoted even though a valid ID never needs it (defence in depth)."""
    return "/jobs/" + quote(job_id, safe="")
