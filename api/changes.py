"""Wake-ups for live streams: one thread LISTENs for the outbox channel the rules and the
API NOTIFY on every order change, and wakes every waiting stream in the event loop. It also
LISTENs for `bauhof_auth` (tokens and users changed) and tells the token cache to forget."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable

import psycopg

from bauhof import db
from rules.outbox import CHANNEL

log = logging.getLogger("bauhof.api.changes")
AUTH_CHANNEL = "bauhof_auth"


class ChangeNotifier:
    """Listens on a dedicated connection; `wait` returns when something changed."""

    def __init__(self, url: str, on_auth_change: Callable[[], None] | None = None) -> None:
        self.url = url
        self.on_auth_change = on_auth_change
        # Counts the auth notices; an open stream re-checks its token when it moves.
        self.auth_generation = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._event = asyncio.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        """Start listening in a background thread."""
        self._loop = loop
        self._thread = threading.Thread(target=self._run, name="bauhof-api-listen",
                                        daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop listening (returns within a fifth of a second)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    async def wait(self, timeout: float) -> bool:
        """Wait for a change at most `timeout` seconds; True if one was announced."""
        event = self._event
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), timeout)
            return True
        return False

    def fire(self) -> None:
        """Wake every waiting stream (call in the event loop)."""
        event, self._event = self._event, asyncio.Event()
        event.set()

    def _auth_changed(self) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._auth_fire)

    def _auth_fire(self) -> None:
        """Forget checked tokens, then wake the streams so that each re-checks its own."""
        self.auth_generation += 1
        if self.on_auth_change is not None:
            self.on_auth_change()
        self.fire()

    def _run(self) -> None:
        delay = 1.0
        while not self._stop.is_set():
            try:
                with db.connect(self.url, autocommit=True,
                                application_name="bauhof-api-listen") as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    conn.execute(f"LISTEN {AUTH_CHANNEL}")
                    # Whatever changed while not listening is unknown: forget it all.
                    self._auth_changed()
                    delay = 1.0
                    while not self._stop.is_set():
                        for note in conn.notifies(timeout=0.2):
                            if note.channel == AUTH_CHANNEL:
                                self._auth_changed()
                            elif self._loop is not None:
                                self._loop.call_soon_threadsafe(self.fire)
            except (psycopg.Error, db.DatabaseError) as exc:
                log.warning("change listener: %s; retrying in %.0f s", db.first_line(exc),
                            delay)
                self._stop.wait(delay)
                delay = min(delay * 2, 30.0)
