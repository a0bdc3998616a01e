"""A read-buffering socket and a leaner message path for paho-mqtt, for high-rate subscribers.

paho reads each packet with several small `recv` calls (fixed header, then each byte of the
remaining length, then the body): four or more system calls per message, which at thousands
of messages a second costs more than everything else ingest does. The wrapper reads up to
256 KiB at a time and serves paho's small reads from that buffer; `pending()` tells paho's
loop that buffered bytes are waiting (the same hook it uses for TLS sockets), so it does not
block in select() while a packet is already here.
"""

from __future__ import annotations

from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.client import PUBACK

READ_SIZE = 256 * 1024


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

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class BufferedClient(paho.Client):
    """A paho client with buffered reads and batched acknowledgements.

    It overrides two internals of paho-mqtt 2.x (`_create_socket`, `_handle_on_message`),
    which is why pyproject.toml pins paho-mqtt below 3; the ingest tests exercise both.
    """

    def _create_socket(self) -> Any:
        return BufferedSocket(super()._create_socket())

    def _handle_on_message(self, message: paho.MQTTMessage) -> None:
        # paho matches every topic against per-topic callbacks first; this client has none.
        on_message = self.on_message
        if on_message is not None:
            on_message(self, self._userdata, message)

    def ack_many(self, mids: list[int]) -> None:
        """Acknowledge QoS 1 messages with one write: PUBACKs (MQTT 5 §3.4) back to back."""
        if not mids:
            return
        # Remaining length 2 and no reason code means Success (MQTT 5 §3.4.2.1).
        packet = b"".join(b"\x40\x02" + mid.to_bytes(2, "big") for mid in mids)
        self._packet_queue(PUBACK, packet, 0, 0)
