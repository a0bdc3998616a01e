"""Helpers for simulator tests: a tiny town, a subscriber that collects what is published, and
`bauhof ingest` as a process (the rules' end-to-end test uses it too)."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
import psycopg
import pytest

from bauhof import assets
from bauhof.mqtt import connect_properties, make_client
from bauhof.services import Mosquitto
from bauhof.settings import MqttTarget, parse_mqtt_url
from simulator import scenario
from simulator.bench import scenario_file, wait_for_ingest
from simulator.clock import DAY_US, to_us
from simulator.engine import Simulator
from simulator.publisher import Publisher
from simulator.recording import Message
from simulator.truth import Truth


def tiny_town(**overrides: Any) -> dict[str, Any]:
    """A scenario with one gateway, one green area, one bin and one truck, as plain data."""
    data: dict[str, Any] = {
        "town": {"name": "Testdorf", "latitude": 48.6, "longitude": 8.87,
                 "depot": {"latitude": 48.601, "longitude": 8.871}},
        "gateways": [{"id": "0016c001ffa10001", "name": "GW", "latitude": 48.6,
                      "longitude": 8.87}],
        "simulation": {"start": "2026-06-01T00:00:00+00:00"},
        "sponsors": [{"id": "sp-1", "name": "Bäckerei"}],
        "green_areas": [{"id": "ga-1", "name": "Beet", "plant_type": "flowers",
                         "latitude": 48.6005, "longitude": 8.8705, "sponsor": "sp-1"}],
        "bins": [{"id": "bin-1", "waste_type": "residual", "latitude": 48.5995,
                  "longitude": 8.8695, "volume_l": 240, "empty_distance_mm": 1000,
                  "full_distance_mm": 200, "collection_weekday": 0}],
        "vehicles": [{"id": "veh-1", "name": "Truck", "kind": "truck"}],
        "devices": [
            {"dev_eui": "a840410000000001", "model": "dragino-lse01",
             "asset": "green_area/ga-1", "expected_interval_s": 600},
            {"dev_eui": "24e1240000000002", "model": "milesight-em310-udl", "asset": "bin/bin-1",
             "expected_interval_s": 600},
            {"dev_eui": "a840410000000003", "model": "dragino-lgt92", "asset": "vehicle/veh-1",
             "expected_interval_s": 1800},
        ],
    }
    data.update(overrides)
    return data


def run_engine(
    town: scenario.Scenario, *, seed: int = 1, days: float = 0.1, truth: Truth | None = None,
    **kwargs: Any,
) -> list[Message]:
    """Every message of a run, in order."""
    start = to_us(town.simulation.start)
    engine = Simulator(town, seed=seed, start_us=start, end_us=start + round(days * DAY_US),
                       truth=truth, **kwargs)
    return list(engine.messages())


def crew_day(town: scenario.Scenario, crews: Any, truth_path: Path) -> None:
    """One simulated day of the town with crews acting, its ground truth written to a file."""
    sink = Truth(truth_path)
    try:
        run_engine(town, days=1.0, truth=sink, crews=crews)
    finally:
        sink.close()


def target(broker: Mosquitto) -> MqttTarget:
    """The fixture broker as an MQTT target."""
    return parse_mqtt_url(f"mqtt://127.0.0.1:{broker.port}")


class Collector:
    """Subscribes to everything at QoS 1 and keeps (topic, payload) in arrival order."""

    def __init__(self, broker: Mosquitto, topic: str = "#") -> None:
        self.received: list[tuple[str, bytes]] = []
        self._lock = threading.Lock()
        self._subscribed = threading.Event()
        self.client = make_client(target(broker), "test-collector")
        self.client.on_message = self._on_message
        self.client.on_subscribe = lambda *_a: self._subscribed.set()
        # A persistent session: the broker keeps the subscription and queues messages while
        # this client reconnects after a broker restart.
        self.client.on_connect = lambda *_a: self._subscribe(topic)
        self.client.connect("127.0.0.1", broker.port, clean_start=False,
                            properties=connect_properties(session_expiry_s=300))
        self.client.loop_start()
        assert self._subscribed.wait(10), "no SUBACK"

    def _subscribe(self, topic: str) -> None:
        self.client.subscribe(topic, qos=1)

    def _on_message(self, _c: paho.Client, _u: object, message: paho.MQTTMessage) -> None:
        with self._lock:
            self.received.append((message.topic, bytes(message.payload)))

    def wait_for(self, count: int, timeout_s: float = 30.0) -> list[tuple[str, bytes]]:
        """Wait until `count` messages arrived (or the deadline passed); return them."""
        return self.wait_until(lambda got: len(got) >= count, timeout_s)

    def wait_until(
        self, done: Callable[[list[tuple[str, bytes]]], bool], timeout_s: float = 30.0
    ) -> list[tuple[str, bytes]]:
        """Wait until `done(received)` holds (or the deadline passed); return what arrived."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            with self._lock:
                if done(self.received):
                    break
            time.sleep(0.01)
        with self._lock:
            return list(self.received)

    def close(self) -> None:
        """Disconnect."""
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def collector(broker: Mosquitto) -> Iterator[Collector]:
    """A subscriber to every topic of the fixture broker."""
    sub = Collector(broker)
    try:
        yield sub
    finally:
        sub.close()


@pytest.fixture(scope="session")
def herrenberg() -> scenario.Scenario:
    """The default scenario, loaded once."""
    return scenario.load("herrenberg")


@contextlib.contextmanager
def ingest_process(database_url: str, broker: Mosquitto, cwd: Path) -> Iterator[None]:
    """`bauhof ingest` as a process on the fixtures' broker and database, with the default
    town's assets loaded first (ingest reads the devices table when it starts); on leaving,
    it is stopped and must have exited cleanly."""
    assets.load_file(database_url, scenario_file())
    env = {**os.environ, "BAUHOF_DATABASE_URL": database_url,
           "BAUHOF_MQTT_URL": f"mqtt://127.0.0.1:{broker.port}"}
    proc = subprocess.Popen([sys.executable, "-m", "shell", "ingest"], env=env,
                            cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        with psycopg.connect(database_url, autocommit=True) as conn, Publisher(
            target(broker)
        ) as publisher:
            wait_for_ingest(conn, publisher, proc, 60)
        yield
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err.decode()[-2000:]
