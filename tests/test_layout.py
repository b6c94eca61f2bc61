"""The house's layout: imports run only downward with no circle, a mart is named in at most
one product module (its SQL and its registry entry are its homes), no function is long."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from tests.helpers import ROOT
from warehouse import registry

PACKAGES = ("pipelines", "assets", "warehouse")
# Lower layers never import higher ones; a layer may import its own modules and any below.
LAYERS = (
    ("pipelines", "warehouse"),  # `pipelines` itself holds only the version
    ("pipelines.bedrock", "pipelines.simulator"),  # the API client; the simulator of the API
    ("pipelines.services",),  # Dagster-free work the assets call
    ("pipelines.definitions", "pipelines.jobs", "pipelines.schedules", "pipelines.sensors",
     "pipelines.resources", "pipelines.instance", "pipelines.runner", "assets"),  # Dagster
    ("pipelines.tools",),  # the command line and developer tools
)
# Modules of one layer that must not lean on each other.
APART = (("pipelines.bedrock", "pipelines.simulator"),)
# The report's charts name the marts they draw; nothing else should need to.
CHARTS = ROOT / "pipelines" / "services" / "report" / "charts.py"
MAX_FUNCTION_LINES = 60


def _module(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _sources() -> dict[str, Path]:
    return {_module(p): p for package in PACKAGES for p in (ROOT / package).rglob("*.py")}


def _imports() -> dict[str, set[str]]:
    modules = _sources()
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        found: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and not node.level:
                for alias in node.names:
                    target = f"{node.module}.{alias.name}"
                    found.add(target if target in modules else node.module)
            elif isinstance(node, ast.Import):
                found |= {alias.name for alias in node.names}
        graph[name] = {m for m in found if m in modules and m != name}
    return graph


def _layer(module: str) -> int:
    ranks = [(len(prefix), rank) for rank, prefixes in enumerate(LAYERS) for prefix in prefixes
             if module == prefix or module.startswith(prefix + ".")]
    assert ranks, f"{module} belongs to no layer: add it to LAYERS"
    return max(ranks)[1]


def _owner(module: str, prefixes: tuple[str, ...]) -> str | None:
    return next((p for p in prefixes if module == p or module.startswith(p + ".")), None)


def test_imports_run_only_downward() -> None:
    upward = [f"{a} -> {b}" for a, targets in _imports().items() for b in targets
              if _layer(b) > _layer(a)]
    assert not upward, "imports that run back up: " + ", ".join(sorted(upward))
    for apart in APART:
        crossing = [f"{a} -> {b}" for a, targets in _imports().items() for b in targets
                    if None is not _owner(a, apart) != _owner(b, apart) is not None]
        assert not crossing, ", ".join(crossing)


def test_no_import_circle() -> None:
    graph = _imports()
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(module: str, path: list[str]) -> None:
        state[module] = 1
        for target in sorted(graph[module]):
            if state.get(target) == 1:
                pytest.fail("import circle: " + " -> ".join([*path, module, target]))
            if target not in state:
                visit(target, [*path, module])
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [])


def _names_in(path: Path) -> set[str]:
    """Marts a file names: `marts.<name>` anywhere in its strings, or a string that is a
    mart's bare name."""
    marts = {t.name for t in registry.layer("marts")}
    named: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            named |= {m for m in marts if node.value == m}
            named |= set(re.findall(r"\bmarts\.(\w+)", node.value)) & marts
    return named


def test_a_mart_is_named_in_at_most_one_product_module() -> None:
    # Benchmarks and scripts measure or show particular marts, and may name them.
    files = [p for p in _sources().values() if p != CHARTS]
    named: dict[str, list[str]] = {}
    for path in files:
        for mart in _names_in(path):
            named.setdefault(mart, []).append(str(path.relative_to(ROOT)))
    twice = {mart: sorted(paths) for mart, paths in named.items() if len(paths) > 1}
    assert not twice, f"marts named in more than one module: {twice}"


def test_no_function_is_long() -> None:
    long = [f"{path.relative_to(ROOT)}:{node.lineno} {node.name} "
            f"({node.end_lineno - node.lineno + 1} lines)"
            for path in _sources().values() for node in ast.walk(ast.parse(path.read_text()))
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
            and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES]
    assert not long, "functions over 60 lines: " + ", ".join(long)
