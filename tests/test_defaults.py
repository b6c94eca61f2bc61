"""Every default a user gets is the one the docs state: the README's configuration table,
docs/how-it-runs.md's defaults table and docs/simulator.md's defaults line are read and
each value compared with what the code gives (its resources, configs, schedules, sensors
and commands), so a changed default fails here until its documentation says so too.
The behaviour behind the main ones is pinned beside it (tests/warehouse/test_stuck_jobs.py,
tests/assets/test_checks.py, tests/pipelines/services/test_alerts.py)."""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from assets.checks import FRESHNESS_WINDOW
from assets.fetch import FetchConfig
from assets.intake import IntakeConfig
from assets.marts import MartsConfig
from pipelines import runner
from pipelines.definitions import defs
from pipelines.instance import ensure_dagster_home
from pipelines.resources import (
    AlertWebhookResource,
    BedrockApiResource,
    InboxResource,
    WarehouseResource,
    build_resources,
)
from pipelines.services import alerts
from pipelines.services.fetch import fetch_and_load
from pipelines.services.progress import ProgressLines
from pipelines.tools import running
from pipelines.tools.cli import build_parser
from tests.helpers import ROOT
from warehouse import locking, refresh_marts, stuck

_CODE = re.compile(r"`([^`]*)`")
SCHEDULES = {schedule.name: schedule for schedule in defs.schedules}
SENSORS = {sensor.name: sensor for sensor in defs.sensors}


def _default(function: Callable, name: str) -> Any:
    return inspect.signature(function).parameters[name].default


def _client_config():
    with BedrockApiResource(api_key="sk_defaults_test").client() as client:
        return client.config


def _table(path: Path, heading: str) -> dict[str, str]:
    """The first markdown table under `heading`: the first code span of each row's first
    cell -> its second cell's first code span (or its text)."""
    section = path.read_text().split(f"\n{heading}\n", 1)[1]
    rows: dict[str, str] = {}
    for line in section.split("\n## ", 1)[0].splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if not line.startswith("|") or len(cells) < 2 or set(cells[1]) <= {"-"}:
            continue
        key, value = _CODE.search(cells[0]), _CODE.search(cells[1])
        if key:
            rows[key.group(1)] = value.group(1) if value else cells[1]
    return rows


def _parse(text: str, like: Any) -> Any:
    """The documented text as a value of the code's type."""
    if like is None:
        return None if text == "none" else text
    if isinstance(like, bool):
        return {"true": True, "false": False}[text]
    return type(like)(text) if isinstance(like, int | float) else text


# Each row of docs/how-it-runs.md#defaults -> every value the code gives users for it:
# what a resource, a config, a schedule or a command holds when nothing is set, and the
# defaults of the plain functions behind them.
IN_CODE: dict[str, Callable[[], list[Any]]] = {
    "bedrock.workers": lambda: [_client_config().workers],
    "bedrock.read_timeout": lambda: [_client_config().read_timeout],
    "bedrock.max_attempts": lambda: [_client_config().max_attempts],
    "bedrock.max_requests_per_minute": lambda: [_client_config().max_requests_per_minute],
    "client.connect_timeout": lambda: [_client_config().connect_timeout],
    "client.max_total_seconds": lambda: [_client_config().max_total_seconds],
    "client.backoff_base": lambda: [_client_config().backoff_base],
    "client.backoff_cap": lambda: [_client_config().backoff_cap],
    "client.retry_after_cap": lambda: [_client_config().retry_after_cap],
    "client.window_guard": lambda: [_client_config().window_guard],
    "warehouse.memory_limit": lambda: [WarehouseResource().memory_limit],
    "warehouse.publish_every_seconds": lambda: [WarehouseResource().publish_every_seconds],
    "alerts.timeout_seconds": lambda: [AlertWebhookResource().timeout_seconds,
                                       _default(alerts.deliver, "timeout"),
                                       _default(alerts.send_due, "timeout")],
    "alerts.attempts": lambda: [AlertWebhookResource().attempts,
                                _default(alerts.deliver, "attempts"),
                                _default(alerts.send_due, "attempts")],
    "alerts.backoff_seconds": lambda: [AlertWebhookResource().backoff_seconds,
                                       _default(alerts.deliver, "backoff"),
                                       _default(alerts.send_due, "backoff")],
    "alerts.stuck_burst_min": lambda: [AlertWebhookResource().stuck_burst_min,
                                       _default(alerts.pending_alerts, "stuck_burst_min")],
    "alerts.repost_after_seconds": lambda: [alerts.REPOST_AFTER_SECONDS],
    "alerts.retry_window_seconds": lambda: [alerts.RETRY_WINDOW_SECONDS],
    "alerts.tick_budget_seconds": lambda: [alerts.TICK_BUDGET_SECONDS],
    "alerts.warehouse_wait_seconds": lambda: [alerts.WAREHOUSE_WAIT_SECONDS],
    "raw__job_payloads.batch_size": lambda: [FetchConfig().batch_size,
                                             _default(fetch_and_load, "batch_size")],
    "raw__job_payloads.flush_seconds": lambda: [FetchConfig().flush_seconds,
                                                _default(fetch_and_load, "flush_seconds")],
    "ops__job_ledger.discover": lambda: [IntakeConfig().discover],
    "mart_tables.stuck_floor_seconds": lambda: [MartsConfig().stuck_floor_seconds,
                                                _default(refresh_marts, "stuck_floor_seconds")],
    "stuck_jobs.stale_after_seconds": lambda: [_default(stuck.in_flight_fetch,
                                                        "floor_seconds")],
    "freshness.window_seconds": lambda: [FRESHNESS_WINDOW.total_seconds()],
    "hourly_refresh": lambda: [SCHEDULES["hourly_refresh"].cron_schedule],
    "daily_marts": lambda: [SCHEDULES["daily_marts"].cron_schedule],
    "inbox_sensor": lambda: [SENSORS["inbox_sensor"].minimum_interval_seconds],
    "inbox.retry_after_seconds": lambda: [InboxResource().retry_after_seconds],
    "inbox.settle_seconds": lambda: [InboxResource().settle_seconds],
    "inbox.keep_days": lambda: [InboxResource().keep_days],
    "alerts_sensor": lambda: [SENSORS["alerts_sensor"].minimum_interval_seconds],
    "backfill": lambda: [len(defs.resolve_job_def("backfill").partitions_def
                             .get_partition_keys())],
    "reader_wait_seconds": lambda: [locking.READER_WAIT_SECONDS],
    "writer_wait_seconds": lambda: [locking.WRITER_WAIT_SECONDS],
    "run_logs": lambda: [runner.LOGS_FOLDER],
    "run_logs.keep_days": lambda: [runner.LOGS_KEEP_DAYS],
    "terminal.max_lines": lambda: [running.MAX_LINES],
    "terminal.warnings_shown": lambda: [runner.MAX_WARNINGS_SHOWN],
    "terminal.progress_first_seconds": lambda: [_default(ProgressLines, "first_after")],
    "bedrock-jobs ui --port": lambda: [build_parser().parse_args(["ui"]).port],
    "bedrock-jobs sql --format": lambda: [build_parser().parse_args(["sql", "q"]).format],
    "bedrock-jobs demo --jobs": lambda: [build_parser().parse_args(["demo"]).jobs],
}
DOCUMENTED = _table(ROOT / "docs" / "how-it-runs.md", "## Defaults")


