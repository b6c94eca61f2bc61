"""The code location loads: `workspace.yaml` points at a module with valid Definitions."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import yaml


def test_workspace_module_loads_definitions():
    workspace = yaml.safe_load((Path(__file__).parents[1] / "workspace.yaml").read_text())
    module = workspace["load_from"][0]["python_module"]["module_name"]
    loaded = __import__(module, fromlist=["defs"])
    assert isinstance(loaded.defs, dg.Definitions)
    dg.Definitions.validate_loadable(loaded.defs)
