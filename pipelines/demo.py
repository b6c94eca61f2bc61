"""`make demo` until the pipeline lands: prove the path end to end over real HTTP.

Starts the bundled simulator on loopback (with a light fault mix), discovers
recent jobs through `GET /jobs`, fetches a sample by ID and prints what it
found. The pipeline issue replaces this with the full Dagster run.
"""

from __future__ import annotations

import time
from collections import Counter

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from pipelines.simulator import DataConfig, FaultConfig, Simulator


def _session(api_key: str) -> requests.Session:
    session = requests.Session()
    retry = Retry(total=8, backoff_factor=0.2, status_forcelist=(429, 500, 502, 503, 504),
                  allowed_methods=("GET",), respect_retry_after_header=True)
    session.mount("http://", HTTPAdapter(max_retries=retry))
    session.headers.update({"Authorization": f"Bearer {api_key}",
                            "X-API-Version": "2026-01-01"})
    return session


def run_demo(jobs: int = 3000, sample: int = 50) -> int:
    started = time.monotonic()
    data = DataConfig(jobs=jobs, epoch=float(int(time.time())))
    with Simulator(data, faults=FaultConfig.light(seed=1)) as sim:
        print(f"simulator: {len(sim.store)} jobs at {sim.base_url} (light faults on)")
        session = _session(sim.api_keys[0])
        ids: list[str] = []
        cursor = None
        while len(ids) < sample:
            params = {"limit": 100, **({"cursor": cursor} if cursor else {})}
            page = _get_json(session, f"{sim.base_url}/jobs", params)
            ids.extend(item["id"] for item in page["data"])
            cursor = page["_meta"]["next"]
            if cursor is None:
                break
        statuses: Counter[str] = Counter()
        types: Counter[str] = Counter()
        events = 0
        for job_id in ids[:sample]:
            job = _get_json(session, f"{sim.base_url}/jobs/{job_id}")["data"]
            statuses[job["status"]] += 1
            types[job["type"]] += 1
            events += len(job.get("events") or [])
        stats = sim.stats_snapshot()

    fetched = sum(statuses.values())
    print(f"fetched {fetched} jobs by ID with {events} events in "
          f"{time.monotonic() - started:.1f}s")
    print("  by status: " + ", ".join(f"{k} {v}" for k, v in statuses.most_common()))
    print("  by type:   " + ", ".join(f"{k} {v}" for k, v in types.most_common(6)))
    print(f"  simulator served {stats['total_requests']} requests; "
          f"responses {stats['responses']}; injected faults {stats['faults'] or 'none'}")
    return 0 if fetched else 1


def _get_json(session: requests.Session, url: str, params: dict | None = None) -> dict:
    # Malformed bodies are one of the injected faults: try a few times.
    for attempt in range(5):
        try:
            response = session.get(url, params=params, timeout=10)
            response.raise_for_status()
            return response.json()
        except (requests.exceptions.JSONDecodeError, requests.exceptions.ConnectionError):
            if attempt == 4:
                raise
            time.sleep(0.1 * 2**attempt)
    raise AssertionError("unreachable")
