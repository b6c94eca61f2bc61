"""`make ui` / `bedrock-jobs ui`: `dg dev` over this code location, on the folder's instance.

In a dg project folder (a checkout, or one made by `bedrock-jobs init`) it runs
`dg dev` as the project; anywhere else it points `dg dev` at the installed module.
With no `BEDROCK_API_KEY` in the environment it starts the bundled simulator
first and points the code location at it, so a newcomer can materialize from
the UI at once.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from pipelines.instance import ensure_dagster_home
from pipelines.resources import api_key_in_environment, setting
from pipelines.tools.project import is_dg_project


def dg_dev_command(port: int, folder: Path) -> list[str]:
    dg = str(Path(sys.executable).with_name("dg"))
    target = [] if is_dg_project(folder) else ["-m", "pipelines.definitions"]
    return [dg, "dev", *target, "-p", str(port)]


def run_ui(port: int = 3000) -> int:
    ensure_dagster_home()
    env = dict(os.environ)  # `dg dev` and the processes it starts read their settings here
    simulator = None
    if not api_key_in_environment():
        from pipelines.simulator import DEMO_API_KEY
        from pipelines.tools.demo import demo_simulator

        simulator = demo_simulator(Path(setting("BEDROCK_WAREHOUSE"))).start()
        env["BEDROCK_API_URL"] = simulator.base_url
        env["BEDROCK_API_KEY"] = DEMO_API_KEY
        print(f"BEDROCK_API_KEY is not set: serving the bundled simulator at "
              f"{simulator.base_url} and pointing the UI at it.", flush=True)
    env["VIRTUAL_ENV"] = sys.prefix  # dg runs in this environment: say so (no mismatch warning)
    try:
        return subprocess.call(dg_dev_command(port, Path.cwd()), env=env)
    except KeyboardInterrupt:
        return 0
    finally:
        if simulator is not None:
            simulator.stop()
