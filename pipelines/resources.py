"""Resources, built from the environment in this one place.

The API key reaches the code only as `dg.EnvVar("BEDROCK_API_KEY")`: Dagster
resolves it when a run starts and never writes its value to run config, the
event log or the UI. Non-secret settings are read from their variables with
the defaults the README's "Configuration" table lists.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import dagster as dg
import duckdb
from pydantic import Field

import warehouse
from pipelines.bedrock import (
    DEFAULT_API_VERSION,
    DEFAULT_BASE_URL,
    AuthenticationError,
    BedrockClient,
    ClientConfig,
    FatalError,
)
from pipelines.bedrock.urls import is_loopback
from pipelines.instance import hold_warehouse_pool
from pipelines.services.alerts import STUCK_BURST_MIN, webhook_problem
from warehouse.locking import WRITER_WAIT_SECONDS, retry_while_locked
from warehouse.publish import read_copy_path

DEFAULT_WAREHOUSE = "warehouse/bedrock.duckdb"
DEFAULT_INBOX = "warehouse/inbox"
DEFAULT_INBOX_KEEP_DAYS = 30
DEFAULT_UI_URL = "http://127.0.0.1:3000"
# Every setting read from the environment, with the default the README's "Configuration"
# table lists. Secrets (BEDROCK_API_KEY, BEDROCK_ALERT_WEBHOOK) are not here: they reach
# the resources only as `dg.EnvVar`, which Dagster resolves at run start.
SETTINGS = {
    "BEDROCK_API_URL": DEFAULT_BASE_URL,
    "BEDROCK_API_VERSION": DEFAULT_API_VERSION,
    "BEDROCK_WAREHOUSE": DEFAULT_WAREHOUSE,
    "BEDROCK_INBOX": DEFAULT_INBOX,
    "BEDROCK_INBOX_KEEP_DAYS": str(DEFAULT_INBOX_KEEP_DAYS),
    "BEDROCK_UI_URL": DEFAULT_UI_URL,
}
_CLIENT = ClientConfig()  # the client's defaults, which the resource's fields take


class MissingApiKeyError(dg.Failure):
    """No `BEDROCK_API_KEY` where one is needed: raised before any request."""


@contextmanager
def fatal_api_errors() -> Iterator[None]:
    """Turn the client's fatal errors into a run failure that says what to fix.

    A 401 means every further request would fail too: the run stops (the client
    has already stopped its workers) and the message names the variable to fix.
    """
    try:
        yield
    except AuthenticationError as error:
        raise dg.Failure(
            description=f"The Bedrock API refused the key in BEDROCK_API_KEY (401): {error}. "
                        "Check that BEDROCK_API_KEY holds a valid, unrevoked sk_... key.",
            allow_retries=False,
        ) from None
    except FatalError as error:
        raise dg.Failure(description=f"The Bedrock API refused every request: {error}",
                         allow_retries=False) from None


class BedrockApiResource(dg.ConfigurableResource):
    """The Bedrock API: where it is, the key (from `BEDROCK_API_KEY` only), and fetch policy."""

    base_url: str = DEFAULT_BASE_URL
    api_key: str = Field(default="", repr=False,
                         description="Set through BEDROCK_API_KEY, never inline.")
    api_version: str = DEFAULT_API_VERSION
    workers: int = _CLIENT.workers
    """Parallel requests (8)."""
    max_requests_per_minute: float | None = _CLIENT.max_requests_per_minute
    """An optional ceiling below the API's own rate limit (none)."""
    read_timeout: float = _CLIENT.read_timeout
    """Seconds to wait for an answer (30)."""
    max_attempts: int = _CLIENT.max_attempts
    """Attempts per ID on transient faults: 5xx, drops, timeouts, bad JSON (6)."""

    def client(self) -> BedrockClient:
        """A client for one run. Fails at once, before any request, without a key."""
        if not self.api_key:
            where = "the local simulator" if is_loopback(self.base_url) else self.base_url
            raise MissingApiKeyError(
                f"BEDROCK_API_KEY is not set: it is needed to call {where}. "
                "Export your sk_... key as BEDROCK_API_KEY (never put it in run config)."
            )
        try:
            config = ClientConfig(
                base_url=self.base_url,
                api_key=self.api_key,
                api_version=self.api_version,
                workers=self.workers,
                max_requests_per_minute=self.max_requests_per_minute,
                read_timeout=self.read_timeout,
                max_attempts=self.max_attempts,
            )
        except ValueError as error:  # says what to fix; never quotes the key
            raise dg.Failure(description=f"Bedrock API settings: {error}",
                             allow_retries=False) from None
        return BedrockClient(config)


