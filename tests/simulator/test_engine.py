"""The event loop: deterministic bytes, frames that decode to the ground truth, world events."""

from __future__ import annotations

import base64
import json
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from bauhof import codecs
from simulator import scenario, truth
from simulator.engine import EngineError, Simulator
from simulator.truth import Truth
from tests.simulator.conftest import run_engine, tiny_town


def test_the_same_seed_gives_identical_bytes(herrenberg: scenario.Scenario) -> None:
    first = run_engine(herrenberg, seed=7, days=0.05)
    second = run_engine(herrenberg, seed=7, days=0.05)
    other = run_engine(herrenberg, seed=8, days=0.05)
    assert len(first) > 800
    assert first == second
    assert [m.payload for m in first] != [m.payload for m in other]


def test_protobuf_runs_are_deterministic_too(herrenberg: scenario.Scenario) -> None:
    assert run_engine(herrenberg, days=0.02, encoding="protobuf") == run_engine(
        herrenberg, days=0.02, encoding="protobuf")


def test_every_frame_decodes_to_exactly_what_the_truth_says_was_sent(
    herrenberg: scenario.Scenario, tmp_path: Path,
) -> None:
    path = tmp_path / "truth.jsonl"
    sink = Truth(path)
    messages = run_engine(herrenberg, days=0.1, truth=sink)
    sink.close()
    models = {d.dev_eui: d.model for d in herrenberg.devices}
    sent = {e["deduplication_id"]: e for e in truth.read(path) if e["kind"] == "uplink"}
    ups = [json.loads(m.payload) for m in messages if m.topic.endswith("/event/up")]
    assert len(ups) == len(sent) > 2000
    for event in ups:
        entry = sent[event["deduplicationId"]]
        eui = event["deviceInfo"]["devEui"]
        decoded = codecs.decode(models[eui], event["fPort"], base64.b64decode(event["data"]))
        assert decoded.readings == entry["readings"]
        assert (eui, event["fCnt"], len(event["rxInfo"])) == (
            entry["dev_eui"], entry["f_cnt"], entry["gateways"])
    summary = list(truth.read(path))[-1]
    assert summary["kind"] == "summary"
    assert summary["uplinks"] == len(ups)
    assert summary["published"] == len(messages)


def test_frame_counters_count_up_per_device_and_times_follow_the_clock(
    herrenberg: scenario.Scenario,
) -> None:
    messages = run_engine(herrenberg, days=0.1)
    counters: dict[str, list[int]] = defaultdict(list)
    for message in messages:
        if message.topic.endswith("/event/up"):
            event = json.loads(message.payload)
            counters[event["deviceInfo"]["devEui"]].append(event["fCnt"])
            assert event["time"] == event["rxInfo"][0]["gwTime"]
    assert len(counters) == 296
    assert all(c == list(range(len(c))) for c in counters.values())
    assert [m.time_us for m in messages] == sorted(m.time_us for m in messages)


def test_weather_is_published_every_simulated_hour(herrenberg: scenario.Scenario) -> None:
    messages = run_engine(herrenberg.model_copy(update={"devices": []}), days=0.5)
    weather = [m for m in messages if m.topic == "bauhof/weather/herrenberg"]
    assert [json.loads(m.payload)["time"][11:16] for m in weather] == [
        f"{h:02d}:00" for h in range(12)]


def test_trucks_empty_the_bins_of_the_collection_day(
    herrenberg: scenario.Scenario, tmp_path: Path,
) -> None:
    path = tmp_path / "truth.jsonl"
    sink = Truth(path)
    # Monday 1 June 2026; the sensors do not matter here.
    run_engine(herrenberg.model_copy(update={"devices": []}), days=1.0, truth=sink)
    sink.close()
    emptied = [e for e in truth.read(path) if e["kind"] == "emptied"]
    monday = sorted(b.id for b in herrenberg.bins if b.collection_weekday == 0)
    assert sorted(e["bin"] for e in emptied) == monday
    assert {e["by"] for e in emptied} == {"veh-1", "veh-2"}
    assert all("04:00" <= e["time"][11:16] <= "14:00" for e in emptied)


def test_vehicles_move_during_the_shift_and_rest_at_night(tmp_path: Path) -> None:
    town = scenario.parse(tiny_town(), "tiny")
    path = tmp_path / "truth.jsonl"
    sink = Truth(path)
    run_engine(town, days=1.0, truth=sink)
    sink.close()
    tracker = [e for e in truth.read(path)
               if e["kind"] == "uplink" and e["asset"] == "vehicle/veh-1"]
    moving = Counter(e["true"]["moving"] for e in tracker)
    assert moving[True] > 0
    assert all(not e["true"]["moving"] for e in tracker if e["time"][11:13] < "04")


def test_a_sensor_without_asset_is_refused_with_its_name() -> None:
    town = scenario.parse(tiny_town(devices=[
        {"dev_eui": "a840410000000009", "model": "dragino-lse01"}]), "tiny")
    with pytest.raises(EngineError, match=r"devices\[0\] \(a840410000000009\): .*asset"):
        Simulator(town, seed=1, start_us=0, end_us=1)
