"""A read-buffering socket and a leaner message path for paho-mqtt, for high-rate subscribers.

paho reads each packet with several small `recv` calls (fixed header, then each byte of the
remaining length, then the body), builds an `MQTTMessage` and a `Properties` object for every
message and goes through `select()` once per packet. At thousands of messages a second that
costs more than everything else ingest does. Here:

- `BufferedSocket` reads up to 256 KiB at a time and serves paho's small reads from that
  buffer; `pending()` tells paho's loop that buffered bytes are waiting (the hook it uses for
  TLS sockets), so it does not block in select() while a packet is already here.
- `BufferedClient.loop_read` first takes every complete QoS 0/1 PUBLISH packet from the head of
  the buffer itself (MQTT 5 §3.3: topic, packet identifier, properties skipped, payload) and
  hands topic, payload, packet id and QoS to `on_publish_raw`; anything else — CONNACK,
  SUBACK, PINGRESP, QoS 2, a packet not yet complete, anything unusual — is left where it is
  for paho's own reader, so paho's state machine never sees a packet cut in two.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.client import PUBACK
from paho.mqtt.enums import MQTTErrorCode

READ_SIZE = 256 * 1024
# Not yet anything to read on a non-blocking (TLS) socket.
_WOULD_BLOCK = (BlockingIOError, InterruptedError, ssl.SSLWantReadError, ssl.SSLWantWriteError)

# topic, payload, packet identifier, QoS
RawPublish = Callable[[str, bytes, int, int], None]


class BufferedSocket:
    """Wraps a (possibly TLS) socket; every other attribute is the inner socket's."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self._buffer = b""
        self._pos = 0

    def recv(self, bufsize: int) -> bytes:
        """Serve from the buffer, refilling it with one large read when it is empty."""
        if self._pos >= len(self._buffer):
            self._buffer = self._inner.recv(READ_SIZE)
            self._pos = 0
            if not self._buffer:
                return b""
        chunk = self._buffer[self._pos:self._pos + bufsize]
        self._pos += len(chunk)
        return chunk

    def pending(self) -> int:
        """Bytes already read but not yet handed to paho (plus TLS's own)."""
        inner_pending = self._inner.pending() if hasattr(self._inner, "pending") else 0
        return len(self._buffer) - self._pos + int(inner_pending)

    def fill(self) -> bool:
        """Read what the socket has if the buffer is used up. False on an error or the end of
        the stream, which are left for paho's next read to find (a closed socket says so
        again; so does a reset one)."""
        if self._pos < len(self._buffer):
            return True
        try:
            data = self._inner.recv(READ_SIZE)
        except _WOULD_BLOCK:
            return True
        except OSError:
            return False
        if not data:
            return False
        self._buffer, self._pos = data, 0
        return True

    def take_publishes(self, deliver: RawPublish) -> int:
        """Deliver the complete MQTT 5 QoS 0/1 PUBLISH packets at the head of the buffer; stop
        at the first packet that is anything else or not complete. Returns how many."""
        buf, pos, end = self._buffer, self._pos, len(self._buffer)
        taken = 0
        while pos < end:
            first = buf[pos]
            qos = (first >> 1) & 3
            if first >> 4 != 3 or qos >= 2:
                break
            length, start = _varint(buf, pos + 1, end)
            if length < 0 or start + length > end:
                break
            body_end = start + length
            topic_end = start + 2 + int.from_bytes(buf[start:start + 2], "big")
            at = topic_end
            mid = 0
            if qos:
                mid = int.from_bytes(buf[at:at + 2], "big")
                at += 2
            props, at = _varint(buf, at, body_end)
            at += props
            # An empty topic (a topic alias, never asked for) or a short body: paho decides.
            if props < 0 or topic_end == start + 2 or at > body_end:
                break
            try:
                topic = buf[start + 2:topic_end].decode()
            except UnicodeDecodeError:
                break
            deliver(topic, buf[at:body_end], mid, qos)
            pos = body_end
            taken += 1
        self._pos = pos
        return taken

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def _varint(buf: bytes, at: int, end: int) -> tuple[int, int]:
    """A variable byte integer (MQTT 5 §1.5.5) at `at`: (value, next position); value -1 when
    it is incomplete or longer than four bytes."""
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


class Client(paho.Client):
    """paho's client, closing the socket of a failed TLS handshake.

    paho 2.x leaves it open (an untrusted certificate in a reconnect loop leaks one socket per
    attempt). Bauhof's TLS contexts check the host name themselves
    (`ssl.create_default_context`), so no separate host name match follows the handshake.
    """

    def _ssl_wrap_socket(self, tcp_sock: Any) -> ssl.SSLSocket:
        context = self._ssl_context
        assert context is not None
        tls = context.wrap_socket(tcp_sock, server_hostname=self._host,
                                  do_handshake_on_connect=False)
        try:
            tls.settimeout(self._connect_timeout)
            tls.do_handshake()
        except BaseException:
            tls.close()
            raise
        return tls


class BufferedClient(Client):
    """A paho client with buffered reads, a bulk PUBLISH path and batched acknowledgements.

    It overrides internals of paho-mqtt 2.x (`_create_socket`, `_handle_on_message`,
    `loop_read`'s use of `_in_packet` and `_last_bytes_received`, `_packet_queue`,
    `_ssl_wrap_socket`), which is why
    pyproject.toml pins paho-mqtt below 3; the ingest tests exercise all of them.
    """

    on_publish_raw: RawPublish | None = None

    def _create_socket(self) -> Any:
        return BufferedSocket(super()._create_socket())

    def _handle_on_message(self, message: paho.MQTTMessage) -> None:
        # paho matches every topic against per-topic callbacks first; this client has none.
        raw = self.on_publish_raw
        if raw is not None:
            raw(message.topic, bytes(message.payload), message.mid, message.qos)
            return
        on_message = self.on_message
        if on_message is not None:
            on_message(self, self._userdata, message)

    def loop_read(self, max_packets: int = 1) -> MQTTErrorCode:
        """Take the buffered PUBLISH packets in bulk, then let paho read whatever follows."""
        sock = self._sock
        deliver = self.on_publish_raw
        if (deliver is not None and isinstance(sock, BufferedSocket)
                and self._protocol == paho.MQTTv5 and self._in_packet["command"] == 0):
            if not sock.fill():
                return super().loop_read(max_packets)
            if sock.take_publishes(deliver):
                with self._msgtime_mutex:
                    self._last_bytes_received = paho.time_func()
            if not sock.pending():
                return MQTTErrorCode.MQTT_ERR_SUCCESS
        return super().loop_read(max_packets)

    def ack_many(self, mids: list[int]) -> None:
        """Acknowledge QoS 1 messages with one write: PUBACKs (MQTT 5 §3.4) back to back."""
        if not mids:
            return
        # Remaining length 2 and no reason code means Success (MQTT 5 §3.4.2.1).
        packet = b"".join(b"\x40\x02" + mid.to_bytes(2, "big") for mid in mids)
        self._packet_queue(PUBACK, packet, 0, 0)
