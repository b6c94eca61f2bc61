"""Hostile ID files and hostile API bodies: every ID ends with exactly one ledger outcome and
a readable reason, no request is made for an invalid ID, and nothing crashes the batch."""

from __future__ import annotations

import json

import duckdb

from pipelines.simulator import DataConfig, RateLimitConfig
from tests.helpers import home_jobs, run_pipeline

HOSTILE_LINES = [
    "../../etc/passwd", "job_1?x=1", "job_1#a", "%2F", "jöb_ünïcode",
    "'; DROP TABLE core.jobs; --", "x" * 10_000, "job_1 job_2", "\x07bell",
]


def _ledger(path):
    with duckdb.connect(str(path), read_only=True) as con:
        return {row[0]: row[1:] for row in con.execute(
            "SELECT job_id, outcome, error_detail FROM ops.job_ledger").fetchall()}


def test_hostile_id_file_every_line_accounted_for(make_simulator, workspace):
    sim = make_simulator(DataConfig(jobs=200), rate_limit=RateLimitConfig(enabled=False))
    wh, inbox = workspace("hostile-file")
    good = [j.id for j in home_jobs(sim) if j.parent_id is None][:3]
    text = "\r\n".join([f"  {good[0]}  ", "", good[1], good[1], *HOSTILE_LINES, good[2]])
    data = b"\xef\xbb\xbf" + text.encode() + b"\r\n\xff\xfe\x00binary\r\n"
    (inbox / "hostile.txt").write_bytes(data)
    non_utf8 = inbox / "latin1.txt"
    non_utf8.write_bytes("job_caf\xe9\n".encode("latin-1"))

    result = run_pipeline(sim, wh, inbox, discover=False)
    assert result.success
    ledger = _ledger(wh)
    assert all(ledger[i][0] == "loaded" for i in good)
    invalid = {k: v for k, v in ledger.items() if v[0] == "invalid_id"}
    assert len(invalid) == len(HOSTILE_LINES) + 2  # + the binary line + the latin-1 file's
    for shown, (_, reason) in invalid.items():
        assert reason and ("hostile.txt line" in reason or "latin1.txt line" in reason)
        assert len(shown) < 120 and shown.isprintable()
    fetched = set(sim.stats_snapshot()["fetches"])
    assert fetched == set(good)  # no request for any invalid line
    with duckdb.connect(str(wh), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM core.jobs").fetchall()[0][0] == 3


def test_hostile_bodies_end_in_one_outcome_each(make_simulator, workspace):
    sim = make_simulator(DataConfig(jobs=200), rate_limit=RateLimitConfig(enabled=False))
    wh, inbox = workspace("hostile-bodies")
    good = next(j for j in home_jobs(sim) if j.parent_id is None)
    template = json.loads(sim.api.handle("GET", f"/jobs/{good.id}",
                                         sim.auth_headers()).body)["data"]

    def job(job_id, **changes):
        return json.dumps({"data": {**template, "id": job_id, "parent_id": None, **changes}})

    nested = '{"a":' * 50_000 + "1" + "}" * 50_000
    bodies = {
        "job_malformed": b'{"data": {"id": "job_malformed", ',
        "job_array": b"[1, 2, 3]",
        "job_no_data": b'{"meta": {"id": "job_no_data"}}',
        "job_wrong_types": json.dumps({"data": {"id": "job_wrong_types", "events": "soon",
                                                "created_at": 12}}).encode(),
        "job_bad_time": job("job_bad_time", events=[{"status": "PENDING",
                                                     "timestamp": "yesterday"}]).encode(),
        "job_huge": job("job_huge", payload={"blob": "x" * 10_000_000}).encode(),
        "job_nested": ('{"data": {"id": "job_nested", "payload": ' + nested + "}}").encode(),
        "job_html": b"<html>oops</html>",
    }
    for job_id, body in bodies.items():
        sim.serve_raw(job_id, body)
    (inbox / "ids.txt").write_text("\n".join([good.id, *bodies]) + "\n")

    result = run_pipeline(sim, wh, inbox, discover=False, max_attempts=2)
    assert result.success
    ledger = _ledger(wh)
    assert set(ledger) == {good.id, *bodies}
    assert ledger[good.id][0] == "loaded" and ledger["job_huge"][0] == "loaded"
    for job_id in bodies.keys() - {"job_huge"}:
        outcome, reason = ledger[job_id]
        assert outcome in ("quarantined", "failed"), (job_id, outcome)
        assert reason and len(reason) < 2000, (job_id, reason)
    with duckdb.connect(str(wh), read_only=True) as con:
        jobs = {r[0] for r in con.execute("SELECT job_id FROM core.jobs").fetchall()}
    assert jobs == {good.id, "job_huge"}
