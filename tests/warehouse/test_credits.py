"""Credits (docs/api-contract.md, "Credits"): each job costs its type's price; credits of jobs
that ended FAILED or CANCELED, and of retries (same type and target, created at or after
such a job's end and at most 7 days after), per ISO week of creation; the default prices are
the documented ones, and a price set in the run config is used."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import dagster as dg
import duckdb
import pytest

from assets.marts import MartsConfig, mart_tables
from assets.metadata import table_metadata
from pipelines.resources import WarehouseResource
from tests.helpers import ROOT, load, loaded
from warehouse import connect, refresh_marts, registry
from warehouse.credits import DEFAULT_PRICES, price_params, prices_in_force

T0 = datetime(2026, 1, 5, tzinfo=UTC)  # a Monday: the first week is 2026-W02
WEEK1, WEEK2 = date(2026, 1, 5), date(2026, 1, 12)
DAY = 86_400
NOW = T0 + timedelta(days=10)  # week 1 is over, week 2 is not


def at(seconds: float) -> str:
    return (T0 + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


def job(job_id: str, job_type: str, target: str | None, created: float,
        end: float | None = None, status: str = "COMPLETED", *,
        target_type: str = "Block", cut_off: bool = False) -> dict:
    """A CMS job on block `target`, created at T0 + `created` s, running from a second later,
    ending in `status` at T0 + `end` s (open while `end` is None; `cut_off`: the terminal
    event is missing and the end is `updated_at`)."""
    events = [("PENDING", created), ("RUNNING", created + 1)]
    if end is not None and not cut_off:
        events.append((status, end))
    body = {"id": job_id, "type": job_type, "status": status if end is not None else "RUNNING",
            "created_at": at(created), "updated_at": at(end if end is not None else created + 1),
            "target_type": target_type if target else None, "target_id": target,
            "events": [{"status": s, "timestamp": at(t)} for s, t in events]}
    return body


JOBS = [
    # Block A, parse: a failure at 100 s; a job created before that end is no retry, one an
    # hour later is (target type spelled in Vision's case), one 8 days later is not.
    job("a0", "parse", "blk_A", 50, 60),
    job("a1", "parse", "blk_A", 0, 100, "FAILED"),
    job("a2", "parse", "blk_A", 3600, 3700, target_type="block"),
    job("a3", "parse", "blk_A", 8 * DAY, 8 * DAY + 10),
    job("x1", "parse", "blk_Z", 3600, 3700),  # another target: no retry
    job("y1", "compare", "blk_A", 3600, 3700),  # another type on the same target: no retry
    # Block B, parse: canceled at 200 s; exactly 7 days later is a retry, a second more is not.
    job("b1", "parse", "blk_B", 150, 200, "CANCELED"),
    job("b2", "parse", "blk_B", 200 + 7 * DAY, 200 + 7 * DAY + 5),
    job("b3", "parse", "blk_B", 201 + 7 * DAY, 201 + 7 * DAY + 5),
    # Block C, compare: c2 is created the second c1 ends and fails too (a retry and a
    # failure); c3 follows both failures and counts once.
    job("c1", "compare", "blk_C", 0, 10, "FAILED"),
    job("c2", "compare", "blk_C", 10, 30, "FAILED"),
    job("c3", "compare", "blk_C", 40, 50),
    # Block F, parse: failed, its terminal event cut off; its end is updated_at (500 s), so
    # a job created at 300 s is no retry and one at 600 s is.
    job("f1", "parse", "blk_F", 0, 500, "FAILED", cut_off=True),
    job("f2", "parse", "blk_F", 300, 310),
    job("f3", "parse", "blk_F", 600, 610),
    # No target: never a retry.
    job("n1", "parse", None, 0, 5, "FAILED"),
    job("n2", "parse", None, 600, 700),
    job("o1", "parse", "blk_O", 300),  # still running: costs, not failed
    job("u1", "legend_parse", "blk_A", 0, 20, "FAILED"),  # no price: 0
]
NO_CREATED_AT = {**job("z1", "parse", "blk_A", 3600, 3700), "created_at": None}


@pytest.fixture
def credits(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    load(con, [loaded(j["id"], j, wrap=True) for j in [*JOBS, NO_CREATED_AT]])
    refresh_marts(con, now=NOW)
    return con


def rows(con: duckdb.DuckDBPyConnection) -> dict[tuple, tuple]:
    found = con.execute(
        "SELECT week, job_type, jobs, jobs_failed, jobs_retried, credits, credits_failed,"
        " credits_retried FROM marts.credits_by_week").fetchall()
    return {(week, job_type): tuple(rest) for week, job_type, *rest in found}


def test_credits_failures_and_retries_per_week_and_type(credits) -> None:
    assert rows(credits) == {
        # parse, week 1: a0 a1 a2 x1 b1 f1 f2 f3 n1 n2 o1 at 5 each; failed a1 b1 f1 n1;
        # retries a2 (after a1) and f3 (after f1's end).
        (WEEK1, "parse"): (11, 4, 2, 55.0, 20.0, 10.0),
        # parse, week 2: a3 (8 days after a1), b2 (7 days after b1: a retry), b3 (a second
        # too late).
        (WEEK2, "parse"): (3, 0, 1, 15.0, 0.0, 5.0),
        # compare at 10: c1, c2 failed; c2 and c3 retries; y1 not one.
        (WEEK1, "compare"): (4, 2, 2, 40.0, 20.0, 20.0),
        (WEEK1, "legend_parse"): (1, 1, 0, 0.0, 0.0, 0.0),  # no price
        (None, "parse"): (1, 0, 0, 5.0, 0.0, 0.0),  # unknown created_at: never a retry
    }


def test_week_columns(credits) -> None:
    found = credits.execute(
        "SELECT DISTINCT week, iso_week, week_complete FROM marts.credits_by_week"
        " ORDER BY week NULLS LAST").fetchall()
    assert found == [(WEEK1, "2026-W02", True), (WEEK2, "2026-W03", False), (None, None, False)]
    price = dict(credits.execute("SELECT job_type, any_value(price) FROM marts.credits_by_week"
                                 " GROUP BY ALL").fetchall())
    assert price == {"parse": 5.0, "compare": 10.0, "legend_parse": 0.0}


def test_a_price_set_is_used_over_the_defaults(credits) -> None:
    refresh_marts(credits, now=NOW, credit_prices={"legend_parse": 2.5, "parse": 0})
    found = rows(credits)
    assert found[(WEEK1, "legend_parse")] == (1, 1, 0, 2.5, 2.5, 0.0)
    assert found[(WEEK1, "parse")][3:] == (0.0, 0.0, 0.0)  # set to 0: not counted
    assert found[(WEEK1, "compare")][3:] == (40.0, 20.0, 20.0)  # the default stays


def test_the_trend_figures_are_the_latest_complete_week(credits) -> None:
    metadata = table_metadata(credits, registry.table("marts.credits_by_week"))
    assert {k: v for k, v in metadata.items() if k.startswith("last_week")} == {
        "last_week_credits": 95.0, "last_week_credits_failed": 40.0,
        "last_week_credits_retried": 30.0, "last_week_failed_share": round(40 / 95, 4)}


def test_prices_are_checked() -> None:
    assert prices_in_force() == dict(DEFAULT_PRICES)
    assert price_params({"search": 1})["credit_prices"][-1] == {"job_type": "search",
                                                                "price": 1.0}
    for bad in ({"parse": -1}, {"parse": float("nan")}, {"": 1}):
        with pytest.raises(ValueError, match="credit price"):
            prices_in_force(bad)


def _documented_prices() -> dict[str, float]:
    """The credits table of docs/api-contract.md: job type → credits per operation."""
    text = (ROOT / "docs" / "api-contract.md").read_text()
    section = text.split("\n## Credits\n", 1)[1].split("\n## ", 1)[0]
    table = re.findall(r"^\| (\w+) \| (\d+(?:\.\d+)?) \| `([\w.]+)` \|$", section, flags=re.M)
    assert table, "no credits table in docs/api-contract.md"
    assert all(operation == job_type for operation, _, job_type in table)
    return {job_type: float(price) for _, price, job_type in table}


def test_the_default_prices_are_the_documented_ones() -> None:
    assert dict(DEFAULT_PRICES) == _documented_prices() == {
        "parse": 5.0, "compare": 10.0, "evaluate": 5.0, "classify": 3.0, "search": 5.0}


def test_the_run_configs_default_is_the_warehouses() -> None:
    assert MartsConfig().credit_prices == dict(DEFAULT_PRICES)


def test_the_marts_step_takes_prices_from_its_run_config(wh_path) -> None:
    with connect(wh_path) as con:
        load(con, [loaded(j["id"], j, wrap=True) for j in JOBS])
    result = dg.materialize(
        [mart_tables], resources={"warehouse": WarehouseResource(path=str(wh_path))},
        run_config={"ops": {"mart_tables": {"config": {"credit_prices": {"legend_parse": 4}}}}})
    assert result.success
    with duckdb.connect(str(wh_path), read_only=True) as con:
        assert dict(con.execute("SELECT job_type, sum(credits_failed) FROM marts.credits_by_week"
                                " GROUP BY ALL").fetchall()) == {
            "legend_parse": 4.0, "parse": 20.0, "compare": 20.0}  # the defaults stay
