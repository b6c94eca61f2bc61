"""Helpers the tests share: plain constants, builders and functions (fixtures live in the
conftest files). Every test module and conftest imports shared helpers from here, never
from another test module or from a conftest."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import threading
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from glob import glob
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb

from assets.checks import ALL_CHECKS
from assets.core import core_tables
from assets.fetch import job_payloads
from assets.intake import job_ledger
from assets.marts import mart_tables
from assets.publish import read_copy
from pipelines.resources import BedrockApiResource, InboxResource, WarehouseResource
from pipelines.simulator import DEMO_API_KEY, DataConfig, Simulator
from pipelines.simulator.generator import generate
from pipelines.simulator.render import RenderConfig, render_job
from warehouse import BatchSummary, FetchedItem, derive_core, land_batch

ROOT = Path(__file__).resolve().parents[1]
"""The repository's root (the checkout the tests run from)."""

EPOCH = DataConfig().epoch
"""2026-01-01T00:00:00Z as a Unix time: the simulator data's "now" in tests."""
EPOCH_ISO = datetime.fromtimestamp(EPOCH, UTC).isoformat()
"""EPOCH as ISO text: where the regressions window ends when the simulator's clock is fixed."""


# -- Simulator data ----------------------------------------------------------------------


def stop(process: subprocess.Popen, timeout: float = 10.0) -> None:
    """End a process the test started: SIGTERM, then SIGKILL if it is still there after
    `timeout` (a process that ran a Dagster job with SIGINT ignored, as under nohup, has
    SIGTERM ignored too, and so do the children it starts)."""
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=timeout)


def home_jobs(sim: Simulator) -> list:
    """Jobs the demo key can read and that exist at the simulator's now."""
    now = sim.clock.now()
    return [job for job in sim.store.by_id.values()
            if job.organization_id == sim.store.home_organization_id and job.created_at <= now]


def home_ids(sim: Simulator) -> list[str]:
    """IDs of `home_jobs(sim)`, in the store's order."""
    return [job.id for job in home_jobs(sim)]


def foreign_ids(sim: Simulator) -> list[str]:
    """IDs of other organizations' jobs that exist at the simulator's now (403 for the key)."""
    now = sim.clock.now()
    return [job.id for job in sim.store.by_id.values()
            if job.organization_id != sim.store.home_organization_id and job.created_at <= now]


# -- Warehouse loading (real DuckDB files) -----------------------------------------------

FETCHED_AT = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
"""When the hand-made fetch results of the warehouse tests were fetched."""


def loaded(job_id: str, body: dict[str, Any] | str, *, wrap: bool = False,
           at: datetime = FETCHED_AT, attempts: int = 1) -> FetchedItem:
    """A `loaded` fetch result whose body is `body` (wrapped in `data` if asked)."""
    text = body if isinstance(body, str) else json.dumps({"data": body} if wrap else body)
    return FetchedItem(job_id, "loaded", at, 200, request_id=f"req_{job_id}",
                       attempts=attempts, payload_text=text)


def load(con: duckdb.DuckDBPyConnection, items: list[FetchedItem]) -> BatchSummary:
    """Land `items` as one fetch batch, then bring core up to date, as a run's fetch and
    core steps do; returns what landing did."""
    summary = land_batch(con, items)
    derive_core(con)
    return summary


def simulator_items(jobs: int = 300, *, shape: str = "mixed", adversarial: float = 0.5,
                    seed: int = 3, now: float | None = None) -> list[FetchedItem]:
    """Fetch results for the simulator's jobs, bodies exactly as the API sends them."""
    config = DataConfig(jobs=jobs, seed=seed)
    _, sim_jobs = generate(config)
    render = RenderConfig(shape=shape, adversarial_share=adversarial, seed=seed)
    at = now if now is not None else config.epoch
    items = []
    for job in sim_jobs:
        body = render_job(job, at, render)
        if body is None:
            items.append(FetchedItem(job.id, "not_found", FETCHED_AT, 404,
                                     error_code="NOT_FOUND"))
        else:
            items.append(loaded(job.id, body, wrap="id" in body))
    return items


