"""Bauhof's production broker configuration, loaded by a real Mosquitto and enforced.

The topics come from deploy/chirpstack/ (what ChirpStack and the gateway bridge are configured
to use), the accounts from deploy/mosquitto/entrypoint.sh, the rules from deploy/mosquitto/acl.
"""

from __future__ import annotations

import json
import stat
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.deploy import topics
from tests.deploy.conftest import MOSQUITTO_DIR, PASSWORDS, ProductionBroker, run_entrypoint
from tests.deploy.mqtt_session import MqttSession

SUCCESS = 0
GRANTED_QOS_1 = 1
NOT_AUTHORIZED = 135
# MQTT 5 PUBACK 0x10: accepted, and nobody subscribes to that topic.
NO_MATCHING_SUBSCRIBERS = 16
APP = "c3f2c4aa-07c8-4d6c-8a86-7ea2d4a31dca"
EUI = "24e124538b223213"
GATEWAY = "0016c001ff10a235"
EVENTS = "application/+/device/+/event/+"

Session = Callable[..., MqttSession]


def connected(open_session: Session, user: str) -> MqttSession:
    """A session of `user`, asserted to be let in."""
    session = open_session(user)
    assert session.connect() == SUCCESS
    return session


def test_anonymous_client_is_refused(mqtt_session: Session) -> None:
    assert mqtt_session(None).connect() == NOT_AUTHORIZED


def test_wrong_password_is_refused(mqtt_session: Session) -> None:
    assert mqtt_session("bauhof", PASSWORDS["MQTT_CHIRPSTACK_PASSWORD"]).connect() == NOT_AUTHORIZED
    assert mqtt_session("chirpstack", "").connect() == NOT_AUTHORIZED


def test_grafana_has_no_broker_account(mqtt_session: Session) -> None:
    assert mqtt_session("grafana", PASSWORDS["MQTT_BAUHOF_PASSWORD"]).connect() == NOT_AUTHORIZED


def test_chirpstack_events_reach_bauhof_also_on_a_shared_subscription(
    mqtt_session: Session,
) -> None:
    plain = connected(mqtt_session, "bauhof")
    shared = connected(mqtt_session, "bauhof")
    assert plain.subscribe(EVENTS) == GRANTED_QOS_1
    assert shared.subscribe(f"$share/bauhof/{EVENTS}") == GRANTED_QOS_1
    chirpstack = connected(mqtt_session, "chirpstack")
    for event in ("up", "join", "status", "ack", "txack", "log", "location", "integration"):
        topic = topics.event_topic(APP, EUI, event)
        payload = json.dumps({"event": event, "devEui": EUI}).encode()
        assert chirpstack.publish(topic, payload) == SUCCESS
        assert plain.next_message() == (topic, payload)
        assert shared.next_message() == (topic, payload)


def test_bauhof_cannot_forge_an_uplink(mqtt_session: Session) -> None:
    listener = connected(mqtt_session, "bauhof")
    assert listener.subscribe(EVENTS) == GRANTED_QOS_1
    forger = connected(mqtt_session, "bauhof")
    forged = topics.event_topic(APP, EUI, "up")
    assert forger.publish(forged, b'{"forged": true}') == NOT_AUTHORIZED
    marker = topics.event_topic(APP, EUI, "log")
    assert connected(mqtt_session, "chirpstack").publish(marker, b"marker") == SUCCESS
    assert listener.received_until(marker) == [(marker, b"marker")]


def test_bauhof_publishes_and_reads_its_own_topics(mqtt_session: Session) -> None:
    reader = connected(mqtt_session, "bauhof")
    assert reader.subscribe("bauhof/#") == GRANTED_QOS_1
    writer = connected(mqtt_session, "bauhof")
    for topic in ("bauhof/x", "bauhof/workorders/17/opened", "bauhof/defects/4/resolved"):
        assert writer.publish(topic, topic.encode()) == SUCCESS
        assert reader.next_message() == (topic, topic.encode())


