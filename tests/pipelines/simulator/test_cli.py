"""`bedrock-jobs simulate` serves the API from the command line and says where."""

from __future__ import annotations

import re
import subprocess
import sys

import requests

from tests.helpers import stop


def test_simulate_prints_its_url_and_key_and_serves(tmp_path):
    process = subprocess.Popen(
        [sys.executable, "-m", "pipelines.tools.cli", "simulate", "--port", "0", "--jobs", "300",
         "--seed", "5", "--api-key", "sk_cli_test", "--shape", "vision"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        banner = [process.stdout.readline() for _ in range(3)]
        url = re.search(r"(http://127\.0\.0\.1:\d+)", banner[0]).group(1)
        assert "sk_cli_test" in banner[2]
        page = requests.get(f"{url}/jobs", headers={"Authorization": "Bearer sk_cli_test"},
                            timeout=5).json()
        assert page["data"] and "job_id" in page["data"][0]
        assert requests.get(f"{url}/jobs", timeout=5).status_code == 401
    finally:
        stop(process)
