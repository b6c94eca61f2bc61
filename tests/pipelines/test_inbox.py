"""The inbox reads whole files only: the sensor requests a file once its size and mtime held
still across two ticks, again when its run ended without reading it or when it was moved
back in; symbolic links are refused, never followed; `processed/` and `rejected/` are
pruned; `bedrock-jobs ingest` stages its file under a name of its own.

Real files in tmp folders, the sensor evaluated with `build_sensor_context` on a real
(test) instance, and the requested runs executed for real against a DuckDB file."""

from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path

import dagster as dg
import pytest

from assets.intake import job_ledger
from pipelines.definitions import defs
from pipelines.resources import (
    BedrockApiResource,
    InboxResource,
    WarehouseResource,
    build_resources,
)
from pipelines.runner import stage_id_file
from pipelines.sensors import INBOX_REQUEST_TAG, inbox_sensor
from pipelines.services.id_files import (
    REASON_SUFFIX,
    IntakeError,
    prune_set_aside,
    read_id_file,
)
from tests.helpers import read_rows, run_cli

DAY = 86_400


def _tick(inbox_path: Path, instance: dg.DagsterInstance, cursor: str | None = None,
          **settings) -> dg.SensorResult:
    context = dg.build_sensor_context(
        cursor=cursor, instance=instance,
        resources={"inbox": InboxResource(path=str(inbox_path), **settings)})
    return inbox_sensor.evaluate_tick(context)


def _ids(first: int, count: int) -> list[str]:
    return [f"job_{n:06d}" for n in range(first, first + count)]


def _run(request: dg.RunRequest, instance, inbox_path: Path, warehouse: Path):
    """The requested run's intake, executed for real (its IDs land in `warehouse`)."""
    return dg.materialize(
        [job_ledger], instance=instance, run_config=request.run_config, tags=request.tags,
        raise_on_error=False,
        resources={"bedrock": BedrockApiResource(), "inbox": InboxResource(path=str(inbox_path)),
                   "warehouse": WarehouseResource(path=str(warehouse))})


def test_a_file_is_requested_once_it_held_still_for_two_ticks(inbox_path, instance):
    (inbox_path / "batch-1.txt").write_text("job_1\njob_2\n")
    first = _tick(inbox_path, instance)
    assert first.run_requests == [] and "batch-1.txt" in first.skip_message
    second = _tick(inbox_path, instance, first.cursor)
    [request] = second.run_requests
    assert request.run_config["ops"]["ops__job_ledger"]["config"] == {
        "inbox_files": ["batch-1.txt"], "discover": False}
    assert request.tags["bedrock/inbox_file"] == "batch-1.txt"
    # Requested once: its run has not moved it yet, and it is not due again.
    third = _tick(inbox_path, instance, second.cursor)
    assert third.run_requests == [] and third.skip_message
    (inbox_path / "batch-2.csv").write_text("job_id\njob_3\n")
    fourth = _tick(inbox_path, instance, third.cursor)
    assert fourth.run_requests == []
    fifth = _tick(inbox_path, instance, fourth.cursor)
    assert [r.tags["bedrock/inbox_file"] for r in fifth.run_requests] == ["batch-2.csv"]


def test_a_file_rewritten_to_the_same_size_waits_for_its_mtime_to_hold_still(
        inbox_path, instance):
    path = inbox_path / "ids.txt"
    path.write_text("job_aaaa\n")
    first = _tick(inbox_path, instance)
    # Rewritten in place between two ticks: same size, later mtime (and nothing else
    # the signature could notice).
    stamp = path.stat().st_mtime_ns
    path.write_text("job_bbbb\n")
    os.utime(path, ns=(stamp, stamp + 2_000_000_000))
    second = _tick(inbox_path, instance, first.cursor)
    assert second.run_requests == [], "a file whose mtime moved since the last tick waits"
    third = _tick(inbox_path, instance, second.cursor)
    assert len(third.run_requests) == 1


def test_a_file_written_slowly_is_requested_when_whole_and_all_its_ids_register(
        inbox_path, instance, warehouse_path):
    path = inbox_path / "slow.txt"
    ids = _ids(0, 300)
    cursor = None
    for part in range(3):  # a writer that appends a hundred lines between ticks
        with path.open("a") as out:
            out.write("\n".join(ids[part * 100:(part + 1) * 100]) + "\n")
        result = _tick(inbox_path, instance, cursor)
        assert result.run_requests == [], f"requested while still being written (part {part})"
        cursor = result.cursor
    [request] = _tick(inbox_path, instance, cursor).run_requests
    assert _run(request, instance, inbox_path, warehouse_path).success
    assert sorted(r[0] for r in read_rows(warehouse_path, "SELECT job_id FROM ops.job_ledger")) \
        == ids
    assert not path.exists() and len(list((inbox_path / "processed").iterdir())) == 1


