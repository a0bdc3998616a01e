"""Parse ChirpStack v4 MQTT integration events (JSON or Protobuf) into frozen values.

JSON follows the Protobuf JSON mapping (lowerCamelCase, bytes as base64, enums as names);
unknown fields are ignored because newer ChirpStack versions add fields. Protobuf payloads
are turned into the same mapping with `json_format.MessageToDict`, so one path validates both.
"""

from __future__ import annotations

import binascii
import json
import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from bauhof.errors import InputError
from bauhof.payloads import PayloadError, load_json

EVENT_TYPES = frozenset({"up", "status", "join", "log", "location", "ack", "txack", "integration"})
# MessageToDict writes 64-bit integers as strings and drops fields at their default value;
# the JSON accessors below accept both, so one path validates JSON and Protobuf events.
_TOPIC = re.compile(
    r"^application/(?P<app>[^/]+)/device/(?P<dev>[0-9a-fA-F]{16})/event/(?P<type>[a-z]+)$"
)
_DEV_EUI = re.compile(r"^[0-9a-fA-F]{16}$")
MAX_PAYLOAD_BYTES = 64 * 1024


class EventError(InputError):
    """An event that cannot be used; `reason` is what an operator reads in the dead letters,
    `code` what kind of problem it is (dead_letters.reason_code)."""


@dataclass(frozen=True, slots=True)
class EventTopic:
    """The parts of an event topic."""

    application_id: str
    dev_eui: str
    event_type: str


@dataclass(frozen=True, slots=True)
class DeviceInfo:
    """The `deviceInfo` block every event carries."""

    dev_eui: str
    application_id: str
    device_profile_id: str
    device_profile_name: str
    device_name: str
    tags: tuple[tuple[str, str], ...]

    def tag(self, key: str) -> str | None:
        """A device tag's value, if set."""
        for k, v in self.tags:
            if k == key:
                return v
        return None


@dataclass(frozen=True, slots=True)
class UplinkEvent:
    """An `up` event: one deduplicated uplink as heard by one or more gateways."""

    deduplication_id: uuid.UUID
    time: datetime
    device: DeviceInfo
    f_cnt: int
    f_port: int
    data: bytes
    confirmed: bool
    dr: int | None
    frequency: int | None
    rssi: int | None
    snr: float | None
    gateway_count: int
    rx_info: str | None
    object: dict[str, Any] | None


@dataclass(frozen=True, slots=True)
class StatusEvent:
    """A `status` event: the device's answer to a DevStatusReq (margin, battery)."""

    deduplication_id: uuid.UUID
    time: datetime
    device: DeviceInfo
    margin: int
    external_power_source: bool
    battery_level_unavailable: bool
    battery_level: float | None


@dataclass(frozen=True, slots=True)
class OtherEvent:
    """`join`, `log`, `location`, `ack`, `txack`: kept whole for operators and downlinks."""

    event_type: str
    key: str
    time: datetime
    device: DeviceInfo
    level: str | None
    code: str | None
    description: str | None
    body: str


Event = UplinkEvent | StatusEvent | OtherEvent


# Topics and deviceInfo blocks seen before, with what they parsed to: a device sends the same
# ones with every event (bounded: cleared when full, so a flood of new ones costs no memory).
_SEEN_MAX = 50_000
_TOPICS: dict[str, EventTopic] = {}
_DEVICES: dict[EventTopic, tuple[dict[str, Any], DeviceInfo]] = {}


def parse_topic(topic: str) -> EventTopic:
    """Split `application/<app>/device/<dev_eui>/event/<type>`."""
    parsed = _TOPICS.get(topic)
    if parsed is None:
        parsed = _parse_topic(topic)
        if len(_TOPICS) >= _SEEN_MAX:
            _TOPICS.clear()
        _TOPICS[topic] = parsed
    return parsed


def _parse_topic(topic: str) -> EventTopic:
    match = _TOPIC.match(topic)
    if match is None:
        raise EventError(
            f"topic {topic[:200]!r} is not application/<app>/device/<devEui>/event/<type>"
        )
    event_type = match.group("type")
    if event_type not in EVENT_TYPES:
        raise EventError(f"unknown event type {event_type!r}")
    return EventTopic(match.group("app"), match.group("dev").lower(), event_type)


def _get(body: dict[str, Any], key: str, kind: type | tuple[type, ...], default: Any = None) -> Any:
    value = body.get(key, default)
    if value is None:
        return default
    if type(value) is kind:  # the common case, first: thousands of events a second
        return value
    # bool is an int in Python: refuse it where a number is expected.
    if isinstance(value, bool) and bool not in (kind if isinstance(kind, tuple) else (kind,)):
        raise EventError(f"field {key} has type bool, expected {_names(kind)}")
    if not isinstance(value, kind):
        raise EventError(f"field {key} has type {type(value).__name__}, expected {_names(kind)}")
    return value


