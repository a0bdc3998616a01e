"""Factories for ChirpStack events as the tests publish them."""

from __future__ import annotations

import base64
import io
import json
import uuid
from datetime import UTC, datetime
from typing import Any

APP = "c3f2c4aa-07c8-4d6c-8a86-7ea2d4a31dca"


def topic(dev_eui: str, event_type: str = "up", app: str = APP) -> str:
    """The ChirpStack v4 event topic."""
    return f"application/{app}/device/{dev_eui}/event/{event_type}"


def uplink(dev_eui: str, payload: bytes, *, f_port: int = 2, f_cnt: int = 1,
           time: datetime | None = None, dedup: str | None = None, profile: str = "",
           obj: dict[str, Any] | None = None, rssi: int = -80, snr: float = 7.5,
           gateways: int = 1) -> dict[str, Any]:
    """An `up` event body like ChirpStack's (see shared/reference/chirpstack/up.json)."""
    when = (time or datetime(2026, 5, 4, 10, 0, tzinfo=UTC)).isoformat()
    event: dict[str, Any] = {
        "deduplicationId": dedup or str(uuid.uuid4()),
        "time": when,
        "deviceInfo": {
            "tenantId": "6e073e9a-6b4f-4747-b22c-7507568debfb", "tenantName": "ChirpStack",
            "applicationId": APP, "applicationName": "Bauhof",
            "deviceProfileId": "d8ee6c09-414c-4b2e-888a-8e8f86e3187a",
            "deviceProfileName": profile, "deviceName": f"dev {dev_eui[-4:]}",
            "devEui": dev_eui, "deviceClassEnabled": "CLASS_A", "tags": {},
        },
        "devAddr": "01a44c4c", "adr": True, "dr": 5, "fCnt": f_cnt, "fPort": f_port,
        "confirmed": False, "data": base64.b64encode(payload).decode(),
        "rxInfo": [{"gatewayId": f"e4e124dadef64ee{i}", "uplinkId": 100 + i, "gwTime": when,
                    "nsTime": when, "rssi": rssi - 10 * i, "snr": snr - i, "channel": 4,
                    "location": {}, "crcStatus": "CRC_OK"} for i in range(gateways)],
        "txInfo": {"frequency": 867300000, "modulation": {"lora": {
            "bandwidth": 125000, "spreadingFactor": 7, "codeRate": "CR_4_5"}}},
        "regionConfigId": "eu868",
    }
    if obj is not None:
        event["object"] = obj
    return event


def encode(event: dict[str, Any]) -> bytes:
    """Compact JSON, as ChirpStack sends it."""
    return json.dumps(event, separators=(",", ":")).encode()


def protobuf_uplink(event: dict[str, Any]) -> bytes:
    """The same event as a Protobuf `UplinkEvent` (chirpstack-api)."""
    from chirpstack_api import integration
    from google.protobuf import json_format

    message = integration.UplinkEvent()
    json_format.ParseDict(event, message, ignore_unknown_fields=False)
    return bytes(message.SerializeToString())


def phone_photo() -> bytes:
    """A 4000x3000 JPEG as phones write it: EXIF with the maker, a rotation and GPS."""
    from PIL import ExifTags, Image

    image = Image.new("RGB", (4000, 3000), (40, 120, 40))
    exif = image.getexif()
    exif[0x010F] = "PhoneMaker"
    exif[0x0112] = 6  # rotated: the camera held upright
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps.update({1: "N", 2: (48.0, 35.0, 45.5), 3: "E", 4: (8.0, 52.0, 12.0)})
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif, quality=90)
    return out.getvalue()


def png(width: int = 1, height: int = 1) -> bytes:
    """A small, valid PNG (a green square)."""
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (width, height), (40, 120, 40)).save(out, "PNG")
    return out.getvalue()
