"""`bedrock-jobs init`: a project folder for the installed package.

A plain `pip install bedrock-jobs` puts the code location in site-packages, where
`dg` cannot see it as a project (`dg check defs` and `dg list defs` look for the
project's root module beside its `pyproject.toml`). The folder this writes is
that project: a `pyproject.toml` with `[tool.dg]`, a two-line module that
re-exports the installed code location, a `workspace.yaml` for `dagster dev` and
`dagster-webserver -w`, and a `.env` that points `DAGSTER_HOME` at the folder's
own instance (`.dagster_home/`, with the `dagster.yaml` the CLI writes), so
`dg dev` there shows the runs `bedrock-jobs ingest` started there.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from pipelines import __version__
from pipelines.instance import write_instance_config

MODULE = "bedrock_jobs_location"

FILES = {
    "pyproject.toml": f"""\
# Written by `bedrock-jobs init`: a dg project over the installed bedrock-jobs code location.
[project]
name = "bedrock-jobs-location"
version = "0.1.0"
requires-python = ">=3.11"
dependencies = ["bedrock-jobs=={__version__}"]

[tool.dg]
directory_type = "project"

[tool.dg.project]
root_module = "{MODULE}"
code_location_target_module = "{MODULE}.definitions"
code_location_name = "bedrock_jobs"

[tool.dg.cli]
telemetry = {{ enabled = false }}
""",
    f"{MODULE}/__init__.py": '"""The bedrock-jobs code location, installed as a package."""\n',
    f"{MODULE}/definitions.py": '"""Re-exports the installed code location for dg."""\n\n'
                                "from pipelines.definitions import defs\n\n"
                                '__all__ = ["defs"]\n',
    "workspace.yaml": "# For `dagster dev -w workspace.yaml` and `dagster-webserver -w "
                      "workspace.yaml`.\nload_from:\n  - python_module: pipelines.definitions\n",
}


def is_dg_project(folder: Path) -> bool:
    """Whether `folder` holds a `pyproject.toml` with a `[tool.dg]` table."""
    pyproject = folder / "pyproject.toml"
    if not pyproject.is_file():
        return False
    return "dg" in tomllib.loads(pyproject.read_text()).get("tool", {})


class ProjectError(ValueError):
    """The folder can't become a bedrock-jobs project as it is."""


def init_project(folder: Path) -> list[Path]:
    """Write the project files into `folder` (made if missing); returns those written.

    Files that exist are left alone, so running it again is safe.
    """
    folder = folder.resolve()
    pyproject = folder / "pyproject.toml"
    if pyproject.exists() and not is_dg_project(folder):
        raise ProjectError(
            f"{pyproject} already exists and is not a dg project: run `bedrock-jobs init` "
            "into a new folder (or add this code location to your own project: "
            f"`from pipelines.definitions import defs` in its definitions module)")
    home = folder / ".dagster_home"
    texts = {**FILES, ".env": f"DAGSTER_HOME={home}\n"}
    written = []
    for name, text in texts.items():
        path = folder / name
        if path.exists():
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        written.append(path)
    write_instance_config(home)  # the pool limit of one warehouse writer, run monitoring
    return written
