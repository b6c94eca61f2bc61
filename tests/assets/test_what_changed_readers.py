"""The closing summary, the report and the regressions check say the same thing: one line when
no type has a job in the current window (with how current the data is) instead of "nothing
significant", and, for each flag, whether it is new or since when it stands."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from pathlib import Path

from assets.checks import what_changed_check
from pipelines.resources import WarehouseResource
from pipelines.services.report import build_report
from pipelines.services.summary import summary_text
from tests.helpers import REGRESSION_NOW as NOW
from tests.helpers import job_bodies, load, loaded
from warehouse import connect, refresh_marts

FETCHED = NOW - timedelta(days=4)


def _warehouse(path: Path, jobs: list[dict], *refreshes: timedelta) -> Path:
    with connect(path) as con:
        load(con, [loaded(j["id"], j, wrap=True, at=FETCHED) for j in jobs])
        for offset in refreshes or (timedelta(0),):
            refresh_marts(con, now=NOW + offset)
    return path


def _readers(path: Path) -> tuple[str, str, object]:
    """(the summary, the report's what-changed section, the check's result)."""
    summary = summary_text(path)
    with connect(path) as con:
        page = build_report(con, path.parent / "report.html", warehouse=str(path)).path.read_text()
    section = page[page.index('<section id="what-changed"'):]
    section = section[:section.index("</section>")]
    return summary, section, what_changed_check(WarehouseResource(path=str(path)))


def _what_changed_lines(summary: str) -> list[str]:
    lines = summary.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("what changed"))
    end = lines.index("", start)
    return lines[start:end]


def test_stalled_data_is_said_in_one_line_everywhere(tmp_path) -> None:
    # The last job was created six days before the refresh; the last fetch was four days before.
    jobs = job_bodies("compare", 120, start=NOW - timedelta(days=10), span=timedelta(days=5),
                      failed_every=20)
    summary, section, check = _readers(_warehouse(tmp_path / "w.duckdb", jobs))
    line = ("no current data: no job created 2026-02-28 00:00 – 2026-03-01 00:00 UTC "
            "(newest job created 2026-02-23 23:00 UTC, last successful fetch "
            "2026-02-25 00:00 UTC)")
    assert _what_changed_lines(summary) == [f"what changed: {line}"]
    assert "nothing significant" not in summary
    assert f"<b>{html.escape(line)}</b>" in section and "Nothing significant" not in section
    assert "data-flagged='0'" in section
    assert check.passed and check.description == line
    assert check.metadata["current_data"].value is False
    assert check.metadata["regressions_found"].value == 0


def test_no_rows_at_all_is_said_the_same_way(tmp_path) -> None:
    # Every job is older than the baseline: marts.regressions has no row.
    jobs = job_bodies("compare", 24, start=NOW - timedelta(days=20), span=timedelta(days=1))
    summary, section, check = _readers(_warehouse(tmp_path / "w.duckdb", jobs))
    line = ("no current data: no job created in the current window or its baseline "
            "(newest job created 2026-02-09 23:00 UTC, last successful fetch "
            "2026-02-25 00:00 UTC)")
    assert _what_changed_lines(summary) == [f"what changed: {line}"]
    assert html.escape(line) in section
    assert check.passed and check.description == line


def test_an_empty_warehouse_says_nothing_was_loaded(tmp_path) -> None:
    summary, _, check = _readers(_warehouse(tmp_path / "w.duckdb", []))
    assert _what_changed_lines(summary) == [
        "what changed: no current data: no job created in the current window or its baseline "
        "(no job loaded yet, no successful fetch yet)"]
    assert check.description == _what_changed_lines(summary)[0].removeprefix("what changed: ")


def test_current_data_without_a_change_is_still_nothing_significant(tmp_path) -> None:
    window, baseline = NOW - timedelta(hours=24), NOW - timedelta(days=15)
    jobs = [*job_bodies("compare", 400, start=baseline, span=timedelta(days=14), failed_every=20),
            *job_bodies("compare", 80, start=window, span=timedelta(hours=23), failed_every=20)]
    summary, section, check = _readers(_warehouse(tmp_path / "w.duckdb", jobs))
    assert _what_changed_lines(summary)[1:] == ["  nothing significant"]
    assert "<b>Nothing significant.</b>" in section
    assert check.passed and check.description == "nothing significant"
    assert check.metadata["current_data"].value is True


def test_a_second_refresh_marks_the_flag_as_standing(tmp_path) -> None:
    """What a second `make demo` shows: the same change, no longer new."""
    window, baseline = NOW - timedelta(hours=24), NOW - timedelta(days=15)
    jobs = [*job_bodies("compare", 400, start=baseline, span=timedelta(days=14), failed_every=20),
            *job_bodies("compare", 80, start=window, span=timedelta(hours=23), failed_every=4)]
    path = _warehouse(tmp_path / "w.duckdb", jobs)
    summary, section, check = _readers(path)
    assert re.fullmatch(r"  compare failure_rate: 5\.0% → 25\.0% \(n 400 → 80, p=\S+; "
                        r"baseline: 14\.0 days of data\) — new", _what_changed_lines(summary)[1])
    assert "<span class='flag'>new</span>" in section
    assert check.metadata["new"].value == 1 and check.description.endswith(" — new")

    with connect(path) as con:
        refresh_marts(con, now=NOW + timedelta(minutes=30))
    summary, section, check = _readers(path)
    standing = "flagged since 2026-03-01 00:00 UTC"
    assert _what_changed_lines(summary)[1].endswith(f"days of data) — {standing}")
    assert f"<span class='flag'>{standing}</span>" in section
    assert check.metadata["new"].value == 0 and check.description.endswith(standing)
    assert f"| {standing} |" in check.metadata["flagged"].value
