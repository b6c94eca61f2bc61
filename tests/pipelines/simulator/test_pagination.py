"""GET /jobs: documented filters and cursor pagination, newest first (docs/api-contract.md)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from pipelines.simulator import DataConfig
from pipelines.simulator.render import iso
from tests.helpers import home_jobs


def _walk(sim, http, **params):
    """Every page of a listing, following `_meta.next`; returns pages."""
    pages = []
    cursor = None
    while True:
        query = {**params, **({"cursor": cursor} if cursor else {})}
        response = http.get(f"{sim.base_url}/jobs", params=query, headers=sim.auth_headers())
        assert response.status_code == 200, response.text
        page = response.json()
        pages.append(page)
        cursor = page["_meta"]["next"]
        if cursor is None:
            return pages


def test_pagination_returns_every_visible_job_once_newest_first(sim, http):
    pages = _walk(sim, http, limit=37)
    items = [item for page in pages for item in page["data"]]
    ids = [item["id"] for item in items]
    assert len(ids) == len(set(ids))
    assert set(ids) == {j.id for j in home_jobs(sim)}
    keys = [(sim.store.get(i).created_at, i) for i in ids]
    assert keys == sorted(keys, reverse=True)
    assert all(len(page["data"]) == 37 for page in pages[:-1])
    assert pages[0]["_meta"]["prev"] is None and pages[-1]["_meta"]["next"] is None
    assert all(page["_meta"]["prev"] for page in pages[1:])
    assert all(page["_meta"]["limit"] == 37 for page in pages)


def test_prev_cursor_returns_the_previous_page(sim, http):
    pages = _walk(sim, http, limit=25)
    assert len(pages) >= 3
    back = http.get(f"{sim.base_url}/jobs", headers=sim.auth_headers(),
                    params={"limit": 25, "cursor": pages[2]["_meta"]["prev"]}).json()
    assert [i["id"] for i in back["data"]] == [i["id"] for i in pages[1]["data"]]
    first = http.get(f"{sim.base_url}/jobs", headers=sim.auth_headers(),
                     params={"limit": 25, "cursor": back["_meta"]["prev"]}).json()
    assert [i["id"] for i in first["data"]] == [i["id"] for i in pages[0]["data"]]
    assert first["_meta"]["prev"] is None


def test_default_limit_is_20(sim, http):
    page = http.get(f"{sim.base_url}/jobs", headers=sim.auth_headers()).json()
    assert len(page["data"]) == 20 and page["_meta"]["limit"] == 20


@pytest.mark.parametrize("name", ["project_id", "type", "target_type", "parent_id", "status"])
def test_each_filter_returns_exactly_the_matching_jobs(sim, http, name):
    jobs = home_jobs(sim)
    now = sim.clock.now()
    vision = {"PENDING": "Queued", "RUNNING": "Started", "COMPLETED": "Completed",
              "FAILED": "Failed", "CANCELED": "Canceled"}

    def value_of(job):
        if name == "status":
            return [s for s, at in job.events if at <= now][-1]
        return getattr(job, name)

    sample = next(j for j in jobs if value_of(j) is not None and value_of(j) != "COMPLETED")
    wanted = value_of(sample)
    query = vision[wanted] if name == "status" else wanted
    expected = {j.id for j in jobs if value_of(j) == wanted}
    got = [i["id"] for p in _walk(sim, http, limit=100, **{name: query}) for i in p["data"]]
    assert set(got) == expected and len(got) == len(expected)


def test_filters_combine_with_and_and_created_bounds_are_exclusive(sim, http):
    jobs = sorted(home_jobs(sim), key=lambda j: j.created_at)
    low, high = jobs[len(jobs) // 4].created_at, jobs[3 * len(jobs) // 4].created_at
    project = jobs[0].project_id
    expected = {j.id for j in jobs if low < j.created_at < high and j.project_id == project}
    got = [i["id"] for p in _walk(sim, http, limit=50, project_id=project,
                                  created_after=iso(low), created_before=iso(high))
           for i in p["data"]]
    assert set(got) == expected and len(got) == len(expected)


@pytest.mark.parametrize("params, code", [
    ({"limit": 0}, "VALIDATION_ERROR"), ({"limit": 101}, "VALIDATION_ERROR"),
    ({"limit": "ten"}, "VALIDATION_ERROR"), ({"status": "Exploded"}, "VALIDATION_ERROR"),
    ({"created_after": "yesterday"}, "VALIDATION_ERROR"),
    ({"cursor": "not-a-cursor"}, "BAD_REQUEST"),
])
def test_bad_query_is_400(sim, http, params, code):
    response = http.get(f"{sim.base_url}/jobs", params=params, headers=sim.auth_headers())
    assert response.status_code == 400 and response.json()["code"] == code


def test_listing_only_shows_the_keys_organization_and_jobs_that_exist(make_simulator, http):
    sim = make_simulator(DataConfig(jobs=800, future_share=0.1, foreign_share=0.3))
    items = [i for p in _walk(sim, http, limit=100) for i in p["data"]]
    home = sim.store.home_organization_id
    assert {i["organization_id"] for i in items} == {home}
    now = datetime.fromtimestamp(sim.clock.now(), tz=UTC)
    assert all(datetime.fromisoformat(i["created_at"]) <= now for i in items)
    # Advancing the clock makes newly created jobs appear (discovery by watermark).
    newest = max(datetime.fromisoformat(i["created_at"]) for i in items)
    sim.clock.advance(3600)
    new = [i for p in _walk(sim, http, limit=100, created_after=newest.isoformat())
           for i in p["data"]]
    assert new and all(datetime.fromisoformat(i["created_at"]) > newest for i in new)
