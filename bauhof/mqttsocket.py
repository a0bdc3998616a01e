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

This leans on paho-mqtt's private names (`PAHO_INTERNALS`), so pyproject.toml pins paho
exactly. `make_raw_client` checks them when a worker starts; should an installed paho lack
one, it warns and falls back to `RawClient`, which uses paho's public API only (slower, the
same messages and acknowledgements).
"""

from __future__ import annotations

import logging
import ssl
from collections.abc import Callable
from importlib import metadata
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.client import PUBACK
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode

from bauhof.mqttwire import decode_varint, puback_packets

log = logging.getLogger(__name__)

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
            length, start = decode_varint(buf, pos + 1, end)
            if length < 0 or start + length > end:
                break
            body_end = start + length
            topic_end = start + 2 + int.from_bytes(buf[start:start + 2], "big")
            at = topic_end
            mid = 0
            if qos:
                mid = int.from_bytes(buf[at:at + 2], "big")
                at += 2
            props, at = decode_varint(buf, at, body_end)
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


class RawClient(Client):
    """A paho client that hands each PUBLISH to `on_publish_raw` (topic, payload, packet id,
    QoS) and acknowledges with `ack_many`, through paho's public API only."""

    on_publish_raw: RawPublish | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.on_message = self._deliver

    def _deliver(self, _client: paho.Client, _userdata: object,
                 message: paho.MQTTMessage) -> None:
        raw = self.on_publish_raw
        if raw is not None:
            raw(message.topic, bytes(message.payload), message.mid, message.qos)

    def ack_many(self, mids: list[int]) -> None:
        """Acknowledge QoS 1 messages received with `manual_ack`."""
        for mid in mids:
            self.ack(mid, 1)


# The private names of paho-mqtt 2.x that BufferedClient and Client use: methods and module
# names it overrides or calls, and attributes every client instance has.
PAHO_INTERNALS = ("_create_socket", "_handle_on_message", "_packet_queue", "_ssl_wrap_socket",
                  "time_func")
PAHO_INSTANCE_INTERNALS = ("_in_packet", "_last_bytes_received", "_msgtime_mutex", "_sock",
                           "_protocol", "_userdata", "_ssl_context", "_host", "_connect_timeout")


def missing_internals() -> list[str]:
    """The private paho-mqtt names the fast path needs that the installed paho lacks."""
    probe = paho.Client(CallbackAPIVersion.VERSION2, protocol=paho.MQTTv5)
    missing = [name for name in PAHO_INTERNALS
               if not hasattr(paho.Client, name) and not hasattr(paho, name)]
    missing += [name for name in PAHO_INSTANCE_INTERNALS if not hasattr(probe, name)]
    if "command" not in getattr(probe, "_in_packet", {}):
        missing.append("_in_packet['command']")
    return missing


def raw_client_class() -> type[RawClient]:
    """BufferedClient when the installed paho has every internal it needs, else RawClient
    with a warning naming what is missing."""
    missing = missing_internals()
    if not missing:
        return BufferedClient
    log.warning("paho-mqtt %s lacks %s, which the fast MQTT reader needs: falling back to "
                "plain paho (slower; pin the version in pyproject.toml)",
                metadata.version("paho-mqtt"), ", ".join(missing))
    return RawClient


class BufferedClient(RawClient):
    """A paho client with buffered reads, a bulk PUBLISH path and batched acknowledgements.

    It overrides internals of paho-mqtt 2.x (`PAHO_INTERNALS`), which is why pyproject.toml
    pins paho-mqtt exactly and `raw_client_class` checks them; the ingest tests exercise all
    of them.
    """

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
        self._packet_queue(PUBACK, puback_packets(mids), 0, 0)