def _names(kind: type | tuple[type, ...]) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join(k.__name__ for k in kinds)


def _int(body: dict[str, Any], key: str, default: int | None = 0) -> int | None:
    value = body.get(key)
    if type(value) is int:
        return value
    # The Protobuf JSON mapping writes 64-bit integers as strings.
    value = _get(body, key, (int, float, str), default)
    if value is None:
        return None
    try:
        number = int(value)
    except (TypeError, ValueError) as exc:
        raise EventError(f"field {key} is {value!r}, expected an integer") from exc
    if isinstance(value, float) and value != number:
        raise EventError(f"field {key} is {value!r}, expected an integer")
    return number


def _time(body: dict[str, Any]) -> datetime:
    raw = _get(body, "time", str)
    if raw is None:
        raise EventError("event has no time")
    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError as exc:
        raise EventError(f"time {raw[:60]!r} is not ISO 8601") from exc
    if parsed.tzinfo is None:
        raise EventError(f"time {raw[:60]!r} has no UTC offset")
    return parsed


def _device(body: dict[str, Any], topic: EventTopic) -> DeviceInfo:
    info = _get(body, "deviceInfo", dict)
    if info is None:
        raise EventError("event has no deviceInfo")
    seen = _DEVICES.get(topic)
    if seen is not None and seen[0] == info:
        # The very block parsed before (its fields are strings, which equal only strings).
        return seen[1]
    device = _device_info(info, topic)
    tags = info.get("tags")
    if not tags or all(type(v) is str for v in tags.values()):
        # Not with other tag values: 1 == True, but their text differs.
        if len(_DEVICES) >= _SEEN_MAX:
            _DEVICES.clear()
        _DEVICES[topic] = (info, device)
    return device


def _device_info(info: dict[str, Any], topic: EventTopic) -> DeviceInfo:
    dev_eui = _get(info, "devEui", str, "")
    if not _DEV_EUI.match(dev_eui):
        raise EventError(f"deviceInfo.devEui {dev_eui[:40]!r} is not 16 hex digits")
    dev_eui = dev_eui.lower()
    if dev_eui != topic.dev_eui:
        raise EventError(f"deviceInfo.devEui {dev_eui} does not match the topic's {topic.dev_eui}")
    tags = _get(info, "tags", dict, {})
    return DeviceInfo(
        dev_eui=dev_eui,
        application_id=_get(info, "applicationId", str, "") or topic.application_id,
        device_profile_id=_get(info, "deviceProfileId", str, ""),
        device_profile_name=_get(info, "deviceProfileName", str, ""),
        device_name=_get(info, "deviceName", str, ""),
        tags=tuple(sorted((str(k), str(v)) for k, v in tags.items())) if tags else (),
    )


def _dedup_id(body: dict[str, Any]) -> uuid.UUID:
    raw = _get(body, "deduplicationId", str)
    if not raw:
        raise EventError("event has no deduplicationId")
    try:
        return uuid.UUID(raw)
    except ValueError as exc:
        raise EventError(f"deduplicationId {raw[:60]!r} is not a UUID") from exc


def _uplink(body: dict[str, Any], device: DeviceInfo) -> UplinkEvent:
    encoded = _get(body, "data", str, "")
    try:
        data = binascii.a2b_base64(encoded, strict_mode=True)  # b64decode(validate=True)
    except (binascii.Error, ValueError) as exc:
        raise EventError("field data is not base64") from exc
    if len(data) > MAX_PAYLOAD_BYTES:
        raise EventError(f"payload of {len(data)} bytes is larger than LoRaWAN allows")
    rx_info = _get(body, "rxInfo", list, [])
    best_rssi: int | None = None
    best_snr: float | None = None
    for entry in rx_info:
        if not isinstance(entry, dict):
            raise EventError("rxInfo entries must be objects")
        rssi = entry.get("rssi")
        if type(rssi) is not int:  # the common case is an int
            rssi = _int(entry, "rssi", None)
        snr = entry.get("snr")
        if type(snr) is not float:
            snr = _get(entry, "snr", (int, float))
        # The best gateway is the one with the strongest signal.
        if rssi is not None and (best_rssi is None or rssi > best_rssi):
            best_rssi = rssi
            best_snr = float(snr) if snr is not None else None
    tx_info = _get(body, "txInfo", dict, {})
    f_port = _int(body, "fPort")
    if f_port is None or not 0 <= f_port <= 255:
        raise EventError(f"fPort {f_port} outside 0..255")
    f_cnt = _int(body, "fCnt")
    if f_cnt is None or not 0 <= f_cnt <= 0xFFFFFFFF:
        raise EventError(f"fCnt {f_cnt} outside 0..2^32-1")
    dr = _int(body, "dr", None)
    if dr is not None and not 0 <= dr <= 15:
        raise EventError(f"dr {dr} outside 0..15")
    if len(rx_info) > 1000:
        raise EventError(f"rxInfo lists {len(rx_info)} gateways")
    if best_rssi is not None and not -500 <= best_rssi <= 500:
        raise EventError(f"rssi {best_rssi} outside -500..500")
    obj = _get(body, "object", dict)
    return UplinkEvent(
        deduplication_id=_dedup_id(body),
        time=_time(body),
        device=device,
        f_cnt=f_cnt,
        f_port=f_port,
        data=data,
        confirmed=bool(_get(body, "confirmed", bool, False)),
        dr=dr,
        frequency=_int(tx_info, "frequency", None),
        rssi=best_rssi,
        snr=best_snr,
        gateway_count=len(rx_info),
        rx_info=orjson.dumps(rx_info).decode() if rx_info else None,
        object=obj,
    )


