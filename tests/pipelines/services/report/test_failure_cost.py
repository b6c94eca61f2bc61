"""The report's chapter "What failures cost": credits per week spent, on failures and on
retries, named by its table, with the rows it drew; 'no credits yet' without priced jobs."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from pipelines.services.report import build_report
from tests.helpers import job_body, load, loaded
from warehouse import connect, refresh_marts

MONDAY = datetime(2026, 2, 2, tzinfo=UTC)  # 2026-W06


def _jobs() -> list[dict]:
    """compare on two blocks over two weeks: in week 6 one fails and is run again an hour
    later; in week 7 two complete."""
    plan = [("c1", 0, "FAILED"), ("c2", 1, "COMPLETED"), ("c3", 7 * 24, "COMPLETED"),
            ("c4", 7 * 24 + 1, "COMPLETED")]
    return [{**job_body(job_id, "compare", MONDAY + timedelta(hours=hours), queued=1,
                        running=10, status=status),
             "target_type": "Block", "target_id": "blk_1" if job_id in ("c1", "c2") else "blk_2"}
            for job_id, hours, status in plan]


def _chapter(tmp_path, prices: dict[str, float] | None = None) -> str:
    path = tmp_path / "w.duckdb"
    with connect(path) as con:
        load(con, [loaded(j["id"], j, wrap=True) for j in _jobs()])
        refresh_marts(con, now=MONDAY + timedelta(days=10), credit_prices=prices)
        html = build_report(con, tmp_path / "report.html", warehouse=str(path)).path.read_text()
    assert '<li><a href="#credits">What failures cost</a></li>' in html
    return re.search(r'<section id="credits">(.*?)</section>', html, flags=re.S).group(1)


def test_the_chapter_draws_credits_spent_failed_and_retried_per_week(tmp_path):
    section = _chapter(tmp_path)
    assert "<h2>What failures cost</h2>" in section
    assert "created within 7 days after such a job ended" in section  # how it is counted
    figure = re.search(r'<figure data-chart="credits">(.*?)</figure>', section, flags=re.S)
    assert figure and "<svg" in figure.group(1) and "<path" in figure.group(1)
    assert "Source: <code>marts.credits_by_week</code> · 2 rows" in figure.group(1)
    # The rows drawn: week 6 spent 20, 10 on the failure, 10 on its retry; week 7 spent 20.
    cells = re.findall(r"<td>([^<]*)</td>", section)
    assert cells[:7] == ["2026-02-02", "2026-W06", "2", "20", "10", "10", "True"]
    assert cells[7:14] == ["2026-02-09", "2026-W07", "2", "20", "0", "0", "False"]
    assert "FROM marts.credits_by_week" in section  # the SQL behind it


def test_without_priced_jobs_the_chapter_says_so(tmp_path):
    section = _chapter(tmp_path, {"compare": 0})
    assert "Source: <code>marts.credits_by_week</code> · 0 rows" in section
    assert "<p><em>(no rows)</em></p>" in section
