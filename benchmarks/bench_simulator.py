"""Simulator throughput: GET /jobs/{id} per second on loopback, one keep-alive client thread.

Goal (issue 2): >= 1,500 requests/s, so the simulator is never what a client
benchmark measures. Figures are printed beside two servers measured in the
same run with the same client loop (absolute times drift on shared machines):

- baseline: a textbook `http.server` handler (send_response / send_header /
  end_headers / wfile.write) with HTTP/1.1 keep-alive and Nagle left on;
- bound: a raw-socket server that answers every request with one fixed,
  prebuilt response: the most this client loop can do on this machine.
"""

from __future__ import annotations

import argparse
import http.client
import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from pipelines.simulator import DataConfig, RateLimitConfig, Simulator

GOAL = 1500.0


def _client_loop(host: str, port: int, paths: list[str], headers: dict[str, str],
                 seconds: float) -> float:
    """Requests per second of one keep-alive http.client connection over `seconds`."""
    connection = http.client.HTTPConnection(host, port, timeout=10)
    done = 0
    started = time.perf_counter()
    deadline = started + seconds
    while time.perf_counter() < deadline:
        for path in paths[:200]:
            connection.request("GET", path, headers=headers)
            response = connection.getresponse()
            response.read()
            if response.status != 200:
                raise RuntimeError(f"{path} answered {response.status}")
            done += 1
        paths = paths[200:] + paths[:200]
    elapsed = time.perf_counter() - started
    connection.close()
    return done / elapsed


class _TextbookHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    body = b""

    def do_GET(self) -> None:  # noqa: N802
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args: Any) -> None:
        pass


def _serve_textbook(body: bytes) -> tuple[ThreadingHTTPServer, int]:
    handler = type("Handler", (_TextbookHandler,), {"body": body})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, server.server_address[1]


def _serve_raw(body: bytes) -> tuple[socket.socket, int]:
    response = (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                + str(len(body)).encode() + b"\r\n\r\n" + body)
    listener = socket.create_server(("127.0.0.1", 0))

    def connection(sock: socket.socket) -> None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        buffer = b""
        with sock:
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    return
                buffer += chunk
                while b"\r\n\r\n" in buffer:
                    _, buffer = buffer.split(b"\r\n\r\n", 1)
                    sock.sendall(response)

    def accept() -> None:
        while True:
            try:
                sock, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=connection, args=(sock,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    return listener, listener.getsockname()[1]


def main(seconds: float = 3.0) -> dict[str, Any]:
    data = DataConfig(jobs=5000)
    with Simulator(data, rate_limit=RateLimitConfig(enabled=False)) as sim:
        now = sim.clock.now()
        ids = [j.id for j in sim.store.by_id.values()
               if j.organization_id == sim.store.home_organization_id and j.created_at <= now]
        paths = [f"/jobs/{job_id}" for job_id in ids]
        host, port = sim.base_url.removeprefix("http://").split(":")
        headers = {**sim.auth_headers(), "X-API-Version": "2026-01-01"}
        # A typical body for the other two servers, so all three send the same bytes.
        sample = http.client.HTTPConnection(host, int(port))
        sample.request("GET", paths[0], headers=headers)
        body = sample.getresponse().read()
        sample.close()
        simulator_rps = _client_loop(host, int(port), paths, headers, seconds)

    textbook, textbook_port = _serve_textbook(body)
    textbook_rps = _client_loop("127.0.0.1", textbook_port, paths, headers, min(seconds, 2.0))
    textbook.shutdown()
    raw, raw_port = _serve_raw(body)
    bound_rps = _client_loop("127.0.0.1", raw_port, paths, headers, seconds)
    raw.close()

    figures = {
        "simulator_requests_per_s": round(simulator_rps, 1),
        "goal_requests_per_s": GOAL,
        "ratio_to_goal": round(simulator_rps / GOAL, 2),
        "textbook_http_server_requests_per_s": round(textbook_rps, 1),
        "ratio_to_textbook_http_server": round(simulator_rps / textbook_rps, 2),
        "raw_socket_bound_requests_per_s": round(bound_rps, 1),
        "ratio_to_raw_socket_bound": round(simulator_rps / bound_rps, 2),
        "goal_met": simulator_rps >= GOAL,
    }
    print("simulator: GET /jobs/{id}, one keep-alive client thread, loopback")
    print(f"  simulator            {simulator_rps:9.0f} req/s")
    print(f"  goal                 {GOAL:9.0f} req/s   ratio {simulator_rps / GOAL:5.2f}"
          f"  ({'met' if simulator_rps >= GOAL else 'MISSED'})")
    print(f"  textbook http.server {textbook_rps:9.0f} req/s   ratio "
          f"{simulator_rps / textbook_rps:5.2f}")
    print(f"  raw-socket bound     {bound_rps:9.0f} req/s   ratio "
          f"{simulator_rps / bound_rps:5.2f}")
    return figures


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--json", action="store_true", help="also print the figures as JSON")
    args = parser.parse_args()
    result = main(args.seconds)
    if args.json:
        print(json.dumps(result, indent=2))
