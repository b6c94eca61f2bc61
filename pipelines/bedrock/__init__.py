"""The Bedrock API client: typed records, paced parallel fetch by ID, listing, stats.

No pandas and no Dagster here; the assets are thin glue over this package.
"""

from pipelines.bedrock.client import BedrockClient, Stream
from pipelines.bedrock.config import DEFAULT_API_VERSION, DEFAULT_BASE_URL, ClientConfig
from pipelines.bedrock.errors import (
    AuthenticationError,
    BedrockError,
    ConnectionFault,
    FatalError,
    ForbiddenError,
    InvalidRequestError,
    JobError,
    MalformedResponseError,
    NotFoundError,
    RateLimitedError,
    RetriesExhaustedError,
    ServerError,
    TimeoutFault,
    TransientError,
    UnexpectedResponseError,
    UnsupportedRequestError,
)
from pipelines.bedrock.ids import MAX_JOB_ID_LENGTH, invalid_reason
from pipelines.bedrock.pacing import Pacer
from pipelines.bedrock.records import (
    TERMINAL_STATUSES,
    JobEvent,
    JobFailure,
    JobRecord,
    RecordError,
    canonical_status,
    parse_job,
    parse_timestamp,
)
from pipelines.bedrock.results import FetchResult, Outcome
from pipelines.bedrock.stats import FetchStats

__all__ = [
    "DEFAULT_API_VERSION",
    "DEFAULT_BASE_URL",
    "MAX_JOB_ID_LENGTH",
    "TERMINAL_STATUSES",
    "AuthenticationError",
    "BedrockClient",
    "BedrockError",
    "ClientConfig",
    "ConnectionFault",
    "RecordError",
    "FatalError",
    "FetchResult",
    "FetchStats",
    "ForbiddenError",
    "InvalidRequestError",
    "JobError",
    "JobEvent",
    "JobFailure",
    "JobRecord",
    "MalformedResponseError",
    "NotFoundError",
    "Outcome",
    "Pacer",
    "RateLimitedError",
    "RetriesExhaustedError",
    "ServerError",
    "Stream",
    "TimeoutFault",
    "TransientError",
    "UnexpectedResponseError",
    "UnsupportedRequestError",
    "canonical_status",
    "invalid_reason",
    "parse_job",
    "parse_timestamp",
]