def test_a_run_that_failed_before_reading_its_file_is_requested_again(
        inbox_path, instance, warehouse_path, tmp_path):
    (inbox_path / "ids.txt").write_text("\n".join(_ids(0, 5)) + "\n")
    requested = _tick(inbox_path, instance, _tick(inbox_path, instance).cursor)
    [first], cursor = requested.run_requests, requested.cursor
    # Its run is queued, not over: not requested again, however long it waits.
    queued = instance.create_run_for_job(defs.resolve_job_def("ingest"),
                                         run_config=first.run_config, tags=first.tags)
    assert not queued.is_finished
    assert _tick(inbox_path, instance, cursor, retry_after_seconds=0).run_requests == []
    instance.delete_run(queued.run_id)
    # The run fails before it reads the file (its warehouse can't be opened): the file
    # stays in the inbox, and is requested again once the wait after its request is over.
    (tmp_path / "blocked").write_text("a file where the warehouse's folder should be")
    failed = _run(first, instance, inbox_path, tmp_path / "blocked" / "bedrock.duckdb")
    assert not failed.success and (inbox_path / "ids.txt").exists()
    assert _tick(inbox_path, instance, cursor).run_requests == [], "too soon (600 s)"
    again = _tick(inbox_path, instance, cursor, retry_after_seconds=0)
    [retry] = again.run_requests
    assert retry.run_key != first.run_key and retry.run_config == first.run_config
    assert retry.tags[INBOX_REQUEST_TAG] == retry.run_key
    assert json.loads(again.cursor)["files"]["ids.txt"]["attempt"] == 2
    assert _run(retry, instance, inbox_path, warehouse_path).success
    assert len(read_rows(warehouse_path, "SELECT * FROM ops.job_ledger")) == 5
    assert _tick(inbox_path, instance, again.cursor, retry_after_seconds=0).run_requests == []


def test_the_wait_before_a_retry_doubles_with_each_attempt(inbox_path, instance):
    (inbox_path / "ids.txt").write_text("job_1\n")
    cursor = _tick(inbox_path, instance).cursor
    keys = []
    for _ in range(2):
        result = _tick(inbox_path, instance, cursor, retry_after_seconds=0)
        keys += [r.run_key for r in result.run_requests]
        cursor = result.cursor
    state = json.loads(cursor)
    assert len(keys) == 2 and state["files"]["ids.txt"]["attempt"] == 2
    # No run of attempt 2 either: due after 2 × the wait since its request, not 1 ×.
    state["files"]["ids.txt"]["requested_at"] = time.time() - 90
    cursor = json.dumps(state)
    assert _tick(inbox_path, instance, cursor, retry_after_seconds=60).run_requests == []
    assert len(_tick(inbox_path, instance, cursor, retry_after_seconds=40).run_requests) == 1


def test_a_file_moved_back_into_the_inbox_with_its_old_mtime_is_read_again(
        inbox_path, instance, tmp_path):
    path, away = inbox_path / "ids.txt", tmp_path / "ids.txt"
    path.write_text("job_1\njob_2\n")
    [first] = _tick(inbox_path, instance, _tick(inbox_path, instance).cursor).run_requests
    mtime = path.stat().st_mtime_ns
    os.rename(path, away)  # read and moved aside, say
    gone = _tick(inbox_path, instance)
    assert "ids.txt" not in json.loads(gone.cursor)["files"]
    os.utime(away, ns=(mtime, mtime))
    os.rename(away, path)  # ... and moved back in as it was: same name, size and mtime
    assert path.stat().st_mtime_ns == mtime
    back = _tick(inbox_path, instance, gone.cursor)
    assert back.run_requests == []  # a new arrival waits a tick like any other
    [second] = _tick(inbox_path, instance, back.cursor).run_requests
    # A new run key: Dagster would skip a request whose key it has already run.
    assert second.run_key != first.run_key


def test_a_file_moved_out_and_back_between_two_ticks_is_read_again(
        inbox_path, instance, tmp_path):
    path = inbox_path / "ids.txt"
    path.write_text("job_1\n")
    requested = _tick(inbox_path, instance, _tick(inbox_path, instance).cursor)
    [first] = requested.run_requests
    os.rename(path, tmp_path / "ids.txt")
    os.rename(tmp_path / "ids.txt", path)
    [second] = _tick(inbox_path, instance, requested.cursor).run_requests
    assert second.run_key != first.run_key


