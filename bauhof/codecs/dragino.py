"""Dragino LSE01 (soil), LDDS75 (bin fill level) and LGT92 (GPS tracker): fixed big-endian frames.

Byte layouts from reference/devices.md, sections `dragino-lse01`, `dragino-ldds75`,
`dragino-lgt92`.
"""

from __future__ import annotations

from collections.abc import Mapping

from bauhof.codecs.base import Codec, Decoded, EncodeError, Readings, ReadingValue
from bauhof.codecs.fields import (
    check_fport,
    check_length,
    check_names,
    flag,
    number,
    pack,
    raw,
    required,
    sint,
    uint,
    word,
)

FPORT = 2  # all three models report on fPort 2 (devices.md)

LSE01 = "dragino-lse01"
LDDS75 = "dragino-ldds75"
LGT92 = "dragino-lgt92"

# devices.md, LSE01 byte 10: on firmware 1.2.1 bit 7 set means raw mode, where bytes 4-5 carry
# ten times the dielectric constant. That constant cannot exceed about 88 (water at 0 °C), so a
# frame whose bytes 4-5 exceed 1000 is no raw-mode frame: it is an older firmware's normal frame
# whose byte 10 means something else (the reference vector CE29…6E2890 is one).
RAW_MODE = 0x80
MAX_RAW_DIELECTRIC = 1000

# devices.md, LSE01 bytes 0-9 in order: reading, scale, field ("u14": the low 14 bits of a u16).
LSE01_FIELDS = (
    ("battery_v", 1000, "u14"),
    ("temperature_c", 10, "s16"),
    ("soil_moisture_pct", 100, "u16"),
    ("soil_temperature_c", 100, "s16"),
    ("soil_conductivity_us_cm", 1, "u16"),
)

# devices.md, LDDS75 bytes 2-3: these two values are status codes, not distances.
NO_SENSOR_MM = 0
INVALID_MM = 20

# devices.md, LGT92 byte 10 bits 7-6.
LGT92_MOTIONS = ("disabled", "move", "collide", "user")


def decode_lse01(fport: int, payload: bytes) -> Decoded:
    """Decode an 11-byte LSE01 frame (fPort 2) into battery, probe and soil readings."""
    check_fport(LSE01, fport, FPORT)
    check_length(LSE01, fport, payload, (11,))
    readings: Readings = {
        "battery_v": (uint(payload, 0, 2) & 0x3FFF) / 1000,
        "temperature_c": sint(payload, 2, 2) / 10,
    }
    warnings: list[str] = []
    if payload[10] & RAW_MODE and uint(payload, 4, 2) <= MAX_RAW_DIELECTRIC:
        # Raw mode: bytes 4-9 are dielectric constant, raw water and raw EC, not soil readings.
        warnings.append("raw mode")
        return Decoded(readings, tuple(warnings))
    if payload[10] & RAW_MODE:
        warnings.append("raw-mode flag ignored: bytes 4-5 are no dielectric constant")
    # Soil temperature is a plain s16 / 100: 0xFF9C is -1.00 °C (upstream's v - 0xFFFF is wrong).
    readings["soil_moisture_pct"] = uint(payload, 4, 2) / 100
    readings["soil_temperature_c"] = sint(payload, 6, 2) / 100
    readings["soil_conductivity_us_cm"] = uint(payload, 8, 2)
    return Decoded(readings, tuple(warnings))


def encode_lse01(readings: Mapping[str, ReadingValue]) -> tuple[int, bytes]:
    """Encode all five LSE01 readings as a normal-mode 11-byte frame on fPort 2."""
    check_names(LSE01, readings, [name for name, _, _ in LSE01_FIELDS])
    payload = b"".join(
        pack(raw(LSE01, name, required(LSE01, readings, name), scale, kind), 2)
        for name, scale, kind in LSE01_FIELDS
    )
    return FPORT, payload + b"\x00"  # flags: normal mode, no interrupt


def decode_ldds75(fport: int, payload: bytes) -> Decoded:
    """Decode an 8-byte LDDS75 frame (fPort 2) into battery, distance and probe temperature."""
    check_fport(LDDS75, fport, FPORT)
    check_length(LDDS75, fport, payload, (8,))
    readings: Readings = {"battery_v": (uint(payload, 0, 2) & 0x3FFF) / 1000}
    warnings: list[str] = []
    distance = uint(payload, 2, 2)
    if distance == NO_SENSOR_MM:
        warnings.append("distance 0: no ultrasonic sensor connected")
    elif distance == INVALID_MM:
        warnings.append("distance 20: invalid reading")
    else:
        readings["distance_mm"] = distance
    sensor_flag = payload[7]
    if sensor_flag == 1:
        readings["temperature_c"] = sint(payload, 5, 2) / 10
    elif sensor_flag != 0:
        warnings.append(f"unknown sensor flag 0x{sensor_flag:02X}: temperature ignored")
    return Decoded(readings, tuple(warnings))