def table(con: duckdb.DuckDBPyConnection, name: str, order: str) -> list[tuple]:
    """All rows of a table in a fixed order (name and order from the test, not input)."""
    return con.execute(f"SELECT * FROM {name} ORDER BY {order}").fetchall()  # noqa: S608


def read_rows(path: Path, query: str) -> list[tuple]:
    """The rows of `query` on the warehouse file at `path`, opened read-only."""
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(query).fetchall()


# -- Job histories for the regression scenarios ------------------------------------------

REGRESSION_NOW = datetime(2026, 3, 1, tzinfo=UTC)
"""The regression scenarios' "now": the current window is the day before it."""


def job_body(job_id: str, job_type: str, created: datetime, *, queued: float, running: float,
             status: str = "COMPLETED", requeued: bool = False) -> dict:
    """A CMS job body: queued `queued` s, then running `running` s, ending in `status`
    (re-queued once on the way if asked)."""
    def at(seconds: float) -> str:
        return (created + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")
    events = [("PENDING", 0.0), ("RUNNING", queued)]
    if requeued:
        events += [("PENDING", queued + 1), ("RUNNING", queued + 2)]
    events.append((status, events[-1][1] + running))
    return {"id": job_id, "type": job_type, "status": status, "created_at": at(0),
            "events": [{"status": s, "timestamp": at(t)} for s, t in events]}


def job_bodies(job_type: str, n: int, *, start: datetime, span: timedelta,
               failed_every: int = 0, running: float = 10.0,
               requeued_every: int = 0) -> list[dict]:
    """`n` jobs of `job_type` created evenly over `span` from `start`; every
    `failed_every`-th fails and every `requeued_every`-th is re-queued (0: none)."""
    step = span / n
    return [job_body(f"job_{job_type}_{start:%j}_{i}", job_type, start + i * step,
                     queued=1.0 + i % 3, running=running + i % 7,
                     status="FAILED" if failed_every and i % failed_every == 0 else "COMPLETED",
                     requeued=bool(requeued_every) and i % requeued_every == 0)
            for i in range(n)]


def running_body(job_id: str, since: datetime, *, job_type: str = "compare") -> dict:
    """A CMS job body in flight: queued a minute before `since`, RUNNING since then."""
    def at(moment: datetime) -> str:
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    queued = since - timedelta(minutes=1)
    return {"id": job_id, "type": job_type, "status": "RUNNING", "created_at": at(queued),
            "events": [{"status": "PENDING", "timestamp": at(queued)},
                       {"status": "RUNNING", "timestamp": at(since)}]}


def load_in_flight(con: duckdb.DuckDBPyConnection, running_since: dict[str, datetime],
                   fetched_at: datetime, *, job_type: str = "compare") -> None:
    """Land and derive one fetch, at `fetched_at`, of jobs RUNNING since the times given
    (job ID -> since); fetching them again with the same times changes no body."""
    load(con, [loaded(job_id, running_body(job_id, since, job_type=job_type), wrap=True,
                      at=fetched_at) for job_id, since in running_since.items()])


def failed_fetch(job_ids: list[str], at: datetime) -> list[FetchedItem]:
    """Fetch attempts at `at` that the API answered with a 503 (an outage)."""
    return [FetchedItem(job_id, "failed", at, 503, error_code="INTERNAL_ERROR",
                        error_detail="the API is down") for job_id in job_ids]


# -- Pipeline runs -----------------------------------------------------------------------


@dataclass(frozen=True)
class LoadedWarehouse:
    """A warehouse loaded by a real pipeline run (the `loaded_warehouse` fixture)."""

    path: Path
    report_metadata: dict  # the report asset's materialization metadata


PIPELINE_ASSETS = [job_ledger, job_payloads, core_tables, mart_tables, read_copy, *ALL_CHECKS]
"""The asset graph a reliability run materializes: intake to marts, the copy, every check."""

# What "the same tables" means: every contract table, without the columns that
# record when we happened to fetch (those differ between any two runs).
COMPARED = {
    "core.jobs": "SELECT * EXCLUDE (fetched_at, payload_seq) FROM core.jobs",
    "core.job_events": "SELECT * FROM core.job_events",
    "core.job_status_transitions": "SELECT * FROM core.job_status_transitions",
    "marts.job_durations": "SELECT * FROM marts.job_durations",
    "marts.failure_rates": "SELECT * FROM marts.failure_rates",
    "marts.duration_stats": "SELECT * FROM marts.duration_stats",
    "marts.transition_matrix": "SELECT * FROM marts.transition_matrix",
    "marts.job_trees": "SELECT * FROM marts.job_trees",
    "raw.job_payloads": "SELECT job_id, payload_sha256 FROM raw.job_payloads",
    "ops.job_ledger": "SELECT job_id, outcome, is_terminal FROM ops.job_ledger",
}


def table_hashes(path: Path) -> dict[str, list[str]]:
    """Sorted row hashes of every compared table: equal means the same rows, duplicates too."""
    with duckdb.connect(str(path), read_only=True) as con:
        return {
            name: [row[0] for row in con.execute(
                f"SELECT md5(CAST(t AS VARCHAR)) AS h FROM ({query}) AS t ORDER BY h").fetchall()]
            for name, query in COMPARED.items()
        }


def run_pipeline(sim: Simulator, warehouse_path: Path, inbox_path: Path, *,
                 api_key: str = DEMO_API_KEY, read_timeout: float = 30.0,
                 max_attempts: int = 6, discover: bool = True,
                 instance: dg.DagsterInstance | None = None,
                 publish_every_seconds: float = 300.0,
                 fetch: dict | None = None) -> dg.ExecuteInProcessResult:
    """`PIPELINE_ASSETS` materialized against `sim` into `warehouse_path` (errors returned
    in the result, not raised)."""
    resources = {
        "bedrock": BedrockApiResource(base_url=sim.base_url, api_key=api_key, workers=8,
                                      read_timeout=read_timeout, max_attempts=max_attempts),
        "warehouse": WarehouseResource(path=str(warehouse_path),
                                       publish_every_seconds=publish_every_seconds),
        "inbox": InboxResource(path=str(inbox_path), settle_seconds=0),
    }
    run_config: dict = {"ops": {"ops__job_ledger": {"config": {"discover": discover}}}}
    if fetch:
        run_config["ops"]["raw__job_payloads"] = {"config": fetch}
    with dg.instance_for_test() if instance is None else nullcontext(instance) as inst:
        return dg.materialize(PIPELINE_ASSETS, instance=inst, resources=resources,
                              raise_on_error=False, run_config=run_config)


# -- The command line --------------------------------------------------------------------


def cli_environment(sim: Simulator, root: Path, api_key: str | None = DEMO_API_KEY,
                    warehouse: Path | None = None, inbox: Path | None = None) -> dict[str, str]:
    """The environment of a `bedrock-jobs` process pointed at `sim`, keeping its Dagster
    instance, warehouse and inbox under `root` (no BEDROCK_/DAGSTER_ variable leaks in)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BEDROCK_", "DAGSTER_"))}
    env.update(DAGSTER_HOME=str(root / "dagster_home"),
               BEDROCK_WAREHOUSE=str(warehouse or root / "wh.duckdb"),
               BEDROCK_INBOX=str(inbox or root / "inbox"), BEDROCK_API_URL=sim.base_url)
    if api_key is not None:
        env["BEDROCK_API_KEY"] = api_key
    return env


def run_cli(*args: str, env: dict[str, str] | None = None, stdin: str | None = None,
            timeout: float = 240) -> subprocess.CompletedProcess[str]:
    """`bedrock-jobs ARGS` as a real process from the repository root, output captured."""
    return subprocess.run([sys.executable, "-m", "pipelines.tools.cli", *args], env=env,
                          cwd=ROOT, input=stdin, capture_output=True, text=True,
                          timeout=timeout)


# -- A scripted HTTP server for the client tests -----------------------------------------

FAST = {"backoff_base": 0.02, "backoff_cap": 0.2, "connect_timeout": 2.0, "read_timeout": 2.0}
"""Fast retries for client tests: the policy is the same, only the clock is shorter."""


@dataclass
class Canned:
    """One scripted answer."""

    status: int
    body: Any = None  # dict → JSON; bytes/str → as is
    headers: dict[str, str] = field(default_factory=dict)


class ScriptedServer:
    """Answers `routes[path]` (a `Canned`, or a list of them served in turn); records requests.

    For the few answers the simulator never gives (a 400 for an ID that passes local
    validation, `Retry-After` as an HTTP date, a 200 whose JSON doesn't fit the contract)
    and for seeing the exact request headers.
    """

    def __init__(self) -> None:
        self.routes: dict[str, Canned | list[Canned]] = {}
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.client_ports: set[int] = set()  # one per TCP connection the client opened
        self._lock = threading.Lock()
        scripted = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                super().setup()  # no Nagle: headers and body go out in separate writes
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def do_GET(self) -> None:  # noqa: N802
                with scripted._lock:
                    scripted.requests.append((self.path, dict(self.headers)))
                    scripted.client_ports.add(self.client_address[1])
                    canned = scripted.routes.get(self.path.split("?")[0])
                    if isinstance(canned, list):
                        canned = canned.pop(0) if len(canned) > 1 else canned[0]
                canned = canned or Canned(404, {"code": "NOT_FOUND", "detail": "no such job"})
                body = canned.body
                if isinstance(body, dict | list):
                    body = json.dumps(body).encode()
                elif isinstance(body, str):
                    body = body.encode()
                body = body or b""
                self.send_response(canned.status)
                for name, value in {"Content-Type": "application/json", **canned.headers}.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,),
                                        daemon=True)
        self._thread.start()

    def route(self, path: str, *answers: Canned) -> None:
        """Serve `answers` in turn on `path` (the last one repeats)."""
        self.routes[path] = list(answers)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


# -- PostgreSQL, for the production instance's test --------------------------------------


@dataclass(frozen=True)
class Postgres:
    """A running PostgreSQL server the tests may use."""

    host: str
    port: int
    user: str
    db: str

    def env(self) -> dict[str, str]:
        """deploy/dagster.yaml's variables for this server (trust auth: any password)."""
        return {"DAGSTER_PG_HOST": self.host, "DAGSTER_PG_PORT": str(self.port),
                "DAGSTER_PG_DB": self.db, "DAGSTER_PG_USERNAME": self.user,
                "DAGSTER_PG_PASSWORD": "unused-with-trust-auth"}


def postgres_bin() -> Path | None:
    """The folder holding initdb and pg_ctl: Debian's versioned folders, else on PATH."""
    for folder in sorted(glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if (Path(folder) / "initdb").exists() and (Path(folder) / "pg_ctl").exists():
            return Path(folder)
    found = shutil.which("pg_ctl")
    if found and shutil.which("initdb"):
        return Path(found).parent
    return None


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def ingest_together(env: dict[str, str], id_lists: list[list[str]], folder: Path,
                    timeout: float = 300) -> list[subprocess.CompletedProcess[str]]:
    """`bedrock-jobs ingest --ids FILE` once per ID list, as real processes all started at
    once on the same environment (one Dagster home, one warehouse, one key)."""
    procs = []
    for number, ids in enumerate(id_lists):
        ids_file = folder / f"together-{number}.txt"
        ids_file.write_text("\n".join(ids) + "\n")
        args = [sys.executable, "-m", "pipelines.tools.cli", "ingest", "--ids", str(ids_file)]
        procs.append((args, subprocess.Popen(args, env=env, cwd=ROOT, text=True,
                                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)))
    done = []
    for args, proc in procs:
        out, err = proc.communicate(timeout=timeout)
        done.append(subprocess.CompletedProcess(args, proc.returncode, out, err))
    return done