def test_every_documented_default_is_checked_and_every_checked_one_documented():
    assert set(DOCUMENTED) == set(IN_CODE)


@pytest.mark.parametrize("name", sorted(IN_CODE))
def test_the_code_gives_the_documented_default(name):
    values = IN_CODE[name]()
    assert [_parse(DOCUMENTED[name], value) for value in values] == values, name


def test_the_schedules_run_in_utc_as_documented():
    assert {name: s.execution_timezone for name, s in SCHEDULES.items()} == {
        "hourly_refresh": "UTC", "daily_marts": "UTC"}


def test_the_environment_defaults_are_the_readmes(monkeypatch, tmp_path):
    documented = _table(ROOT / "README.md", "## Configuration")
    for name in documented:  # set first, so that the teardown restores it
        monkeypatch.setenv(name, "x")
        monkeypatch.delenv(name)
    resources = build_resources()
    given = {  # what the code location gets from an empty environment, and each resource
        "BEDROCK_API_URL": [resources["bedrock"].base_url, BedrockApiResource().base_url],
        "BEDROCK_API_VERSION": [resources["bedrock"].api_version,
                                BedrockApiResource().api_version],
        "BEDROCK_WAREHOUSE": [resources["warehouse"].path, WarehouseResource().path],
        "BEDROCK_INBOX": [resources["inbox"].path, InboxResource().path],
        "BEDROCK_INBOX_KEEP_DAYS": [str(resources["inbox"].keep_days),
                                    str(InboxResource().keep_days)],
        "BEDROCK_UI_URL": [resources["alerts"].ui_url, AlertWebhookResource().ui_url],
        # Secrets have no default: unset, the key is empty and alerts are off.
        "BEDROCK_API_KEY": [resources["bedrock"].api_key or "—"],
        "BEDROCK_ALERT_WEBHOOK": [resources["alerts"].url or "—"],
    }
    monkeypatch.chdir(tmp_path)
    given["DAGSTER_HOME"] = [str(ensure_dagster_home().relative_to(tmp_path.resolve()))]
    assert set(documented) == set(given)
    assert {name: [documented[name]] * len(values) for name, values in given.items()} == given


def test_the_simulators_defaults_are_its_pages():
    line = next(line for line in (ROOT / "docs" / "simulator.md").read_text().split("\n\n")
                if line.startswith("Defaults:"))
    documented = dict(re.findall(r"`--([\w-]+) ([^`]+)`", line))
    args = build_parser().parse_args(["simulate"])
    assert documented == {name: str(getattr(args, name)) for name in documented}
    assert set(documented) >= {"host", "port", "jobs", "seed"}
