"""Soak: the product operated as a team runs it, for a few minutes, against the simulator.

A Dagster daemon runs the code location (the inbox and alerts sensors are on by
default) and, all at once, round after round:

- three `bedrock-jobs ingest` runs started together on the same Dagster home, warehouse
  and key (an API allowing 300 requests per 5 s, with light faults: 5xx, drops, bad
  JSON, but no injected 429, so any 429 is the key's budget overrun); the very first
  also discovers every job the key can see, so the marts have enough to flag
  regressions (three job types got worse in the last day) and the alerts sensor has
  work;
- ID files dropped in the inbox (written elsewhere, then moved in), and once a file
  written slowly, a line every half second for a minute, straight into the inbox;
- a webhook receiver that fails (500), hangs (past the client's timeout, then drops the
  connection) or succeeds, at random.

Then it waits for the inbox to drain, the runs to end and the alerts to be delivered,
and measures: every ID given has exactly one ledger outcome (none left `pending`),
every alert found arrived exactly once (the receiver's 2xx answers, against the
alerts ledger), and the API answered no 429. Figures are ratios against what was given
in the same run. `SOAK_SECONDS` (default 240) sets how long work is dropped;
`python benchmarks/bench_soak.py`.
"""

from __future__ import annotations

import json
import os
import random
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import dagster as dg
import duckdb

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipelines.instance import write_instance_config  # noqa: E402
from pipelines.services.alerts import ledger_path  # noqa: E402
from pipelines.simulator import (  # noqa: E402
    DEMO_API_KEY,
    Clock,
    DataConfig,
    FaultConfig,
    RateLimitConfig,
    Shift,
    Simulator,
)

SOAK_SECONDS = float(os.environ.get("SOAK_SECONDS", "240"))
DRAIN_SECONDS = 420.0  # after the last drop: the inbox, the runs and the alerts settle
RUNS_AT_ONCE, IDS_PER_RUN, IDS_PER_DROP, SLOW_LINES = 3, 60, 40, 120
RATE = RateLimitConfig(limit=300, window_seconds=5.0)
SHIFTS = (Shift("compare", "failure", 4.0, 24.0), Shift("parse", "duration", 3.0, 24.0),
          Shift("symbol_match", "queued", 4.0, 24.0))


class FlakyReceiver(ThreadingHTTPServer):
    """A Slack-like webhook that answers 500, hangs, or takes the message (200), at
    random after a bad start (its first answer is a 500, its second a hang, so retries
    are always exercised); it keeps every message it took."""

    daemon_threads = True

    def __init__(self, seed: int, hang_seconds: float = 8.0) -> None:
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.hang_seconds = hang_seconds
        self.taken: list[str] = []
        self.answers: Counter[str] = Counter()
        super().__init__(("127.0.0.1", 0), _Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/services/T000/B000/soak"

    def choose(self) -> str:
        with self.lock:
            first = ["fail", "hang"][sum(self.answers.values()):]
            answer = first[0] if first else self.rng.choices(
                ["fail", "hang", "take"], [0.4, 0.2, 0.4])[0]
            self.answers[answer] += 1
            return answer


class _Handler(BaseHTTPRequestHandler):
    server: FlakyReceiver

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        answer = self.server.choose()
        if answer == "hang":
            time.sleep(self.server.hang_seconds)
            self.close_connection = True
            return  # no answer at all
        if answer == "take":
            with self.server.lock:
                self.server.taken.append(json.loads(body)["text"])
        self.send_response(200 if answer == "take" else 500)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def _drop(inbox: Path, outbox: Path, name: str, ids: list[str]) -> None:
    """Write elsewhere on the same disk, then move in: the way the README asks."""
    staged = outbox / name
    staged.write_text("\n".join(ids) + "\n")
    os.rename(staged, inbox / name)


def _write_slowly(path: Path, ids: list[str], every: float = 0.5) -> None:
    with path.open("w") as out:
        for job_id in ids:
            out.write(job_id + "\n")
            out.flush()
            time.sleep(every)


def _ingest(env: dict[str, str], ids_file: Path, discover: bool) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "pipelines.tools.cli", "ingest", "--ids",
                             str(ids_file), *["--discover"] * discover], env=env, cwd=ROOT,
                            text=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _busy(home: Path, inbox: Path, alerts: Path) -> list[str]:
    """What is still going on: files waiting, runs not ended, alerts not delivered."""
    waiting = [p.name for p in inbox.iterdir() if p.is_file()]
    with dg.DagsterInstance.from_config(str(home)) as instance:
        running = instance.get_runs(filters=dg.RunsFilter(statuses=[
            dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.NOT_STARTED,
            dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED]))
    pending = 0
    if alerts.exists():
        with sqlite3.connect(alerts) as con:
            pending = con.execute("SELECT count(*) FROM alerts WHERE sent_at IS NULL"
                                  " AND given_up IS NULL").fetchone()[0]
    return ([f"{len(waiting)} inbox file(s)"] * bool(waiting)
            + [f"{len(running)} run(s)"] * bool(running)
            + [f"{pending} alert(s) undelivered"] * bool(pending))


