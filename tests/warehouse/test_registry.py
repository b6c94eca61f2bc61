"""The table registry: a malformed entry is refused with its file, table and key; adding a
mart is its SQL model plus its entry, and the runner, the assets, the UI metadata and the
data dictionary all pick it up."""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.helpers import ROOT
from warehouse import registry

MART = """\
  - name: jobs_by_type
    description: Per job type, the jobs loaded (an example mart added by a test).
    asset: true
    contract: [job_type, jobs]
    preview:
      order_by: jobs DESC
      columns: [job_type, jobs]
    columns:
      job_type: The job's type.
      jobs: Jobs of the type.
"""


def _registry_copy(tmp_path: Path) -> Path:
    copy = tmp_path / "warehouse"
    shutil.copytree(ROOT / "warehouse", copy, ignore=shutil.ignore_patterns("__pycache__"))
    return copy


@pytest.mark.parametrize(("change", "problem"), [
    (("    asset: true\n", "    asset: true\n    colour: blue\n"), "unknown keys"),
    (("      job_type: The job's type.\n", "      job_type:\n"), "needs a name and a meaning"),
    (("    contract: [job_type, jobs]\n", "    contract: [job_type, nope]\n"),
     "contract names columns it does not list"),
    (("      columns: [job_type, jobs]\n", "      columns: [job_type, nope]\n"),
     "preview shows columns it does not list"),
])
def test_a_malformed_entry_is_refused_saying_where(tmp_path, change, problem) -> None:
    copy = _registry_copy(tmp_path)
    marts = copy / "marts" / "tables.yml"
    marts.write_text(marts.read_text() + "\n" + MART.replace(*change))
    with pytest.raises(registry.RegistryError, match=problem) as error:
        registry.read_registry(copy)
    assert "warehouse/marts/tables.yml: marts.jobs_by_type" in str(error.value)


def test_a_table_registered_twice_is_refused(tmp_path) -> None:
    copy = _registry_copy(tmp_path)
    marts = copy / "marts" / "tables.yml"
    marts.write_text(marts.read_text() + "\n" + MART + "\n" + MART)
    with pytest.raises(registry.RegistryError, match="registered twice: marts.jobs_by_type"):
        registry.read_registry(copy)


def test_adding_a_mart_is_its_sql_plus_its_entry(tmp_path) -> None:
    copy = _registry_copy(tmp_path)
    (copy / "marts" / "jobs_by_type.sql").write_text(
        "SELECT job_type, count(*) AS jobs FROM core.jobs GROUP BY ALL\n")
    marts = copy / "marts" / "tables.yml"
    marts.write_text(marts.read_text() + "\n" + MART)
    probe = textwrap.dedent("""
        import json, sys
        import warehouse
        from warehouse import registry
        from assets.metadata import table_metadata
        from pipelines.definitions import build_definitions
        from pipelines.tools.docs.dictionary import dictionary_markdown
        from datetime import UTC, datetime

        assert registry.__file__.startswith(sys.argv[1]), registry.__file__
        with warehouse.connect(sys.argv[2]) as con:
            at = datetime(2026, 1, 1, tzinfo=UTC)
            warehouse.land_batch(con, [warehouse.FetchedItem(
                f"job_{i}", "loaded", at, 200, payload_text=json.dumps({"data": {
                    "id": f"job_{i}", "type": "parse" if i % 3 else "compare",
                    "status": "COMPLETED", "events": []}})) for i in range(7)])
            warehouse.derive_core(con)
            rows = warehouse.refresh_marts(con)
            metadata = table_metadata(con, registry.table("marts.jobs_by_type"))
            data = con.execute("SELECT * FROM marts.jobs_by_type ORDER BY jobs").fetchall()
        spec = next(s for s in build_definitions().resolve_all_asset_specs()
                    if s.key.path == ["marts", "jobs_by_type"])
        page = dictionary_markdown()
        print(json.dumps({"rows": rows["jobs_by_type"], "data": data,
                          "preview": metadata["preview"].value,
                          "description": spec.description,
                          "in_dictionary": "## marts.jobs_by_type" in page,
                          "contract": "| `jobs` | `BIGINT` | contract | Jobs of the type. |"
                                      in page}))
    """)
    result = subprocess.run(
        [sys.executable, "-c", probe, str(copy), str(tmp_path / "w.duckdb")],
        env={"PYTHONPATH": f"{tmp_path}:{ROOT}", "PATH": "/usr/bin:/bin"},
        capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    import json

    found = json.loads(result.stdout.strip().splitlines()[-1])
    assert found["rows"] == 2 and found["data"] == [["compare", 3], ["parse", 4]]
    assert found["description"].startswith("Per job type, the jobs loaded")
    assert found["in_dictionary"] and found["contract"]
    assert found["preview"].splitlines()[0].replace(" ", "") == "|job_type|jobs|"
