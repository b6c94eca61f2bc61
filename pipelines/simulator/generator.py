"""Deterministic Bedrock job data: organizations, projects and job trees.

Everything is a pure function of `DataConfig`: the same seed (and epoch) gives
the same jobs, byte for byte. Each root job's tree is drawn from its own RNG
(seeded by the root's index), so one tree never shifts another.

A job's timeline holds every event it will ever have, at absolute times. What
the API shows is the part of it at or before the simulator's clock (see
`render.py`), which is how in-flight jobs advance as the clock moves.

Shapes follow the docs' job types and hierarchies
(`docs/api-contract.md`, "Job types and job trees"):

- `drawing.preprocess` → `sheet.preprocess` (one per page)
- `parse` → [`drawing_preprocess` → `sheet_preprocess` → `block_preprocess`]
  → `legend_parse` → `symbol_match` (symbol × plan block) → `symbol_aggregate`
- `vision.drawing.overlay.generate` → `vision.sheet.overlay.generate`
  → `vision.block.overlay.generate`
- `compare` (a block, or a drawing with per-sheet `compare` children),
  `overlay.generate`, `vision.overlay.change.detect`, `vision.overlay.change.compile`

Parents finish after their last child; a failed child fails its parent; a
canceled parent cancels its unfinished children.

A `Shift` makes a job type worse from a given moment (more failures, longer queue
and/or run times, or more re-queues), so regression detection can be measured on data
where the truth is known. A tree that may hold shifted jobs is drawn again from the same
seed with the shifted profile for jobs created at or after the moment, keeping its
place on the calendar; data without shifts is unchanged.
"""

from __future__ import annotations

import math
import random
from bisect import bisect_left, bisect_right
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime

from pipelines.simulator.ids import make_id

PENDING, RUNNING, COMPLETED, FAILED, CANCELED = (
    "PENDING",
    "RUNNING",
    "COMPLETED",
    "FAILED",
    "CANCELED",
)
TERMINAL = frozenset({COMPLETED, FAILED, CANCELED})

Event = tuple[str, float]  # (canonical status, Unix seconds)


SHIFT_KINDS = ("failure", "duration", "queued", "running", "requeue")


@dataclass(frozen=True)
class Shift:
    """From `starts_at` on (Unix seconds; default `hours_before_epoch` before the data's
    epoch), jobs of `job_type` created then are worse by `factor`:

    - `failure`: the type's own failure probability × factor (at most 1 - cancel rate);
    - `duration`: the median queue and run times × factor (so every percentile, too);
    - `queued`: the median queue time alone × factor (every wait in the queue, a
      re-queued one's second wait too), run times unchanged;
    - `running`: the median run time alone × factor, queue times unchanged;
    - `requeue`: the chance of a re-queue × factor (at most 1).

    Parents are not shifted with their children, but they still end after their last
    child, so a slower child type lengthens the trees it is part of.
    """

    job_type: str
    kind: str
    factor: float
    hours_before_epoch: float = 12.0
    starts_at: float | None = None

    def __post_init__(self) -> None:
        if self.job_type not in PROFILES:
            raise ValueError(f"unknown job type {self.job_type!r}: one of {', '.join(PROFILES)}")
        if self.kind not in SHIFT_KINDS:
            raise ValueError(f"unknown shift {self.kind!r}: one of {', '.join(SHIFT_KINDS)}")
        if not self.factor > 0:
            raise ValueError("a shift's factor must be positive")

    def start(self, epoch: float) -> float:
        return self.starts_at if self.starts_at is not None else (
            epoch - self.hours_before_epoch * 3600.0)

    def apply(self, profile: TypeProfile, requeue_share: float) -> tuple[TypeProfile, float]:
        if self.kind == "failure":
            rate = min(profile.fail_rate * self.factor, 1.0 - profile.cancel_rate)
            return replace(profile, fail_rate=rate), requeue_share
        if self.kind == "requeue":
            return profile, min(1.0, requeue_share * self.factor)
        queue = self.factor if self.kind in ("duration", "queued") else 1.0
        run = self.factor if self.kind in ("duration", "running") else 1.0
        return replace(profile, queue_median=profile.queue_median * queue,
                       run_median=profile.run_median * run), requeue_share

    @classmethod
    def parse(cls, text: str) -> Shift:
        """`TYPE:KIND:FACTOR[@WHEN]`, WHEN hours before the epoch (`12`, `12h`) or an
        ISO 8601 time with a zone; e.g. `compare:failure:3@24h`, `symbol_match:queued:4`."""
        spec, _, when = text.partition("@")
        parts = spec.rsplit(":", 2)
        if len(parts) != 3:
            raise ValueError(f"a shift is TYPE:KIND:FACTOR[@WHEN], not {text!r}")
        job_type, kind, factor = parts
        if not when:
            return cls(job_type, kind, float(factor))
        if "T" in when:
            moment = datetime.fromisoformat(when.replace("Z", "+00:00"))
            if moment.tzinfo is None:
                raise ValueError("give the shift's time a zone, e.g. 2026-01-01T00:00:00Z")
            return cls(job_type, kind, float(factor), starts_at=moment.timestamp())
        return cls(job_type, kind, float(factor), hours_before_epoch=float(when.rstrip("hH")))


