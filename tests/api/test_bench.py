"""The load generator of `bauhof bench api` against a real server (figures not asserted)."""

from __future__ import annotations

from collections.abc import Callable

from api import bench
from tests.api.conftest import Tokens


def test_drive_sends_every_request_and_keeps_the_warm_up_apart(
        database_url: str, tokens: Tokens, live_server: Callable[..., str]) -> None:
    euis = bench.town(database_url, 4)
    token = tokens.planner["Authorization"].removeprefix("Bearer ")
    result = bench.drive(live_server(), token, euis, rate=20, seconds=2, warmup=1)
    assert (len(result["latencies"]), len(result["warmup_latencies"]), result["errors"]) == (
        40, 20, 0)
    assert all(ms >= 0 for ms in result["latencies"] + result["warmup_latencies"])


def test_drive_counts_refused_requests_as_errors(
        database_url: str, live_server: Callable[..., str]) -> None:
    euis = bench.town(database_url, 2)
    result = bench.drive(live_server(), "bh_not-a-token", euis, rate=10, seconds=1)
    assert (len(result["latencies"]), result["warmup_latencies"], result["errors"]) == (
        10, [], 10)
