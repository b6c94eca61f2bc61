"""GET /jobs/{id} serves the documented CMS and Vision job shapes (docs/api-contract.md)."""

from __future__ import annotations

from pipelines.simulator import RenderConfig
from pipelines.simulator.generator import COMPLETED, FAILED, TERMINAL
from tests.helpers import home_jobs

CMS_FIELDS = {"id", "organization_id", "project_id", "type", "status", "target_type",
              "target_id", "parent_id", "payload", "events", "created_at", "updated_at"}
VISION_FIELDS = {"job_id", "organization_id", "project_id", "type", "status", "target",
                 "parent_id", "events", "created_at"}


def _home_jobs(sim, status=None):
    now = sim.clock.now()
    return [job for job in home_jobs(sim)
            if status is None or [e for e in job.events if e[1] <= now][-1][0] == status]


def test_cms_shape_is_wrapped_with_upper_case_statuses(sim, http):
    failed = _home_jobs(sim, FAILED)[0]
    completed = _home_jobs(sim, COMPLETED)[0]
    for job in (failed, completed):
        response = http.get(f"{sim.base_url}/jobs/{job.id}", headers=sim.auth_headers())
        assert response.status_code == 200
        assert response.headers["Content-Type"] == "application/json"
        body = response.json()
        assert set(body) == {"data"}
        data = body["data"]
        assert CMS_FIELDS <= set(data)
        assert data["id"] == job.id and data["status"] == job.final_status
        assert data["target_type"] == job.target_type.capitalize()
        assert [e["status"] for e in data["events"]] == [s for s, _ in job.events]
        assert data["created_at"].endswith("Z") and data["updated_at"] == data["events"][-1][
            "timestamp"]
        assert ("error" in data) == (job.final_status == FAILED)
    assert set(failed_error := http.get(
        f"{sim.base_url}/jobs/{failed.id}", headers=sim.auth_headers()).json()["data"]["error"]
    ) == {"code", "message"}
    assert failed_error["code"]


def test_vision_shape_is_bare_with_title_case_and_results_only_when_completed(make_simulator,
                                                                              http):
    sim = make_simulator(render=RenderConfig(shape="vision"))
    seen = set()
    for job in _home_jobs(sim)[:200]:
        body = http.get(f"{sim.base_url}/jobs/{job.id}", headers=sim.auth_headers()).json()
        assert "data" not in body and VISION_FIELDS <= set(body)
        assert body["job_id"] == job.id
        assert body["target"] == {"type": job.target_type, "id": job.target_id}
        assert body["status"] in {"Queued", "Started", "Completed", "Failed", "Canceled"}
        status = body["status"]
        seen.add(status)
        assert ("results" in body) == ("completed_at" in body) == (status == "Completed")
        assert ("error" in body) == (status == "Failed")
        assert {e["status"] for e in body["events"]} <= {"Queued", "Started", "Completed",
                                                         "Failed", "Canceled"}
    assert {"Completed", "Failed"} <= seen


def test_mixed_shape_serves_both_and_is_stable_per_job(make_simulator, http):
    sim = make_simulator(render=RenderConfig(shape="mixed"))
    jobs = _home_jobs(sim)[:60]
    first = [http.get(f"{sim.base_url}/jobs/{j.id}", headers=sim.auth_headers()).json()
             for j in jobs]
    again = [http.get(f"{sim.base_url}/jobs/{j.id}", headers=sim.auth_headers()).json()
             for j in jobs]
    assert first == again
    assert {"data" in body for body in first} == {True, False}


def test_in_flight_jobs_show_only_the_events_so_far(sim, http):
    now = sim.clock.now()
    in_flight = [j for j in _home_jobs(sim) if j.ends_at > now]
    assert in_flight, "the default data has jobs in flight at the epoch"
    job = in_flight[0]
    data = http.get(f"{sim.base_url}/jobs/{job.id}", headers=sim.auth_headers()).json()["data"]
    assert data["status"] not in TERMINAL
    assert len(data["events"]) == sum(1 for _, at in job.events if at <= now)
    assert "error" not in data