@dataclass(frozen=True)
class DataConfig:
    """What the simulator's job data looks like. Same config → same data."""

    seed: int = 7
    jobs: int = 2_000  # approximate: whole trees are added until this many jobs exist
    epoch: float = 1_767_225_600.0  # the data's "now" (2026-01-01T00:00:00Z)
    history_days: float = 7.0
    in_flight_share: float = 0.05  # of root trees, still running at the epoch
    future_share: float = 0.02  # of root trees, created within an hour after the epoch
    organizations: int = 3
    projects_per_org: int = 3
    foreign_share: float = 0.10  # of root trees, in organizations the API key can't read
    requeue_share: float = 0.03  # of jobs, RUNNING → PENDING → RUNNING before finishing
    shifts: tuple[Shift, ...] = ()  # job types that get worse from a moment on


@dataclass(frozen=True, slots=True)
class TypeProfile:
    """Per-type behaviour: lognormal queue/run times (median seconds, sigma) and outcome rates."""

    queue_median: float
    queue_sigma: float
    run_median: float
    run_sigma: float
    fail_rate: float
    cancel_rate: float


PROFILES: dict[str, TypeProfile] = {
    "compare": TypeProfile(2.0, 0.8, 88.0, 0.9, 0.06, 0.02),
    "overlay.generate": TypeProfile(2.0, 0.7, 30.0, 0.8, 0.04, 0.01),
    "parse": TypeProfile(2.0, 0.7, 3.0, 0.5, 0.02, 0.01),
    "legend_parse": TypeProfile(1.0, 0.6, 12.0, 0.7, 0.004, 0.0),
    "symbol_match": TypeProfile(1.0, 0.9, 6.0, 0.8, 0.003, 0.0),
    "symbol_aggregate": TypeProfile(1.0, 0.6, 4.0, 0.6, 0.003, 0.0),
    "drawing_preprocess": TypeProfile(2.0, 0.6, 4.0, 0.5, 0.005, 0.0),
    "sheet_preprocess": TypeProfile(1.5, 0.7, 20.0, 0.8, 0.004, 0.0),
    "block_preprocess": TypeProfile(1.0, 0.6, 5.0, 0.7, 0.003, 0.0),
    "drawing.preprocess": TypeProfile(3.0, 0.9, 5.0, 0.5, 0.03, 0.01),
    "sheet.preprocess": TypeProfile(2.0, 0.8, 25.0, 0.8, 0.005, 0.0),
    "vision.drawing.overlay.generate": TypeProfile(5.0, 1.0, 5.0, 0.5, 0.02, 0.02),
    "vision.sheet.overlay.generate": TypeProfile(2.0, 0.8, 40.0, 1.0, 0.005, 0.0),
    "vision.block.overlay.generate": TypeProfile(1.0, 0.7, 8.0, 0.8, 0.004, 0.0),
    "vision.overlay.change.detect": TypeProfile(3.0, 0.8, 45.0, 0.9, 0.05, 0.01),
    "vision.overlay.change.compile": TypeProfile(3.0, 0.8, 20.0, 0.8, 0.05, 0.01),
}

# Root job types and how often each starts a tree.
ROOT_WEIGHTS: dict[str, float] = {
    "compare": 0.30,
    "overlay.generate": 0.15,
    "parse": 0.15,
    "drawing.preprocess": 0.15,
    "vision.drawing.overlay.generate": 0.10,
    "vision.overlay.change.detect": 0.10,
    "vision.overlay.change.compile": 0.05,
}

