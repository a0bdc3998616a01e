"""Milesight EM500-SMTC (soil), EM310-UDL and EM400-UDL (bin fill level), AT101 (tracker).

Record layouts from reference/devices.md, Milesight sections; the walker is in `records`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from bauhof.codecs.base import Codec, Decoded, EncodeError, Readings, ReadingValue
from bauhof.codecs.fields import check_names, flag, number, pack, raw, sint, uint, word
from bauhof.codecs.records import MILESIGHT_FPORT, Record, join, walk

EM500_SMTC = "milesight-em500-smtc"
EM310_UDL = "milesight-em310-udl"
EM400_UDL = "milesight-em400-udl"
AT101 = "milesight-at101"

# devices.md, AT101 `04 88` status byte, low nibble.
AT101_MOTIONS = ("unknown", "start", "moving", "stop")
GEOFENCE_UNSET = 2  # high nibble of the status byte the encoder sends


def _battery(value: bytes, readings: Readings, warnings: list[str]) -> None:
    readings["battery_pct"] = value[0]


def _temperature(value: bytes, readings: Readings, warnings: list[str]) -> None:
    readings["temperature_c"] = sint(value, 0, 2, "little") / 10


def _soil_temperature(value: bytes, readings: Readings, warnings: list[str]) -> None:
    # EM500-SMTC `03 67`: the probe is in the soil, so this is soil temperature (devices.md).
    readings["soil_temperature_c"] = sint(value, 0, 2, "little") / 10


def _moisture_half_pct(value: bytes, readings: Readings, warnings: list[str]) -> None:
    # `04 68` is ONE byte (u8 / 2); the TTN decoder skips two and loses the EC record after it.
    readings["soil_moisture_pct"] = value[0] / 2


def _moisture_centi_pct(value: bytes, readings: Readings, warnings: list[str]) -> None:
    readings["soil_moisture_pct"] = uint(value, 0, 2, "little") / 100


def _conductivity(value: bytes, readings: Readings, warnings: list[str]) -> None:
    readings["soil_conductivity_us_cm"] = uint(value, 0, 2, "little")


def _distance(value: bytes, readings: Readings, warnings: list[str]) -> None:
    readings["distance_mm"] = uint(value, 0, 2, "little")


def _tilted(value: bytes, readings: Readings, warnings: list[str]) -> None:
    readings["tilted"] = value[0] != 0  # 0 normal, 1 tilted


def _alarm(value: bytes, readings: Readings) -> None:
    # Two alarm records in one frame: the frame is in alarm if either is.
    readings["alarm"] = bool(readings.get("alarm", False)) or value[2] != 0


def _temperature_alarm(value: bytes, readings: Readings, warnings: list[str]) -> None:
    _temperature(value, readings, warnings)
    _alarm(value, readings)


def _distance_alarm(value: bytes, readings: Readings, warnings: list[str]) -> None:
    _distance(value, readings, warnings)
    _alarm(value, readings)


def _location(value: bytes, readings: Readings, warnings: list[str]) -> None:
    readings["latitude"] = sint(value, 0, 4, "little") / 1e6
    readings["longitude"] = sint(value, 4, 4, "little") / 1e6
    motion = value[8] & 0x0F  # high nibble is the geofence state, not a reading
    if motion < len(AT101_MOTIONS):
        readings["motion"] = AT101_MOTIONS[motion]
    else:
        warnings.append(f"unknown motion state {motion}")


def _ignored(value: bytes, readings: Readings, warnings: list[str]) -> None:
    """Records that carry nothing in the reading vocabulary (Wi-Fi scan, tamper)."""


EM500_RECORDS = {
    (0x01, 0x75): Record(1, _battery),
    (0x03, 0x67): Record(2, _soil_temperature),
    (0x04, 0x68): Record(1, _moisture_half_pct),  # older firmware
    (0x04, 0xCA): Record(2, _moisture_centi_pct),  # newer firmware
    (0x05, 0x7F): Record(2, _conductivity),
}
EM310_RECORDS = {
    (0x01, 0x75): Record(1, _battery),
    (0x03, 0x82): Record(2, _distance),
    (0x04, 0x00): Record(1, _tilted),
}
EM400_RECORDS = {
    (0x01, 0x75): Record(1, _battery),
    (0x03, 0x67): Record(2, _temperature),
    (0x04, 0x82): Record(2, _distance),  # channel 04 here, 03 on the EM310
    (0x05, 0x00): Record(1, _tilted),
    (0x83, 0x67): Record(3, _temperature_alarm),
    (0x84, 0x82): Record(3, _distance_alarm),
}
AT101_RECORDS = {
    (0x01, 0x75): Record(1, _battery),
    (0x03, 0x67): Record(2, _temperature),
    (0x04, 0x88): Record(9, _location),
    (0x05, 0x00): Record(1, _tilted),
    (0x06, 0xD9): Record(9, _ignored),  # Wi-Fi scan entry: no position
    (0x07, 0x00): Record(1, _ignored),  # tamper; size as the other `xx 00` state records
}
AT101_HISTORY = (0x20, 0xCE)  # u32 time, then longitude, then latitude (reversed order)


def decode_em500_smtc(fport: int, payload: bytes) -> Decoded:
    """Decode an EM500-SMTC record frame (fPort 85) into battery and soil readings."""
    return walk(EM500_SMTC, fport, payload, EM500_RECORDS)


def decode_em310_udl(fport: int, payload: bytes) -> Decoded:
    """Decode an EM310-UDL record frame (fPort 85) into battery, distance and tilt."""
    return walk(EM310_UDL, fport, payload, EM310_RECORDS)


def decode_em400_udl(fport: int, payload: bytes) -> Decoded:
    """Decode an EM400-UDL record frame (fPort 85): battery, temperature, distance, tilt, alarm."""
    return walk(EM400_UDL, fport, payload, EM400_RECORDS)


def decode_at101(fport: int, payload: bytes) -> Decoded:
    """Decode an AT101 record frame (fPort 85); a history position counts only with no live one."""
    history: list[tuple[int, float, float]] = []

    def collect(value: bytes, readings: Readings, warnings: list[str]) -> None:
        history.append(
            (
                uint(value, 0, 4, "little"),
                sint(value, 8, 4, "little") / 1e6,  # latitude comes last here
                sint(value, 4, 4, "little") / 1e6,
            )
        )

    decoded = walk(AT101, fport, payload, {**AT101_RECORDS, AT101_HISTORY: Record(12, collect)})
    if not history:
        return decoded
    readings, warnings = dict(decoded.readings), list(decoded.warnings)
    if "latitude" in readings:
        warnings.append(f"{len(history)} history position(s) ignored: frame has a live position")
    else:
        # Readings carry no time of their own: say which stored position this is.
        time, readings["latitude"], readings["longitude"] = max(history)
        stamp = datetime.fromtimestamp(time, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        warnings.append(f"position from history record of {stamp}")
    return Decoded(readings, tuple(warnings))


def _u8(model: str, readings: Mapping[str, ReadingValue], name: str) -> bytes | None:
    value = number(model, readings, name)
    return None if value is None else pack(raw(model, name, value, 1, "u8"), 1, "little")


def _le16(
    model: str, readings: Mapping[str, ReadingValue], name: str, scale: float, signed: bool
) -> bytes | None:
    value = number(model, readings, name)
    if value is None:
        return None
    return pack(raw(model, name, value, scale, "s16" if signed else "u16"), 2, "little")


def _state(model: str, readings: Mapping[str, ReadingValue], name: str) -> bytes | None:
    value = flag(model, readings, name)
    return None if value is None else bytes([1 if value else 0])


def _frame(model: str, records: list[tuple[int, int, bytes | None]]) -> tuple[int, bytes]:
    present = [(channel, kind, value) for channel, kind, value in records if value is not None]
    if not present:
        raise EncodeError(model, "no readings to encode")
    return join(present)


def encode_em500_smtc(readings: Mapping[str, ReadingValue]) -> tuple[int, bytes]:
    """Encode EM500-SMTC readings as records 01 75, 03 67, 04 CA, 05 7F (those present)."""
    m = EM500_SMTC
    check_names(
        m,
        readings,
        ("battery_pct", "soil_temperature_c", "soil_moisture_pct", "soil_conductivity_us_cm"),
    )
    return _frame(
        m,
        [
            (0x01, 0x75, _u8(m, readings, "battery_pct")),
            (0x03, 0x67, _le16(m, readings, "soil_temperature_c", 10, True)),
            (0x04, 0xCA, _le16(m, readings, "soil_moisture_pct", 100, False)),
            (0x05, 0x7F, _le16(m, readings, "soil_conductivity_us_cm", 1, False)),
        ],
    )


def encode_em310_udl(readings: Mapping[str, ReadingValue]) -> tuple[int, bytes]:
    """Encode EM310-UDL readings as records 01 75, 03 82, 04 00 (those present)."""
    m = EM310_UDL
    check_names(m, readings, ("battery_pct", "distance_mm", "tilted"))
    return _frame(
        m,
        [
            (0x01, 0x75, _u8(m, readings, "battery_pct")),
            (0x03, 0x82, _le16(m, readings, "distance_mm", 1, False)),
            (0x04, 0x00, _state(m, readings, "tilted")),
        ],
    )


def encode_em400_udl(readings: Mapping[str, ReadingValue]) -> tuple[int, bytes]:
    """Encode EM400-UDL readings; with `alarm`, temperature and distance go as 83 67 / 84 82."""
    m = EM400_UDL
    check_names(m, readings, ("battery_pct", "temperature_c", "distance_mm", "tilted", "alarm"))
    temperature = _le16(m, readings, "temperature_c", 10, True)
    distance = _le16(m, readings, "distance_mm", 1, False)
    alarm = flag(m, readings, "alarm")
    if alarm is None:
        records = [(0x03, 0x67, temperature), (0x04, 0x82, distance)]
    elif temperature is None and distance is None:
        raise EncodeError(m, "alarm needs temperature_c or distance_mm to travel with")
    else:
        alarm_byte = b"\x01" if alarm else b"\x00"
        records = [
            (0x83, 0x67, None if temperature is None else temperature + alarm_byte),
            (0x84, 0x82, None if distance is None else distance + alarm_byte),
        ]
    return _frame(
        m,
        [
            (0x01, 0x75, _u8(m, readings, "battery_pct")),
            *records,
            (0x05, 0x00, _state(m, readings, "tilted")),
        ],
    )


def encode_at101(readings: Mapping[str, ReadingValue]) -> tuple[int, bytes]:
    """Encode AT101 readings as records 01 75, 03 67, 04 88, 05 00 (those present)."""
    m = AT101
    check_names(
        m, readings, ("battery_pct", "temperature_c", "latitude", "longitude", "motion", "tilted")
    )
    latitude, longitude = number(m, readings, "latitude"), number(m, readings, "longitude")
    motion = word(m, readings, "motion", AT101_MOTIONS)
    location = None
    if latitude is not None and longitude is not None:
        status = GEOFENCE_UNSET << 4 | AT101_MOTIONS.index(motion or "unknown")
        location = (
            pack(raw(m, "latitude", latitude, 1e6, "s32"), 4, "little")
            + pack(raw(m, "longitude", longitude, 1e6, "s32"), 4, "little")
            + bytes([status])
        )
    elif latitude is not None or longitude is not None:
        raise EncodeError(m, "latitude and longitude go together")
    elif motion is not None:
        raise EncodeError(m, "motion travels in record 04 88, with latitude and longitude")
    return _frame(
        m,
        [
            (0x01, 0x75, _u8(m, readings, "battery_pct")),
            (0x03, 0x67, _le16(m, readings, "temperature_c", 10, True)),
            (0x04, 0x88, location),
            (0x05, 0x00, _state(m, readings, "tilted")),
        ],
    )


CODECS = (
    Codec(EM500_SMTC, "soil", MILESIGHT_FPORT, decode_em500_smtc, encode_em500_smtc),
    # EM310-UDL and EM400-UDL data sheets: ultrasonic, up to 4.5 m.
    Codec(EM310_UDL, "bin", MILESIGHT_FPORT, decode_em310_udl, encode_em310_udl,
          limits={"distance_mm": (0, 4500)}),
    Codec(EM400_UDL, "bin", MILESIGHT_FPORT, decode_em400_udl, encode_em400_udl,
          limits={"distance_mm": (0, 4500)}),
    Codec(AT101, "tracker", MILESIGHT_FPORT, decode_at101, encode_at101),
)