def test_a_downlink_from_bauhof_reaches_chirpstack_and_only_down(mqtt_session: Session) -> None:
    chirpstack = connected(mqtt_session, "chirpstack")
    assert chirpstack.subscribe(topics.command_subscription()) == GRANTED_QOS_1
    bauhof = connected(mqtt_session, "bauhof")
    down = topics.command_topic(APP, EUI, "down")
    command = json.dumps({"devEui": EUI, "confirmed": False, "fPort": 10, "data": "AQID"})
    assert bauhof.publish(down, command.encode()) == SUCCESS
    assert chirpstack.next_message() == (down, command.encode())
    assert bauhof.publish(topics.command_topic(APP, EUI, "flush"), b"{}") == NOT_AUTHORIZED


def test_chirpstack_cannot_publish_work_orders(mqtt_session: Session) -> None:
    reader = connected(mqtt_session, "bauhof")
    assert reader.subscribe("bauhof/#") == GRANTED_QOS_1
    chirpstack = connected(mqtt_session, "chirpstack")
    assert chirpstack.publish("bauhof/workorders/1/done", b"forged") == NOT_AUTHORIZED
    assert chirpstack.publish("bauhof/weather/station-1", b"forged") == NOT_AUTHORIZED
    assert connected(mqtt_session, "bauhof").publish("bauhof/marker", b"m") == SUCCESS
    assert reader.received_until("bauhof/marker") == [("bauhof/marker", b"m")]


def test_bauhof_reads_neither_commands_nor_gateway_traffic(mqtt_session: Session) -> None:
    everything = connected(mqtt_session, "bauhof")
    # The dynamic-security plugin refuses these subscriptions outright (an acl_file granted
    # "#" and filtered what it delivered); what bauhof may read it still receives.
    assert everything.subscribe("#") == NOT_AUTHORIZED
    assert everything.subscribe(topics.command_subscription()) == NOT_AUTHORIZED
    assert everything.subscribe("eu868/gateway/+/event/+") == NOT_AUTHORIZED
    assert everything.subscribe("bauhof/#") == GRANTED_QOS_1
    listener = connected(mqtt_session, "chirpstack")
    assert listener.subscribe(topics.command_subscription()) == GRANTED_QOS_1
    assert listener.subscribe("eu868/gateway/+/event/+") == GRANTED_QOS_1
    bauhof = connected(mqtt_session, "bauhof")
    assert bauhof.publish(topics.command_topic(APP, EUI, "down"), b"{}") == SUCCESS
    bridge = connected(mqtt_session, "gateway-bridge")
    bridge_cfg = topics.bridge_config()["integration"]["mqtt"]
    gateway_up = topics.render(bridge_cfg["event_topic_template"], GatewayID=GATEWAY,
                               EventType="up")
    assert bridge.publish(gateway_up, b"\x0a\x01") == SUCCESS
    assert bauhof.publish("bauhof/marker", b"m") == SUCCESS
    assert everything.received_until("bauhof/marker") == [("bauhof/marker", b"m")]


def test_gateway_bridge_and_chirpstack_exchange_gateway_traffic(mqtt_session: Session) -> None:
    bridge_cfg = topics.bridge_config()["integration"]["mqtt"]
    backend = topics.gateway_backend()
    chirpstack = connected(mqtt_session, "chirpstack")
    assert chirpstack.subscribe(topics.CHIRPSTACK_SHARE + backend["event_topic"]) == GRANTED_QOS_1
    bridge = connected(mqtt_session, "gateway-bridge")
    assert bridge.subscribe(
        topics.render(bridge_cfg["command_topic_template"], GatewayID=GATEWAY)
    ) == GRANTED_QOS_1

    for event in ("up", "stats", "ack"):
        topic = topics.render(bridge_cfg["event_topic_template"], GatewayID=GATEWAY,
                              EventType=event)
        assert bridge.publish(topic, event.encode()) == SUCCESS
        assert chirpstack.next_message() == (topic, event.encode())
    state = topics.render(bridge_cfg["state_topic_template"], GatewayID=GATEWAY, StateType="conn")
    # Allowed (a denied one would be 135); ChirpStack does not subscribe to gateway states.
    assert bridge.publish(state, b"online") == NO_MATCHING_SUBSCRIBERS

    for command in ("down", "config"):
        topic = topics.render(backend["command_topic"], gateway_id=GATEWAY, command=command)
        assert chirpstack.publish(topic, command.encode()) == SUCCESS
        assert bridge.next_message() == (topic, command.encode())
    assert bridge.publish(topics.event_topic(APP, EUI, "up"), b"{}") == NOT_AUTHORIZED


