"""Faults on demand: each one that fires is in the ground truth, and shows in the stream."""

from __future__ import annotations

import base64
import json
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from bauhof import codecs
from simulator import faults, scenario, truth
from simulator.clock import to_us
from simulator.recording import Message
from simulator.truth import Truth
from tests.simulator.conftest import run_engine, tiny_town


def _run(tmp_path: Path, rates: dict[str, float], days: float = 1.0,
         town: scenario.Scenario | None = None) -> tuple[list[Message], list[dict[str, Any]]]:
    town = town or scenario.parse(tiny_town(), "tiny")
    sink = Truth(tmp_path / "truth.jsonl")
    messages = run_engine(town, days=days, faults=rates, truth=sink, seed=11)
    sink.close()
    return messages, list(truth.read(tmp_path / "truth.jsonl"))


def _ups(messages: list[Message]) -> list[Message]:
    return [m for m in messages if m.topic.endswith("/event/up")]


def _faults(entries: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [e for e in entries if e["kind"] == "fault" and e["fault"] == kind]


def test_parsing_the_fault_list() -> None:
    assert faults.parse_spec("dup,late=0.5") == {"dup": 0.02, "late": 0.5}
    assert faults.parse_spec("none") == {}
    assert faults.parse_spec("all") == faults.DEFAULT_RATES
    with pytest.raises(faults.FaultSpecError, match=r"--faults 'gremlins': unknown fault"):
        faults.parse_spec("gremlins")
    with pytest.raises(faults.FaultSpecError, match="between 0 and 1"):
        faults.parse_spec("dup=2")


def test_duplicates_are_delivered_twice_and_counted(tmp_path: Path) -> None:
    messages, entries = _run(tmp_path, {"dup": 0.3})
    copies = Counter(m.payload for m in _ups(messages))
    twice = sum(1 for n in copies.values() if n == 2)
    assert twice == len(_faults(entries, "dup")) > 20
    assert set(copies.values()) == {1, 2}
    assert entries[-1]["faults"] == {"dup": twice}


def test_late_uplinks_arrive_after_their_event_time_and_are_counted(tmp_path: Path) -> None:
    messages, entries = _run(tmp_path, {"late": 0.2})
    delays = [m.time_us - to_us(datetime.fromisoformat(json.loads(m.payload)["time"]))
              for m in _ups(messages)]
    late = [d for d in delays if d > 0]
    assert len(late) == len(_faults(entries, "late")) > 10
    assert min(late) >= 600 * 10**6
    assert [m.time_us for m in messages] == sorted(m.time_us for m in messages)


def test_malformed_truncated_and_absurd_frames_are_counted(tmp_path: Path) -> None:
    messages, entries = _run(tmp_path, {"malformed": 0.1, "truncated": 0.1, "absurd": 0.1})
    unparseable = 0
    short = 0
    for message in _ups(messages):
        try:
            event = json.loads(message.payload)
        except ValueError:
            unparseable += 1
            continue
        sent = next(e for e in entries if e.get("deduplication_id") == event["deduplicationId"]
                    and e["kind"] == "uplink")
        model = "dragino-lse01" if sent["asset"].startswith("green") else (
            "milesight-em310-udl" if sent["asset"].startswith("bin") else "dragino-lgt92")
        full = codecs.encode(model, sent["readings"])[1]
        if len(base64.b64decode(event["data"])) < len(full):
            short += 1
    absurd = [e for e in entries if e["kind"] == "uplink" and "absurd" in e["faults"]]
    assert unparseable == len(_faults(entries, "malformed")) > 5
    truncated = [e for e in entries if e["kind"] == "uplink" and "truncated" in e["faults"]]
    assert len(truncated) == len(_faults(entries, "truncated"))
    # A truncated frame inside a malformed envelope cannot be seen as short.
    assert short == sum(1 for e in truncated if "malformed" not in e["faults"]) > 5
    assert len(absurd) == len(_faults(entries, "absurd")) > 5
    assert all(e["readings"].get("soil_moisture_pct") == 300.0
               or e["readings"].get("distance_mm") == 9000
               or e["readings"].get("latitude") == 89.9 for e in absurd)


def test_frame_counter_resets_are_counted(tmp_path: Path) -> None:
    messages, entries = _run(tmp_path, {"fcnt-reset": 2.0})
    resets = 0
    last: dict[str, int] = {}
    for message in _ups(messages):
        event = json.loads(message.payload)
        eui = event["deviceInfo"]["devEui"]
        if eui in last and event["fCnt"] <= last[eui]:
            resets += 1
        last[eui] = event["fCnt"]
    # A reset right after another (fCnt already 0) or before the first frame is not visible.
    assert 0 < resets <= len(_faults(entries, "fcnt-reset"))
    assert all(e["dev_eui"] for e in _faults(entries, "fcnt-reset"))


def test_silent_devices_send_nothing_until_the_silence_ends(tmp_path: Path) -> None:
    _, entries = _run(tmp_path, {"silent": 1.0}, days=2.0)
    silences = _faults(entries, "silent")
    assert silences
    for silence in silences:
        quiet = [e for e in entries if e["kind"] == "uplink" and e["dev_eui"] ==
                 silence["dev_eui"] and silence["time"] < e["time"] < silence["until"]]
        assert quiet == []


def test_dying_batteries_end_in_a_dead_device(tmp_path: Path) -> None:
    _, entries = _run(tmp_path, {"battery": 50.0}, days=5.0)
    dying = {e["dev_eui"] for e in _faults(entries, "battery")}
    dead = {e["dev_eui"]: e["time"] for e in entries if e["kind"] == "battery_dead"}
    assert dying == set(dead) == {"a840410000000001", "24e1240000000002", "a840410000000003"}
    for eui, when in dead.items():
        assert not [e for e in entries if e["kind"] == "uplink" and e["dev_eui"] == eui
                    and e["time"] > when]


def test_a_gateway_outage_loses_what_only_it_would_hear(tmp_path: Path) -> None:
    _, entries = _run(tmp_path, {"gateway-outage": 4.0})
    outages = _faults(entries, "gateway-outage")
    lost = [e for e in entries if e["kind"] == "lost"]
    assert outages and lost
    for entry in lost:
        assert any(o["time"] <= entry["time"] < o["until"] for o in outages)


def test_a_burst_sends_every_twenty_seconds(tmp_path: Path) -> None:
    _, entries = _run(tmp_path, {"burst": 3.0})
    bursts = _faults(entries, "burst")
    assert bursts
    first = bursts[0]
    inside = [e for e in entries if e["kind"] == "uplink" and first["time"] <= e["time"]
              < first["until"]]
    assert len(inside) >= 3 * 40
