"""The bulk PUBLISH reader of bauhof.mqttsocket on a real socket pair: whole QoS 0/1 PUBLISH
packets are taken from the buffer, everything else is left for paho's own reader."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from bauhof.mqttsocket import BufferedSocket
from bauhof.mqttwire import encode_varint


def publish(topic: str, payload: bytes, qos: int = 1, mid: int = 7, props: bytes = b"") -> bytes:
    """An MQTT 5 PUBLISH packet (§3.3)."""
    name = topic.encode()
    body = len(name).to_bytes(2, "big") + name
    if qos:
        body += mid.to_bytes(2, "big")
    body += encode_varint(len(props)) + props + payload
    return bytes([0x30 | qos << 1]) + encode_varint(len(body)) + body


@pytest.fixture
def pair() -> Iterator[tuple[BufferedSocket, socket.socket]]:
    ours, theirs = socket.socketpair()
    ours.setblocking(False)
    yield BufferedSocket(ours), theirs
    ours.close()
    theirs.close()


def _take(sock: BufferedSocket) -> list[tuple[str, bytes, int, int]]:
    got: list[tuple[str, bytes, int, int]] = []
    sock.fill()
    sock.take_publishes(lambda *m: got.append(m))
    return got


def test_whole_publish_packets_are_taken_with_properties_skipped(
        pair: tuple[BufferedSocket, socket.socket]) -> None:
    sock, peer = pair
    big = bytes(range(256)) * 2  # a remaining length of two bytes
    peer.sendall(publish("a/b", b'{"x":1}', mid=1)
                 + publish("a/c", big, mid=513, props=b"\x01\x01")  # payload format indicator
                 + publish("q0", b"zero", qos=0))
    assert _take(sock) == [("a/b", b'{"x":1}', 1, 1), ("a/c", big, 513, 1), ("q0", b"zero", 0, 0)]
    assert sock.pending() == 0


def test_a_packet_cut_in_two_is_left_whole_for_paho(
        pair: tuple[BufferedSocket, socket.socket]) -> None:
    sock, peer = pair
    second = publish("t/2", b"second", mid=2)
    peer.sendall(publish("t/1", b"first", mid=1) + second[:5])
    assert _take(sock) == [("t/1", b"first", 1, 1)]
    assert sock.pending() == 5
    assert sock.recv(5) == second[:5]  # paho reads the start of the packet from the buffer


@pytest.mark.parametrize("other", [
    b"\xd0\x00",  # PINGRESP
    publish("t/qos2", b"x", qos=2),
    publish("", b"aliased", props=b"\x23\x00\x01"),  # empty topic with a topic alias
    bytes([0x32, 0x05, 0x00, 0x02, 0xFF, 0xFE, 0x00]),  # topic that is not UTF-8, then cut
])
def test_anything_else_stops_the_bulk_reader(pair: tuple[BufferedSocket, socket.socket],
                                             other: bytes) -> None:
    sock, peer = pair
    peer.sendall(publish("t/1", b"first", mid=1) + other + publish("t/3", b"third", mid=3))
    assert _take(sock) == [("t/1", b"first", 1, 1)]
    assert sock.recv(len(other)) == other


def test_end_of_stream_is_left_for_paho(pair: tuple[BufferedSocket, socket.socket]) -> None:
    sock, peer = pair
    peer.close()
    assert sock.fill() is False
    assert sock.recv(1) == b""
