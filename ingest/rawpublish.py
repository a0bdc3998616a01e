"""A publisher that costs almost no CPU: MQTT 3.1.1 QoS 1 packets encoded before the clock
starts, written to one socket in large writes, with every PUBACK counted.

paho's publish costs tens of microseconds of Python per message, enough to make the
publisher, not the system under test, the bottleneck of an ingest benchmark on two cores.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterable, Sequence

from bauhof.mqttwire import connect_packet, publish_packet


class PublishResult:
    """What a run sent and what the broker acknowledged."""

    def __init__(self, sent: int, acked: int, started: float, seconds: float) -> None:
        self.sent = sent
        self.acked = acked
        self.started = started
        self.seconds = seconds


def publish_all(host: str, port: int, messages: Sequence[tuple[str, bytes]],
                window: int = 2000, client_id: str = "bauhof-bench-pub") -> PublishResult:
    """Publish every message at QoS 1 with at most `window` unacknowledged; count PUBACKs.
    The packets are encoded before the clock starts."""
    packets = [publish_packet(t, p, (i % 65535) + 1) for i, (t, p) in enumerate(messages)]
    return send_packets(host, port, packets, window=window, client_id=client_id)


def send_packets(host: str, port: int, packets: Iterable[bytes], *, window: int = 2000,
                 client_id: str = "bauhof-bench-pub", ack_timeout_s: float = 600.0) -> (
    PublishResult
):
    """Write QoS 1 PUBLISH packets as they come (a list, or a generator encoding them while
    they are sent) with at most `window` unacknowledged, in large writes over one socket;
    return once every packet is acknowledged, or `ack_timeout_s` after the last got none."""
    sock = socket.create_connection((host, port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.sendall(connect_packet(client_id))
    connack = sock.recv(4)
    if len(connack) < 4 or connack[0] != 0x20 or connack[3] != 0:
        raise ConnectionError(f"broker refused the connection: {connack!r}")
    acked = 0
    credit = threading.Semaphore(window)

    def reader() -> None:
        nonlocal acked
        buffer = b""
        while True:
            try:
                chunk = sock.recv(65536)
            except OSError:  # closed under us: nothing more to count
                break
            if not chunk:
                break
            buffer += chunk
            # PUBACK is 4 bytes: 0x40 0x02 id id; nothing else arrives on this connection.
            usable = len(buffer) - len(buffer) % 4
            count = usable // 4
            buffer = buffer[usable:]
            acked += count
            for _ in range(count):
                credit.release()

    thread = threading.Thread(target=reader, daemon=True)
    thread.start()
    started = time.perf_counter()
    sent = 0
    pending: list[bytes] = []
    for packet in packets:
        if not credit.acquire(blocking=False):
            if pending:
                sock.sendall(b"".join(pending))
                pending = []
            credit.acquire()
        pending.append(packet)
        sent += 1
        if len(pending) >= 200:
            sock.sendall(b"".join(pending))
            pending = []
    if pending:
        sock.sendall(b"".join(pending))
    # Every credit back: everything acknowledged.
    for _ in range(window):
        if not credit.acquire(timeout=ack_timeout_s):
            break
    seconds = time.perf_counter() - started
    sock.sendall(b"\xe0\x00")  # DISCONNECT: the broker closes, the reader ends
    thread.join(5)
    sock.close()
    return PublishResult(sent, acked, started, seconds)
