"""ChirpStack v4 events: the same keys and types as the reference samples, and Protobuf."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from chirpstack_api import integration

from bauhof.chirpstack.events import StatusEvent, UplinkEvent, parse_event
from simulator import envelope, scenario
from simulator.clock import to_us
from tests.simulator.conftest import run_engine, tiny_town

# The reference directory sits beside the repository, here and in CI.
REFERENCE = Path(__file__).resolve().parents[3] / "shared/reference/chirpstack"


def _shape(value: Any) -> Any:
    """Keys and JSON types of a value, recursively (lists by their first element)."""
    if isinstance(value, dict):
        return {k: _shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_shape(value[0])] if value else []
    return type(value).__name__


def _events(encoding: envelope.Encoding = "json") -> list[tuple[str, bytes]]:
    town = scenario.parse(tiny_town(), "tiny")
    messages = run_engine(town, days=1.0, encoding=encoding)
    return [(m.topic, m.payload) for m in messages if m.topic.startswith("application/")]


def test_an_up_event_has_the_keys_and_types_of_the_reference() -> None:
    reference = json.loads((REFERENCE / "up.json").read_text())
    topic, payload = next(e for e in _events() if e[0].endswith("/event/up"))
    event = json.loads(payload)
    ours, theirs = _shape(event), _shape(reference)
    # Gateways with a known location report it; the sample's gateway had none.
    ours["rxInfo"][0]["location"] = {}
    assert ours == theirs
    assert topic == (f"application/{event['deviceInfo']['applicationId']}/device/"
                     f"{event['deviceInfo']['devEui']}/event/up")
    assert event["rxInfo"][0]["timeSinceGpsEpoch"].endswith("s")
    assert event["time"].endswith("+00:00")


def test_a_status_event_has_the_keys_and_types_of_the_reference() -> None:
    reference = json.loads((REFERENCE / "status.json").read_text())
    ups = {json.loads(p)["deduplicationId"] for t, p in _events() if t.endswith("/event/up")}
    statuses = [json.loads(p) for t, p in _events() if t.endswith("/event/status")]
    assert statuses
    assert _shape(statuses[0]) == _shape(reference)
    assert all(s["deduplicationId"] in ups for s in statuses)


def test_gps_time_matches_the_reference_sample() -> None:
    # up.json: gwTime 2025-06-13T12:44:52.653481 is 1433853910.653 s after the GPS epoch.
    from datetime import UTC, datetime

    t_us = to_us(datetime(2025, 6, 13, 12, 44, 52, 653481, tzinfo=UTC))
    assert envelope.gps_duration(t_us) == "1433853910.653s"


def test_protobuf_round_trip_gives_the_same_fields() -> None:
    as_json = _events("json")
    as_proto = _events("protobuf")
    assert [t for t, _ in as_json] == [t for t, _ in as_proto]
    for (topic, text), (_, binary) in zip(as_json, as_proto, strict=True):
        event = json.loads(text)
        if topic.endswith("/event/status"):
            status = integration.StatusEvent()
            status.ParseFromString(binary)
            assert status.deduplication_id == event["deduplicationId"]
            assert status.margin == event["margin"]
            assert status.battery_level == pytest.approx(event["batteryLevel"], rel=1e-6)
            continue
        up = integration.UplinkEvent()
        up.ParseFromString(binary)
        assert up.deduplication_id == event["deduplicationId"]
        assert up.device_info.dev_eui == event["deviceInfo"]["devEui"]
        assert up.device_info.device_profile_name == event["deviceInfo"]["deviceProfileName"]
        assert (up.f_cnt, up.f_port, up.dr) == (event["fCnt"], event["fPort"], event["dr"])
        assert up.data == base64.b64decode(event["data"])
        assert up.time.ToJsonString().replace("Z", "") == event["time"][:-6]
        assert up.tx_info.frequency == event["txInfo"]["frequency"]
        assert up.tx_info.modulation.lora.spreading_factor == (
            event["txInfo"]["modulation"]["lora"]["spreadingFactor"])
        assert [(r.gateway_id, r.rssi, r.uplink_id) for r in up.rx_info] == [
            (r["gatewayId"], r["rssi"], r["uplinkId"]) for r in event["rxInfo"]]
        assert [r.snr for r in up.rx_info] == pytest.approx([r["snr"] for r in event["rxInfo"]])


@pytest.mark.parametrize("encoding", ["json", "protobuf"])
def test_bauhof_ingest_parses_both_encodings(encoding: envelope.Encoding) -> None:
    kinds = set()
    for topic, payload in _events(encoding):
        parsed = parse_event(topic, payload)
        kinds.add(type(parsed).__name__)
        if isinstance(parsed, UplinkEvent):
            assert parsed.gateway_count >= 1
            assert parsed.device.dev_eui in topic
        else:
            assert isinstance(parsed, StatusEvent)
    assert kinds == {"UplinkEvent", "StatusEvent"}