def _work(sim: Simulator, env: dict[str, str], root: Path) -> tuple[set[str], list[int]]:
    """Drop work for SOAK_SECONDS; returns every ID given and the CLI runs' exit codes."""
    inbox, outbox = Path(env["BEDROCK_INBOX"]), root / "outbox"
    inbox.mkdir(parents=True, exist_ok=True)
    outbox.mkdir()
    pool = iter(job.id for job in sim.store.by_id.values()
                if job.organization_id == sim.store.home_organization_id)
    given: set[str] = set()

    def take(n: int) -> list[str]:
        ids = [next(pool) for _ in range(n)]
        given.update(ids)
        return ids

    slow = threading.Thread(target=_write_slowly, args=(inbox / "slow.txt", take(SLOW_LINES)))
    slow.start()
    codes: list[int] = []
    deadline, round_number = time.monotonic() + SOAK_SECONDS, 0
    while time.monotonic() < deadline:
        round_number += 1
        files = []
        for n in range(RUNS_AT_ONCE):
            files.append(root / f"cli-{round_number}-{n}.txt")
            files[-1].write_text("\n".join(take(IDS_PER_RUN)) + "\n")
        procs = [_ingest(env, f, discover=(round_number, n) == (1, 0))
                 for n, f in enumerate(files)]
        _drop(inbox, outbox, f"drop-{round_number}.txt", take(IDS_PER_DROP))
        for proc in procs:
            _, err = proc.communicate()
            codes.append(proc.returncode)
            if proc.returncode:
                print(f"  an ingest ended {proc.returncode}:\n{err[-1500:]}", flush=True)
        print(f"  round {round_number}: {len(given)} IDs given so far", flush=True)
    slow.join()
    return given, codes


