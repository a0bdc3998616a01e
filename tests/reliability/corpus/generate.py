"""Write the bad-input corpus: one file per malformed message and `manifest.json`.

Run `python -m tests.reliability.corpus.generate` after changing a case; the files are
committed so that a reader sees the exact bytes. Each manifest entry names the file, the MQTT
topic it is published on, and the dead-letter reason ingest must give (`reason`, exact) or
its beginning (`reason_prefix`, where the text comes from a parser library). `register`
names a device model to register first (for decoder-level cases).
"""

from __future__ import annotations

import base64
import copy
import json
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
APP = "c3f2c4aa-07c8-4d6c-8a86-7ea2d4a31dca"
EUI = "24e124538b223213"
SOIL = "a8404100000c0001"  # registered as dragino-lse01 by the test
BIN = "a8404100000c0002"  # registered as dragino-ldds75


def topic(event: str = "up", dev: str = EUI) -> str:
    """A ChirpStack event topic."""
    return f"application/{APP}/device/{dev}/event/{event}"


def event(dev: str = EUI, n: int = 0, **fields: Any) -> dict[str, Any]:
    """A valid uplink event (the shape of ChirpStack v4's), with fields replaced."""
    body: dict[str, Any] = {
        "deduplicationId": f"00000000-0000-4000-8000-{n:012d}",
        "time": "2026-06-01T12:00:00.000+00:00",
        "deviceInfo": {"tenantId": "6e073e9a-6b4f-4747-b22c-7507568debfb",
                       "applicationId": APP, "applicationName": "Corpus",
                       "deviceProfileId": "d8ee6c09-414c-4b2e-888a-8e8f86e3187a",
                       "deviceProfileName": "Corpus profile", "deviceName": "corpus",
                       "devEui": dev, "deviceClassEnabled": "CLASS_A", "tags": {}},
        "devAddr": "01a44c4c", "adr": True, "dr": 5, "fCnt": 153, "fPort": 84,
        "confirmed": False, "data": "AXU9AwABBAAB",
        "rxInfo": [{"gatewayId": "e4e124dadef64eee", "uplinkId": 25127, "rssi": -68,
                    "snr": 13.2, "channel": 4, "context": "Hw9+zQ==", "crcStatus": "CRC_OK"}],
        "txInfo": {"frequency": 867300000},
    }
    for key, value in fields.items():
        if value is _DROP:
            del body[key]
        else:
            body[key] = value
    return body


_DROP = object()


def dumps(body: Any) -> bytes:
    """Compact JSON bytes."""
    return json.dumps(body, separators=(",", ":")).encode()


def with_device(**info: Any) -> dict[str, Any]:
    """A valid event whose deviceInfo has fields replaced."""
    body = event(n=90)
    device = copy.deepcopy(body["deviceInfo"])
    device.update(info)
    body["deviceInfo"] = device
    return body