def test_a_symbolic_link_is_rejected_with_its_reason_and_never_followed(
        inbox_path, instance, tmp_path, warehouse_path):
    target = tmp_path / "elsewhere.txt"
    target.write_text("job_secret_1\n")
    (inbox_path / "linked.txt").symlink_to(target)
    result = _tick(inbox_path, instance)
    assert result.run_requests == [] and "linked.txt" not in json.loads(result.cursor)["files"]
    [moved] = [p for p in (inbox_path / "rejected").iterdir() if p.is_symlink()]
    assert moved.name.endswith("-linked.txt") and moved.readlink() == target
    reason = moved.with_name(moved.name + REASON_SUFFIX).read_text()
    assert "linked.txt is a symbolic link" in reason
    assert target.read_text() == "job_secret_1\n"  # the target is where it was, untouched
    # A run named a link (the CLI, run config) refuses it the same way, reading nothing.
    (inbox_path / "named.txt").symlink_to(target)
    assert _run(dg.RunRequest(run_config={"ops": {"ops__job_ledger": {"config": {
        "inbox_files": ["named.txt"], "discover": False}}}}),
        instance, inbox_path, warehouse_path).success
    assert read_rows(warehouse_path, "SELECT * FROM ops.job_ledger") == []
    assert len(list((inbox_path / "rejected").glob(f"*-named.txt{REASON_SUFFIX}"))) == 1
    # A link put in a file's place after the inbox was listed is not followed either.
    (inbox_path / "late.txt").symlink_to(target)
    with pytest.raises(IntakeError, match="late.txt is a symbolic link"):
        read_id_file(inbox_path / "late.txt")


def _aged(path: Path, days: float, text: str = "job_1\n") -> Path:
    path.parent.mkdir(exist_ok=True)
    path.write_text(text)
    stamp = time.time() - days * DAY
    os.utime(path, (stamp, stamp))
    return path


def test_processed_and_rejected_files_are_pruned_after_their_keep_days(inbox_path):
    old = [_aged(inbox_path / "processed" / "a.txt", 31),
           _aged(inbox_path / "rejected" / "b.csv", 31),
           _aged(inbox_path / "rejected" / f"b.csv{REASON_SUFFIX}", 31),
           # staged by an `ingest` that never ran it (interrupted)
           _aged(inbox_path / ".cli-20260101T000000-ab12-ids.txt", 31)]
    young = [_aged(inbox_path / "processed" / "c.txt", 29),
             _aged(inbox_path / "rejected" / "d.csv", 29),
             _aged(inbox_path / ".cli-20260101T000000-cd34-ids.txt", 29),
             _aged(inbox_path / "waiting.txt", 400),  # not set aside: never pruned
             _aged(inbox_path / ".someone-elses", 400)]
    assert prune_set_aside(inbox_path, 0, time.time()) == 0  # 0 keeps them for ever
    assert prune_set_aside(inbox_path, 30, time.time(), limit=3) == 3  # bounded per call
    assert prune_set_aside(inbox_path, 30, time.time()) == 1
    assert [p.exists() for p in old + young] == [False] * 4 + [True] * 5


def test_an_intake_run_prunes_and_counts_days_from_when_a_file_was_set_aside(
        inbox_path, instance, warehouse_path):
    stale = _aged(inbox_path / "processed" / "stale.txt", 31)
    kept = _aged(inbox_path / "processed" / "kept.txt", 29)
    _aged(inbox_path / "written-long-ago.txt", 40)  # dropped today, written 40 days ago
    request = dg.RunRequest(run_config={"ops": {"ops__job_ledger": {"config": {
        "inbox_files": ["written-long-ago.txt"], "discover": False}}}})
    assert _run(request, instance, inbox_path, warehouse_path).success
    assert not stale.exists() and kept.exists()
    assert [p for p in (inbox_path / "processed").iterdir()
            if p.name.endswith("-written-long-ago.txt")], "pruned the day it was read"


