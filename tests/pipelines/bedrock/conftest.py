"""Fixtures for the Bedrock client tests: clients bound to simulators, and a scripted server.

The simulator is the real part for almost everything. The scripted server
(tests/helpers.py) is for the few answers the simulator never gives and for seeing
the exact request headers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from pipelines.bedrock import BedrockClient, ClientConfig
from pipelines.simulator import Simulator
from tests.helpers import FAST, ScriptedServer


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


@pytest.fixture
def scripted() -> Iterator[ScriptedServer]:
    server = ScriptedServer()
    yield server
    server.stop()
