"""The bench the faults run on: a private PostgreSQL+TimescaleDB cluster and fresh brokers.

One cluster serves every fault (a fresh database from a migrated template each time); every
fault gets a broker of its own, so no persistent session of an earlier fault keeps queueing
messages. Services listen on free ports of 127.0.0.1 under a temporary directory.
"""

from __future__ import annotations

import itertools
import json
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg

from bauhof import db
from bauhof.mqtt import make_client
from bauhof.services import Mosquitto, Postgres, Stage, free_port
from bauhof.settings import parse_mqtt_url
from reliability import StepFailed

TEMPLATE = "reliability_template"


def scalar(conn: psycopg.Connection[Any], sql: str, params: tuple[Any, ...] = ()) -> Any:
    """The first column of the first row of a query."""
    row = conn.execute(sql, params).fetchone()
    return row[0] if row else None


def wait_until(step: str, check: Callable[[], bool], timeout: float,
               seen: Callable[[], object] = lambda: "", poll: float = 0.05) -> None:
    """Poll `check` until it holds; StepFailed naming the step and what was seen otherwise."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise StepFailed(step, f"not within {timeout:g} s ({seen()})")
        time.sleep(poll)


class Lab(Stage):
    """Services for the fault runs; use as a context manager."""

    def __init__(self, root: Path | None = None, fsync: bool = False) -> None:
        self._own_root = root is None
        self.root = root or Path(tempfile.mkdtemp(prefix="bauhof-reliability-"))
        self.root.chmod(0o755)
        # No TimescaleDB background workers: they would hold connections to the template.
        self.postgres = Postgres(self.root / "pg", free_port(), fsync=fsync,
                                 extra_config="timescaledb.max_background_workers = 0\n"
                                              "max_connections = 200\n")
        self._numbers = itertools.count(1)
        self._brokers: list[Mosquitto] = []

    def start(self) -> None:
        """Start PostgreSQL with a migrated template database for the runs' databases."""
        self.postgres.start()
        self.postgres.create_database(TEMPLATE)
        db.migrate(self.postgres.url(TEMPLATE))
        with psycopg.connect(self.postgres.url("postgres"), autocommit=True) as conn:
            conn.execute(f'ALTER DATABASE "{TEMPLATE}" WITH ALLOW_CONNECTIONS false')

    def stop(self) -> None:
        """Stop the brokers and PostgreSQL; remove the directory when the lab made it."""
        for broker in self._brokers:
            broker.stop()
        self.postgres.stop("immediate")
        if self._own_root:
            shutil.rmtree(self.root, ignore_errors=True)

    def database(self, label: str) -> str:
        """A fresh migrated database; returns its URL."""
        name = f"{label}_{next(self._numbers)}"
        with psycopg.connect(self.postgres.url("postgres"), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{TEMPLATE}"')
        return self.postgres.url(name)

    def broker(self) -> Mosquitto:
        """A fresh, started Mosquitto with the documented queue and in-flight settings."""
        state = self.root / f"mqtt-{next(self._numbers)}"
        broker = Mosquitto(state_dir=state, port=free_port())
        broker.start()
        self._brokers.append(broker)
        return broker

    def drop_broker(self, broker: Mosquitto) -> None:
        """Stop a broker and remove its state."""
        broker.stop()
        self._brokers.remove(broker)
        shutil.rmtree(broker.state_dir, ignore_errors=True)

    def log_dir(self) -> Path:
        """Where the processes of the runs log."""
        path = self.root / "logs"
        path.mkdir(exist_ok=True)
        return path


@contextmanager
def connection(url: str) -> Iterator[psycopg.Connection[Any]]:
    """An autocommit connection that survives nothing: open one per step that needs it."""
    with psycopg.connect(url, autocommit=True, application_name="bauhof-reliability") as conn:
        yield conn


def probe_ingest(database_url: str, mqtt_port: int, alive: Callable[[], bool],
                 timeout: float = 60.0) -> None:
    """Publish a weather probe every 0.2 s until ingest stores it: then its subscription is
    in place and nothing published afterwards can go unheard. The probe row is removed."""
    client = make_client(parse_mqtt_url(f"mqtt://127.0.0.1:{mqtt_port}"))
    client.connect("127.0.0.1", mqtt_port)
    client.loop_start()
    try:
        with connection(database_url) as conn:
            deadline = time.monotonic() + timeout
            hour = 0
            while not scalar(conn, "SELECT count(*) FROM weather WHERE station = 'probe'"):
                if not alive():
                    raise StepFailed("starting bauhof ingest", "the process exited")
                if time.monotonic() > deadline:
                    raise StepFailed("starting bauhof ingest", f"stored nothing in {timeout:g} s")
                body = {"time": f"2000-01-01T{hour % 24:02d}:00:00+00:00", "rain_mm_h": 0.0}
                client.publish("bauhof/weather/probe", json.dumps(body).encode(), qos=1)
                hour += 1
                time.sleep(0.2)
            conn.execute("DELETE FROM weather WHERE station = 'probe'")
    finally:
        client.disconnect()
        client.loop_stop()