def test_keep_days_comes_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("BEDROCK_INBOX_KEEP_DAYS", "7")
    assert build_resources()["inbox"].keep_days == 7
    # A bad value must not stop the code location from loading (every job and sensor
    # with it): the default, and a warning naming the variable.
    monkeypatch.setenv("BEDROCK_INBOX_KEEP_DAYS", "a month")
    with pytest.warns(UserWarning, match="BEDROCK_INBOX_KEEP_DAYS must be a whole number"):
        assert build_resources()["inbox"].keep_days == 30
    # ... and `bedrock-jobs ingest` refuses it by name before anything is staged.
    done = run_cli("ingest", "--ids", "-", stdin="job_1\n", env={
        **os.environ, "BEDROCK_INBOX_KEEP_DAYS": "a month", "BEDROCK_API_KEY": "sk_test_1",
        "BEDROCK_API_URL": "http://127.0.0.1:9", "DAGSTER_HOME": str(tmp_path / "home"),
        "BEDROCK_INBOX": str(tmp_path / "inbox")})
    assert done.returncode == 2
    assert done.stderr.strip() == ("error: BEDROCK_INBOX_KEEP_DAYS must be a whole number "
                                   "of days (0 keeps files for ever), not 'a month'")
    assert not (tmp_path / "inbox").exists()


def test_two_stagings_in_the_same_second_get_names_of_their_own(tmp_path, inbox_path):
    sources = []
    for n in range(2):  # two users' files of the same name
        (tmp_path / f"user{n}").mkdir()
        sources.append(tmp_path / f"user{n}" / "ids.txt")
        sources[-1].write_text(f"job_from_user_{n}\n")
    for _ in range(5):  # (again if a loaded machine let the second end in between)
        time.sleep(1 - time.time() % 1 + 0.01)  # at the start of a second: both fall in it
        second = int(time.time())
        names = [stage_id_file(str(source), inbox_path) for source in sources]
        if int(time.time()) == second:
            break
        for name in names:
            (inbox_path / name).unlink()
    assert int(time.time()) == second, "the two stagings should share one second"
    assert names[0] != names[1] and all(n.startswith(".cli-") for n in names)
    assert [(inbox_path / n).read_text() for n in names] == [
        "job_from_user_0\n", "job_from_user_1\n"]


def test_the_sensor_leaves_the_cli_its_staged_file(inbox_path, instance):
    (inbox_path / ".cli-20260101T000000-ab12-ids.txt").write_text("job_1\n")
    cursor = _tick(inbox_path, instance).cursor
    result = _tick(inbox_path, instance, cursor)
    assert result.run_requests == [] and result.skip_message


def test_the_sensor_skips_a_missing_inbox(tmp_path, instance):
    result = _tick(tmp_path / "nowhere", instance)
    assert result.run_requests == [] and "does not exist" in result.skip_message


def test_an_older_cursor_is_started_afresh(inbox_path, instance):
    (inbox_path / "ids.txt").write_text("job_1\n")
    stat = (inbox_path / "ids.txt").stat()
    older = json.dumps({"ids.txt": [stat.st_size, stat.st_mtime]})
    assert _tick(inbox_path, instance, older).run_requests == []
    assert _tick(inbox_path, instance, _tick(inbox_path, instance, older).cursor).run_requests


def test_a_run_reading_the_whole_inbox_leaves_a_file_that_is_still_changing(
        inbox_path, instance, tmp_path):
    # A run launched without `inbox_files` (from the UI) reads every file that held still
    # for `settle_seconds`; one written to a moment ago may be half-written: it is left,
    # with a warning, for the sensor or a later run.
    settled, fresh = inbox_path / "settled.txt", inbox_path / "fresh.txt"
    settled.write_text("job_000001\njob_000002\n")
    old = time.time() - 120
    os.utime(settled, (old, old))
    fresh.write_text("job_000003\n")
    result = dg.materialize(
        [job_ledger], instance=instance, raise_on_error=False,
        run_config={"ops": {"ops__job_ledger": {"config": {"discover": False}}}},
        resources={"bedrock": BedrockApiResource(),
                   "inbox": InboxResource(path=str(inbox_path), settle_seconds=60),
                   "warehouse": WarehouseResource(path=str(tmp_path / "w.duckdb"))})
    assert result.success
    assert not settled.exists() and fresh.read_text() == "job_000003\n"
    assert [row[0] for row in read_rows(tmp_path / "w.duckdb",
                                        "SELECT job_id FROM ops.job_ledger ORDER BY 1")] == [
        "job_000001", "job_000002"]
    warnings = [e.user_message for e in instance.all_logs(result.run_id)
                if e.level == logging.WARNING]
    assert any(m.startswith("left fresh.txt in the inbox: it changed in the last 60s")
               for m in warnings), warnings
