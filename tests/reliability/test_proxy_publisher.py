"""The TCP proxy (cut, refuse) and the reconnecting publisher, against a real broker."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest

from bauhof.services import Mosquitto
from reliability.proxy import Proxy
from reliability.publisher import ReliablePublisher
from tests.fixtures.mqtt import subscribed


@pytest.fixture
def echo() -> Iterator[int]:
    """A TCP echo server; yields its port."""
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]

    def serve() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            threading.Thread(target=_echo, args=(conn,), daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    yield port
    server.close()


def _echo(conn: socket.socket) -> None:
    with conn:
        try:
            while data := conn.recv(4096):
                conn.sendall(data)
        except OSError:
            return


def _wait(check: object, timeout: float = 5.0) -> None:
    assert callable(check)
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline
        time.sleep(0.01)


def test_proxy_forwards_then_cut_resets_every_connection(echo: int) -> None:
    with Proxy("127.0.0.1", echo) as proxy:
        clients = [socket.create_connection(("127.0.0.1", proxy.port)) for _ in range(3)]
        for n, client in enumerate(clients):
            client.sendall(b"hello %d" % n)
            assert client.recv(100) == b"hello %d" % n
        _wait(lambda: proxy.open_connections == 3)
        assert proxy.cut() == 3
        for client in clients:
            with pytest.raises(ConnectionResetError):
                client.recv(100)
            client.close()
        assert (proxy.open_connections, proxy.cuts) == (0, 1)
        again = socket.create_connection(("127.0.0.1", proxy.port))
        again.sendall(b"back")
        assert again.recv(100) == b"back"
        again.close()


def test_proxy_refuses_new_connections_for_a_while(echo: int) -> None:
    with Proxy("127.0.0.1", echo) as proxy:
        proxy.refuse(0.5)
        refused = socket.create_connection(("127.0.0.1", proxy.port))
        with pytest.raises(ConnectionResetError):
            refused.recv(100)
        refused.close()
        assert proxy.refused == 1
        _wait(lambda: proxy._refuse_until < time.monotonic())
        later = socket.create_connection(("127.0.0.1", proxy.port))
        later.sendall(b"ok")
        assert later.recv(100) == b"ok"
        later.close()


def test_publisher_resends_what_was_not_acknowledged_after_a_cut(broker: Mosquitto) -> None:
    received: list[bytes] = []
    with subscribed(broker, "reliability/#", lambda m: received.append(bytes(m.payload)),
                    "proxy-test-sub"):
        messages = [("reliability/test", b"%05d" % n) for n in range(2000)]
        with Proxy("127.0.0.1", broker.port) as proxy:
            publisher = ReliablePublisher("127.0.0.1", proxy.port, messages, window=50,
                                          rate=2000.0).start()
            _wait(lambda: publisher.acked_count >= 500, 20)
            proxy.cut()
            report = publisher.join(60)
        assert report.complete
        assert report.acked == frozenset(range(2000))
        assert report.connections == 2
        assert 2000 <= report.sends <= 2050  # at most the window was in flight at the cut
        _wait(lambda: len(set(received)) == 2000, 20)
        assert set(received) == {p for _, p in messages}