class WarehouseResource(dg.ConfigurableResource):
    """The DuckDB warehouse file. Connections are short-lived: one per unit of work."""

    path: str = DEFAULT_WAREHOUSE
    memory_limit: str = "256MB"
    """DuckDB's memory for the run's connections: past it, DuckDB spills to disk. Without
    it DuckDB may cache up to 80% of RAM, so a run's memory would grow with the warehouse.
    A large warehouse fills whatever limit is set (at 1,000,000 jobs the checks, the marts
    and the batch writes each reach it), so the limit is most of what a run's peak adds to
    the ~450 MB the process holds anyway. 256MB rather than 512MB: measured on a copy of
    a 1M-job warehouse, the checks' and a batch write's peaks drop by ~250 MB and ~130 MB
    and take the same time (messy_events 4.0 s against 3.3 s, a batch write faster)."""

    publish_every_seconds: float = 300.0
    """How often a long fetch refreshes the read-only copy while it runs (the copy is
    published again at the end of every run that wrote)."""

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        """At run start: the instance must run one warehouse step at a time, whatever its
        `dagster.yaml` says (`hold_warehouse_pool`); the run's log says so if it did not."""
        in_a_run = context.instance is not None and context.run is not None  # not a sensor
        notice = hold_warehouse_pool(context.instance) if in_a_run else None
        if notice and context.log is not None:
            context.log.warning(notice)

    @contextmanager
    def connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A read-write connection, waiting while a reader has the file open."""
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        with ExitStack() as stack:
            yield retry_while_locked(
                lambda: stack.enter_context(
                    warehouse.connect(self.path, memory_limit=self.memory_limit)),
                WRITER_WAIT_SECONDS)

    @property
    def read_copy(self) -> Path:
        """The published read-only copy every other SQL client reads."""
        return read_copy_path(self.path)


def keep_days_problem(text: str) -> str | None:
    """Why BEDROCK_INBOX_KEEP_DAYS's `text` is not a number of days, if it is not."""
    if text.strip().isdigit():
        return None
    return (f"BEDROCK_INBOX_KEEP_DAYS must be a whole number of days (0 keeps files for "
            f"ever), not {text!r}")


class InboxResource(dg.ConfigurableResource):
    """The folder the sensor watches for ID files, and how it treats them."""

    path: str = DEFAULT_INBOX
    keep_days: int = Field(default=DEFAULT_INBOX_KEEP_DAYS, ge=0)
    """Days a file stays in `processed/` or `rejected/` once set aside; then an intake run
    deletes it (BEDROCK_INBOX_KEEP_DAYS; 0 keeps them for ever)."""
    settle_seconds: float = 60.0
    """A run that reads the whole inbox (no `inbox_files`: one launched from the UI)
    reads only files unchanged for this long; younger ones may still be being written,
    and are left for the sensor (which waits for a file to hold still across two ticks)
    or a later run."""
    retry_after_seconds: float = 600.0
    """A file still in the inbox this long after the sensor requested its run, that run
    over, was not read (a run moves what it read): it is requested again. The wait
    doubles with each attempt, up to a day."""

    @property
    def folder(self) -> Path:
        return Path(self.path)

    @classmethod
    def from_settings(cls, path: str, keep_days: str) -> InboxResource:
        """The resource from the environment's text. A bad BEDROCK_INBOX_KEEP_DAYS must not
        stop the code location from loading (every job and sensor with it): the default
        is used and a warning says so (`bedrock-jobs ingest` refuses it by name)."""
        if problem := keep_days_problem(keep_days):
            warnings.warn(f"{problem}; using {DEFAULT_INBOX_KEEP_DAYS}", stacklevel=2)
            return cls(path=path)
        return cls(path=path, keep_days=int(keep_days))


