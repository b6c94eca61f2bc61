"""Fixtures for the Bedrock client tests: clients bound to simulators, and a scripted server.

The simulator is the real part for almost everything. The scripted server is
for the few answers the simulator never gives (a 400 for an ID that passes
local validation, `Retry-After` as an HTTP date, a 200 whose JSON doesn't fit
the contract) and for seeing the exact request headers.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from pipelines.bedrock import BedrockClient, ClientConfig
from pipelines.simulator import Simulator

# Fast retries for tests: the policy is the same, only the clock is shorter.
FAST = {"backoff_base": 0.02, "backoff_cap": 0.2, "connect_timeout": 2.0, "read_timeout": 2.0}


@pytest.fixture
def make_client() -> Iterator[Callable[..., BedrockClient]]:
    """`make_client(sim_or_url, **config)`: a client with the demo key; all closed at teardown."""
    clients: list[BedrockClient] = []

    def make(target: Simulator | str, **overrides: Any) -> BedrockClient:
        if isinstance(target, Simulator):
            base = {"base_url": target.base_url, "api_key": target.api_keys[0]}
        else:
            base = {"base_url": target, "api_key": "sk_scripted_test_key"}
        client = BedrockClient(ClientConfig(**{**base, **FAST, **overrides}))
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


def _home_ids(sim: Simulator) -> list[str]:
    """IDs the demo key can read and that exist at the simulator's now."""
    now = sim.clock.now()
    return [job.id for job in sim.store.by_id.values()
            if job.organization_id == sim.store.home_organization_id and job.created_at <= now]


def _foreign_ids(sim: Simulator) -> list[str]:
    now = sim.clock.now()
    return [job.id for job in sim.store.by_id.values()
            if job.organization_id != sim.store.home_organization_id and job.created_at <= now]


@dataclass
class Canned:
    status: int
    body: Any = None  # dict → JSON; bytes/str → as is
    headers: dict[str, str] = field(default_factory=dict)


class ScriptedServer:
    """Answers `routes[path]` (a `Canned`, or a list of them served in turn); records requests."""

    def __init__(self) -> None:
        self.routes: dict[str, Canned | list[Canned]] = {}
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.client_ports: set[int] = set()  # one per TCP connection the client opened
        self._lock = threading.Lock()
        scripted = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                super().setup()  # no Nagle: headers and body go out in separate writes
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def do_GET(self) -> None:  # noqa: N802
                with scripted._lock:
                    scripted.requests.append((self.path, dict(self.headers)))
                    scripted.client_ports.add(self.client_address[1])
                    canned = scripted.routes.get(self.path.split("?")[0])
                    if isinstance(canned, list):
                        canned = canned.pop(0) if len(canned) > 1 else canned[0]
                canned = canned or Canned(404, {"code": "NOT_FOUND", "detail": "no such job"})
                body = canned.body
                if isinstance(body, dict | list):
                    body = json.dumps(body).encode()
                elif isinstance(body, str):
                    body = body.encode()
                body = body or b""
                self.send_response(canned.status)
                for name, value in {"Content-Type": "application/json", **canned.headers}.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,),
                                        daemon=True)
        self._thread.start()

    def route(self, path: str, *answers: Canned) -> None:
        """Serve `answers` in turn on `path` (the last one repeats)."""
        self.routes[path] = list(answers)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def scripted() -> Iterator[ScriptedServer]:
    server = ScriptedServer()
    yield server
    server.stop()


@pytest.fixture
def home_ids() -> Callable[[Simulator], list[str]]:
    """IDs the demo key can read and that exist at the simulator's now."""
    return _home_ids


@pytest.fixture
def foreign_ids() -> Callable[[Simulator], list[str]]:
    """IDs of other organizations' jobs (403 for the demo key)."""
    return _foreign_ids


@pytest.fixture
def canned() -> type[Canned]:
    return Canned
