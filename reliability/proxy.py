"""A TCP proxy between a client (ingest) and the broker that can cut the network on demand.

`cut()` resets every open connection at once (both directions, RST rather than FIN, as when
a route or a NAT entry disappears); `refuse(seconds)` makes new connections fail for a while
(accepted and reset at once, so the client sees a dead network, not a slow one). Threads:
one accepting, two per connection copying bytes.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
import time

_CHUNK = 65536


def _reset(sock: socket.socket) -> None:
    """Abort with SO_LINGER 0 so that the peer gets a RST. The shutdown first wakes a pump
    thread blocked in recv(): until it lets go, close() alone would not end the connection."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RD)  # sends nothing; wakes a blocked recv()
    with contextlib.suppress(OSError):
        sock.close()


class Proxy:
    """Forwards 127.0.0.1:`port` to `target_host`:`target_port` until closed."""

    def __init__(self, target_host: str, target_port: int, listen_port: int = 0) -> None:
        self.target = (target_host, target_port)
        self._listener = socket.create_server(("127.0.0.1", listen_port), reuse_port=False)
        self.port: int = self._listener.getsockname()[1]
        self._lock = threading.Lock()
        self._pairs: list[tuple[socket.socket, socket.socket]] = []
        self._half_closed: dict[tuple[socket.socket, socket.socket], int] = {}
        self._refuse_until = 0.0
        self._closed = threading.Event()
        self.accepted = 0
        self.refused = 0
        self.cuts = 0
        self._thread = threading.Thread(target=self._accept, name="proxy-accept", daemon=True)

    def __enter__(self) -> Proxy:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def start(self) -> None:
        """Start accepting connections."""
        self._thread.start()

    def close(self) -> None:
        """Stop accepting and reset every connection."""
        self._closed.set()
        _reset(self._listener)
        self.cut()
        self._thread.join(5)

    @property
    def open_connections(self) -> int:
        """Connections currently forwarded."""
        with self._lock:
            return len(self._pairs)

    def cut(self) -> int:
        """Reset every open connection; return how many there were."""
        with self._lock:
            pairs, self._pairs = self._pairs, []
        for client, upstream in pairs:
            _reset(client)
            _reset(upstream)
        if pairs:
            self.cuts += 1
        return len(pairs)

    def refuse(self, seconds: float) -> None:
        """Reset new connections for the next `seconds` (open ones are left alone)."""
        self._refuse_until = time.monotonic() + seconds

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if time.monotonic() < self._refuse_until:
                self.refused += 1
                _reset(client)
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                _reset(client)
                continue
            upstream.settimeout(None)
            for sock in (client, upstream):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._lock:
                self._pairs.append((client, upstream))
                self.accepted += 1
            for src, dst in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(src, dst, client, upstream),
                                 name="proxy-pump", daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket, client: socket.socket,
              upstream: socket.socket) -> None:
        try:
            while True:
                data = src.recv(_CHUNK)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            # Cut, or the peer reset: reset the other side too.
            self._forget(client, upstream)
            _reset(client)
            _reset(upstream)
            return
        with self._lock:
            if (client, upstream) not in self._pairs:
                return  # cut: both sockets are being reset
        # An orderly close: pass the FIN on; the other direction ends by itself.
        with contextlib.suppress(OSError):
            dst.shutdown(socket.SHUT_WR)
        if self._forget(client, upstream, half=True):
            client.close()
            upstream.close()

    def _forget(self, client: socket.socket, upstream: socket.socket,
                half: bool = False) -> bool:
        """Drop a pair from the open ones; with `half`, only once both directions ended."""
        key = (client, upstream)
        with self._lock:
            if half:
                ended = self._half_closed.pop(key, 0) + 1
                if ended < 2:
                    self._half_closed[key] = ended
                    return False
            else:
                self._half_closed.pop(key, None)
            if key in self._pairs:
                self._pairs.remove(key)
            return True