def _status(body: dict[str, Any], device: DeviceInfo) -> StatusEvent:
    unavailable = bool(_get(body, "batteryLevelUnavailable", bool, False))
    external = bool(_get(body, "externalPowerSource", bool, False))
    level = _get(body, "batteryLevel", (int, float))
    return StatusEvent(
        deduplication_id=_dedup_id(body),
        time=_time(body),
        device=device,
        margin=_int(body, "margin") or 0,
        external_power_source=external,
        battery_level_unavailable=unavailable,
        battery_level=None if unavailable or external or level is None else float(level),
    )


def _other(body: dict[str, Any], device: DeviceInfo, event_type: str, raw: str) -> OtherEvent:
    time = _time(body)
    # What makes a log/ack/txack event unique: its id where it has one, else its time.
    key = str(
        body.get("deduplicationId") or body.get("queueItemId") or body.get("downlinkId")
        or f"{time.isoformat()}:{body.get('code', '')}"
    )
    return OtherEvent(
        event_type=event_type,
        key=key[:200],
        time=time,
        device=device,
        level=_get(body, "level", str),
        code=_get(body, "code", str),
        description=_get(body, "description", str),
        body=raw,
    )


def _protobuf_to_dict(event_type: str, payload: bytes) -> dict[str, Any]:
    from chirpstack_api import integration
    from google.protobuf import json_format
    from google.protobuf.message import DecodeError

    messages = {
        "up": integration.UplinkEvent, "status": integration.StatusEvent,
        "join": integration.JoinEvent, "log": integration.LogEvent,
        "location": integration.LocationEvent, "ack": integration.AckEvent,
        "txack": integration.TxAckEvent,
    }
    if event_type not in messages:
        raise EventError(f"{event_type} events are only accepted as JSON")
    message = messages[event_type]()
    try:
        message.ParseFromString(payload)
    except (DecodeError, RuntimeError, ValueError) as exc:
        raise EventError(
            f"payload is neither JSON nor a valid {event_type} Protobuf message"
        ) from exc
    result: dict[str, Any] = json_format.MessageToDict(message)
    return result


def parse_event(topic: str, payload: bytes) -> Event:
    """Parse one MQTT message from ChirpStack; raises EventError with the reason."""
    parsed_topic = parse_topic(topic)
    if len(payload) > 4 * MAX_PAYLOAD_BYTES:
        raise EventError(f"message of {len(payload)} bytes is too large for an event",
                         "too_large")
    stripped = payload.lstrip()
    if stripped[:1] == b"{":
        try:
            body = load_json(payload, max_bytes=4 * MAX_PAYLOAD_BYTES)
        except PayloadError as exc:
            raise EventError(exc.reason, exc.code) from exc
        if not isinstance(body, dict):
            raise EventError("JSON event is not an object")
        protobuf = False
    else:
        body = _protobuf_to_dict(parsed_topic.event_type, payload)
        protobuf = True
    device = _device(body, parsed_topic)
    if parsed_topic.event_type == "up":
        return _uplink(body, device)
    if parsed_topic.event_type == "status":
        return _status(body, device)
    # Kept whole: as received (orjson accepted it, so it is valid UTF-8), or as JSON.
    raw = json.dumps(body, separators=(",", ":")) if protobuf else payload.decode("utf-8")
    return _other(body, device, parsed_topic.event_type, raw)
