"""The Milesight channel/type record walker and record encoder (devices.md, Milesight sections).

A Milesight frame is a sequence of `[channel][type][value]` records, values little-endian.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from bauhof.codecs.base import Decoded, DecodeError, Readings
from bauhof.codecs.fields import check_frame

# Every Milesight model in devices.md reports on fPort 85.
MILESIGHT_FPORT = 85
# devices.md: `FF xx` records are device information (versions, serial): no readings, no error.
DEVICE_INFO_CHANNEL = 0xFF

# A record parser reads the value bytes of one record into the readings, adding warnings.
RecordParser = Callable[[bytes, Readings, list[str]], None]


@dataclass(frozen=True, slots=True)
class Record:
    """How to read one channel/type pair: its value size and its parser."""

    size: int
    parse: RecordParser


def walk(
    model: str, fport: int, payload: bytes, records: Mapping[tuple[int, int], Record]
) -> Decoded:
    """Decode a record frame; stop at device information or at an unknown pair (with a warning)."""
    check_frame(model, fport, payload, MILESIGHT_FPORT)
    readings: Readings = {}
    warnings: list[str] = []
    at = 0
    while at < len(payload):
        if len(payload) - at < 2:
            raise DecodeError(
                model, fport, f"truncated record at byte {at}: channel {payload[at]:02X}, no type"
            )
        channel, kind = payload[at], payload[at + 1]
        if channel == DEVICE_INFO_CHANNEL:
            break
        record = records.get((channel, kind))
        if record is None:
            # devices.md: stop at an unknown pair; what was read before it stands.
            warnings.append(
                f"unknown record {channel:02X} {kind:02X} at byte {at}: rest of frame ignored"
            )
            break
        value = payload[at + 2 : at + 2 + record.size]
        if len(value) < record.size:
            raise DecodeError(
                model,
                fport,
                f"truncated record {channel:02X} {kind:02X} at byte {at}: "
                f"{len(value)} of {record.size} value bytes",
            )
        record.parse(value, readings, warnings)
        at += 2 + record.size
    return Decoded(readings, tuple(warnings))


def join(records: Sequence[tuple[int, int, bytes]]) -> tuple[int, bytes]:
    """A Milesight uplink (fPort, payload) from `(channel, type, value)` records, in this order."""
    return MILESIGHT_FPORT, b"".join(bytes([ch, kind]) + value for ch, kind, value in records)
