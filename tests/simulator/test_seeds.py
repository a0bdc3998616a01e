"""Deduplication ids derive from the seed, the start and the scenario; a repeat is named."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import psycopg
import pytest
import yaml

from bauhof.services import Mosquitto
from harness import town as town_mod
from shell.main import main
from simulator import duplicates, scenario
from simulator.clock import DAY_US, HOUR_US, to_us
from simulator.engine import Simulator

START = to_us(datetime(2026, 6, 1, tzinfo=UTC))


def _small() -> scenario.Scenario:
    return town_mod.subset(scenario.load("herrenberg"), bins=10, green_areas=2)


def _ids(town: scenario.Scenario, seed: int, start_us: int) -> dict[str, list[str]]:
    """Each device's deduplication ids and devAddr over three hours."""
    out: dict[str, list[str]] = {}
    for message in Simulator(town, seed=seed, start_us=start_us,
                             end_us=start_us + 3 * HOUR_US).messages():
        if message.topic.endswith("/event/up"):
            event: Any = orjson.loads(message.payload)
            out.setdefault(event["deviceInfo"]["devEui"], []).append(
                f"{event['devAddr']} {event['deduplicationId']}")
    return out


def test_same_seed_start_and_scenario_give_the_same_ids() -> None:
    town = _small()
    first, again = _ids(town, 1, START), _ids(town, 1, START)
    assert first == again
    assert sum(len(v) for v in first.values()) > 50


def test_another_start_or_scenario_gives_new_ids_and_keeps_addresses() -> None:
    town = _small()
    base = _ids(town, 1, START)
    next_day = _ids(town, 1, START + DAY_US)
    other_town = _ids(town_mod.subset(scenario.load("herrenberg"), bins=9, green_areas=2),
                      1, START)
    other_seed = _ids(town, 2, START)
    for other in (next_day, other_town, other_seed):
        ids = {line.split()[1] for lines in base.values() for line in lines}
        assert ids.isdisjoint(line.split()[1] for lines in other.values() for line in lines)
    # A device keeps its address (ChirpStack's session) whatever the day.
    assert {d: {line.split()[0] for line in lines} for d, lines in base.items()} == {
        d: {line.split()[0] for line in lines} for d, lines in next_day.items()}
    assert all(len({line.split()[0] for line in lines}) == 1 for lines in base.values())


def test_simulate_warns_when_the_run_was_stored_before(
        conn: psycopg.Connection[Any], database_url: str, broker: Mosquitto, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    town = _small()
    path = tmp_path / "small.yaml"
    path.write_text(yaml.safe_dump(town.model_dump(mode="json", exclude_none=True)))
    town_mod.load_assets(database_url, town)
    # The run was ingested once already (an earlier `simulate` with the same arguments).
    town_mod.feed(conn, Simulator(town, seed=1, start_us=START,
                                  end_us=START + DAY_US // 4).messages())
    monkeypatch.setenv("BAUHOF_DATABASE_URL", database_url)
    monkeypatch.setenv("BAUHOF_MQTT_URL", f"mqtt://127.0.0.1:{broker.port}")
    monkeypatch.chdir(tmp_path)
    args = ["simulate", "--scenario", str(path), "--seed", "1", "--days", "0.25",
            "--speed", "max", "--quiet"]
    assert main([*args, "--start", "2026-06-01T00:00Z"]) == 0
    sample = len(duplicates.first_ids(town, seed=1, start_us=START, end_us=START + DAY_US // 4))
    assert sample == duplicates.SAMPLE
    assert capsys.readouterr().err == (
        f"bauhof simulate: warning: {sample} of the first {sample} uplinks of this run were "
        "already stored before it began, so ingest counted them as duplicates: the same "
        "--seed, --start and --scenario give the same data; change one of them for new data\n")
    assert main([*args, "--start", "2026-06-02T00:00Z"]) == 0
    assert capsys.readouterr().err == ""
