"""Ingest's MQTT session cannot be taken over by another broker account (issue 13).

Against a real Mosquitto running the production configuration (the dynamic-security plugin
with the accounts deploy/mosquitto/entrypoint.sh writes): every account but `bauhof` is bound
to its one client id, so another account connecting as ingest's `ingest-1` is refused with
CONNACK "not authorized" and the running session is neither kicked nor handed over; ingest,
with the account and id docker-compose.yml gives it, stores what ChirpStack publishes.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import paho.mqtt.client as paho
import psycopg
import pytest

from bauhof import settings
from bauhof.mqtt import connect_properties
from simulator.publisher import Publisher
from tests.deploy import topics
from tests.deploy.conftest import ACCOUNTS, CLIENT_IDS, ProductionBroker
from tests.deploy.mqtt_session import MqttSession
from tests.factories import encode, uplink
from tests.ingest.conftest import wait_for

APP = "c3f2c4aa-07c8-4d6c-8a86-7ea2d4a31dca"
EUI = "24e124538b223213"
EVENTS = "application/+/device/+/event/+"
SUCCESS = 0
NOT_AUTHORIZED = 135
# MQTT 5 PUBACK 0x10: accepted, and nobody subscribes to that topic.
NO_MATCHING_SUBSCRIBERS = 16
INGEST = "ingest-1"
# Every account bound to a client id, and so refused any other.
BOUND = ["ingest-1", "ingest-2", "chirpstack", "chirpstack-gw", "gateway-bridge", "simulator"]


class Client:
    """A paho MQTT 5 client with a given id and a persistent session; counts its disconnects."""

    def __init__(self, port: int, user: str, client_id: str) -> None:
        self.client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=client_id,
                                  protocol=paho.MQTTv5)
        self.client.username_pw_set(user, ACCOUNTS[user])
        self.port = port
        self.messages: queue.Queue[bytes] = queue.Queue()
        self.connected = threading.Event()
        self.subscribed = threading.Event()
        self.disconnects = 0
        self.client.on_connect = lambda *_a: self.connected.set()
        self.client.on_disconnect = lambda *_a: self._disconnected()
        self.client.on_subscribe = lambda *_a: self.subscribed.set()
        self.client.on_message = lambda _c, _u, m: self.messages.put(bytes(m.payload))

    def _disconnected(self) -> None:
        self.disconnects += 1

    def connect(self, session_expiry_s: int = 3600) -> Client:
        """Connect without clean start, keeping the session (for an hour by default)."""
        self.client.connect("127.0.0.1", self.port, clean_start=False,
                            properties=connect_properties(session_expiry_s, 100))
        self.client.loop_start()
        assert self.connected.wait(10)
        return self

    def received(self, count: int, timeout: float = 3.0) -> list[bytes]:
        """Up to `count` messages, each waited for at most `timeout` seconds."""
        out: list[bytes] = []
        while len(out) < count:
            try:
                out.append(self.messages.get(timeout=timeout))
            except queue.Empty:
                break
        return out

    def close(self) -> None:
        """Disconnect; the session stays at the broker."""
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def clients() -> Iterator[list[Client]]:
    """Clients to close after the test."""
    opened: list[Client] = []
    yield opened
    for client in opened:
        client.close()


@pytest.fixture
def attempt(prod_broker: ProductionBroker) -> Iterator[Callable[[str, str], int]]:
    """Connect as an account with a client id; the CONNACK reason code."""
    opened: list[MqttSession] = []

    def connect(user: str, client_id: str) -> int:
        session = MqttSession(prod_broker.port, user, ACCOUNTS[user], client_id)
        opened.append(session)
        return session.connect()

    yield connect
    for session in opened:
        session.close()


def uplinks(chirpstack: Client, count: int, first: int = 0) -> list[bytes]:
    """Publish `count` uplinks as ChirpStack does (QoS 1); their payloads."""
    sent = [json.dumps({"n": n}).encode() for n in range(first, first + count)]
    for payload in sent:
        chirpstack.client.publish(topics.event_topic(APP, EUI, "up"), payload,
                                  qos=1).wait_for_publish(10)
    return sent


def test_compose_gives_ingest_its_bound_account_and_id(compose: dict[str, Any]) -> None:
    env = compose["services"]["bauhof-ingest"]["environment"]
    assert env["BAUHOF_MQTT_CLIENT_ID"] == INGEST
    assert env["BAUHOF_MQTT_URL"].startswith(f"mqtt://{INGEST}:${{MQTT_BAUHOF_PASSWORD:?")
    assert CLIENT_IDS[INGEST] == INGEST


def test_no_other_account_may_use_ingests_client_id_and_ingest_stays_connected(
        prod_broker: ProductionBroker, attempt: Callable[[str, str], int],
        clients: list[Client]) -> None:
    ingest = Client(prod_broker.port, INGEST, INGEST).connect()
    clients.append(ingest)
    ingest.client.subscribe(EVENTS, qos=1)
    assert ingest.subscribed.wait(10)
    # Each account's attempt at ingest's id, the documented old one included.
    refused = {user: (attempt(user, INGEST), attempt(user, "bauhof-ingest"))
               for user in BOUND if user != INGEST}
    assert refused == {user: (NOT_AUTHORIZED, NOT_AUTHORIZED) for user in BOUND
                       if user != INGEST}
    # Not kicked: the same connection gets what ChirpStack publishes now.
    chirpstack = Client(prod_broker.port, "chirpstack", "chirpstack-integration").connect()
    clients.append(chirpstack)
    sent = uplinks(chirpstack, 3)
    assert ingest.received(3) == sent
    assert (ingest.client.is_connected(), ingest.disconnects) == (True, 0)


def test_ingests_offline_session_goes_to_nobody_else(
        prod_broker: ProductionBroker, attempt: Callable[[str, str], int],
        clients: list[Client]) -> None:
    ingest = Client(prod_broker.port, INGEST, INGEST).connect()
    ingest.client.subscribe(EVENTS, qos=1)
    assert ingest.subscribed.wait(10)
    ingest.close()  # offline, its persistent session holds what comes
    chirpstack = Client(prod_broker.port, "chirpstack", "chirpstack-integration").connect()
    clients.append(chirpstack)
    sent = uplinks(chirpstack, 3, first=10)
    # The attack of issue 13: another account with ingest's id, without clean start.
    assert attempt("gateway-bridge", INGEST) == NOT_AUTHORIZED
    assert attempt("ingest-2", INGEST) == NOT_AUTHORIZED
    back = Client(prod_broker.port, INGEST, INGEST).connect()
    clients.append(back)
    assert back.received(3) == sent


@pytest.mark.parametrize("user", BOUND)
def test_each_bound_account_connects_with_its_own_id_only(
        user: str, attempt: Callable[[str, str], int]) -> None:
    others = [*sorted(set(CLIENT_IDS.values()) - {CLIENT_IDS[user]}), "random-7f3a9c0e"]
    assert {cid: attempt(user, cid) for cid in others} == {cid: NOT_AUTHORIZED for cid in others}
    assert attempt(user, CLIENT_IDS[user]) == SUCCESS


def test_chirpstack_and_the_bridge_connect_as_their_configs_say(
        attempt: Callable[[str, str], int]) -> None:
    generic = topics.bridge_config()["integration"]["mqtt"]["auth"]["generic"]
    configured = [(c["username"], c["client_id"]) for c in (
        topics.integration(), topics.gateway_backend(), generic)]
    assert configured == [("chirpstack", "chirpstack-integration"),
                          ("chirpstack-gw", "chirpstack-gw-eu868"),
                          ("gateway-bridge", "chirpstack-gateway-bridge")]
    assert [attempt(user, client_id) for user, client_id in configured] == [SUCCESS] * 3


def test_the_bauhof_account_is_the_one_not_bound(attempt: Callable[[str, str], int]) -> None:
    # Bauhof's rules, API and health checks: several short connections at once, random ids.
    assert attempt("bauhof", "bauhof-0d1e2f3a4b5c") == SUCCESS
    assert attempt("bauhof", "healthcheck") == SUCCESS


def test_the_simulator_publishes_with_its_bound_id(
        prod_broker: ProductionBroker, clients: list[Client]) -> None:
    reader = Client(prod_broker.port, "bauhof", "test-reader").connect(session_expiry_s=0)
    clients.append(reader)
    reader.client.subscribe(EVENTS, qos=1)
    assert reader.subscribed.wait(10)
    target = settings.parse_mqtt_url(
        f"mqtt://simulator:{ACCOUNTS['simulator']}@127.0.0.1:{prod_broker.port}")
    with Publisher(target) as publisher:
        publisher.connect()
        publisher.publish(topics.event_topic(APP, EUI, "up"), b'{"simulated": 1}')
        publisher.flush()
    assert reader.received(1) == [b'{"simulated": 1}']


def test_ingests_health_check_leaves_ingest_connected(
        prod_broker: ProductionBroker, database_url: str, compose: dict[str, Any],
        clients: list[Client]) -> None:
    ingest = Client(prod_broker.port, INGEST, INGEST).connect(session_expiry_s=0)
    clients.append(ingest)
    env = {"PATH": f"{os.path.dirname(sys.executable)}:/usr/bin:/bin", "BAUHOF_ENV": "production",
           "BAUHOF_DATABASE_URL": database_url,
           "BAUHOF_MQTT_URL": f"mqtt://{INGEST}:{ACCOUNTS[INGEST]}@127.0.0.1:{prod_broker.port}"}

    def run(argv: list[str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=60,
                              check=False)

    # The image's default check logs in as ingest-1 with a random id: refused.
    default = run(["bauhof", "services", "status"])
    assert default.returncode == 1
    assert f"mqtt      mqtt://{INGEST}@127.0.0.1:{prod_broker.port}  DOWN (Not authorized)" \
        in default.stdout
    # The compose file's check for ingest (compose turns $$ into $): the bauhof account.
    kind, shell, flag, command = compose["services"]["bauhof-ingest"]["healthcheck"]["test"]
    assert (kind, shell, flag) == ("CMD", "sh", "-c")
    check = run(["sh", "-c", command.replace("$$", "$")])
    assert check.returncode == 0, check.stdout + check.stderr
    assert f"mqtt      mqtt://bauhof@127.0.0.1:{prod_broker.port}  healthy" in check.stdout
    assert (ingest.client.is_connected(), ingest.disconnects) == (True, 0)


@pytest.fixture
def ingest_process(prod_broker: ProductionBroker, database_url: str,
                   compose: dict[str, Any]) -> Iterator[subprocess.Popen[bytes]]:
    """`bauhof ingest` with the account and client id docker-compose.yml gives it."""
    compose_env = compose["services"]["bauhof-ingest"]["environment"]
    env = {**os.environ, "BAUHOF_ENV": "production", "BAUHOF_DATABASE_URL": database_url,
           "BAUHOF_MQTT_URL": f"mqtt://{INGEST}:{ACCOUNTS[INGEST]}@127.0.0.1:{prod_broker.port}",
           "BAUHOF_MQTT_CLIENT_ID": compose_env["BAUHOF_MQTT_CLIENT_ID"]}
    proc = subprocess.Popen([sys.executable, "-m", "shell", "ingest"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=60)


def test_ingest_with_its_own_account_stores_what_chirpstack_publishes(
        ingest_process: subprocess.Popen[bytes], prod_broker: ProductionBroker,
        conn: psycopg.Connection[Any], attempt: Callable[[str, str], int]) -> None:
    chirpstack = MqttSession(prod_broker.port, "chirpstack", ACCOUNTS["chirpstack"],
                             "chirpstack-integration")
    try:
        assert chirpstack.connect() == SUCCESS
        first = uplink(EUI, b"\x01", f_cnt=1, dedup="0b9e0c1e-0000-4000-8000-000000000001")
        second = uplink(EUI, b"\x02", f_cnt=2, dedup="0b9e0c1e-0000-4000-8000-000000000002")
        event = topics.event_topic(APP, EUI, "up")
        # The same uplink again until ingest has subscribed and stored it (what came before
        # its subscription reaches nobody); the repeats it deduplicates.
        deadline = time.monotonic() + 60
        while conn.execute("SELECT count(*) FROM raw_uplinks").fetchone() == (0,):
            assert time.monotonic() < deadline and ingest_process.poll() is None
            assert chirpstack.publish(event, encode(first)) in (SUCCESS, NO_MATCHING_SUBSCRIBERS)
            time.sleep(0.2)
        wait_for(conn, "SELECT count(*) FROM raw_uplinks", 1)
        assert attempt("gateway-bridge", INGEST) == NOT_AUTHORIZED
        assert attempt("ingest-2", INGEST) == NOT_AUTHORIZED
        assert chirpstack.publish(event, encode(second)) == SUCCESS
        wait_for(conn, "SELECT count(*) FROM raw_uplinks", 2)
    finally:
        chirpstack.close()
    assert conn.execute("SELECT deduplication_id::text FROM raw_uplinks ORDER BY 1").fetchall() \
        == [("0b9e0c1e-0000-4000-8000-000000000001",), ("0b9e0c1e-0000-4000-8000-000000000002",)]
    assert ingest_process.poll() is None


def test_the_production_client_id_is_unguessable_and_stable() -> None:
    def client_id(password: str, explicit: str | None = None) -> str:
        env = {"BAUHOF_ENV": "production", "BAUHOF_DATABASE_URL": "postgresql://db/bauhof",
               "BAUHOF_MQTT_URL": f"mqtt://bauhof:{password}@broker:1883"}
        if explicit is not None:
            env["BAUHOF_MQTT_CLIENT_ID"] = explicit
        return settings.load(environ=env).mqtt_client_id

    first = client_id("s3cret-one")
    assert first.startswith("bauhof-ingest-") and len(first) == len("bauhof-ingest-") + 32
    assert client_id("s3cret-one") == first  # the same session after every restart
    assert client_id("s3cret-two") != first
    assert client_id("s3cret-one", "ingest-7f3a9c0e") == "ingest-7f3a9c0e"
    with pytest.raises(settings.SettingsError) as refused:
        client_id("s3cret-one", "bauhof-ingest")
    assert str(refused.value) == (
        "BAUHOF_MQTT_CLIENT_ID=bauhof-ingest is the documented id every broker account knows "
        "(anyone could take over ingest's session): leave it unset for an unguessable one")
    assert settings.load(environ={"BAUHOF_ENV": "development"}).mqtt_client_id == \
        "bauhof-ingest"
