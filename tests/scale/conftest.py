"""Fixtures for scale tests: a private PostgreSQL server (the shared tmp warehouse,
inbox and resources come from tests/conftest.py)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import Postgres, free_port, postgres_bin


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    """A private PostgreSQL cluster in a temp folder on a free port, stopped afterwards.

    Skips (saying why) where no server binaries are installed. As root, the server
    runs as the `postgres` system user: PostgreSQL refuses to run as root.
    """
    bin_dir = postgres_bin()
    if bin_dir is None:
        pytest.skip("no PostgreSQL server binaries (initdb, pg_ctl): `make test` installs "
                    "them with apt-get where it can")
    as_user: list[str] = []
    if os.geteuid() == 0:
        if shutil.which("runuser") is None:
            pytest.skip("running as root without runuser: can't start PostgreSQL")
        try:
            import pwd

            pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root and there is no postgres user to run PostgreSQL as")
        as_user = ["runuser", "-u", "postgres", "--"]
    folder = Path(tempfile.mkdtemp(prefix="bedrock-pg-"))
    if as_user:
        shutil.chown(folder, "postgres", "postgres")
    data = folder / "data"
    port = free_port()

    def run(*args: str) -> None:
        subprocess.run([*as_user, *args], check=True, capture_output=True, timeout=60)

    run(str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust",
        "-E", "UTF8", "--no-sync")
    run(str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(folder / "server.log"), "-w",
        "-o", f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off", "start")
    try:
        psycopg2 = pytest.importorskip("psycopg2")  # installed with dagster-postgres
        con = psycopg2.connect(host="127.0.0.1", port=port, user="postgres", dbname="postgres")
        con.autocommit = True
        with con.cursor() as cursor:
            cursor.execute("CREATE DATABASE dagster")
        con.close()
        yield Postgres(host="127.0.0.1", port=port, user="postgres", db="dagster")
    finally:
        subprocess.run([*as_user, str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate",
                        "-w", "stop"], check=False, capture_output=True, timeout=60)
        shutil.rmtree(folder, ignore_errors=True)