def _figures(sim: Simulator, env: dict[str, str], given: set[str], codes: list[int],
             receiver: FlakyReceiver) -> dict:
    warehouse = Path(env["BEDROCK_WAREHOUSE"])
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute("SELECT job_id, outcome FROM ops.job_ledger").fetchall()
    per_id = Counter(job_id for job_id, _ in rows)
    outcome = dict(rows)
    settled = sum(1 for i in given if per_id[i] == 1 and outcome[i] != "pending")
    pending = sum(1 for value in outcome.values() if value == "pending")
    with sqlite3.connect(ledger_path(warehouse)) as con:
        found = con.execute("SELECT text, sent_at IS NOT NULL, given_up FROM alerts").fetchall()
    taken = Counter(receiver.taken)
    delivered = [text for text, sent, _ in found if sent]
    once = sum(1 for text in delivered if taken[text] == 1)
    with dg.DagsterInstance.from_config(env["DAGSTER_HOME"]) as instance:
        runs = Counter(run.status.value for run in instance.get_runs())
    served = sim.stats_snapshot()
    return {
        "ids_given": len(given), "ids_with_one_outcome": settled,
        "ratio_ids_with_one_outcome": round(settled / len(given), 4),
        "outcomes": dict(Counter(outcome[i] for i in given if i in outcome)),
        "ledger_rows": len(rows), "ledger_pending": pending,
        "cli_runs": len(codes), "cli_runs_failed": sum(1 for c in codes if c),
        "runs_by_status": dict(runs),
        "alerts_found": len(found), "alerts_delivered": len(delivered),
        "alerts_given_up": sum(1 for *_, gave_up in found if gave_up),
        "alerts_received_twice": sum(1 for n in taken.values() if n > 1),
        "alerts_received_unknown": sum(1 for t in taken if t not in {f[0] for f in found}),
        "ratio_alerts_exactly_once": round(once / len(found), 4) if found else None,
        "receiver_answers": dict(receiver.answers),
        "api_requests": served["total_requests"],
        "api_429": served["responses"].get("429", 0),
        "ratio_429_per_request": round(served["responses"].get("429", 0)
                                       / max(served["total_requests"], 1), 4),
    }


def main() -> dict:
    root = Path(tempfile.mkdtemp(prefix="bedrock-soak-"))
    epoch = float(int(time.time()))
    sim = Simulator(DataConfig(seed=11, jobs=4000, epoch=epoch,
                               shifts=SHIFTS),
                    faults=replace(FaultConfig.light(3), burst_rate=0.0), rate_limit=RATE,
                    clock=Clock(start=epoch)).start()
    receiver = FlakyReceiver(seed=5)
    home = root / "dagster_home"
    write_instance_config(home)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BEDROCK_", "DAGSTER_"))}
    env.update(DAGSTER_HOME=str(home), BEDROCK_API_URL=sim.base_url,
               BEDROCK_API_KEY=DEMO_API_KEY, BEDROCK_WAREHOUSE=str(root / "wh.duckdb"),
               BEDROCK_INBOX=str(root / "inbox"), BEDROCK_ALERT_WEBHOOK=receiver.url)
    daemon_log = (root / "daemon.log").open("w")
    daemon = subprocess.Popen(
        [str(Path(sys.executable).with_name("dagster-daemon")), "run", "-m",
         "pipelines.definitions"], cwd=ROOT, env=env, stdout=daemon_log,
        stderr=subprocess.STDOUT)
    started = time.monotonic()
    try:
        print(f"soak for {SOAK_SECONDS:.0f}s in {root}", flush=True)
        given, codes = _work(sim, env, root)
        deadline = time.monotonic() + DRAIN_SECONDS
        while (busy := _busy(home, Path(env["BEDROCK_INBOX"]), ledger_path(root / "wh.duckdb"))
               ) and time.monotonic() < deadline:
            print(f"  draining: {', '.join(busy)}", flush=True)
            time.sleep(15)
        figures = _figures(sim, env, given, codes, receiver)
    finally:
        daemon.terminate()
        daemon.wait(timeout=60)
        sim.stop()
        receiver.shutdown()
    figures["still_busy_after_drain"] = ", ".join(busy) or "nothing"
    figures["seconds"] = round(time.monotonic() - started, 1)
    figures["every_id_one_outcome_met"] = (figures["ratio_ids_with_one_outcome"] == 1.0
                                           and figures["ledger_pending"] == 0)
    figures["each_alert_exactly_once_met"] = (
        figures["ratio_alerts_exactly_once"] == 1.0 and not figures["alerts_received_twice"]
        and not figures["alerts_received_unknown"])
    figures["no_429_met"] = figures["api_429"] == 0
    figures["no_failed_run_met"] = (not figures["cli_runs_failed"]
                                    and set(figures["runs_by_status"]) == {"SUCCESS"})
    for key, value in figures.items():
        print(f"{key:30} {value}")
    return figures


if __name__ == "__main__":
    sys.exit(0 if all(v for k, v in main().items() if k.endswith("_met")) else 1)