def test_simulator_stands_in_for_chirpstack_and_the_weather(mqtt_session: Session) -> None:
    bauhof = connected(mqtt_session, "bauhof")
    assert bauhof.subscribe(EVENTS) == GRANTED_QOS_1
    assert bauhof.subscribe("bauhof/weather/+") == GRANTED_QOS_1
    simulator = connected(mqtt_session, "simulator")
    up = topics.event_topic(APP, EUI, "up")
    assert simulator.publish(up, b'{"simulated": true}') == SUCCESS
    assert bauhof.next_message() == (up, b'{"simulated": true}')
    assert simulator.publish("bauhof/weather/station-1", b'{"rain_mm_h": 0.4}') == SUCCESS
    assert bauhof.next_message() == ("bauhof/weather/station-1", b'{"rain_mm_h": 0.4}')
    assert simulator.publish("bauhof/workorders/1/done", b"forged") == NOT_AUTHORIZED


def _accounts(dynsec_file: Path) -> list[tuple[str, str | None, list[str]]]:
    """(username, bound client id, roles) of each account in the plugin's file."""
    config = json.loads(dynsec_file.read_text())
    return [(c["username"], c.get("clientid"), [r["rolename"] for r in c["roles"]])
            for c in config["clients"]]


def test_entrypoint_writes_one_account_per_secret(tmp_path: Path) -> None:
    without_simulator = {k: v for k, v in PASSWORDS.items() if k != "MQTT_SIMULATOR_PASSWORD"}
    dynsec = tmp_path / "auth" / "dynamic-security.json"
    result = run_entrypoint(dynsec, without_simulator)
    assert result.returncode == 0, result.stderr
    assert _accounts(dynsec) == [
        ("bauhof", None, ["bauhof"]),
        ("ingest-1", "ingest-1", ["bauhof"]),
        ("chirpstack", "chirpstack-integration", ["chirpstack"]),
        ("chirpstack-gw", "chirpstack-gw-eu868", ["chirpstack"]),
        ("gateway-bridge", "chirpstack-gateway-bridge", ["gateway-bridge"]),
    ]
    assert stat.S_IMODE(dynsec.stat().st_mode) == 0o600
    assert sorted(p.name for p in dynsec.parent.iterdir()) == ["dynamic-security.json"]

    result = run_entrypoint(dynsec, {**PASSWORDS, "MQTT_INGEST_WORKERS": "3"})
    assert result.returncode == 0, result.stderr
    assert [(user, clientid) for user, clientid, _ in _accounts(dynsec)] == [
        ("bauhof", None), ("ingest-1", "ingest-1"), ("ingest-2", "ingest-2"),
        ("ingest-3", "ingest-3"), ("chirpstack", "chirpstack-integration"),
        ("chirpstack-gw", "chirpstack-gw-eu868"),
        ("gateway-bridge", "chirpstack-gateway-bridge"), ("simulator", "bauhof-simulator"),
    ]