ERRORS: tuple[tuple[str, str], ...] = (
    ("PROCESSING_ERROR", "Unable to process sheet - source image missing"),
    ("PROCESSING_ERROR", "Vectorization failed on page 3"),
    ("TIMEOUT", "Job exceeded its processing time limit"),
    ("INVALID_INPUT", "The drawing has no pages"),
    ("INTERNAL_ERROR", "Worker crashed while processing the job"),
)
CHILD_FAILED_ERROR = {"code": "CHILD_JOB_FAILED", "message": "One or more child jobs failed"}


@dataclass(slots=True)
class SimJob:
    """One job with its whole (past and future) timeline."""

    id: str
    organization_id: str
    project_id: str
    type: str
    target_type: str  # lower case: block, sheet, drawing, overlay, file
    target_id: str
    parent_id: str | None
    created_at: float
    events: list[Event]
    error: dict | None = None
    results: dict | None = None
    payload: dict | None = None
    children: list[str] = field(default_factory=list)

    @property
    def final_status(self) -> str:
        return self.events[-1][0]

    @property
    def ends_at(self) -> float:
        return self.events[-1][1]


@dataclass(frozen=True, slots=True)
class Organization:
    id: str
    project_ids: tuple[str, ...]


class JobStore:
    """All jobs, indexed by ID and, per organization, by creation time (newest first)."""

    def __init__(self, config: DataConfig) -> None:
        self.config = config
        self.organizations, jobs = generate(config)
        self.home_organization_id = self.organizations[0].id
        self.by_id: dict[str, SimJob] = {job.id: job for job in jobs}
        self._by_org: dict[str, list[SimJob]] = {}
        for job in jobs:
            self._by_org.setdefault(job.organization_id, []).append(job)
        for org_jobs in self._by_org.values():
            # Oldest first for bisecting; listing walks it backwards (newest first).
            org_jobs.sort(key=lambda j: (j.created_at, j.id))
        self._created_keys = {
            org: [(j.created_at, j.id) for j in org_jobs] for org, org_jobs in self._by_org.items()
        }

    def __len__(self) -> int:
        return len(self.by_id)

    def get(self, job_id: str) -> SimJob | None:
        return self.by_id.get(job_id)

    def newest_first(
        self,
        organization_id: str,
        *,
        before_key: tuple[float, str] | None = None,
        after_key: tuple[float, str] | None = None,
    ) -> Iterator[SimJob]:
        """Jobs of an organization newest first, strictly between the keyset bounds.

        `before_key` / `after_key` are `(created_at, id)` pairs; newest-first
        order means `before_key` is the upper (newer) bound.
        """
        org_jobs = self._by_org.get(organization_id, [])
        keys = self._created_keys.get(organization_id, [])
        hi = bisect_left(keys, before_key) if before_key is not None else len(org_jobs)
        lo = bisect_right(keys, after_key) if after_key is not None else 0
        for index in range(hi - 1, lo - 1, -1):
            yield org_jobs[index]

    def oldest_first(
        self, organization_id: str, *, after_key: tuple[float, str]
    ) -> Iterator[SimJob]:
        """Jobs of an organization strictly newer than `after_key`, oldest first."""
        org_jobs = self._by_org.get(organization_id, [])
        keys = self._created_keys.get(organization_id, [])
        for index in range(bisect_right(keys, after_key), len(org_jobs)):
            yield org_jobs[index]


def generate(config: DataConfig) -> tuple[list[Organization], list[SimJob]]:
    """Organizations and every job, deterministically from `config`."""
    rng = random.Random(f"orgs:{config.seed}")
    organizations = [
        Organization(
            id=make_id("org", rng),
            project_ids=tuple(make_id("prj", rng) for _ in range(config.projects_per_org)),
        )
        for _ in range(max(1, config.organizations))
    ]
    jobs: list[SimJob] = []
    root_index = 0
    while len(jobs) < config.jobs:
        jobs.extend(_root_tree(config, organizations, root_index))
        root_index += 1
    return organizations, jobs


