"""MQTT wire format that Bauhof reads and writes itself, in one place.

The ingest worker's bulk reader (`bauhof.mqttsocket`) decodes PUBLISH packets and writes
PUBACKs; the benchmarks' publisher (`ingest.rawpublish`) encodes CONNECT and PUBLISH packets
ahead of time. Everything else on the wire is paho-mqtt's.
"""

from __future__ import annotations

import struct


def encode_varint(n: int) -> bytes:
    """A variable byte integer (MQTT 3.1.1 §2.2.3, MQTT 5 §1.5.5) for a length ≥ 0."""
    out = bytearray()
    while True:
        byte, n = n % 128, n // 128
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def decode_varint(buf: bytes, at: int, end: int) -> tuple[int, int]:
    """The variable byte integer at `at`: (value, next position); value -1 when it is
    incomplete before `end` or longer than four bytes."""
    value = 0
    shift = 0
    while at < end and shift < 28:
        byte = buf[at]
        at += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, at
        shift += 7
    return -1, at


def encode_string(text: str) -> bytes:
    """A UTF-8 string with its two-byte length (MQTT 3.1.1 §1.5.3)."""
    data = text.encode()
    return struct.pack("!H", len(data)) + data


def connect_packet(client_id: str, keepalive: int = 60) -> bytes:
    """CONNECT (MQTT 3.1.1 §3.1) with clean session."""
    body = (encode_string("MQTT") + bytes([4, 0x02]) + struct.pack("!H", keepalive)
            + encode_string(client_id))
    return b"\x10" + encode_varint(len(body)) + body


def publish_packet(topic: str, payload: bytes, packet_id: int) -> bytes:
    """PUBLISH at QoS 1 (MQTT 3.1.1 §3.3)."""
    body = encode_string(topic) + struct.pack("!H", packet_id) + payload
    return b"\x32" + encode_varint(len(body)) + body


def puback_packets(mids: list[int]) -> bytes:
    """PUBACKs (MQTT 5 §3.4) back to back; remaining length 2 and no reason code means
    Success (§3.4.2.1)."""
    return b"".join(b"\x40\x02" + mid.to_bytes(2, "big") for mid in mids)
