"""The report in headless Chromium: "What changed" first, every chart drawn offline, no error.

Chromium is driven over the DevTools protocol (its own `--remote-debugging-port`,
spoken with `websockets`, which the Dagster web server already installs), with
every host name unresolvable, so anything the page tried to fetch would fail
and show up as an error. `make test` installs Chromium where it can (root with
apt-get); elsewhere this test is skipped, saying so.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import requests

from pipelines.services.report import CHARTS, report_path
from tests.helpers import stop

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")

# Per chart: is its SVG laid out with a size, and how many shapes has it drawn?
PROBE = """
JSON.stringify(Array.from(document.querySelectorAll("figure[data-chart]")).map(f => {
  const svg = f.querySelector("svg");
  const box = svg ? svg.getBoundingClientRect() : {width: 0, height: 0};
  const paths = svg ? Array.from(svg.querySelectorAll("path"))
    .filter(p => (p.getAttribute("d") || "").length > 0 && p.getTotalLength() > 0).length : 0;
  const uses = svg ? svg.querySelectorAll("use").length : 0;
  return {id: f.dataset.chart, width: box.width, height: box.height, paths: paths, uses: uses};
}))
"""

# The first section of the page: "What changed", laid out and readable.
FIRST_SECTION = """
JSON.stringify((() => {
  const s = document.querySelector("main > section");
  if (!s) { return null; }
  const box = s.getBoundingClientRect();
  return {id: s.id, width: box.width, height: box.height, text: s.innerText};
})())
"""


def find_browser() -> str | None:
    """A Chromium-family browser: `BEDROCK_TEST_BROWSER`, or the first one on PATH."""
    chosen = os.environ.get("BEDROCK_TEST_BROWSER")
    if chosen:
        return chosen
    return next((path for name in BROWSERS if (path := shutil.which(name))), None)


class DevTools:
    """A minimal DevTools-protocol session over one page's websocket."""

    def __init__(self, socket: Any) -> None:
        self._socket = socket
        self._ids = itertools.count(1)
        self.events: list[dict[str, Any]] = []

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        call_id = next(self._ids)
        self._socket.send(json.dumps({"id": call_id, "method": method, "params": params}))
        while True:
            message = json.loads(self._socket.recv(timeout=30))
            if message.get("id") == call_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})
            self.events.append(message)

    def wait_for(self, event: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while not any(e.get("method") == event for e in self.events):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(event)
            self.events.append(json.loads(self._socket.recv(timeout=remaining)))


@contextmanager
def headless_page(browser: str) -> Iterator[DevTools]:
    """A blank page in a fresh headless browser that cannot reach any host."""
    with tempfile.TemporaryDirectory() as profile:
        process = subprocess.Popen(
            [browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--disable-quic", "--host-resolver-rules=MAP * ~NOTFOUND",
             "--remote-debugging-port=0", "--remote-allow-origins=*",
             f"--user-data-dir={profile}", "--window-size=1280,900", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            port_file = Path(profile) / "DevToolsActivePort"
            deadline = time.monotonic() + 30
            while not (port_file.exists() and port_file.read_text().strip()):
                if time.monotonic() > deadline or process.poll() is not None:
                    pytest.fail(f"{browser} did not start its DevTools endpoint")
                time.sleep(0.1)
            port = int(port_file.read_text().split()[0])
            targets = requests.get(f"http://127.0.0.1:{port}/json/list", timeout=10).json()
            page = next(t for t in targets if t["type"] == "page")
            from websockets.sync.client import connect

            with connect(page["webSocketDebuggerUrl"], max_size=None, open_timeout=10) as socket:
                yield DevTools(socket)
        finally:
            stop(process)


def _errors(events: list[dict[str, Any]]) -> list[str]:
    found = []
    for event in events:
        method, params = event.get("method"), event.get("params", {})
        if method == "Runtime.exceptionThrown":
            found.append(json.dumps(params.get("exceptionDetails", {}))[:300])
        elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert",
                                                                              "warning"):
            found.append(json.dumps(params.get("args", []))[:300])
        elif method == "Log.entryAdded" and params.get("entry", {}).get("level") in ("error",
                                                                                    "warning"):
            found.append(params["entry"].get("text", "")[:300])
    return found


def test_every_chart_is_drawn_offline_and_the_page_logs_no_error(loaded_warehouse):
    browser = find_browser()
    if browser is None:
        pytest.skip("no Chromium-family browser found (looked for "
                    f"{', '.join(BROWSERS)}; set BEDROCK_TEST_BROWSER, or run `make test` "
                    "as root on Debian/Ubuntu, which installs chromium)")
    pytest.importorskip("websockets.sync.client",
                        reason="websockets (installed with dagster-webserver) is missing")
    page = report_path(loaded_warehouse.path)
    with headless_page(browser) as tab:
        for domain in ("Runtime", "Log", "Page"):
            tab.call(f"{domain}.enable")
        tab.call("Page.navigate", url=page.resolve().as_uri())
        tab.wait_for("Page.loadEventFired")
        charts = json.loads(tab.call("Runtime.evaluate", expression=PROBE,
                                     returnByValue=True)["result"]["value"])
        first = json.loads(tab.call("Runtime.evaluate", expression=FIRST_SECTION,
                                    returnByValue=True)["result"]["value"])
        time.sleep(0.3)  # let late console messages arrive
        tab.call("Runtime.evaluate", expression="1")
        errors = _errors(tab.events)

    assert [c["id"] for c in charts] == [chart.id for chart in CHARTS]
    for chart in charts:
        assert chart["width"] > 300 and chart["height"] > 80, chart  # laid out, visible
        assert chart["paths"] >= 10 and chart["uses"] > 0, chart  # shapes and text drawn
    assert not errors, errors
    # "What changed" comes first, drawn, naming the windows it compared.
    assert first["id"] == "what-changed" and first["height"] > 60 and first["width"] > 300
    assert "What changed" in first["text"] and "jobs created 2025-12-31 00:00" in first["text"]
