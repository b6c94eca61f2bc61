"""The generator: deterministic from the seed, with the documented types, trees and outcomes."""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import asdict

from pipelines.simulator import DataConfig
from pipelines.simulator.generator import CANCELED, FAILED, RUNNING, TERMINAL, generate


def test_same_seed_same_data_and_another_seed_other_data():
    config = DataConfig(jobs=1500, seed=11)
    first = [asdict(j) for j in generate(config)[1]]
    assert first == [asdict(j) for j in generate(config)[1]]
    assert first != [asdict(j) for j in generate(DataConfig(jobs=1500, seed=12))[1]]


def test_ids_do_not_depend_on_the_epoch_but_timestamps_move_with_it():
    a = generate(DataConfig(jobs=300, epoch=1_700_000_000.0))[1]
    b = generate(DataConfig(jobs=300, epoch=1_700_003_600.0))[1]
    assert [j.id for j in a] == [j.id for j in b]
    assert all(y.created_at - x.created_at == 3600 for x, y in zip(a, b, strict=True))


def test_documented_types_and_hierarchies_are_present():
    jobs = generate(DataConfig(jobs=4000))[1]
    by_id = {j.id: j for j in jobs}
    pairs = Counter((by_id[j.parent_id].type, j.type) for j in jobs if j.parent_id)
    for parent, child in [
        ("drawing.preprocess", "sheet.preprocess"),
        ("parse", "legend_parse"), ("parse", "symbol_match"), ("parse", "symbol_aggregate"),
        ("parse", "drawing_preprocess"), ("drawing_preprocess", "sheet_preprocess"),
        ("sheet_preprocess", "block_preprocess"),
        ("vision.drawing.overlay.generate", "vision.sheet.overlay.generate"),
        ("vision.sheet.overlay.generate", "vision.block.overlay.generate"),
        ("compare", "compare"),
    ]:
        assert pairs[(parent, child)] > 0, (parent, child)
    roots = Counter(j.type for j in jobs if j.parent_id is None)
    assert {"compare", "overlay.generate", "vision.overlay.change.detect"} <= set(roots)
    for job in jobs:
        assert all(by_id[c].parent_id == job.id for c in job.children)


def test_timelines_are_ordered_and_parents_finish_after_their_children():
    jobs = generate(DataConfig(jobs=4000))[1]
    by_id = {j.id: j for j in jobs}
    for job in jobs:
        times = [at for _, at in job.events]
        assert times == sorted(times) and times[0] == job.created_at
        assert job.events[0][0] == "PENDING" and job.final_status in TERMINAL
        assert all(at == int(at) for at in times)  # whole seconds, like the docs
        if job.parent_id:
            parent = by_id[job.parent_id]
            assert parent.ends_at >= job.ends_at
            assert job.created_at >= parent.created_at
        if any(by_id[c].final_status == FAILED for c in job.children):
            assert job.final_status in (FAILED, CANCELED)


def test_outcomes_errors_requeues_and_durations_look_real():
    jobs = generate(DataConfig(jobs=6000))[1]
    statuses = Counter(j.final_status for j in jobs)
    assert statuses[FAILED] > 0 and statuses[CANCELED] > 0
    assert statuses["COMPLETED"] / len(jobs) > 0.85
    assert all(j.error and j.error["code"] and j.error["message"]
               for j in jobs if j.final_status == FAILED)
    assert all(j.error is None for j in jobs if j.final_status != FAILED)
    requeued = [j for j in jobs if sum(1 for s, _ in j.events if s == RUNNING) > 1]
    assert 0.01 < len(requeued) / len(jobs) < 0.08
    compare_runs = [j.events[-1][1] - j.events[-2][1] for j in jobs
                    if j.type == "compare" and j.final_status == "COMPLETED"
                    and j.parent_id is None]
    median = statistics.median(compare_runs)
    assert 30 < median < 250  # the docs' example ran 88 s
    assert max(compare_runs) > 5 * median  # a long tail


def test_shares_of_in_flight_future_and_foreign_jobs():
    config = DataConfig(jobs=5000)
    orgs, jobs = generate(config)
    roots = [j for j in jobs if j.parent_id is None]
    in_flight = [j for j in roots if j.created_at <= config.epoch < j.ends_at]
    future = [j for j in roots if j.created_at > config.epoch]
    foreign = [j for j in roots if j.organization_id != orgs[0].id]
    assert 0.02 < len(in_flight) / len(roots) < 0.09
    assert 0.005 < len(future) / len(roots) < 0.05
    assert 0.05 < len(foreign) / len(roots) < 0.16
    assert len({j.project_id for j in jobs}) == config.organizations * config.projects_per_org
