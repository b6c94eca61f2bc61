"""Scale: ID pages, file chunks, reruns that cost what changed, backfills by bucket."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import dagster as dg

import warehouse
from pipelines.definitions import build_definitions
from pipelines.jobs import BACKFILL_BUCKETS
from pipelines.resources import BedrockApiResource
from pipelines.services.fetch import pending_ids
from pipelines.services.id_files import read_id_file
from pipelines.services.intake import register_file
from pipelines.simulator import DataConfig, RateLimitConfig
from tests.helpers import read_rows

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def test_pending_ids_are_read_a_page_at_a_time_in_fetch_order(tmp_path):
    path = tmp_path / "w.duckdb"

    def connect():
        return warehouse.connect(path)

    with connect() as con:
        warehouse.register_ids(con, [f"job_{n:03d}" for n in range(25)], "test", NOW)
        total, until = warehouse.count_to_fetch(con)
    assert total == 25
    pages = pending_ids(connect, requested_until=until, page_size=10)
    first = [next(pages) for _ in range(10)]
    # Registered while the round runs (a parent found meanwhile): left for the next round.
    with connect() as con:
        warehouse.register_ids(con, ["job_late"], "parent", NOW + timedelta(seconds=1))
    rest = list(pages)
    assert first + rest == [f"job_{n:03d}" for n in range(25)]
    with connect() as con:
        assert warehouse.ids_to_fetch(con) == [*first, *rest, "job_late"]


def test_buckets_split_the_ids_without_overlap(tmp_path):
    with warehouse.connect(tmp_path / "w.duckdb") as con:
        warehouse.register_ids(con, [f"job_{n}" for n in range(2_000)], "test", NOW)
        buckets = [set(warehouse.ids_to_fetch(con, bucket=b, buckets=8)) for b in range(8)]
    assert set().union(*buckets) == {f"job_{n}" for n in range(2_000)}
    assert sum(len(b) for b in buckets) == 2_000
    assert min(len(b) for b in buckets) > 150  # spread by hash, not all in one


def test_a_large_file_is_registered_in_chunks_with_the_same_counts(tmp_path):
    lines = [f"job_{n % 23}" for n in range(60)] + ["", "bad id!", "job_99"]
    path = tmp_path / "ids.txt"
    path.write_text("\n".join(lines) + "\n")
    whole = read_id_file(path)
    db = tmp_path / "w.duckdb"
    counts = register_file(lambda: warehouse.connect(db), path, NOW, chunk_lines=10)
    assert (counts.new, counts.already_known, counts.invalid, counts.duplicates,
            counts.blank_lines) == (len(whole.ids), 0, len(whole.rejected), whole.duplicates,
                                    whole.blank_lines)
    registered = read_rows(db, "SELECT count(*) FROM ops.job_ledger WHERE outcome = 'pending'")
    assert registered[0][0] == 24


def test_scheduled_rerun_fetches_exactly_the_in_flight_jobs_and_rebuild_calls_nothing(
        make_simulator, resources_for, warehouse_path):
    sim = make_simulator(DataConfig(jobs=1_500), rate_limit=RateLimitConfig(enabled=False))
    defs = build_definitions(resources_for(sim))
    with dg.instance_for_test() as instance:
        def run(name: str) -> None:
            assert defs.resolve_job_def(name).execute_in_process(instance=instance).success

        run("ingest")
        in_flight = {row[0] for row in read_rows(
            warehouse_path, "SELECT job_id FROM ops.job_ledger "
                            "WHERE NOT is_terminal AND loaded_at IS NOT NULL")}
        assert in_flight
        before = sim.clock.now()
        sim.clock.advance(600)
        created_since = {j.id for j in sim.store.by_id.values()
                         if j.organization_id == sim.store.home_organization_id
                         and before < j.created_at <= sim.clock.now()}
        sim.stats.reset()
        run("refresh_in_flight")  # the hourly schedule's job, with its config
        stats = sim.stats_snapshot()
        # What changed, exactly: the jobs in flight, and those created since (discovered).
        assert stats["fetches"] == dict.fromkeys(in_flight | created_since, 1)
        # Besides: discovery's one page of jobs created since the watermark.
        assert stats["total_requests"] - len(in_flight | created_since) == 1
        sim.stats.reset()
        run("rebuild_from_raw")
        assert sim.stats_snapshot()["total_requests"] == 0


def test_backfill_fetches_one_bucket_per_run_and_a_failed_bucket_reruns_alone(
        make_simulator, resources_for, warehouse_path):
    sim = make_simulator(DataConfig(jobs=600), rate_limit=RateLimitConfig(enabled=False))
    ids = sorted(sim.store.by_id)
    resources = resources_for(sim)
    defs = build_definitions(resources)
    bad_key = {**resources, "bedrock": BedrockApiResource(base_url=sim.base_url,
                                                          api_key="sk_wrong_key")}
    with dg.instance_for_test() as instance:
        warehouse_path.parent.mkdir(parents=True, exist_ok=True)
        job = defs.resolve_job_def("backfill")
        with warehouse.connect(warehouse_path) as con:
            warehouse.register_ids(con, ids, "backfill", NOW)
            # A backfill over every partition asks for every registered ID, each once.
            per_partition = []
            for key in job.partitions_def.get_partition_keys():
                config = job.partitioned_config.get_run_config_for_partition_key(key)
                bucket = config["ops"]["raw__job_payloads"]["config"]
                per_partition += warehouse.ids_to_fetch(con, bucket=bucket["bucket"],
                                                        buckets=bucket["buckets"])
        assert sorted(per_partition) == ids

        def bucket_ids(bucket: int) -> set[str]:
            return {row[0] for row in read_rows(
                warehouse_path, "SELECT job_id FROM ops.job_ledger "
                                f"WHERE md5_number(job_id) % {BACKFILL_BUCKETS} = {bucket}")}

        assert job.execute_in_process(instance=instance, partition_key="03").success
        assert set(sim.stats_snapshot()["fetches"]) == bucket_ids(3)

        # Bucket 05 fails (the key is refused at its first request, nothing loads) ...
        sim.stats.reset()
        failed = build_definitions(bad_key).resolve_job_def("backfill").execute_in_process(
            instance=instance, partition_key="05", raise_on_error=False)
        assert not failed.success
        assert set(sim.stats_snapshot()["fetches"]) <= bucket_ids(5)
        # ... and its re-run fetches that bucket alone, each ID once.
        sim.stats.reset()
        assert job.execute_in_process(instance=instance, partition_key="05").success
        assert sim.stats_snapshot()["fetches"] == dict.fromkeys(bucket_ids(5), 1)
