"""Realistic ChirpStack uplink traffic for benchmarks: pre-encoded, mixed models."""

from __future__ import annotations

import base64
import json
import random
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from bauhof import codecs

APPLICATION_ID = "5e1f2a3b-0000-4000-8000-000000000001"

# Readings each model's encoder gets, drawn around these values.
_SAMPLES: dict[str, dict[str, Any]] = {
    "dragino-lse01": {"battery_v": 3.6, "temperature_c": 14.2, "soil_moisture_pct": 24.5,
                      "soil_temperature_c": 12.3, "soil_conductivity_us_cm": 410},
    "milesight-em500-smtc": {"battery_pct": 88, "soil_temperature_c": 13.1,
                             "soil_moisture_pct": 27.5, "soil_conductivity_us_cm": 350},
    "dragino-ldds75": {"battery_v": 3.4, "distance_mm": 812, "temperature_c": 9.5},
    "milesight-em310-udl": {"battery_pct": 91, "distance_mm": 640, "tilted": False},
    "milesight-em400-udl": {"battery_pct": 77, "temperature_c": 11.4, "distance_mm": 455,
                            "tilted": False},
    "dragino-lgt92": {"latitude": 48.5961, "longitude": 8.8702, "battery_v": 3.9,
                      "alarm": False, "motion": "move", "roll_deg": 1.5, "pitch_deg": -0.75},
    "milesight-at101": {"battery_pct": 95, "temperature_c": 18.3, "latitude": 48.5972,
                        "longitude": 8.8689, "motion": "moving", "tilted": False},
}
# A town has many more bins and soil probes than vehicles.
_WEIGHTS = {"dragino-lse01": 3, "milesight-em500-smtc": 2, "dragino-ldds75": 5,
            "milesight-em310-udl": 5, "milesight-em400-udl": 4, "dragino-lgt92": 1,
            "milesight-at101": 1}


def devices(count: int, seed: int = 1) -> list[tuple[str, str]]:
    """(dev_eui, model) pairs with a realistic mix of models."""
    rng = random.Random(seed)
    models = rng.choices(list(_WEIGHTS), weights=list(_WEIGHTS.values()), k=count)
    return [(f"a8404100{i:08x}", m) for i, m in enumerate(models)]


def _jitter(rng: random.Random, readings: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in readings.items():
        if isinstance(value, bool | str):
            out[key] = value
        elif key in ("latitude", "longitude"):
            out[key] = round(value + rng.uniform(-0.01, 0.01), 5)
        elif isinstance(value, int):
            out[key] = max(0, min(100, value + rng.randint(-5, 5))) \
                if key.endswith("_pct") else value + rng.randint(0, 20)
        else:
            out[key] = round(value + rng.uniform(-1, 1), 1)
    return out


def uplinks(count: int, fleet: list[tuple[str, str]], seed: int = 1,
            start: datetime | None = None, rate: int | None = None) -> (
    Iterator[tuple[str, bytes]]
):
    """`count` (topic, JSON payload) pairs, in time order, as ChirpStack v4 publishes them.

    Event times are 5 to 40 ms apart at random, or exactly 1/`rate` s apart when a rate is given
    (a live stream published at that rate, whose event time keeps pace with the wall clock).
    """
    rng = random.Random(seed)
    when = start or datetime(2026, 6, 1, tzinfo=UTC)
    spacing = timedelta(seconds=1 / rate) if rate else None
    f_cnt: dict[str, int] = {}
    for _ in range(count):
        dev_eui, model = fleet[rng.randrange(len(fleet))]
        fport, payload = codecs.encode(model, _jitter(rng, _SAMPLES[model]))
        when += spacing or timedelta(milliseconds=rng.randint(5, 40))
        f_cnt[dev_eui] = f_cnt.get(dev_eui, 0) + 1
        stamp = when.isoformat()
        event = {
            "deduplicationId": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            "time": stamp,
            "deviceInfo": {
                "tenantId": "52f14cd4-c6f1-4fbd-8f87-4025e1d49242", "tenantName": "Stadt",
                "applicationId": APPLICATION_ID, "applicationName": "bauhof",
                "deviceProfileId": "d8ee6c09-414c-4b2e-888a-8e8f86e3187a",
                "deviceProfileName": model, "deviceName": f"{model}-{dev_eui[-4:]}",
                "devEui": dev_eui, "deviceClassEnabled": "CLASS_A", "tags": {},
            },
            "devAddr": dev_eui[-8:], "adr": True, "dr": 5, "fCnt": f_cnt[dev_eui],
            "fPort": fport, "confirmed": False, "data": base64.b64encode(payload).decode(),
            "rxInfo": [{
                "gatewayId": "e4e124dadef64eee", "uplinkId": rng.getrandbits(16),
                "gwTime": stamp, "nsTime": stamp, "rssi": rng.randint(-120, -60),
                "snr": round(rng.uniform(-10, 12), 1), "channel": rng.randrange(8),
                "location": {}, "context": "Hw9+zQ==", "crcStatus": "CRC_OK",
            }],
            "txInfo": {"frequency": 868100000, "modulation": {"lora": {
                "bandwidth": 125000, "spreadingFactor": 7, "codeRate": "CR_4_5"}}},
            "regionConfigId": "eu868",
        }
        topic = f"application/{APPLICATION_ID}/device/{dev_eui}/event/up"
        yield topic, json.dumps(event, separators=(",", ":")).encode()