def _root_tree(
    config: DataConfig, organizations: list[Organization], root_index: int
) -> list[SimJob]:
    rng = random.Random(f"tree:{config.seed}:{root_index}")
    foreign = len(organizations) > 1 and rng.random() < config.foreign_share
    org = rng.choice(organizations[1:]) if foreign else organizations[0]
    project_id = rng.choice(org.project_ids)
    root_type = rng.choices(list(ROOT_WEIGHTS), weights=list(ROOT_WEIGHTS.values()))[0]

    # Build the tree at relative time 0, then place it on the calendar.
    drawn = rng.getstate()
    builder = _TreeBuilder(rng, config, org.id, project_id)
    builder.build_root(root_type)
    span = max(job.ends_at for job in builder.jobs)
    placement = rng.random()
    if placement < config.in_flight_share:
        start = config.epoch - rng.uniform(0.05, 0.7) * max(span, 1.0)
    elif placement < config.in_flight_share + config.future_share:
        start = config.epoch + rng.uniform(1.0, 3600.0)
    else:
        latest = config.epoch - span - 1.0
        start = latest - rng.uniform(0.0, config.history_days * 86_400.0)
    start = float(math.floor(start))
    shifted_types = {shift.job_type for shift in config.shifts
                     if start + span >= shift.start(config.epoch)}
    if shifted_types & {job.type for job in builder.jobs}:
        # Draw the tree again from the same point, now knowing when it starts, so the
        # jobs created after a shift's moment use the shifted profile.
        rng.setstate(drawn)
        builder = _TreeBuilder(rng, config, org.id, project_id, offset=start)
        builder.build_root(root_type)
    return [_shifted(job, start, rng) for job in builder.jobs]


def _shifted(job: SimJob, start: float, rng: random.Random) -> SimJob:
    """Move a job built at relative time 0 to `start`, with whole-second timestamps.

    The docs only ever show whole seconds, so zero-length phases can happen;
    rounding never reorders a job's events.
    """
    events: list[Event] = []
    previous = -math.inf
    for status, at in job.events:
        stamp = max(previous, float(round(start + at)))
        events.append((status, stamp))
        previous = stamp
    job.events = events
    job.created_at = events[0][1]
    return job


