"""Ingest's MQTT session cannot be taken over by another broker account (issue 13).

Against a real Mosquitto running the production configuration and ACL: ingest's client id
comes from the settings, in production an unguessable one derived from its own account's
secret, so `gateway-bridge` connecting as the documented `bauhof-ingest` (without clean start)
gets nothing, and ingest, back, gets every uplink ChirpStack published while it was away.
"""

from __future__ import annotations

import json
import queue
import threading
from collections.abc import Iterator

import paho.mqtt.client as paho
import pytest

from bauhof import settings
from bauhof.mqtt import connect_properties
from tests.deploy import topics
from tests.deploy.conftest import ACCOUNTS, ProductionBroker

APP = "c3f2c4aa-07c8-4d6c-8a86-7ea2d4a31dca"
EUI = "24e124538b223213"
EVENTS = "application/+/device/+/event/+"


class Client:
    """A paho MQTT 5 client with a given id, clean start or not, and a persistent session."""

    def __init__(self, port: int, user: str, client_id: str) -> None:
        self.client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=client_id,
                                  protocol=paho.MQTTv5)
        self.client.username_pw_set(user, ACCOUNTS[user])
        self.port = port
        self.messages: queue.Queue[bytes] = queue.Queue()
        self.connected = threading.Event()
        self.subscribed = threading.Event()
        self.client.on_connect = lambda *_a: self.connected.set()
        self.client.on_subscribe = lambda *_a: self.subscribed.set()
        self.client.on_message = lambda _c, _u, m: self.messages.put(bytes(m.payload))

    def connect(self) -> Client:
        """Connect without clean start, keeping the session for an hour."""
        self.client.connect("127.0.0.1", self.port, clean_start=False,
                            properties=connect_properties(3600, 100))
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
def ingest_id(prod_broker: ProductionBroker) -> str:
    """Ingest's client id as production settings give it."""
    return settings.load(environ={
        "BAUHOF_ENV": "production",
        "BAUHOF_DATABASE_URL": "postgresql://bauhof:db-secret@timescaledb/bauhof",
        "BAUHOF_MQTT_URL": f"mqtt://bauhof:{ACCOUNTS['bauhof']}@127.0.0.1:{prod_broker.port}",
    }).mqtt_client_id


@pytest.fixture
def clients() -> Iterator[list[Client]]:
    """Clients to close after the test."""
    opened: list[Client] = []
    yield opened
    for client in opened:
        client.close()


def test_another_account_cannot_take_over_ingests_session(
        prod_broker: ProductionBroker, ingest_id: str, clients: list[Client]) -> None:
    ingest = Client(prod_broker.port, "bauhof", ingest_id).connect()
    ingest.client.subscribe(EVENTS, qos=1)
    assert ingest.subscribed.wait(10)
    ingest.close()  # offline, its persistent session holds what comes
    chirpstack = Client(prod_broker.port, "chirpstack", "chirpstack-integration").connect()
    clients.append(chirpstack)
    sent = [json.dumps({"n": n}).encode() for n in range(3)]
    for payload in sent:
        chirpstack.client.publish(topics.event_topic(APP, EUI, "up"), payload,
                                  qos=1).wait_for_publish(10)
    # The attack of issue 13: the documented id, without clean start.
    thief = Client(prod_broker.port, "gateway-bridge", "bauhof-ingest").connect()
    clients.append(thief)
    assert thief.received(3, timeout=1.0) == []
    back = Client(prod_broker.port, "bauhof", ingest_id).connect()
    clients.append(back)
    assert back.received(3) == sent


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