class AlertWebhookResource(dg.ConfigurableResource):
    """Where alerts go: a Slack-compatible webhook from `BEDROCK_ALERT_WEBHOOK` only (a
    secret: never in run config, logs or the UI), and how hard to try. The URL is used
    stripped of surrounding space (a trailing newline from a secret file would make every
    post a 404) and only when it is https, or http to a loopback host (`refusal`)."""

    url: str = Field(default="", repr=False,
                     description="Set through BEDROCK_ALERT_WEBHOOK, never inline.")
    ui_url: str = DEFAULT_UI_URL
    """The Dagster UI the messages link runs to (BEDROCK_UI_URL)."""
    timeout_seconds: float = 5.0
    attempts: int = 3
    backoff_seconds: float = 0.5
    stuck_burst_min: int = STUCK_BURST_MIN
    """A job type with at least this many stuck jobs is a burst worth an alert (3)."""

    @property
    def webhook(self) -> str:
        """The URL alerts are posted to: the variable's value, stripped."""
        return self.url.strip()

    @property
    def enabled(self) -> bool:
        return bool(self.webhook)

    @property
    def refusal(self) -> str | None:
        """Why the webhook set can't be used (it would carry its secret in clear), naming
        the variable and never the URL; None when it can."""
        return webhook_problem(self.webhook)

    def run_url(self, run_id: str | None) -> str | None:
        return f"{self.ui_url.rstrip('/')}/runs/{run_id}" if run_id else None


def setting(name: str) -> str:
    """A non-secret setting from the environment (white space around it dropped: a value
    pasted or read from a file often ends in a newline), else its default (`SETTINGS`)."""
    default = SETTINGS[name]
    return (dg.EnvVar(name).get_value(default) or "").strip() or default


def api_key_in_environment() -> str:
    """`BEDROCK_API_KEY` as set (stripped; '' when unset), for checks before a run starts;
    the run itself receives it as a `dg.EnvVar`."""
    return (dg.EnvVar("BEDROCK_API_KEY").get_value() or "").strip()


def build_resources(*, api_url: str | None = None, api_key: str | None = None,
                    warehouse_path: str | None = None,
                    inbox_path: str | None = None) -> dict[str, dg.ConfigurableResource]:
    """The code location's resources, from the environment; an argument given replaces its
    variable (the demo points the API at its simulator, whose key is no secret). The key
    otherwise reaches the resource only as `dg.EnvVar("BEDROCK_API_KEY")`."""
    key = dg.EnvVar("BEDROCK_API_KEY")
    webhook = dg.EnvVar("BEDROCK_ALERT_WEBHOOK")
    return {
        "bedrock": BedrockApiResource(
            base_url=api_url or setting("BEDROCK_API_URL"),
            # Resolved by Dagster at run start; when unset, `client()` says so by name
            # instead of the run failing on config resolution.
            api_key=api_key if api_key is not None else (key if key.get_value() else ""),
            api_version=setting("BEDROCK_API_VERSION"),
        ),
        "warehouse": WarehouseResource(path=warehouse_path or setting("BEDROCK_WAREHOUSE")),
        "inbox": InboxResource.from_settings(inbox_path or setting("BEDROCK_INBOX"),
                                             setting("BEDROCK_INBOX_KEEP_DAYS")),
        "alerts": AlertWebhookResource(url=webhook if webhook.get_value() else "",
                                       ui_url=setting("BEDROCK_UI_URL")),
    }
