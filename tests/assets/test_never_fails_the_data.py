"""Presentation never fails the data, publishing never costs data: a chart that cannot be
drawn, a report that cannot be written and a copy that cannot be published are warnings in
the run, with their reasons in the metadata; the fetch and the run go on."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
import duckdb

from assets.publish import read_copy
from assets.report import jobs_report
from pipelines.resources import WarehouseResource
from pipelines.services.report import report_path
from pipelines.simulator import DataConfig, RateLimitConfig
from tests.helpers import home_ids, job_bodies, load, loaded, run_pipeline
from warehouse import connect, refresh_marts
from warehouse.publish import read_copy_path

NOW = datetime(2026, 3, 1, tzinfo=UTC)
REPORT, COPY = dg.AssetKey(["report", "jobs_report"]), dg.AssetKey(["published", "read_copy"])
FETCH = dg.AssetKey(["raw", "job_payloads"])


def _warehouse(path: Path) -> None:
    jobs = job_bodies("compare", 40, start=NOW - timedelta(days=3), span=timedelta(days=2),
                      failed_every=5)
    with connect(path) as con:
        load(con, [loaded(job["id"], job, wrap=True) for job in jobs])
        refresh_marts(con, now=NOW)


def _report_and_publish(path: Path, instance: dg.DagsterInstance) -> dg.ExecuteInProcessResult:
    return dg.materialize([jobs_report, read_copy], instance=instance, raise_on_error=False,
                          resources={"warehouse": WarehouseResource(path=str(path))})


def _metadata(result: dg.ExecuteInProcessResult, key: dg.AssetKey) -> dict:
    [event] = [e for e in result.get_asset_materialization_events() if e.asset_key == key]
    return {k: v.value for k, v in event.materialization.metadata.items()}


def _warnings(instance: dg.DagsterInstance, result: dg.ExecuteInProcessResult) -> list[str]:
    return [entry.user_message for entry in instance.all_logs(result.run_id)
            if entry.level == logging.WARNING]


def test_a_chart_that_cannot_be_drawn_is_a_warning_and_the_run_publishes(tmp_path, instance):
    path = tmp_path / "bedrock.duckdb"
    _warehouse(path)
    with duckdb.connect(str(path)) as con:  # a count no refresh writes: the graph takes its log
        con.execute("UPDATE marts.transition_matrix SET n = -1")
    result = _report_and_publish(path, instance)
    assert result.success
    report = _metadata(result, REPORT)
    assert report["written"] is True
    assert report["charts_not_drawn"] == "transitions: ValueError: math domain error"
    assert any("transitions could not be drawn (ValueError: math domain error)" in message
               for message in _warnings(instance, result))
    assert 'data-chart="transitions" data-failed="true"' in report_path(path).read_text()
    assert _metadata(result, COPY)["published"] is True


def test_a_report_that_cannot_be_written_is_a_warning_and_the_run_publishes(tmp_path, instance):
    path = tmp_path / "bedrock.duckdb"
    _warehouse(path)
    report_path(path).mkdir()  # the page's name is taken: it cannot be written
    result = _report_and_publish(path, instance)
    assert result.success
    report = _metadata(result, REPORT)
    assert report["written"] is False and "Is a directory" in report["reason"]
    assert any(message.startswith("report not written to ") and "Is a directory" in message
               for message in _warnings(instance, result))
    assert _metadata(result, COPY)["published"] is True and read_copy_path(path).is_file()


def test_a_failed_publish_is_a_warning_the_fetch_goes_on_and_the_next_run_publishes(
        make_simulator, tmp_path, instance):
    sim = make_simulator(DataConfig(jobs=120), rate_limit=RateLimitConfig(enabled=False))
    path, inbox = tmp_path / "bedrock.duckdb", tmp_path / "inbox"
    inbox.mkdir()
    copy = read_copy_path(path)
    copy.mkdir()  # every publish of the first run is refused its rename
    # Small batches, a copy due after each: the fetch tries to publish several times.
    result = run_pipeline(sim, path, inbox, instance=instance, publish_every_seconds=0,
                          fetch={"batch_size": 20})
    assert result.success
    fetch = _metadata(result, FETCH)
    assert fetch["loaded"] == len(home_ids(sim)) and fetch["batches"] > 2
    assert fetch["published_during_fetch"] == 0 and fetch["publish_failures_during_fetch"] > 2
    assert "Is a directory" in fetch["publish_failure_reason"]
    published = _metadata(result, COPY)
    assert published["published"] is False and "Is a directory" in published["reason"]
    warnings = _warnings(instance, result)
    assert sum("the fetch goes on" in message for message in warnings) \
        == fetch["publish_failures_during_fetch"]
    assert any("The previous copy stays in place" in message for message in warnings)
    with duckdb.connect(str(path), read_only=True) as con:  # no row for a copy never made
        assert con.execute("SELECT count(*) FROM ops.publications").fetchall() == [(0,)]

    copy.rmdir()
    again = run_pipeline(sim, path, inbox, instance=instance)
    assert again.success and _metadata(again, COPY)["published"] is True
    with duckdb.connect(str(copy), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM core.jobs").fetchall() == [(len(home_ids(sim)),)]
        assert con.execute("SELECT count(*) FROM ops.publications").fetchall()[0][0] >= 1
