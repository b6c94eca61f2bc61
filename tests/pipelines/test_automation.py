"""Schedules and sensors as a user gets them: on a fresh Dagster instance both sensors run
and both schedules wait to be turned on, the schedules tick when the docs say and run the
jobs that do their work; every job runs the checks of the assets it materializes. The
inbox sensor's own tests are in test_inbox.py."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import dagster as dg
import pytest
import yaml
from dagster._core.remote_origin import InProcessCodeLocationOrigin
from dagster._core.remote_representation.external import RemoteRepository
from dagster._core.scheduler.instigation import InstigatorState, InstigatorStatus
from dagster._core.types.loadable_target_origin import LoadableTargetOrigin
from dagster._core.workspace.context import WorkspaceProcessContext
from dagster._core.workspace.load_target import InProcessWorkspaceLoadTarget

from assets.checks import ALL_CHECKS
from pipelines.definitions import build_definitions, defs
from pipelines.schedules import daily_marts, hourly_refresh
from pipelines.simulator import DataConfig
from tests.helpers import ROOT, home_ids
from warehouse import registry

SENSORS = ("inbox_sensor", "alerts_sensor")
SCHEDULES = ("hourly_refresh", "daily_marts")


@pytest.fixture(scope="module")
def location() -> Iterator[RemoteRepository]:
    """The code location as `workspace.yaml` loads it (in this process), as the webserver and
    the daemons see it."""
    [entry] = yaml.safe_load((ROOT / "workspace.yaml").read_text())["load_from"]
    origin = InProcessCodeLocationOrigin(
        LoadableTargetOrigin(executable_path=sys.executable,
                             module_name=entry["python_module"]["module_name"],
                             working_directory=str(ROOT)),
        location_name="bedrock_jobs")
    with dg.instance_for_test() as instance, \
            WorkspaceProcessContext(instance, InProcessWorkspaceLoadTarget(origin)) as context:
        [location_entry] = context.create_request_context().get_code_location_entries().values()
        assert location_entry.code_location, location_entry.load_error
        [repository] = location_entry.code_location.get_repositories().values()
        yield repository


def _state(instance: dg.DagsterInstance, instigator) -> InstigatorState:
    """A sensor's or schedule's state on `instance`, as the UI shows it. Dagster's sensor and
    scheduler daemons tick exactly the instigators whose state `is_running`."""
    stored = instance.get_instigator_state(instigator.get_remote_origin_id(),
                                           instigator.selector_id)
    return instigator.get_current_instigator_state(stored)


def test_both_sensors_run_on_a_fresh_instance_without_anyone_starting_them(location, instance):
    for name in SENSORS:
        sensor = location.get_sensor(name)
        state = _state(instance, sensor)
        # Running from the code's default, not from a choice stored in the instance.
        assert state.is_running and state.status == InstigatorStatus.DECLARED_IN_CODE, name
    # A default, not a lock: a user who stops the inbox sensor has it stopped.
    inbox = location.get_sensor("inbox_sensor")
    instance.stop_sensor(inbox.get_remote_origin_id(), inbox.selector_id, inbox)
    assert not _state(instance, inbox).is_running


def test_schedules_are_off_on_a_fresh_instance_until_turned_on(location, instance):
    for name in SCHEDULES:
        schedule = location.get_schedule(name)
        assert not _state(instance, schedule).is_running, name
        instance.start_schedule(schedule)
        assert _state(instance, schedule).is_running, name


def test_schedules_tick_when_the_docs_say(location):
    # docs/how-it-runs.md: in UTC, 7 minutes past every hour; every day at 02:30. The times
    # are the ones the scheduler daemon starts runs at.
    start = datetime(2026, 1, 1, tzinfo=UTC)

    def ticks(name: str, n: int) -> list[datetime]:
        times = location.get_schedule(name).execution_time_iterator(start.timestamp())
        return [next(times).astimezone(UTC) for _ in range(n)]

    assert ticks("hourly_refresh", 3) == [start + timedelta(hours=h, minutes=7) for h in range(3)]
    assert ticks("daily_marts", 2) == [start + timedelta(days=d, hours=2, minutes=30)
                                       for d in range(2)]


def test_each_schedule_runs_the_job_that_does_its_work(location):
    def executed(schedule_name: str) -> set[str]:
        job = location.get_schedule(schedule_name).job_name
        return {key.to_user_string() for key in
                defs.resolve_job_def(job).asset_layer.executable_asset_keys}

    # Hourly: register new jobs, re-fetch the ones in flight, bring core up to date.
    hourly = executed("hourly_refresh")
    assert {"ops/job_ledger", "raw/job_payloads", "core/jobs"} <= hourly
    assert not {key for key in hourly if key.startswith("marts/")}
    # Daily: marts and the report from core, without one API call.
    daily = executed("daily_marts")
    assert {"marts/regressions", "report/jobs_report"} <= daily
    assert not daily & {"ops/job_ledger", "raw/job_payloads"}
    for schedule in (hourly_refresh, daily_marts):
        result = schedule.evaluate_tick(dg.build_schedule_context())
        assert len(result.run_requests) == 1


def test_the_hourly_run_leaves_the_inbox_to_the_sensor(make_simulator, resources_for,
                                                        inbox_path):
    # A file still being written when the hour strikes must not be read half: only the
    # inbox sensor, which waits for a file to hold still, reads the inbox.
    sim = make_simulator(DataConfig(jobs=40))
    dropped = inbox_path / "being-written.txt"
    dropped.write_text(home_ids(sim)[0] + "\n")
    request = hourly_refresh.evaluate_tick(dg.build_schedule_context()).run_requests[0]
    job = build_definitions(resources_for(sim)).resolve_job_def(hourly_refresh.job_name)
    with dg.instance_for_test() as instance:
        result = job.execute_in_process(run_config=request.run_config, instance=instance)
    assert result.success
    assert dropped.read_text() == home_ids(sim)[0] + "\n"


def test_every_job_resolves_and_runs_the_checks_of_the_assets_it_materializes():
    names = {job.name for job in defs.jobs}
    assert {"ingest", "refresh_in_flight", "refresh_marts", "rebuild_from_raw"} <= names
    ingest = defs.resolve_job_def("ingest")
    keys = {key.to_user_string() for key in ingest.asset_layer.executable_asset_keys}
    assert {"ops/job_ledger", "raw/job_payloads", "core/jobs", "marts/stuck_jobs"} <= keys
    rebuild = defs.resolve_job_def("rebuild_from_raw")
    rebuild_keys = {k.to_user_string() for k in rebuild.asset_layer.executable_asset_keys}
    assert "raw/job_payloads" not in rebuild_keys and "ops/job_ledger" not in rebuild_keys
    # Every check the code declares is served, the registry's (beside each table) included.
    declared = {key for checks in ALL_CHECKS for key in checks.check_keys}
    assert defs.resolve_asset_graph().asset_check_keys == declared
    assert {dg.AssetCheckKey(dg.AssetKey(table.key), check.name)
            for table in registry.tables() for check in table.checks} <= declared
    # ... and runs in every job that materializes its table, in no other.
    for job in defs.jobs:
        layer = defs.resolve_job_def(job.name).asset_layer
        assert layer.asset_graph.asset_check_keys == {
            key for key in declared if key.asset_key in layer.executable_asset_keys}, job.name
