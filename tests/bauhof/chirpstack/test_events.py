"""ChirpStack v4 events parsed from the reference samples, JSON and Protobuf, and refused."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bauhof.chirpstack import (
    EventError,
    OtherEvent,
    StatusEvent,
    UplinkEvent,
    parse_event,
    parse_topic,
)
from tests import factories

REFERENCE = Path(__file__).resolve().parents[4] / "shared/reference/chirpstack"


def _reference(name: str, event_type: str) -> tuple[str, bytes]:
    payload = (REFERENCE / f"{name}.json").read_bytes()
    info = json.loads(payload)["deviceInfo"]
    return factories.topic(info["devEui"], event_type, info["applicationId"]), payload


def test_reference_up_event() -> None:
    event = parse_event(*_reference("up", "up"))
    assert isinstance(event, UplinkEvent)
    assert event.deduplication_id == uuid.UUID("7658d04d-7f1c-4eb6-900b-d948f3061a9d")
    assert event.time == datetime(2025, 6, 13, 12, 44, 52, 653000, tzinfo=UTC)
    assert event.device.dev_eui == "24e124538b223213"
    assert event.device.application_id == "c3f2c4aa-07c8-4d6c-8a86-7ea2d4a31dca"
    assert event.device.device_profile_name == "Default device profile"
    assert (event.f_cnt, event.f_port, event.dr, event.frequency) == (153, 84, 5, 867300000)
    assert event.data == bytes.fromhex("01753d030001040001")
    assert (event.rssi, event.snr, event.gateway_count) == (-68, 13.2, 1)
    assert event.confirmed is False
    assert event.object is None


def test_reference_up_with_object_keeps_the_decoded_object() -> None:
    event = parse_event(*_reference("up-with-object", "up"))
    assert isinstance(event, UplinkEvent)
    assert event.object == {"temperature": 23.24, "humidity": 48.8}
    assert event.data == bytes.fromhex("091401e8")


def test_reference_status_event() -> None:
    event = parse_event(*_reference("status", "status"))
    assert isinstance(event, StatusEvent)
    assert (event.margin, event.battery_level, event.external_power_source) == (10, 100.0, False)
    assert event.deduplication_id == uuid.UUID("bf2a9746-1c8b-49be-a92e-f0b89c8534e4")


@pytest.mark.parametrize(
    ("name", "event_type", "key", "level", "code"),
    [
        ("join", "join", "c9dbe358-2578-4fb7-b295-66b44edc45a6", None, None),
        ("log", "log", "2025-06-13T12:46:57.311414+00:00:UPLINK_CODEC", "ERROR", "UPLINK_CODEC"),
        ("ack", "ack", "856a03e7-80f6-4c26-b971-9dcb34a59c2e", None, None),
        ("txack", "txack", "42cb6459-a640-46ec-9623-bdff39dc4736", None, None),
    ],
)
def test_reference_other_events(name: str, event_type: str, key: str, level: str | None,
                                code: str | None) -> None:
    event = parse_event(*_reference(name, event_type))
    assert isinstance(event, OtherEvent)
    assert (event.event_type, event.key, event.level, event.code) == (event_type, key, level, code)


def test_protobuf_uplink_parses_to_the_same_values_as_json() -> None:
    body = factories.uplink("a840410000000001", b"\x01\x02\x03", f_cnt=7, f_port=9,
                            dedup="0f5e8c1a-2b3c-4d5e-8f70-8192a3b4c5d6", gateways=2)
    from_json = parse_event(factories.topic("a840410000000001"), factories.encode(body))
    from_proto = parse_event(factories.topic("a840410000000001"),
                             factories.protobuf_uplink(body))
    assert isinstance(from_proto, UplinkEvent)
    assert isinstance(from_json, UplinkEvent)
    assert from_proto.deduplication_id == from_json.deduplication_id
    assert from_proto.time == from_json.time
    assert (from_proto.f_cnt, from_proto.f_port, from_proto.data) == (7, 9, b"\x01\x02\x03")
    assert (from_proto.rssi, from_proto.snr, from_proto.gateway_count) == (-80, 7.5, 2)
    assert from_proto.frequency == 867300000


def test_topic_parts() -> None:
    parsed = parse_topic("application/app-1/device/24E124538B223213/event/up")
    assert (parsed.application_id, parsed.dev_eui, parsed.event_type) == (
        "app-1", "24e124538b223213", "up")


GOOD = factories.uplink("a840410000000001", b"\x01")


@pytest.mark.parametrize(
    ("topic", "payload", "reason"),
    [
        ("application/a/device/xyz/event/up", factories.encode(GOOD),
         "topic 'application/a/device/xyz/event/up' is not application/<app>/device/<devEui>/"
         "event/<type>"),
        (factories.topic("a840410000000001", "bogus"), factories.encode(GOOD),
         "unknown event type 'bogus'"),
        (factories.topic("a840410000000001"), factories.encode(GOOD)[:40], "invalid JSON: "),
        (factories.topic("a840410000000002"), factories.encode(GOOD),
         "deviceInfo.devEui a840410000000001 does not match the topic's a840410000000002"),
        (factories.topic("a840410000000001"), factories.encode({**GOOD, "fCnt": "many"}),
         "field fCnt is 'many', expected an integer"),
        (factories.topic("a840410000000001"), factories.encode({**GOOD, "fPort": 300}),
         "fPort 300 outside 0..255"),
        (factories.topic("a840410000000001"), factories.encode({**GOOD, "data": "@@@"}),
         "field data is not base64"),
        (factories.topic("a840410000000001"), factories.encode({**GOOD, "time": "yesterday"}),
         "time 'yesterday' is not ISO 8601"),
        (factories.topic("a840410000000001"),
         factories.encode({k: v for k, v in GOOD.items() if k != "deduplicationId"}),
         "event has no deduplicationId"),
        (factories.topic("a840410000000001"), factories.encode([1, 2]),
         "payload is neither JSON nor a valid up Protobuf message"),
        (factories.topic("a840410000000001"), b"\xff\xfe\x00garbage",
         "payload is neither JSON nor a valid up Protobuf message"),
        (factories.topic("a840410000000001"), factories.encode({**GOOD, "rxInfo": "x"}),
         "field rxInfo has type str, expected list"),
        (factories.topic("a840410000000001"), factories.encode({**GOOD, "dr": 70000}),
         "dr 70000 outside 0..15"),
    ],
)
def test_bad_events_are_refused_with_the_reason(topic: str, payload: bytes, reason: str) -> None:
    with pytest.raises(EventError) as caught:
        parse_event(topic, payload)
    assert caught.value.reason.startswith(reason)
