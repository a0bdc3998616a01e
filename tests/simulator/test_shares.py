"""A run split by device into shares (simulated in parallel) yields the whole run's stream."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

import pytest

from simulator import scenario
from simulator.clock import HOUR_US, to_us
from simulator.engine import EngineError, Simulator, merge, split
from simulator.faults import DEFAULT_RATES
from simulator.recording import Message

from .conftest import tiny_town


def _digest(messages: Iterable[Message]) -> tuple[int, str]:
    digest = hashlib.sha256()
    count = 0
    for m in messages:
        digest.update(f"{m.time_us} {m.topic} {m.format}\n".encode() + m.payload + b"\n")
        count += 1
    return count, digest.hexdigest()


@pytest.mark.parametrize(("faults", "expected"), [
    (None, (2690, "5d2ea64c5f41f3e28ab352584dba70b878f359e4d4ce77a3b28ceb02910179c2")),
    (DEFAULT_RATES,
     (2753, "313a7f0b3b4f16ef5f3bcb1c017e7da606c8051e21595de4de41867b600ffd19")),
])
def test_the_default_town_streams_the_same_bytes_as_before(
    faults: dict[str, float] | None, expected: tuple[int, str],
) -> None:
    # The digests of three hours of the default town, seed 1, taken from the simulator before
    # it could be split in shares (main at f21209f): the same seed still gives the same bytes.
    town = scenario.load("herrenberg")
    start = to_us(town.simulation.start)
    run = Simulator(town, seed=1, start_us=start, end_us=start + 3 * HOUR_US, faults=faults)
    assert _digest(run.messages()) == expected


@pytest.mark.parametrize(("count", "hours", "faults"), [(2, 30, None), (3, 12, DEFAULT_RATES)])
def test_shares_merged_are_the_whole_run(count: int, hours: int,
                                         faults: dict[str, float] | None) -> None:
    # 30 hours hold the trucks' shift start, where several vehicles send at the same
    # microsecond; with every fault, bursts and outages hit all shares alike.
    town = scenario.load("herrenberg")
    start = to_us(town.simulation.start)
    kwargs = {"seed": 1, "start_us": start, "end_us": start + hours * HOUR_US, "faults": faults}
    whole = list(Simulator(town, **kwargs).messages())  # type: ignore[arg-type]
    shares = split(town, count)
    parts = [Simulator(town, share=share, **kwargs).ordered()  # type: ignore[arg-type]
             for share in shares]
    assert list(merge(parts)) == whole


def test_split_puts_each_asset_in_one_share_and_the_weather_in_the_first() -> None:
    town = scenario.load("herrenberg")
    shares = split(town, 3)
    devices = [d for share in shares for d in share.devices]
    assert sorted(devices) == sorted(d.dev_eui for d in town.devices)
    assert [share.weather for share in shares] == [True, False, False]
    for device in town.devices:
        holding = [i for i, share in enumerate(shares) if device.dev_eui in share.devices]
        mates = {d.dev_eui for d in town.devices if d.asset == device.asset}
        assert mates <= shares[holding[0]].devices
    assert split(town, 1)[0].devices == frozenset(d.dev_eui for d in town.devices)
    with pytest.raises(ValueError, match="cannot split a run into 0 shares"):
        split(town, 0)


def test_crews_cannot_be_split() -> None:
    town = scenario.parse(tiny_town(), "tiny")
    with pytest.raises(EngineError, match="cannot be split"):
        Simulator(town, seed=1, start_us=0, end_us=1, crews=object(),  # type: ignore[arg-type]
                  share=split(town, 2)[0])
