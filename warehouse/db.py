"""Connections to the warehouse file, schema migrations, and the SQL files.

The file is created with storage version v1.5.0 (DuckDB setting
`storage_compatibility_version`), not DuckDB 2.0's default (version 69), so the
DuckDB CLI 1.5.x from PyPI and DuckDB 1.x drivers our users have can read it. An
existing file keeps the storage version it was created with.

Migrations are `schema/NNN_name.sql`, applied in order, each in its own
transaction together with its row in `ops.schema_version`; a warehouse is upgraded in
place, never dropped, by every migration it has no row for (not only those above its
highest: numbers taken on parallel branches may land below one already applied).
Session macros (`schema/macros.sql`: the canonical status mapping) are TEMP, defined on
every connection.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

import duckdb

SQL_DIR = Path(__file__).resolve().parent
STORAGE_VERSION = "v1.5.0"
_MIGRATION = re.compile(r"^(\d{3})_(\w+)\.sql$")
_LAYERS = ("schema", "land", "core", "marts", "checks", "queries", "cookbook")
_PARAM = re.compile(r"\$([A-Za-z_]\w*)")


@cache
def sql(layer: str, name: str) -> str:
    """The text of `warehouse/<layer>/<name>.sql` (layer and name from a fixed set)."""
    if layer not in _LAYERS or not re.fullmatch(r"\w+", name):
        raise ValueError(f"no SQL model {layer}/{name}")
    return (SQL_DIR / layer / f"{name}.sql").read_text()


def sql_params(text: str) -> list[str]:
    """The named parameters (`$name`) a SQL text binds, in order of first use; `--`
    comments are not read."""
    code = "\n".join(line.split("--", 1)[0] for line in text.splitlines())
    return list(dict.fromkeys(_PARAM.findall(code)))


def migrations() -> list[tuple[int, str]]:
    """(version, name) of every migration shipped, in order."""
    found = []
    for path in (SQL_DIR / "schema").glob("*.sql"):
        match = _MIGRATION.match(path.name)
        if match:
            found.append((int(match.group(1)), path.stem))
    return sorted(found)


LATEST_VERSION = migrations()[-1][0]


def first_row(cursor: duckdb.DuckDBPyConnection) -> tuple | None:
    """The first row of a result, reading it to the end.

    DuckDB 2.0 leaves a result open after `fetchone()`, and an open result makes
    the next `register()` on the connection fail; reading all rows closes it.
    """
    rows = cursor.fetchall()
    return rows[0] if rows else None


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """One explicit transaction (DuckDB otherwise commits statement by statement):
    committed when the block ends, rolled back if anything in it, the commit included,
    raises."""
    con.begin()
    try:
        yield con
        con.commit()
    except Exception:
        con.rollback()
        raise


def schema_version(con: duckdb.DuckDBPyConnection) -> int:
    """The version the open warehouse is at (0 for an empty file)."""
    row = first_row(con.execute("SELECT coalesce(max(version), 0) FROM ops.schema_version"))
    return int(row[0]) if row else 0


def migrate(con: duckdb.DuckDBPyConnection, up_to: int | None = None) -> int:
    """Apply, in order, every migration shipped that the warehouse has not recorded (up to
    `up_to`): numbers taken on parallel branches may land below one already applied."""
    con.execute(sql("schema", "bootstrap"))
    applied = {row[0] for row in con.execute("SELECT version FROM ops.schema_version").fetchall()}
    for version, name in migrations():
        if version in applied or (up_to is not None and version > up_to):
            continue
        with transaction(con):
            con.execute(sql("schema", name))
            con.execute(
                "INSERT INTO ops.schema_version VALUES (?, ?, ?)",
                [version, name, datetime.now(UTC)],
            )
    return schema_version(con)


@contextmanager
def connect(
    path: str | Path,
    *,
    migrate_to: int | None = None,
    threads: int | None = None,
    memory_limit: str | None = None,
) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open the warehouse at `path` (created if missing), migrated, in UTC; closed on exit.

    `migrate_to` stops migrations at that version (tests of upgrades use it).
    """
    config: dict[str, str | int] = {"storage_compatibility_version": STORAGE_VERSION}
    if threads:
        config["threads"] = threads
    if memory_limit:
        config["memory_limit"] = memory_limit
    con = duckdb.connect(str(path), config=config)
    try:
        con.execute("SET TimeZone = 'UTC'")
        con.execute(sql("schema", "macros"))
        migrate(con, up_to=migrate_to)
        yield con
    finally:
        con.close()