def test_entrypoint_roles_are_the_acl_files_rules(tmp_path: Path) -> None:
    dynsec = tmp_path / "dynamic-security.json"
    assert run_entrypoint(dynsec, PASSWORDS).returncode == 0
    config = json.loads(dynsec.read_text())
    assert config["defaultACLAccess"] == {"publishClientSend": False,
                                          "publishClientReceive": False,
                                          "subscribe": False, "unsubscribe": True}
    # deploy/mosquitto/acl, read as Mosquitto reads it: read = subscribe (shared too) + receive.
    expected: dict[str, set[tuple[str, str]]] = {}
    user = ""
    for line in (MOSQUITTO_DIR / "acl").read_text().splitlines():
        if line.startswith("user "):
            user = line.split()[1]
            expected[user] = set()
        elif line.startswith("topic "):
            _, access, topic = line.split()
            if access in ("read", "readwrite"):
                expected[user] |= {("subscribePattern", topic), ("publishClientReceive", topic),
                                   ("subscribePattern", f"$share/+/{topic}")}
            if access in ("write", "readwrite"):
                expected[user].add(("publishClientSend", topic))
    roles = {role["rolename"]: {(a["acltype"], a["topic"]) for a in role["acls"]
                                if a["allow"] is True} for role in config["roles"]}
    assert roles == expected


def test_entrypoint_refuses_a_missing_secret(tmp_path: Path) -> None:
    missing = {k: v for k, v in PASSWORDS.items() if k != "MQTT_CHIRPSTACK_PASSWORD"}
    result = run_entrypoint(tmp_path / "dynamic-security.json", missing)
    assert result.returncode != 0
    assert "set MQTT_CHIRPSTACK_PASSWORD in .env" in result.stderr
    assert not (tmp_path / "dynamic-security.json").exists()


def test_entrypoint_refuses_a_bad_number_of_ingest_workers(tmp_path: Path) -> None:
    result = run_entrypoint(tmp_path / "dynamic-security.json",
                            {**PASSWORDS, "MQTT_INGEST_WORKERS": "two"})
    assert result.returncode == 2
    assert result.stderr == "MQTT_INGEST_WORKERS must be a whole number from 1, got 'two'\n"
    assert not (tmp_path / "dynamic-security.json").exists()


@pytest.mark.parametrize(("acl", "error"), [
    ("topic write bauhof/#\n", ": a topic line outside a user section or without a topic\n"),
    ("user bauhof\ntopic deny bauhof/#\n", ": unknown access 'deny'\n"),
    ("user bauhof\npattern read bauhof/%u\n", ": unknown line 'pattern'\n"),
])
def test_entrypoint_refuses_an_acl_it_cannot_turn_into_roles(
        tmp_path: Path, acl: str, error: str) -> None:
    (tmp_path / "acl").write_text(acl)
    result = run_entrypoint(tmp_path / "dynamic-security.json",
                            {**PASSWORDS, "MOSQUITTO_ACL_FILE": str(tmp_path / "acl")})
    assert (result.returncode, result.stderr) == (2, f"{tmp_path / 'acl'}{error}")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["acl"]


@pytest.mark.parametrize(("password", "healthy"), [
    (PASSWORDS["MQTT_BAUHOF_PASSWORD"], True),
    ("wrong", False),
])
def test_compose_healthcheck_of_the_broker(
    compose: dict[str, Any], prod_broker: ProductionBroker, password: str, healthy: bool,
) -> None:
    kind, command = compose["services"]["mosquitto"]["healthcheck"]["test"]
    assert kind == "CMD-SHELL"
    # Compose turns $$ into $ for the container's shell; only the port differs here.
    assert command.count("-p 1883 ") == 1
    shell = command.replace("$$", "$").replace("-p 1883 ", f"-p {prod_broker.port} ")
    result = subprocess.run(
        ["sh", "-c", shell], env={"PATH": "/usr/bin:/bin", "MQTT_BAUHOF_PASSWORD": password},
        capture_output=True, text=True, timeout=30, check=False,
    )
    assert (result.returncode == 0) is healthy, result.stderr
