"""`make ui`: `dagster dev` over this code location, on the project's Dagster instance.

With no `BEDROCK_API_KEY` in the environment it starts the bundled simulator
first and points the code location at it, so a newcomer can materialize from
the UI at once.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from pipelines.instance import PROJECT_ROOT, ensure_dagster_home


def run_ui(port: int = 3000) -> int:
    ensure_dagster_home()
    env = dict(os.environ)
    simulator = None
    if not env.get("BEDROCK_API_KEY"):
        from pipelines.demo import demo_simulator
        from pipelines.resources import DEFAULT_WAREHOUSE
        from pipelines.simulator import DEMO_API_KEY

        warehouse = Path(env.get("BEDROCK_WAREHOUSE") or DEFAULT_WAREHOUSE)
        simulator = demo_simulator(warehouse).start()
        env["BEDROCK_API_URL"] = simulator.base_url
        env["BEDROCK_API_KEY"] = DEMO_API_KEY
        print(f"BEDROCK_API_KEY is not set: serving the bundled simulator at "
              f"{simulator.base_url} and pointing the UI at it.", flush=True)
    dagster = Path(sys.executable).with_name("dagster")
    command = [str(dagster), "dev", "-w", "workspace.yaml", "-p", str(port)]
    try:
        return subprocess.call(command, cwd=PROJECT_ROOT, env=env)
    except KeyboardInterrupt:
        return 0
    finally:
        if simulator is not None:
            simulator.stop()
