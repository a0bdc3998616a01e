"""Fixtures of the ChirpStack tests: the in-process gRPC API (chirpstack_server.py)."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import grpc
import pytest
from chirpstack_api import api

from tests.bauhof.chirpstack.chirpstack_server import ChirpStackState, Devices, Profiles


def serve(state: ChirpStackState, credentials: Any = None,
          host: str = "127.0.0.1") -> Any:
    """Start the servicers on a free port of `host` (TLS with `credentials`); return the server."""
    server = grpc.server(ThreadPoolExecutor(max_workers=4))
    api.add_DeviceProfileServiceServicer_to_server(Profiles(state), server)
    api.add_DeviceServiceServicer_to_server(Devices(state), server)
    if credentials is None:
        state.port = server.add_insecure_port(f"{host}:0")
    else:
        state.port = server.add_secure_port(f"{host}:0", credentials)
    server.start()
    return server


@pytest.fixture
def chirpstack() -> Iterator[ChirpStackState]:
    """A started gRPC server on a free loopback port; `state.port` is where it listens."""
    state = ChirpStackState()
    server = serve(state)
    try:
        yield state
    finally:
        server.stop(None).wait(5)
