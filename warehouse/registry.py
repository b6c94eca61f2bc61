"""The registry of the warehouse's tables: `schema/tables.yml`, `core/tables.yml` and
`marts/tables.yml`, beside the SQL that creates or fills them (dbt's `schema.yml`).

Each entry is a table's one home for what is said about it: its layer (the schema it is
in), its place in the run order (the order of the file), its description, every column
with its meaning, which columns are the users' contract, the preview of its rows the UI
shows, the data checks beside it and the query of the figures plotted across runs. The
SQL runner, the Dagster assets, the docs generator and the schema test read it; types
come from the warehouse (the migrations' DDL; a mart's, its model's result). Adding a mart
is its `marts/<name>.sql` plus its entry.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from warehouse.db import SQL_DIR

# The files in the order their layers run: ops and raw (created by the migrations), core
# (derived from raw), marts (derived from core).
REGISTRY_FILES = ("schema/tables.yml", "core/tables.yml", "marts/tables.yml")
SCHEMAS = ("ops", "raw", "core", "marts")
_NAME = re.compile(r"[a-z_][a-z0-9_]*")
_TABLE_KEYS = {"name", "kind", "description", "asset", "contract", "preview", "columns",
               "checks", "trend_query"}
_CHECK_KEYS = {"name", "description", "blocking"}


class RegistryError(ValueError):
    """An entry of a tables.yml file is malformed: says which file, table and key."""


@dataclass(frozen=True)
class Column:
    name: str
    description: str
    contract: bool  # part of the stable SQL interface users and dashboards rely on


@dataclass(frozen=True)
class Preview:
    """The rows worth reading in the UI: `columns` of the top rows in `order_by` order."""

    order_by: str
    columns: tuple[str, ...]


@dataclass(frozen=True)
class Check:
    """A data check beside the table: `checks/<name>.sql` returns one row whose `failures`
    column counts what is wrong (other columns become the check's metadata)."""

    name: str
    description: str
    blocking: bool  # a failure stops the run's downstream steps


@dataclass(frozen=True)
class Table:
    schema: str
    name: str
    kind: str  # 'table' or 'view'
    description: str
    asset: bool  # a Dagster asset keeps it (asset key = [schema, name])
    columns: tuple[Column, ...]
    preview: Preview | None
    checks: tuple[Check, ...]
    trend_query: str | None  # queries/<name>.sql: one row, a figure per column, plotted

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.name}"

    @property
    def key(self) -> list[str]:
        """The asset key path: [schema, name]."""
        return [self.schema, self.name]

    @property
    def contract(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.contract)

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.name == name), None)


def _fail(where: str, problem: str) -> RegistryError:
    return RegistryError(f"{where}: {problem}")


def _columns(entry: dict[str, Any], where: str) -> tuple[Column, ...]:
    columns = entry.get("columns") or {}
    if not isinstance(columns, dict) or not columns:
        raise _fail(where, "`columns` must map each column to its meaning")
    contract = set(entry.get("contract") or ())
    if unknown := contract - set(columns):
        raise _fail(where, f"contract names columns it does not list: {sorted(unknown)}")
    for name, text in columns.items():
        if not _NAME.fullmatch(str(name)) or not isinstance(text, str) or not text.strip():
            raise _fail(where, f"column {name!r} needs a name and a meaning")
    return tuple(Column(name, text.strip(), name in contract) for name, text in columns.items())


def _preview(entry: dict[str, Any], columns: tuple[Column, ...], where: str) -> Preview | None:
    preview = entry.get("preview")
    if preview is None:
        return None
    shown = tuple(preview.get("columns") or ())
    if unknown := set(shown) - {c.name for c in columns}:
        raise _fail(where, f"preview shows columns it does not list: {sorted(unknown)}")
    return Preview(str(preview["order_by"]), shown)


def _checks(entry: dict[str, Any], where: str) -> tuple[Check, ...]:
    checks = []
    for check in entry.get("checks") or ():
        if set(check) - _CHECK_KEYS or not _NAME.fullmatch(str(check.get("name", ""))):
            raise _fail(where, f"a check takes {sorted(_CHECK_KEYS)}: {check}")
        checks.append(Check(check["name"], check["description"].strip(),
                            bool(check.get("blocking", False))))
    return tuple(checks)


def _table(schema: str, entry: dict[str, Any], source: str) -> Table:
    where = f"warehouse/{source}: {schema}.{entry.get('name')}"
    if unknown := set(entry) - _TABLE_KEYS:
        raise _fail(where, f"unknown keys {sorted(unknown)}")
    if not _NAME.fullmatch(str(entry.get("name", ""))) or not entry.get("description"):
        raise _fail(where, "every table needs a name and a description")
    if entry.get("kind", "table") not in ("table", "view"):
        raise _fail(where, "kind is 'table' or 'view'")
    columns = _columns(entry, where)
    return Table(schema=schema, name=entry["name"], kind=entry.get("kind", "table"),
                 description=" ".join(entry["description"].split()),
                 asset=bool(entry.get("asset", False)), columns=columns,
                 preview=_preview(entry, columns, where), checks=_checks(entry, where),
                 trend_query=entry.get("trend_query"))


@cache
def tables() -> tuple[Table, ...]:
    """Every registered table, layer by layer (ops, raw, core, marts), each in run order."""
    return read_registry(SQL_DIR)


def read_registry(root: Path) -> tuple[Table, ...]:
    """The tables registered by the `tables.yml` files under `root` (the warehouse
    package's folder), checked: a malformed entry raises `RegistryError` saying where."""
    found: list[Table] = []
    for source in REGISTRY_FILES:
        document = yaml.safe_load((root / source).read_text()) or {}
        for schema, entries in document.items():
            if schema not in SCHEMAS:
                raise _fail(f"warehouse/{source}", f"unknown layer {schema!r}")
            found += [_table(schema, entry, source) for entry in entries]
    names = [t.qualified for t in found]
    if twice := sorted({name for name in names if names.count(name) > 1}):
        raise RegistryError(f"a table is registered twice: {', '.join(twice)}")
    return tuple(sorted(found, key=lambda t: SCHEMAS.index(t.schema)))


def layer(schema: str, *, kind: str | None = "table") -> tuple[Table, ...]:
    """The tables of one layer in run order (`kind=None`: views too)."""
    return tuple(t for t in tables() if t.schema == schema and kind in (None, t.kind))


def find(qualified: str) -> Table | None:
    """The entry of `schema.table`, or None when it is not registered."""
    return next((entry for entry in tables() if entry.qualified == qualified), None)


def table(qualified: str) -> Table:
    """The entry of `schema.table`; a ValueError for anything not registered (so a name
    taken from here is safe to put in SQL)."""
    if (entry := find(qualified)) is None:
        raise ValueError(f"unknown table {qualified}")
    return entry


def asset_tables() -> tuple[Table, ...]:
    """The tables Dagster assets keep, in run order."""
    return tuple(t for t in tables() if t.asset)