def cases() -> list[dict[str, Any]]:
    """Every case: name, topic, payload bytes, expected reason."""
    deep = dumps(event(n=13, object={"deep": 1})).replace(
        b'"deep":1', b'"deep":' + b"[" * 2000 + b"1" + b"]" * 2000)
    huge = dumps(event(n=6, padding="x" * 265_000))
    big_data = base64.b64encode(bytes(70_000)).decode()
    rows: list[tuple[str, str, bytes, str, bool]] = [
        # (name, topic, payload, reason, reason is a prefix)
        ("truncated-json", topic(), dumps(event(n=1))[:150],
         "invalid JSON: unexpected end of data", True),
        ("wrong-type-fcnt", topic(), dumps(event(n=2, fCnt="abc")),
         "field fCnt is 'abc', expected an integer", False),
        ("wrong-type-deviceinfo", topic(), dumps(event(n=3, deviceInfo=[])),
         "field deviceInfo has type list, expected dict", False),
        ("bool-fport", topic(), dumps(event(n=4, fPort=True)),
         "field fPort has type bool, expected int or float or str", False),
        ("data-not-base64", topic(), dumps(event(n=5, data="!!not base64!!")),
         "field data is not base64", False),
        ("huge-message", topic(), huge,
         f"message of {len(huge)} bytes is too large for an event", False),
        ("payload-beyond-lorawan", topic(), dumps(event(n=7, data=big_data)),
         "payload of 70000 bytes is larger than LoRaWAN allows", False),
        ("unknown-event-type", topic("reboot"), dumps(event(n=8)),
         "unknown event type 'reboot'", False),
        ("protobuf-garbage", topic(), b"\xff\xff\xff\xff\x08\x96\x01garbage",
         "payload is neither JSON nor a valid up Protobuf message", False),
        ("protobuf-for-json-only-type", topic("integration"), b"\x0a\x04abcd",
         "integration events are only accepted as JSON", False),
        ("topic-eui-not-hex", f"application/{APP}/device/zz24e124538b2232/event/up",
         dumps(event(n=9)), f"topic 'application/{APP}/device/zz24e124538b2232/event/up' "
         "is not application/<app>/device/<devEui>/event/<type>", False),
        ("topic-eui-short", f"application/{APP}/device/24e1245/event/up", dumps(event(n=10)),
         f"topic 'application/{APP}/device/24e1245/event/up' is not "
         "application/<app>/device/<devEui>/event/<type>", False),
        ("topic-type-uppercase", topic("UP"), dumps(event(n=11)),
         f"topic '{topic('UP')}' is not application/<app>/device/<devEui>/event/<type>", False),
        ("deveui-mismatch", topic(), dumps(with_device(devEui="24e124538b223214")),
         f"deviceInfo.devEui 24e124538b223214 does not match the topic's {EUI}", False),
        ("deveui-not-hex", topic(), dumps(with_device(devEui="not-an-eui")),
         "deviceInfo.devEui 'not-an-eui' is not 16 hex digits", False),
        ("invalid-utf8", topic(), dumps(event(n=12)).replace(b'"corpus"', b'"corp\xff\xfeus"'),
         "invalid JSON: str is not valid UTF-8", True),
        ("deeply-nested", topic(), deep,
         "invalid JSON: depth limit exceeded", True),
        ("nan-literal", topic(), dumps(event(n=14)).replace(b'"snr":13.2', b'"snr":NaN'),
         "invalid JSON: unexpected character", True),
        ("infinity-literal", topic(),
         dumps(event(n=15)).replace(b'"rssi":-68', b'"rssi":Infinity'),
         "invalid JSON: unexpected character", True),
        ("json-array", topic(), b"[1,2,3]",
         "payload is neither JSON nor a valid up Protobuf message", False),
        ("empty-payload", topic(), b"", "event has no deviceInfo", False),
        ("no-deduplication-id", topic(), dumps(event(n=16, deduplicationId=_DROP)),
         "event has no deduplicationId", False),
        ("bad-uuid", topic(), dumps(event(n=17, deduplicationId="not-a-uuid")),
         "deduplicationId 'not-a-uuid' is not a UUID", False),
        ("time-without-offset", topic(), dumps(event(n=18, time="2026-06-01T12:00:00")),
         "time '2026-06-01T12:00:00' has no UTC offset", False),
        ("time-not-iso", topic(), dumps(event(n=19, time="yesterday")),
         "time 'yesterday' is not ISO 8601", False),
        ("fport-out-of-range", topic(), dumps(event(n=20, fPort=300)),
         "fPort 300 outside 0..255", False),
        ("fcnt-negative", topic(), dumps(event(n=21, fCnt=-1)),
         "fCnt -1 outside 0..2^32-1", False),
        ("rxinfo-not-objects", topic(), dumps(event(n=22, rxInfo=[1, 2])),
         "rxInfo entries must be objects", False),
        ("object-not-a-dict", topic(), dumps(event(n=23, object="warm")),
         "field object has type str, expected dict", False),
        ("tags-not-a-dict", topic(), dumps(with_device(tags=["a"])),
         "field tags has type list, expected dict", False),
        ("status-wrong-type", topic("status"),
         dumps({"deduplicationId": "00000000-0000-4000-8000-000000000024",
                "time": "2026-06-01T12:00:00+00:00", "deviceInfo": event()["deviceInfo"],
                "margin": 10, "batteryLevel": "full"}),
         "field batteryLevel has type str, expected int or float", False),
        ("log-level-number", topic("log"),
         dumps({"time": "2026-06-01T12:00:00+00:00", "deviceInfo": event()["deviceInfo"],
                "level": 3, "code": "UPLINK_CODEC", "description": "x"}),
         "field level has type int, expected str", False),
        ("decoder-error", topic(dev=SOIL), dumps(event(SOIL, n=25, fPort=2, data="AQ==")),
         "decode error: ", True),
        ("implausible-reading", topic(dev=BIN),
         dumps(event(BIN, n=26, fPort=2, data="DOR1MAAAXwE=")),
         "implausible readings: ", True),
        # Valid JSON the database cannot hold: text with NUL, found when the batch is refused.
        ("nul-in-device-name", topic(dev="24e124538b2232ff"),
         dumps(event("24e124538b2232ff", n=27)).replace(b'"corpus"', b'"cor\\u0000pus"'),
         "database refused: ", True),
        ("nul-in-rx-info", topic(), dumps(event(n=28)).replace(b'"CRC_OK"', b'"CRC\\u0000OK"'),
         "database refused: ", True),
        # Values that parse but that no column or no reader can hold.
        ("frequency-beyond-int8", topic(), dumps(event(n=29, txInfo={"frequency": 2**63})),
         "database refused: int too big to convert", False),
        ("time-before-year-1-in-utc", topic(),
         dumps(event(n=30, time="0001-01-01T00:00:00+14:00")),
         "time 0001-01-01T00:00:00+14:00 is not between the years 1 and 9999 in UTC", False),
        ("time-after-year-9999-in-utc", topic(),
         dumps(event(n=31, time="9999-12-31T23:00:00-14:00")),
         "time 9999-12-31T23:00:00-14:00 is not between the years 1 and 9999 in UTC", False),
        ("weather-station-name", "bauhof/weather/no such station",
         dumps({"time": "2026-06-01T12:00:00+00:00", "rain_mm_h": 0}),
         "weather station 'no such station' is not a simple name", False),
        ("weather-not-json", "bauhof/weather/herrenberg", b"{rain: 3}",
         "invalid JSON: ", True),
        ("weather-negative-rain", "bauhof/weather/herrenberg",
         dumps({"time": "2026-06-01T12:00:00+00:00", "rain_mm_h": -1}),
         "rain cannot be negative", False),
    ]
    return [{"name": name, "topic": t, "payload": p,
             ("reason_prefix" if prefix else "reason"): reason}
            for name, t, p, reason, prefix in rows]


def main() -> None:
    """Write the files and the manifest."""
    manifest = []
    for case in cases():
        suffix = ".json" if case["payload"][:1] in (b"{", b"[") else ".bin"
        name = case["name"] + suffix
        (HERE / name).write_bytes(case["payload"])
        entry = {"file": name, "topic": case["topic"]}
        entry.update({k: case[k] for k in ("reason", "reason_prefix") if k in case})
        manifest.append(entry)
    registered = {SOIL: "dragino-lse01", BIN: "dragino-ldds75"}
    (HERE / "manifest.json").write_text(json.dumps(
        {"register": registered, "cases": manifest}, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
