"""The HTTP transport: one configured `requests.Session`, and what a response status means.

urllib3's `Retry` here retries *connection* failures only (refused, DNS):
those requests never reached the API, so they cost no allowance. Everything
after a request was sent is retried by the client, through the shared pacer.
"""

from __future__ import annotations

import os
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from pipelines.bedrock.backoff import retry_after_seconds
from pipelines.bedrock.config import ClientConfig
from pipelines.bedrock.errors import (
    AuthenticationError,
    BedrockError,
    ForbiddenError,
    InvalidRequestError,
    NotFoundError,
    RateLimitedError,
    ServerError,
    TimeoutFault,
    UnexpectedResponseError,
    UnsupportedRequestError,
)

_DETAIL_MAX = 500  # characters of an error body kept as detail


class _BearerAuth(requests.auth.AuthBase):
    """`Authorization: Bearer …` on every request; the key never shows in a repr."""

    __slots__ = ("_header",)

    def __init__(self, api_key: str) -> None:
        self._header = f"Bearer {api_key}"

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = self._header
        return request

    def __repr__(self) -> str:
        return "<BearerAuth (redacted)>"



def build_session(config: ClientConfig) -> requests.Session:
    session = requests.Session()
    # Connection-level retries only (see the module docstring); read/status errors are ours.
    retry = Retry(total=None, connect=2, read=False, status=0, other=False, redirect=0,
                  backoff_factor=0.1, raise_on_status=False, raise_on_redirect=False,
                  respect_retry_after_header=False)
    # Keep-alive pool at least as large as the worker pool, so no worker waits for a socket.
    adapter = HTTPAdapter(pool_connections=2, pool_maxsize=config.workers + 2,
                          max_retries=retry)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.headers.update({
        "User-Agent": config.user_agent,
        "X-API-Version": config.api_version,
        "Accept": "application/json",
    })
    session.auth = _BearerAuth(config.api_key)
    # Read proxy and CA settings from the environment once, not on every request:
    # requests re-scans os.environ per call otherwise (~25% of its CPU per request).
    session.proxies.update(requests.utils.get_environ_proxies(config.base_url))
    ca_bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
    if ca_bundle:
        session.verify = ca_bundle
    session.trust_env = False  # also keeps ~/.netrc from replacing our Authorization
    return session


def error_for(path: str, response: requests.Response, request_id: str | None,
               retry_after_cap: float) -> BedrockError:
    status = response.status_code
    code, detail = None, None
    try:
        problem = response.json()
    except (ValueError, RecursionError):
        problem = None
    if isinstance(problem, dict):
        code = problem.get("code") if isinstance(problem.get("code"), str) else None
        raw_detail = problem.get("detail") or problem.get("title")
        detail = str(raw_detail)[:_DETAIL_MAX] if raw_detail else None
        body_id = problem.get("request_id") or problem.get("requestId")
        request_id = str(body_id) if body_id else request_id
    if detail is None:
        detail = f"HTTP {status} {response.reason or ''}".strip()
    fields: dict[str, Any] = {"http_status": status, "code": code, "detail": detail,
                              "request_id": request_id}
    message = f"GET {path}: {status} {code or ''}: {detail}".replace("  ", " ")
    if status == 401:
        return AuthenticationError(message, **fields)
    if status == 400:
        # On a GET, BAD_REQUEST means how we ask is refused (e.g. X-API-Version): fatal.
        kind = UnsupportedRequestError if code == "BAD_REQUEST" else InvalidRequestError
        return kind(message, **fields)
    if status == 403:
        return ForbiddenError(message, **fields)
    if status in (404, 410):
        return NotFoundError(message, **fields)
    if status == 429:
        return RateLimitedError(message, retry_after=retry_after_seconds(
            response.headers, retry_after_cap), **fields)
    if status == 408:
        return TimeoutFault(message, **fields)
    if status >= 500 and status not in (501, 505):
        return ServerError(message, **fields)
    return UnexpectedResponseError(message, **fields)
