"""A local HTTP server that plays recorded weather answers (and failures) in order."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

ANSWERS = Path(__file__).parent / "answers"


def answer(name: str) -> bytes:
    """A recorded answer's bytes."""
    return (ANSWERS / name).read_bytes()


@dataclass(frozen=True)
class Reply:
    """One scripted reply: status and body; `delay_s` before answering; `cut` announces the
    whole body's length but sends only its first half and closes."""

    body: bytes
    status: int = 200
    delay_s: float = 0.0
    cut: bool = False


class WeatherServer:
    """Serves the scripted replies one per request (the last one repeats); keeps the
    requests' paths and query parameters."""

    def __init__(self) -> None:
        self.replies: list[Reply] = []
        self.requests: list[tuple[str, dict[str, list[str]]]] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                owner.requests.append((parts.path, parse_qs(parts.query)))
                reply = owner.replies[min(len(owner.requests), len(owner.replies)) - 1]
                if reply.delay_s:
                    time.sleep(reply.delay_s)
                self.send_response(reply.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                try:
                    self.wfile.write(reply.body[: len(reply.body) // 2] if reply.cut
                                     else reply.body)
                    self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout test)
                if reply.cut:
                    self.close_connection = True

            def log_message(self, *_args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def play(self, *replies: Reply) -> None:
        """Answer the next requests with these replies, from the first request on."""
        self.replies = list(replies)
        self.requests = []

    def close(self) -> None:
        """Stop serving."""
        self._server.shutdown()
        self._server.server_close()
