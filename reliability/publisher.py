"""A QoS 1 publisher that survives broker restarts and network cuts, and says what was acked.

Only a message the broker acknowledged (PUBACK) counts as published: that is the broker's
promise to deliver it. After a lost connection the publisher reconnects (clean session, with
backoff, until its deadline) and sends again every message not yet acknowledged, including
those that were in flight; QoS 1 allows the duplicates this makes, and ingest stores each
`deduplicationId` once. Packets are MQTT 3.1.1 bytes from `ingest.rawpublish`, so the
publisher costs little CPU next to the processes under test.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

from bauhof.mqttwire import connect_packet, publish_packet

_PUBACK = 0x40


@dataclass(frozen=True, slots=True)
class PublishReport:
    """The outcome: which messages (by index) the broker acknowledged."""

    total: int
    acked: frozenset[int]
    sends: int
    connections: int
    seconds: float

    @property
    def complete(self) -> bool:
        """Whether every message was acknowledged."""
        return len(self.acked) == self.total


class ReliablePublisher:
    """Publish `messages` at QoS 1 through reconnections; `run` blocks until all are acked."""

    def __init__(self, host: str, port: int, messages: Sequence[tuple[str, bytes]], *,
                 client_id: str = "bauhof-reliability-pub", window: int = 1000,
                 rate: float | None = None, deadline_s: float = 300.0) -> None:
        if not 0 < window < 65535:
            raise ValueError(f"window {window} must be between 1 and 65534")
        self.host, self.port = host, port
        self.messages = messages
        self.client_id = client_id
        self.window = window
        self.rate = rate
        self.deadline_s = deadline_s
        self._acked = bytearray(len(messages))
        self._acked_count = 0
        self._lock = threading.Lock()
        self.sends = 0
        self.connections = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._report: PublishReport | None = None

    @property
    def acked_count(self) -> int:
        """Messages acknowledged so far."""
        return self._acked_count

    # Running in the background ----------------------------------------------------------

    def start(self) -> ReliablePublisher:
        """Run in a thread; `join` returns the report."""
        def target() -> None:
            self._report = self.run()

        self._thread = threading.Thread(target=target, name="reliable-publisher", daemon=True)
        self._thread.start()
        return self

    def join(self, timeout: float | None = None) -> PublishReport:
        """Wait for the background run and return its report."""
        assert self._thread is not None, "start() first"
        self._thread.join(timeout)
        if self._report is None:
            raise TimeoutError("the publisher is still running")
        return self._report

    def is_alive(self) -> bool:
        """Whether the background run is still going."""
        return self._thread is not None and self._thread.is_alive()

    def stop(self) -> None:
        """Give up: `run` returns what was acknowledged so far."""
        self._stop.set()

    # The loop ------------------------------------------------------------------------------

    def run(self) -> PublishReport:
        """Publish until every message is acknowledged, `stop` or the deadline."""
        started = time.monotonic()
        deadline = started + self.deadline_s
        delay = 0.05
        paced_from = time.monotonic()
        while self._acked_count < len(self.messages) and not self._stop.is_set():
            if time.monotonic() > deadline:
                break
            sock = self._connect()
            if sock is None:
                self._stop.wait(delay)
                delay = min(delay * 2, 1.0)
                continue
            delay = 0.05
            self.connections += 1
            self._session(sock, paced_from, deadline)
        with self._lock:
            acked = frozenset(i for i, flag in enumerate(self._acked) if flag)
        return PublishReport(len(self.messages), acked, self.sends, self.connections,
                             time.monotonic() - started)

    def _connect(self) -> socket.socket | None:
        try:
            sock = socket.create_connection((self.host, self.port), timeout=5)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock.sendall(connect_packet(self.client_id))
            connack = b""
            while len(connack) < 4:
                chunk = sock.recv(4 - len(connack))
                if not chunk:
                    raise ConnectionError("closed before CONNACK")
                connack += chunk
        except OSError:
            return None
        if connack[0] != 0x20 or connack[3] != 0:
            sock.close()
            return None
        sock.settimeout(None)
        return sock

    def _session(self, sock: socket.socket, paced_from: float, deadline: float) -> None:
        """One connection: send what is not acknowledged yet, until done or disconnected."""
        in_flight: dict[int, int] = {}
        credit = threading.Semaphore(self.window)
        dead = threading.Event()
        reader = threading.Thread(target=self._read_acks, args=(sock, in_flight, credit, dead),
                                  name="reliable-publisher-acks", daemon=True)
        reader.start()
        packet_id = 0
        pending: list[bytes] = []
        try:
            for index in [i for i, flag in enumerate(self._acked) if not flag]:
                while not credit.acquire(timeout=0.1):
                    if pending:
                        sock.sendall(b"".join(pending))
                        pending = []
                    if dead.is_set() or self._stop.is_set() or time.monotonic() > deadline:
                        return
                packet_id = self._next_id(packet_id, in_flight)
                with self._lock:
                    in_flight[packet_id] = index
                topic, payload = self.messages[index]
                pending.append(publish_packet(topic, payload, packet_id))
                self.sends += 1
                if len(pending) >= 100 or self.rate is not None:
                    sock.sendall(b"".join(pending))
                    pending = []
                if self.rate is not None:
                    self._pace(paced_from)
            if pending:
                sock.sendall(b"".join(pending))
            # Wait for the last acknowledgements (or the end of the connection).
            while in_flight and not dead.is_set() and not self._stop.is_set():
                if time.monotonic() > deadline:
                    return
                dead.wait(0.05)
        except OSError:
            return
        finally:
            try:
                if not dead.is_set():
                    sock.sendall(b"\xe0\x00")  # DISCONNECT
            except OSError:
                pass
            sock.close()
            reader.join(5)

    def _pace(self, paced_from: float) -> None:
        assert self.rate is not None
        due = paced_from + self.sends / self.rate
        wait = due - time.monotonic()
        if wait > 0:
            self._stop.wait(wait)

    def _next_id(self, previous: int, in_flight: dict[int, int]) -> int:
        candidate = previous
        while True:
            candidate = candidate % 65535 + 1
            if candidate not in in_flight:
                return candidate

    def _read_acks(self, sock: socket.socket, in_flight: dict[int, int],
                   credit: threading.Semaphore, dead: threading.Event) -> None:
        buffer = b""
        try:
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                buffer += chunk
                # Only PUBACKs (4 bytes: 0x40 0x02 id id) arrive on a publishing connection.
                usable = len(buffer) - len(buffer) % 4
                for offset in range(0, usable, 4):
                    if buffer[offset] != _PUBACK:
                        raise ConnectionError(f"unexpected packet type {buffer[offset]:#x}")
                    packet_id = int.from_bytes(buffer[offset + 2:offset + 4], "big")
                    with self._lock:
                        index = in_flight.pop(packet_id, None)
                        if index is not None and not self._acked[index]:
                            self._acked[index] = 1
                            self._acked_count += 1
                    if index is not None:
                        credit.release()
                buffer = buffer[usable:]
        except OSError:
            pass
        finally:
            dead.set()
