"""`make demo`: the whole product on embedded defaults, against the bundled simulator.

Starts the simulator on loopback (several thousand jobs in parent/child trees,
a light fault mix, a rate limit scaled so the demo takes a minute, not ten),
drops a small ID file in the inbox (a few IDs of another organization, unknown
and malformed IDs, so every outcome shows), runs the `ingest` job end to end
into `warehouse/bedrock.duckdb` on the project's Dagster instance, prints a
summary and the path of the report, and stops the simulator.

The simulator's epoch is kept beside the warehouse, so a second `make demo`
talks to the same jobs a little later: it fetches only what is new or still in
flight.
"""

from __future__ import annotations

import time
from pathlib import Path

from assets.intake import intake_run_config
from pipelines.instance import is_checkout
from pipelines.resources import build_resources, setting
from pipelines.services.report import report_path
from pipelines.services.summary import print_summary
from pipelines.simulator import (
    DEMO_API_KEY,
    DataConfig,
    FaultConfig,
    RateLimitConfig,
    Shift,
    Simulator,
)
from pipelines.tools.running import report_end, run_with_progress

DEMO_RATE_LIMIT = RateLimitConfig(limit=1000, window_seconds=10)
# What the demo's regression detection finds: `compare` fails 4x as often in the last day.
DEMO_SHIFT = Shift("compare", "failure", 4.0, hours_before_epoch=24.0)


def _epoch(state: Path) -> float:
    if state.exists():
        return float(state.read_text().strip())
    epoch = float(int(time.time()))
    state.parent.mkdir(parents=True, exist_ok=True)
    state.write_text(f"{epoch:.0f}\n")
    return epoch


def _sample_file(sim: Simulator, inbox: Path) -> str:
    """IDs a user might paste: a few of another org's, unknown ones, and typos."""
    foreign = [j.id for j in sim.store.by_id.values()
               if j.organization_id != sim.store.home_organization_id][:5]
    lines = [*foreign, "job_01UNKNOWN0000000000000000", "job_01UNKNOWN0000000000000001",
             "job 42", "../../etc/passwd", ""]
    inbox.mkdir(parents=True, exist_ok=True)
    (inbox / "demo-sample-ids.txt").write_text("\n".join(lines) + "\n")
    return "demo-sample-ids.txt"


def demo_simulator(warehouse: Path, jobs: int = 4000) -> Simulator:
    """The demo's simulator (not started): its epoch is kept beside the warehouse, so
    every demo and `make ui` session talks to the same jobs, a little later each time."""
    data = DataConfig(jobs=jobs, epoch=_epoch(warehouse.parent / ".simulator-epoch"),
                      shifts=(DEMO_SHIFT,))
    return Simulator(data, faults=FaultConfig.light(seed=1), rate_limit=DEMO_RATE_LIMIT)


def run_demo(jobs: int = 4000) -> int:
    warehouse = Path(setting("BEDROCK_WAREHOUSE"))
    inbox = Path(setting("BEDROCK_INBOX"))
    first_run = not warehouse.exists()
    with demo_simulator(warehouse, jobs) as sim:
        # The demo key opens only this simulator; it is not a secret.
        resources = build_resources(api_url=sim.base_url, api_key=DEMO_API_KEY)
        print(f"simulator: {len(sim.store)} jobs at {sim.base_url} "
              f"(light faults, {DEMO_RATE_LIMIT.limit} requests per "
              f"{DEMO_RATE_LIMIT.window_seconds:g}s; {DEMO_SHIFT.job_type} fails "
              f"{DEMO_SHIFT.factor:g}x as often from {DEMO_SHIFT.hours_before_epoch:g} h "
              "before its epoch)", flush=True)
        intake: dict = {"discover": True}
        if first_run:  # just written: named, since a run reading the whole inbox waits
            intake["inbox_files"] = [_sample_file(sim, inbox)]  # for files to hold still
        ran = run_with_progress("ingest", intake_run_config(**intake), resources)
        stats = sim.stats_snapshot()
    print(f"\nsimulator served {stats['total_requests']} requests "
          f"({', '.join(f'{k}: {v}' for k, v in stats['responses'].items())}); "
          f"injected faults: {stats['faults'] or 'none'}")
    ui = "make ui" if is_checkout() else "bedrock-jobs ui"
    if (code := report_end(ran, "the demo run", "make demo" if is_checkout()
                           else "bedrock-jobs demo")) is not None:
        return code
    outcome = ran.outcome
    assert outcome is not None
    print()
    print_summary(warehouse, inbox)
    print(f"\nrun {outcome.run_id} took {outcome.seconds:.1f}s; see it with `{ui}`.")
    print(f"report (open it offline in any browser, or `bedrock-jobs report --open`): "
          f"{report_path(warehouse).resolve()}")
    return 0