def encode_ldds75(readings: Mapping[str, ReadingValue]) -> tuple[int, bytes]:
    """Encode an LDDS75 frame; no distance_mm sends "no sensor", no temperature_c "no probe"."""
    check_names(LDDS75, readings, ("battery_v", "distance_mm", "temperature_c"))
    battery = raw(LDDS75, "battery_v", required(LDDS75, readings, "battery_v"), 1000, "u14")
    distance = NO_SENSOR_MM
    value = number(LDDS75, readings, "distance_mm")
    if value is not None:
        distance = raw(LDDS75, "distance_mm", value, 1, "u16")
        if distance in (NO_SENSOR_MM, INVALID_MM):
            raise EncodeError(
                LDDS75, f"distance_mm {value!r} is reserved (0 = no sensor, 20 = invalid)"
            )
    temperature = number(LDDS75, readings, "temperature_c")
    probe = 0 if temperature is None else raw(LDDS75, "temperature_c", temperature, 10, "s16")
    payload = (
        pack(battery, 2)
        + pack(distance, 2)
        + b"\x00"  # interrupt flag
        + pack(probe, 2)
        + (b"\x00" if temperature is None else b"\x01")
    )
    return FPORT, payload


def decode_lgt92(fport: int, payload: bytes) -> Decoded:
    """Decode an 11-, 15- or 18-byte LGT92 frame (fPort 2) into position, battery and motion."""
    check_fport(LGT92, fport, FPORT)
    check_length(LGT92, fport, payload, (11, 15, 18))
    readings: Readings = {}
    warnings: list[str] = []
    latitude, longitude = sint(payload, 0, 4), sint(payload, 4, 4)
    if latitude == 0 and longitude == 0:
        warnings.append("no GPS fix")  # devices.md: both 0 mean no fix, not a position
    else:
        readings["latitude"] = latitude / 1e6
        readings["longitude"] = longitude / 1e6
    readings["alarm"] = bool(payload[8] & 0x40)
    readings["battery_v"] = (((payload[8] & 0x3F) << 8) | payload[9]) / 1000
    readings["motion"] = LGT92_MOTIONS[payload[10] >> 6]
    if len(payload) >= 15:
        readings["roll_deg"] = sint(payload, 11, 2) / 100
        readings["pitch_deg"] = sint(payload, 13, 2) / 100
    if len(payload) == 18:
        readings["hdop"] = payload[15] / 100
        readings["altitude_m"] = sint(payload, 16, 2) / 100
    return Decoded(readings, tuple(warnings))


def encode_lgt92(readings: Mapping[str, ReadingValue]) -> tuple[int, bytes]:
    """Encode an LGT92 frame: 18 bytes with hdop/altitude_m, else 15; no position sends no fix.

    Fields of the chosen frame that the readings leave out are sent as 0 (roll, pitch, hdop,
    altitude), false (alarm) and "disabled" (motion).
    """
    check_names(
        LGT92,
        readings,
        (
            "latitude",
            "longitude",
            "battery_v",
            "alarm",
            "motion",
            "roll_deg",
            "pitch_deg",
            "hdop",
            "altitude_m",
        ),
    )
    latitude = number(LGT92, readings, "latitude")
    longitude = number(LGT92, readings, "longitude")
    if (latitude is None) != (longitude is None):
        raise EncodeError(LGT92, "latitude and longitude go together")
    lat_raw = 0 if latitude is None else raw(LGT92, "latitude", latitude, 1e6, "s32")
    lon_raw = 0 if longitude is None else raw(LGT92, "longitude", longitude, 1e6, "s32")
    if latitude is not None and lat_raw == 0 and lon_raw == 0:
        raise EncodeError(LGT92, "latitude = longitude = 0 means no fix: leave both out")
    battery = raw(LGT92, "battery_v", required(LGT92, readings, "battery_v"), 1000, "u14")
    alarm = flag(LGT92, readings, "alarm") or False
    motion = word(LGT92, readings, "motion", LGT92_MOTIONS) or "disabled"
    payload = (
        pack(lat_raw, 4)
        + pack(lon_raw, 4)
        + bytes([(0x40 if alarm else 0) | (battery >> 8), battery & 0xFF])
        + bytes([LGT92_MOTIONS.index(motion) << 6])  # firmware bits 4-0 left 0
    )
    for name in ("roll_deg", "pitch_deg"):
        payload += pack(raw(LGT92, name, number(LGT92, readings, name) or 0.0, 100, "s16"), 2)
    if "hdop" in readings or "altitude_m" in readings:
        hdop = raw(LGT92, "hdop", number(LGT92, readings, "hdop") or 0.0, 100, "u8")
        altitude = number(LGT92, readings, "altitude_m") or 0.0
        payload += bytes([hdop]) + pack(raw(LGT92, "altitude_m", altitude, 100, "s16"), 2)
    return FPORT, payload


CODECS = (
    Codec(LSE01, "soil", FPORT, decode_lse01, encode_lse01),
    # LDDS75 data sheet: 280-7500 mm. Below the blind zone it still reports a distance (a full
    # bin's lid), so only the far end is a limit.
    Codec(LDDS75, "bin", FPORT, decode_ldds75, encode_ldds75,
          limits={"distance_mm": (0, 7500)}),
    Codec(LGT92, "tracker", FPORT, decode_lgt92, encode_lgt92),
)
