"""Schedules and the inbox sensor evaluate; a dropped file is picked up exactly once."""

from __future__ import annotations

import dagster as dg

from pipelines.definitions import defs
from pipelines.resources import InboxResource
from pipelines.schedules import daily_marts, hourly_refresh
from pipelines.sensors import inbox_sensor


def _evaluate(inbox_path, cursor=None):
    context = dg.build_sensor_context(cursor=cursor,
                                      resources={"inbox": InboxResource(path=str(inbox_path))})
    return inbox_sensor.evaluate_tick(context)


def test_sensor_requests_a_run_per_new_file_once(inbox_path):
    (inbox_path / "batch-1.txt").write_text("job_1\njob_2\n")
    first = _evaluate(inbox_path)
    assert len(first.run_requests) == 1
    request = first.run_requests[0]
    assert request.run_config["ops"]["ops__job_ledger"]["config"] == {
        "inbox_files": ["batch-1.txt"], "discover": False}
    again = _evaluate(inbox_path, first.cursor)
    assert again.run_requests == [] and again.skip_message
    (inbox_path / "batch-2.csv").write_text("job_id\njob_3\n")
    third = _evaluate(inbox_path, again.cursor)
    assert [r.tags["bedrock/inbox_file"] for r in third.run_requests] == ["batch-2.csv"]


def test_sensor_is_on_by_default_and_leaves_the_cli_its_staged_file(inbox_path):
    assert inbox_sensor.default_status == dg.DefaultSensorStatus.RUNNING
    (inbox_path / ".cli-20260101T000000-ids.txt").write_text("job_1\n")
    result = _evaluate(inbox_path)
    assert result.run_requests == [] and result.skip_message


def test_sensor_skips_a_missing_inbox(tmp_path):
    result = _evaluate(tmp_path / "nowhere")
    assert result.run_requests == [] and "does not exist" in result.skip_message


def test_schedules_evaluate_to_their_jobs():
    for schedule, job in ((hourly_refresh, "refresh_in_flight"), (daily_marts, "refresh_marts")):
        result = schedule.evaluate_tick(dg.build_schedule_context())
        assert len(result.run_requests) == 1
        assert schedule.job_name == job


def test_every_job_resolves_with_its_assets_and_checks():
    names = {job.name for job in defs.jobs}
    assert {"ingest", "refresh_in_flight", "refresh_marts", "rebuild_from_raw"} <= names
    ingest = defs.resolve_job_def("ingest")
    keys = {key.to_user_string() for key in ingest.asset_layer.executable_asset_keys}
    assert {"ops/job_ledger", "raw/job_payloads", "core/jobs", "marts/stuck_jobs"} <= keys
    rebuild = defs.resolve_job_def("rebuild_from_raw")
    rebuild_keys = {k.to_user_string() for k in rebuild.asset_layer.executable_asset_keys}
    assert "raw/job_payloads" not in rebuild_keys and "ops/job_ledger" not in rebuild_keys
    assert len(defs.resolve_asset_graph().asset_check_keys) >= 9
