"""Contract: list_jobs walks the documented cursor pagination with filters, newest first."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from pipelines.bedrock import InvalidRequestError, JobRecord
from pipelines.simulator import DataConfig, RateLimitConfig, RenderConfig

NO_LIMIT = RateLimitConfig(enabled=False)


def _expected(sim, **match: object) -> list[str]:
    now = sim.clock.now()
    jobs = [job for job in sim.store.by_id.values()
            if job.organization_id == sim.store.home_organization_id and job.created_at <= now
            and all(getattr(job, name) == value for name, value in match.items())]
    return [job.id for job in sorted(jobs, key=lambda j: (j.created_at, j.id), reverse=True)]


@pytest.mark.parametrize("shape", ["cms", "mixed"])
def test_walks_every_page(make_simulator, make_client, shape: str) -> None:
    sim = make_simulator(DataConfig(jobs=500), render=RenderConfig(shape=shape),
                         rate_limit=NO_LIMIT)
    stream = make_client(sim).list_jobs(page_size=37)
    records = list(stream)
    assert all(isinstance(r, JobRecord) for r in records)
    assert [r.job_id for r in records] == _expected(sim)
    pages = sim.stats_snapshot()["requests"]["/jobs"]
    assert pages == -(-len(records) // 37)
    assert stream.stats.outcomes == {"listed": len(records)}


def test_filters(make_simulator, make_client) -> None:
    sim = make_simulator(DataConfig(jobs=500), rate_limit=NO_LIMIT)
    project = sim.store.organizations[0].project_ids[1]
    client = make_client(sim)
    got = [r.job_id for r in client.list_jobs(project_id=project, type="parse")]
    assert got and got == _expected(sim, project_id=project, type="parse")
    cutoff = sim.clock.now() - 86_400
    recent = list(client.list_jobs(created_after=datetime.fromtimestamp(cutoff, tz=UTC)))
    assert [r.job_id for r in recent] == [
        i for i in _expected(sim) if sim.store.by_id[i].created_at > cutoff]


def test_bad_query_and_unknown_filter(sim, make_client) -> None:
    client = make_client(sim)
    with pytest.raises(InvalidRequestError) as raised:
        list(client.list_jobs(status="Exploded"))
    assert raised.value.http_status == 400 and raised.value.code == "VALIDATION_ERROR"
    with pytest.raises(TypeError):
        client.list_jobs(colour="red")
