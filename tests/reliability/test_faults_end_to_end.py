"""Under a realistic fault mix the run completes, loads every fetchable ID, and gives the
same tables as a fault-free run; IDs that never succeed end `failed` with the reason."""

from __future__ import annotations

import duckdb

from pipelines.simulator import DataConfig, FaultConfig, RateLimitConfig
from tests.helpers import home_ids, run_pipeline, table_hashes

DATA = DataConfig(jobs=700, seed=21)
FAULTS = FaultConfig(seed=5, error_rate=0.10, drop_rate=0.03, slow_rate=0.02, slow_seconds=1.0,
                     malformed_rate=0.01, burst_rate=0.002, burst_seconds=0.5)


def test_fault_mix_gives_the_same_tables_as_a_clean_run(make_simulator, workspace):
    clean_sim = make_simulator(DATA, rate_limit=RateLimitConfig(enabled=False))
    clean_wh, clean_inbox = workspace("clean")
    assert run_pipeline(clean_sim, clean_wh, clean_inbox).success

    faulty_sim = make_simulator(DATA, faults=FAULTS, rate_limit=RateLimitConfig(enabled=False))
    faulty_wh, faulty_inbox = workspace("faulty")
    result = run_pipeline(faulty_sim, faulty_wh, faulty_inbox, read_timeout=0.4,
                          max_attempts=12)
    assert result.success
    served = faulty_sim.stats_snapshot()["faults"]
    assert {"server_error", "drop", "slow", "malformed"} <= set(served)

    with duckdb.connect(str(faulty_wh), read_only=True) as con:
        outcomes = dict(con.execute(
            "SELECT outcome, count(*) FROM ops.job_ledger GROUP BY outcome").fetchall())
    assert set(outcomes) == {"loaded"}
    assert table_hashes(faulty_wh) == table_hashes(clean_wh)


def test_ids_that_never_succeed_end_failed_with_the_reason(make_simulator, workspace):
    sim = make_simulator(DataConfig(jobs=60), faults=FaultConfig(seed=1, error_rate=1.0),
                         rate_limit=RateLimitConfig(enabled=False))
    warehouse, inbox = workspace("broken")
    ids = home_ids(sim)[:10]
    (inbox / "ids.txt").write_text("\n".join(ids) + "\n")
    result = run_pipeline(sim, warehouse, inbox, discover=False, max_attempts=2)
    assert result.success  # a batch of failures is an outcome, not a crash
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute("SELECT outcome, http_status, error_detail, attempts, is_terminal "
                           "FROM ops.job_ledger").fetchall()
    assert len(rows) == len(ids)
    for outcome, status, detail, attempts, terminal in rows:
        assert outcome == "failed" and status in (500, 502, 503) and attempts == 2
        assert detail and not terminal  # retried by the next run
