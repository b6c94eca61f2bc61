"""Simulator shifts: worse by the factor from the moment asked, seeded; no shift, same data."""

from __future__ import annotations

from dataclasses import asdict
from functools import cache

import pytest

from pipelines.simulator.generator import TERMINAL, DataConfig, Shift, generate
from pipelines.tools.cli import build_parser
from tests.helpers import EPOCH

DAY = 86_400.0


@cache
def _generated(config: DataConfig) -> list:
    return generate(config)[1]


def _jobs(config: DataConfig) -> list[dict]:
    return [asdict(job) for job in generate(config)[1]]


def _figures(config: DataConfig, job_type: str, since: float, until: float) -> dict[str, float]:
    jobs = [j for j in _generated(config) if j.type == job_type and since <= j.created_at < until
            and j.final_status in TERMINAL]
    runs = sorted(j.events[-1][1] - j.events[0][1] for j in jobs)
    return {
        "n": len(jobs),
        "failure": sum(j.final_status == "FAILED" for j in jobs) / len(jobs),
        "requeue": sum(sum(s == "RUNNING" for s, _ in j.events) > 1 for j in jobs) / len(jobs),
        "p50_total": runs[len(runs) // 2],
    }


CONFIG = DataConfig(jobs=16_000, seed=4, history_days=2.0)


@pytest.mark.parametrize(("kind", "figure", "low", "high"), [
    ("failure", "failure", 2.0, 4.5), ("requeue", "requeue", 2.0, 4.5),
    ("duration", "p50_total", 2.5, 3.5),
])
def test_the_shifted_figure_moves_by_about_the_factor_after_the_moment(kind, figure, low, high):
    shifted = DataConfig(**{**CONFIG.__dict__,
                            "shifts": (Shift("overlay.generate", kind, 3.0, 36),)})
    moment = EPOCH - 36 * 3600
    before = _figures(CONFIG, "overlay.generate", moment, EPOCH)
    after = _figures(shifted, "overlay.generate", moment, EPOCH)
    assert after["n"] > 250
    assert low <= after[figure] / before[figure] <= high
    # Before the moment nothing changed, not even for the shifted type.
    early = (EPOCH - 5 * DAY, moment - 2 * 3600)
    assert _figures(shifted, "overlay.generate", *early) == _figures(
        CONFIG, "overlay.generate", *early)


def test_other_types_and_unshifted_data_are_untouched():
    shifted = DataConfig(**{**CONFIG.__dict__, "shifts": (Shift("compare", "failure", 3.0, 24),)})
    old, new = _jobs(CONFIG), _jobs(shifted)
    assert old != new
    # Trees without a compare job are the same job for job.
    has_compare = {j["id"] for j in old if j["type"] == "compare"}
    assert [j for j in old if j["type"] in ("parse", "symbol_match")] == [
        j for j in new if j["type"] in ("parse", "symbol_match")]
    assert has_compare
    # A shift that starts after every job changes nothing at all.
    late = DataConfig(**{**CONFIG.__dict__, "shifts": (
        Shift("compare", "failure", 3.0, starts_at=EPOCH + 10 * DAY),)})
    assert _jobs(late) == old


def test_same_seed_same_shifted_data():
    config = DataConfig(jobs=2000, seed=9, shifts=(Shift("parse", "duration", 2.0, 48),))
    assert _jobs(config) == _jobs(config)


def test_parse_and_the_cli_option():
    assert Shift.parse("compare:failure:3") == Shift("compare", "failure", 3.0)
    assert Shift.parse("vision.overlay.change.detect:requeue:2.5@24h") == Shift(
        "vision.overlay.change.detect", "requeue", 2.5, hours_before_epoch=24.0)
    assert Shift.parse("parse:duration:2@2026-01-01T00:00:00Z").starts_at == EPOCH
    for bad in ("compare:failure", "nope:failure:3", "compare:slower:3", "compare:failure:0",
                "parse:duration:2@2026-01-01T00:00:00"):
        with pytest.raises(ValueError):
            Shift.parse(bad)
    args = build_parser().parse_args(["simulate", "--shift", "compare:failure:3@24",
                                      "--shift", "parse:duration:2"])
    assert args.shift == [Shift("compare", "failure", 3.0, 24.0), Shift("parse", "duration", 2.0)]
    with pytest.raises(SystemExit):
        build_parser().parse_args(["simulate", "--shift", "compare:failure"])
