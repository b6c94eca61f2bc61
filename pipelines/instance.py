"""The Dagster instance the CLI, the demo and `make ui` share.

`DAGSTER_HOME` defaults to `.dagster_home/` in the current folder, beside the
default warehouse (`warehouse/bedrock.duckdb`, also relative to it): in a
checkout, or in a folder made by `bedrock-jobs init`, runs started by
`bedrock-jobs ingest` show in the web UI's history. Its `dagster.yaml` limits
the `bedrock_warehouse` pool to one step at a time across runs: DuckDB admits
one writing process, so two runs never write the warehouse at once.
"""

from __future__ import annotations

import os
from pathlib import Path

WAREHOUSE_POOL = "bedrock_warehouse"
"""The Dagster pool of every step that writes the warehouse, limited to one step at a time
(`DAGSTER_YAML`'s default limit, `deploy/dagster.yaml`): DuckDB admits one writer."""

PROJECT_ROOT = Path(__file__).resolve().parents[1]
"""The checkout this code runs from, if it runs from one (else site-packages)."""
DEFAULT_HOME = ".dagster_home"

DAGSTER_YAML = """\
# Written by bedrock-jobs (pipelines/instance.py). Local storage; see README "Production"
# for PostgreSQL run/event storage.
concurrency:
  pools:
    default_limit: 1
# The daemon (`make ui`) fails runs whose worker died and frees the pool slots
# they held; runs started in-process by the CLI are checked by the next CLI run.
run_monitoring:
  enabled: true
  poll_interval_seconds: 30
  free_slots_after_run_end_seconds: 30
telemetry:
  enabled: false
"""


def write_instance_config(home: Path) -> None:
    """Give `home` our `dagster.yaml` (if missing; ours is kept current, a user's own
    file, one without our header, is left alone)."""
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists() or (config.read_text().startswith(DAGSTER_YAML.splitlines()[0])
                               and config.read_text() != DAGSTER_YAML):
        config.write_text(DAGSTER_YAML)


def ensure_dagster_home() -> Path:
    """Set `DAGSTER_HOME` (if unset) and give it a `dagster.yaml` (if missing)."""
    home = Path(os.environ.get("DAGSTER_HOME") or DEFAULT_HOME).resolve()
    write_instance_config(home)
    os.environ["DAGSTER_HOME"] = str(home)
    return home


def is_checkout() -> bool:
    """Whether the code runs from a source checkout (not an installed package)."""
    return all((PROJECT_ROOT / name).is_file() for name in ("pyproject.toml", "workspace.yaml"))
