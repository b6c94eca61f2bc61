"""Every default of what changed is pinned: the defaults table of docs/what-changed.md, the
code's `RegressionSettings()`, the Dagster run config's defaults and the config's docstrings
state the same values, so changing any one of them alone fails here. (The defaults'
behaviour: tests/warehouse/test_regressions.py, test_defaults_flag_only_below_alpha_...)"""

from __future__ import annotations

import ast
import re
from dataclasses import fields

from assets.marts import MartsConfig, RegressionsConfig
from tests.helpers import ROOT
from warehouse.what_changed import RegressionSettings

DOC = ROOT / "docs" / "what-changed.md"
CONFIG_SOURCE = ROOT / "assets" / "marts.py"


def _value(text: str) -> object:
    text = text.strip()
    if text in ("true", "false"):
        return text == "true"
    if text == "the refresh's now":
        return None
    return float(text)


def documented_defaults() -> dict[str, object]:
    """The table under '## Defaults' of docs/what-changed.md: setting -> default."""
    section = DOC.read_text().split("\n## Defaults", 1)[1].split("\n## ", 1)[0]
    found: dict[str, object] = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        names = re.findall(r"`(\w+)`", cells[0]) if len(cells) == 3 else []
        if not names:
            continue
        values = cells[1].split(",") if len(names) > 1 else [cells[1]]
        assert len(values) == len(names), line
        for name, value in zip(names, values, strict=True):
            assert name not in found, f"{name} documented twice"
            found[name] = _value(value)
    return found


def config_docstring_defaults() -> dict[str, object]:
    """The '(default)' each attribute docstring of RegressionsConfig ends with."""
    tree = ast.parse(CONFIG_SOURCE.read_text())
    body = next(node for node in ast.walk(tree)
                if isinstance(node, ast.ClassDef) and node.name == "RegressionsConfig").body
    found: dict[str, object] = {}
    for node, after in zip(body, body[1:], strict=False):
        if (isinstance(node, ast.AnnAssign) and isinstance(after, ast.Expr)
                and isinstance(after.value, ast.Constant)):
            match = re.search(r"\(([\w.]+)(?: = [^)]*)?\)\.?$", " ".join(after.value.value.split()))
            if match:
                found[node.target.id] = _value(match.group(1))
    return found


def test_the_doc_table_lists_every_setting_with_the_codes_default() -> None:
    documented = documented_defaults()
    code = {f.name: getattr(RegressionSettings(), f.name) for f in fields(RegressionSettings)}
    assert set(documented) == set(code)
    for name, value in code.items():
        assert documented[name] == value, f"{name}: docs say {documented[name]}, code {value}"


def test_the_dagster_config_defaults_are_the_same() -> None:
    documented = documented_defaults()
    schema = RegressionsConfig.to_fields_dict()
    assert set(schema) == set(documented)
    for name, field in schema.items():
        default = field.default_value if field.default_provided else None
        assert default == documented[name], f"{name}: run config {default}, docs {documented[name]}"
    assert MartsConfig().regressions.settings() == RegressionSettings()


def test_the_config_docstrings_state_the_same_defaults() -> None:
    stated = config_docstring_defaults()
    documented = documented_defaults()
    # Every setting but window_end ("default: the refresh's now") names its default.
    assert set(stated) == set(documented) - {"window_end"}
    for name, value in stated.items():
        assert value == documented[name], f"{name}: docstring says {value}"