class _TreeBuilder:
    """Draws one root job and its descendants at relative times (root created at 0)."""

    def __init__(
        self, rng: random.Random, config: DataConfig, organization_id: str, project_id: str,
        offset: float | None = None,
    ) -> None:
        self.rng = rng
        self.config = config
        self.organization_id = organization_id
        self.project_id = project_id
        self.jobs: list[SimJob] = []
        # Where relative time 0 is on the calendar, once known: shifts apply only then.
        self.offset = offset

    def _profile(self, job_type: str, created: float) -> tuple[TypeProfile, float]:
        """The type's profile and re-queue share for a job created at `created`."""
        profile, requeue_share = PROFILES[job_type], self.config.requeue_share
        if self.offset is None:
            return profile, requeue_share
        for shift in self.config.shifts:
            if shift.job_type == job_type and (
                    self.offset + created >= shift.start(self.config.epoch)):
                profile, requeue_share = shift.apply(profile, requeue_share)
        return profile, requeue_share

    # -- targets and payloads -------------------------------------------------

    def _target(self, job_type: str, parent: SimJob | None) -> tuple[str, str]:
        rng = self.rng
        if job_type == "compare" and parent is not None:
            return "sheet", make_id("sht", rng)  # a drawing comparison's per-sheet children
        if job_type in ("drawing.preprocess", "drawing_preprocess",
                        "vision.drawing.overlay.generate"):
            return "drawing", make_id("drw", rng)
        if job_type in ("sheet.preprocess", "sheet_preprocess", "vision.sheet.overlay.generate"):
            return "sheet", make_id("sht", rng)
        if job_type.startswith("vision.overlay.change"):
            return "overlay", make_id("ovl", rng)
        if job_type == "parse":
            kind = rng.choices(["sheet", "block", "drawing", "file"], weights=[4, 3, 2, 1])[0]
            prefix = {"sheet": "sht", "block": "blk", "drawing": "drw", "file": "fil"}[kind]
            return kind, make_id(prefix, rng)
        if job_type == "compare" and rng.random() < 0.2:
            return "drawing", make_id("drw", rng)
        return "block", make_id("blk", rng)

    def _payload(self, job_type: str, target_type: str, target_id: str) -> dict:
        if job_type in ("compare", "overlay.generate") or job_type.endswith("overlay.generate"):
            prefix = target_id.split("_", 1)[0]
            return {
                "type": target_type.capitalize(),
                "old_id": make_id(prefix, self.rng),
                "new_id": target_id,
            }
        return {"target_type": target_type, "target_id": target_id}

    # -- timelines ------------------------------------------------------------

    def _lognormal(self, median: float, sigma: float) -> float:
        value = self.rng.lognormvariate(math.log(median), sigma)
        if self.rng.random() < 0.02:  # the long tail every real queue has
            value *= self.rng.uniform(5.0, 20.0)
        return value

    def _start(self, profile: TypeProfile, requeue_share: float,
               created: float) -> tuple[list[Event], float]:
        """PENDING at `created`, then RUNNING (maybe re-queued once); returns events, run start."""
        events: list[Event] = [(PENDING, created)]
        at = created + self._lognormal(profile.queue_median, profile.queue_sigma)
        if self.rng.random() < requeue_share:
            events.append((RUNNING, at))
            first_run = self._lognormal(profile.run_median, profile.run_sigma)
            at += first_run * self.rng.uniform(0.1, 0.5)
            events.append((PENDING, at))
            at += self._lognormal(profile.queue_median, profile.queue_sigma)
        events.append((RUNNING, at))
        return events, at

    def _error(self) -> dict:
        code, message = self.rng.choice(ERRORS)
        return {"code": code, "message": message}

    def _results(self, job_type: str) -> dict:
        rng = self.rng
        if job_type == "compare" or job_type.endswith("overlay.generate"):
            return {
                "overlay": {
                    "overlay_id": make_id("ovl", rng),
                    "uri": f"https://storage.bedrock.cv/overlays/{make_id('ovl', rng)}.png",
                    "score": round(rng.uniform(0.4, 0.99), 2),
                },
                "changes": [
                    {
                        "category": rng.choice(["addition", "removal", "modification"]),
                        "description": "Detected change",
                        "bounds": {"x_min": 120, "y_min": 340, "x_max": 320, "y_max": 390},
                        "severity": rng.choice(["minor", "significant", "critical"]),
                    }
                    for _ in range(rng.randint(0, 3))
                ],
            }
        if job_type == "parse":
            found = rng.randint(0, 400)
            return {"summary": {"total_symbols_searched": rng.randint(1, 40),
                                "total_instances_found": found}}
        return {}

    def _new_job(self, job_type: str, created: float, parent: SimJob | None) -> SimJob:
        target_type, target_id = self._target(job_type, parent)
        job = SimJob(
            id=make_id("job", self.rng, created),
            organization_id=self.organization_id,
            project_id=self.project_id,
            type=job_type,
            target_type=target_type,
            target_id=target_id,
            parent_id=parent.id if parent else None,
            created_at=created,
            events=[],
            payload=self._payload(job_type, target_type, target_id),
        )
        if parent is not None:
            parent.children.append(job.id)
        self.jobs.append(job)
        return job

    def _finish(self, job: SimJob, events: list[Event], status: str, at: float) -> None:
        events.append((status, at))
        job.events = events
        if status == FAILED and job.error is None:
            job.error = self._error()
        if status == COMPLETED:
            job.results = self._results(job.type)

    # -- trees ------------------------------------------------------------------

    def build_root(self, job_type: str) -> None:
        self.build(job_type, 0.0, None)

    def build(self, job_type: str, created: float, parent: SimJob | None) -> SimJob:
        """One job (and its subtree) created at `created`; returns it with its timeline set."""
        profile, requeue_share = self._profile(job_type, created)
        job = self._new_job(job_type, created, parent)
        rng = self.rng
        outcome = rng.random()
        failing = outcome < profile.fail_rate
        canceling = not failing and outcome < profile.fail_rate + profile.cancel_rate

        # Some jobs never leave the queue: rejected, or canceled while waiting.
        if (failing and rng.random() < 0.1) or (canceling and rng.random() < 0.5):
            wait = self._lognormal(profile.queue_median, profile.queue_sigma)
            self._finish(job, [(PENDING, created)], FAILED if failing else CANCELED, created + wait)
            return job

        events, started = self._start(profile, requeue_share, created)
        own_run = self._lognormal(profile.run_median, profile.run_sigma)
        stages = self._child_stages(job)
        if not stages:
            end = started + own_run
            if canceling or failing:
                end = started + own_run * rng.uniform(0.1, 0.9)
            status = FAILED if failing else CANCELED if canceling else COMPLETED
            self._finish(job, events, status, end)
            return job

        # A parent: its stages of children run one after another, each stage
        # starting when the previous one has finished.
        cancel_at = started + own_run * rng.uniform(1.0, 4.0) if canceling else math.inf
        at, child_failed = self._run_stages(job, stages, started, cancel_at)

        if cancel_at < math.inf and cancel_at < at:
            children_end = max(
                (self._cancel_subtree(c, cancel_at) for c in job.children), default=cancel_at
            )
            self._finish(job, events, CANCELED, children_end + rng.uniform(0.5, 2.0))
        elif child_failed:
            job.error = dict(CHILD_FAILED_ERROR)
            self._finish(job, events, FAILED, at)
        elif failing:
            self._finish(job, events, FAILED, at + own_run * rng.uniform(0.1, 0.5))
        else:
            self._finish(job, events, COMPLETED, max(at, started + own_run))
        return job

    def _run_stages(self, job: SimJob, stages: list[list[tuple[str, int]]], started: float,
                    cancel_at: float) -> tuple[float, bool]:
        """Build `job`'s children stage by stage from soon after `started`, until the parent
        is canceled (`cancel_at`) or a child fails; returns when the last stage ended and
        whether a child failed."""
        rng = self.rng
        at = started + rng.uniform(0.5, 2.0)
        child_failed = False
        for stage in stages:
            if at >= cancel_at or child_failed:
                break
            stage_end = at
            for child_type, count in stage:
                for _ in range(count):
                    child = self.build(child_type, at + rng.uniform(0.0, 1.0), job)
                    if child.created_at >= cancel_at:  # the parent was canceled first
                        self._drop_subtree(child)
                        self.jobs.remove(child)
                        job.children.remove(child.id)
                        continue
                    child_failed |= child.final_status == FAILED
                    stage_end = max(stage_end, self._subtree_end(child))
            at = stage_end + rng.uniform(0.2, 1.5)
        return at, child_failed

    def _child_stages(self, job: SimJob) -> list[list[tuple[str, int]]]:
        """The stages of children `job` starts, each a list of (child type, count)."""
        rng = self.rng
        job_type = job.type
        if job_type == "drawing.preprocess":
            return [[("sheet.preprocess", self._pages())]]
        if job_type == "drawing_preprocess":
            return [[("sheet_preprocess", self._pages())]]
        if job_type == "sheet_preprocess":
            return [[("block_preprocess", rng.randint(1, 4))]]
        if job_type == "parse":
            stages: list[list[tuple[str, int]]] = []
            if job.target_type in ("drawing", "file"):
                stages.append([("drawing_preprocess", 1)])
            plan_blocks = rng.randint(1, 4)
            stages.append([("legend_parse", rng.randint(1, 3))])
            stages.append([("symbol_match", rng.randint(2, 6) * plan_blocks)])
            stages.append([("symbol_aggregate", plan_blocks)])
            return stages
        if job_type == "vision.drawing.overlay.generate":
            return [[("vision.sheet.overlay.generate", rng.randint(1, 8))]]
        if job_type == "vision.sheet.overlay.generate":
            blocks = rng.randint(0, 3)
            return [[("vision.block.overlay.generate", blocks)]] if blocks else []
        if job_type == "compare" and job.target_type == "drawing":
            return [[("compare", rng.randint(1, 6))]]
        return []

    def _pages(self) -> int:
        return min(40, max(1, int(self.rng.lognormvariate(math.log(5), 0.7))))

    def _subtree_end(self, job: SimJob) -> float:
        return max([job.ends_at, *(self._subtree_end(self._job(c)) for c in job.children)])

    def _job(self, job_id: str) -> SimJob:
        return next(j for j in reversed(self.jobs) if j.id == job_id)

    def _drop_subtree(self, job: SimJob) -> None:
        for child_id in job.children:
            child = self._job(child_id)
            self.jobs.remove(child)
            self._drop_subtree(child)

    def _cancel_subtree(self, job_id: str, at: float) -> float:
        """Cancel a job (and its descendants) unfinished at `at`; returns when it ended."""
        job = self._job(job_id)
        for child_id in list(job.children):
            child = self._job(child_id)
            if child.created_at >= at:  # would have been created after the cancel: never was
                self._drop_subtree(child)
                self.jobs.remove(child)
                job.children.remove(child_id)
        children_end = max((self._cancel_subtree(c, at) for c in job.children), default=at)
        if job.ends_at <= at:
            return job.ends_at
        kept = [event for event in job.events[:-1] if event[1] < at]
        job.error = None
        job.results = None
        # A parent stops only after its children have: never before the last of them.
        ended = max(at + self.rng.uniform(0.0, 0.5), children_end)
        job.events = [*kept, (CANCELED, ended)]
        return ended
