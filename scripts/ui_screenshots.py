"""Refresh the Dagster UI screenshots in docs/ with headless Chromium.

Run after `make demo` (it needs the demo's warehouse and Dagster instance):

    .venv/bin/python scripts/ui_screenshots.py [--browser chromium]

Starts the Dagster web server (no daemon: nothing runs) over this code location on
a free loopback port, on the folder's instance (`DAGSTER_HOME`, default
`.dagster_home`), then has headless Chromium (over the DevTools protocol) load each page, dismiss
first-visit dialogs and write a PNG:

- docs/ui-marts.png: the marts group's lineage, marts.regressions among them;
- docs/ui-regressions.png: marts.regressions' page, its latest materialization's
  metadata (regressions_found, the preview of what got worse, column schema);
- docs/ui-checks.png: its checks, the `regressions` warning listing each regression.
"""

from __future__ import annotations

import argparse
import base64
import itertools
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
PAGES = {
    "ui-marts.png": "/locations/__repository__@pipelines.definitions/asset-groups/marts/lineage",
    "ui-regressions.png": "/assets/marts/regressions",
    "ui-checks.png": "/assets/marts/regressions?view=checks",
}
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_until_up(url: str, process: subprocess.Popen, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit("the Dagster web server exited; see its output above")
        try:
            if requests.get(f"{url}/server_info", timeout=2).ok:
                return
        except requests.RequestException:
            pass
        time.sleep(1)
    raise SystemExit(f"the Dagster web server did not answer at {url} in {seconds:.0f}s")


class _Page:
    """One headless Chromium tab, driven over the DevTools protocol (`websockets`, which
    the Dagster web server installs)."""

    def __init__(self, browser: str, profile: str) -> None:
        self.process = subprocess.Popen(
            [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
             "--no-first-run", "--remote-debugging-port=0", "--remote-allow-origins=*",
             f"--user-data-dir={profile}", "--window-size=1600,1000", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        port_file = Path(profile) / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while not (port_file.exists() and port_file.read_text().strip()):
            if time.monotonic() > deadline:
                raise SystemExit(f"{browser} did not start its DevTools endpoint")
            time.sleep(0.1)
        port = int(port_file.read_text().split()[0])
        targets = requests.get(f"http://127.0.0.1:{port}/json/list", timeout=10).json()
        from websockets.sync.client import connect

        page = next(t for t in targets if t["type"] == "page")
        self.socket = connect(page["webSocketDebuggerUrl"], max_size=None, open_timeout=10)
        self.ids = itertools.count(1)

    def call(self, method: str, **params):
        call_id = next(self.ids)
        self.socket.send(json.dumps({"id": call_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.socket.recv(timeout=60))
            if message.get("id") == call_id:
                return message.get("result", {})

    def close(self) -> None:
        self.socket.close()
        self.process.terminate()
        self.process.wait(timeout=10)


# Dismiss what a first visit shows (the community dialog) by its button's text.
DISMISS = """
Array.from(document.querySelectorAll("button"))
  .filter(b => ["Skip", "Dismiss", "Got it"].includes(b.textContent.trim()))
  .forEach(b => b.click());
"""


def screenshot(page: _Page, url: str, out: Path, settle_seconds: float = 8.0) -> None:
    """Load `url`, let the UI fetch its data, dismiss first-visit dialogs, write a PNG."""
    page.call("Page.navigate", url=url)
    time.sleep(settle_seconds)
    page.call("Runtime.evaluate", expression=DISMISS)
    time.sleep(1.0)
    shot = page.call("Page.captureScreenshot", format="png")
    out.write_bytes(base64.b64decode(shot["data"]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--browser", default=next(
        (b for b in BROWSERS if shutil.which(b)), None), help="a Chromium-family browser")
    args = parser.parse_args()
    if not args.browser:
        raise SystemExit("no Chromium-family browser found: pass --browser")
    env = dict(os.environ)
    env.setdefault("DAGSTER_HOME", str(ROOT / ".dagster_home"))
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    webserver = Path(sys.executable).with_name("dagster-webserver")
    process = subprocess.Popen([str(webserver), "-m", "pipelines.definitions", "-h",
                                "127.0.0.1", "-p", str(port)], cwd=ROOT, env=env)
    try:
        _wait_until_up(url, process)
        with tempfile.TemporaryDirectory() as profile:
            page = _Page(args.browser, profile)
            try:
                page.call("Page.enable")
                for name, path in PAGES.items():
                    out = ROOT / "docs" / name
                    screenshot(page, url + path, out)
                    print(f"{out.relative_to(ROOT)}: {url}{path}")
            finally:
                page.close()
    finally:
        process.terminate()
        process.wait(timeout=30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
