"""The simulator's HTTP transport, and `Simulator`, the object tests and the demo start.

A plain `http.server` with HTTP/1.1 keep-alive stalls ~40 ms a request on
delayed ACKs when headers and body leave in separate writes. Here every
response leaves in one write and Nagle is off, so the simulator is never the
bottleneck of a client under test.
"""

from __future__ import annotations

import socket
import sys
import threading
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import requests

from pipelines.simulator.api import JobsApi, Response, Stats
from pipelines.simulator.clock import Clock
from pipelines.simulator.faults import Fault, FaultConfig, FaultInjector
from pipelines.simulator.generator import DataConfig, JobStore
from pipelines.simulator.ratelimit import FixedWindowLimiter, RateLimitConfig
from pipelines.simulator.render import RenderConfig

# A documented, non-secret key the simulator accepts unless told otherwise.
DEMO_API_KEY = "sk_demo_local_simulator"


def prefer_low_latency() -> None:
    """Tune a process whose job is serving the simulator (not one shared with a client).

    With many connections, a request's thread waits for the GIL behind the others'
    parsing for up to the 5 ms switch interval: measured with 32 clients and 50 ms
    of injected latency, p50 rose to 58 ms. A 0.5 ms interval brings it to 52 ms.
    """
    sys.setswitchinterval(0.0005)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "bedrock-simulator"
    timeout = 120  # idle keep-alive connections are closed after this
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        self._serve("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._serve("POST")

    def do_DELETE(self) -> None:  # noqa: N802
        self._serve("DELETE")

    def _serve(self, method: str) -> None:
        # Drain any request body so the connection can be reused.
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        response = self.server.api.handle(method, self.path, self.headers)
        self._send(response)

    def _send(self, response: Response) -> None:
        if response.delay:
            time.sleep(response.delay)
        body = response.body
        fault = response.fault
        if fault is Fault.DROP:
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        if fault is Fault.SLOW:
            time.sleep(self.server.faults.config.slow_seconds)
        if fault is Fault.MALFORMED:
            body = self.server.faults.choice((body[: len(body) // 2], b'{"data": {"id": <html>'))
        status = HTTPStatus(response.status)
        lines = [
            f"HTTP/1.1 {status.value} {status.phrase}",
            f"Server: {self.server_version}",
            f"Content-Type: {response.content_type}",
            f"Content-Length: {len(body)}",
        ]
        lines.extend(f"{name}: {value}" for name, value in response.headers.items())
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        try:
            self.wfile.write(head + body)  # one write: no delayed-ACK stall
        except OSError:  # the client gave up (e.g. timed out on a slow response)
            self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        if self.server.verbose:
            super().log_message(format, *args)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    block_on_close = False
    request_queue_size = 256

    def __init__(self, address: tuple[str, int], api: JobsApi, faults: FaultInjector,
                 verbose: bool) -> None:
        self.api = api
        self.faults = faults
        self.verbose = verbose
        super().__init__(address, _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        if self.verbose:
            super().handle_error(request, client_address)


class Simulator:
    """A local Bedrock jobs API on loopback.

    >>> with Simulator(DataConfig(jobs=500)) as sim:
    ...     requests.get(f"{sim.base_url}/jobs", headers=sim.auth_headers())

    The clock starts at the data's epoch and runs in real time unless another
    is given (`Clock.fixed(epoch)` for tests that move time by hand).
    """

    def __init__(
        self,
        data: DataConfig | None = None,
        *,
        render: RenderConfig | None = None,
        faults: FaultConfig | None = None,
        rate_limit: RateLimitConfig | None = None,
        api_keys: tuple[str, ...] = (DEMO_API_KEY,),
        clock: Clock | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        verbose: bool = False,
    ) -> None:
        self.data_config = data or DataConfig()
        self.store = JobStore(self.data_config)
        self.clock = clock or Clock(start=self.data_config.epoch)
        self.api_keys = tuple(api_keys)
        if not self.api_keys:
            raise ValueError("the simulator needs at least one API key")
        self.stats = Stats()
        self.faults = FaultInjector(faults or FaultConfig())
        self.limiter = FixedWindowLimiter(rate_limit or RateLimitConfig())
        render = render or RenderConfig(seed=self.data_config.seed)
        self.api = JobsApi(self.store, self.clock, render, self.api_keys, self.limiter,
                           self.faults, self.stats)
        self._server = _Server((host, port), self.api, self.faults, verbose)
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def auth_headers(self, key: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {key or self.api_keys[0]}"}

    def start(self) -> Simulator:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._server.serve_forever, kwargs={"poll_interval": 0.1},
                name="bedrock-simulator", daemon=True,
            )
            self._thread.start()
        return self

    def serve_forever(self) -> None:
        self._server.serve_forever(poll_interval=0.2)

    def stop(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._server.server_close()

    def __enter__(self) -> Simulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def serve_raw(self, job_id: str, body: bytes, status: int = 200,
                  content_type: str = "application/json") -> None:
        """Answer `GET /jobs/{job_id}` with exactly `body` from now on (a test fixture for
        hostile payloads: malformed JSON, wrong shapes, huge or deeply nested bodies)."""
        self.api.raw_bodies[job_id] = Response(status, body, content_type)

    def stats_snapshot(self) -> dict[str, Any]:
        """What the simulator served so far (the same as `GET /_sim/stats`)."""
        return self.stats.snapshot()


def fetch_stats(base_url: str, timeout: float = 5.0) -> dict[str, Any]:
    """`GET /_sim/stats` of a simulator running in another process."""
    response = requests.get(f"{base_url}/_sim/stats", timeout=timeout)
    response.raise_for_status()
    return response.json()
