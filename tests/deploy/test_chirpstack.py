"""ChirpStack v4 and gateway bridge configuration: parsed, consistent with compose and Bauhof."""

from __future__ import annotations

import re
import tomllib
from typing import Any
from urllib.parse import urlsplit

from paho.mqtt.client import topic_matches_sub

from bauhof.mqtt import EVENT_TOPIC
from tests.deploy import topics

PLACEHOLDER = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")


def config_text() -> str:
    """The folder's .toml files joined, as ChirpStack joins them before substituting."""
    return "".join(p.read_text(encoding="utf-8") for p in sorted(topics.CONFIG_DIR.glob("*.toml")))


def shares_network(compose: dict[str, Any], a: str, b: str) -> bool:
    """Whether two compose services can reach each other."""
    services = compose["services"]
    return bool(set(services[a]["networks"]) & set(services[b]["networks"]))


def test_config_folder_holds_only_chirpstack_files() -> None:
    assert sorted(p.name for p in topics.CONFIG_DIR.iterdir()) == [
        "chirpstack.toml", "region_eu868.toml"]


def test_mqtt_integration_publishes_json_at_qos_1_where_ingest_listens() -> None:
    config = topics.chirpstack_config()
    assert config["integration"]["enabled"] == ["mqtt"]
    mqtt = topics.integration()
    assert (mqtt["json"], mqtt["qos"], mqtt["clean_session"]) == (True, 1, False)
    assert (mqtt["server"], mqtt["username"]) == ("tcp://mosquitto:1883/", "chirpstack")
    assert topics.event_topic("+", "+", "+") == EVENT_TOPIC
    assert topics.command_subscription() == "application/+/device/+/command/+"
    assert topics.command_topic("app-1", "0102030405060708", "down") == (
        "application/app-1/device/0102030405060708/command/down")


def test_region_eu868_matches_the_gateway_bridge() -> None:
    config = topics.chirpstack_config()
    assert config["network"]["enabled_regions"] == ["eu868"]
    (region,) = config["regions"]
    assert (region["id"], region["common_name"]) == ("eu868", "EU868")
    assert region["gateway"]["backend"]["enabled"] == "mqtt"
    backend = topics.gateway_backend()
    bridge = topics.bridge_config()["integration"]["mqtt"]
    assert topics.render(bridge["event_topic_template"], GatewayID="+", EventType="+") == (
        backend["event_topic"])
    command = topics.render(backend["command_topic"], gateway_id="0016c001ff10a235",
                            command="down")
    assert topic_matches_sub(
        topics.render(bridge["command_topic_template"], GatewayID="0016c001ff10a235"), command)
    assert not topic_matches_sub(
        topics.render(bridge["command_topic_template"], GatewayID="0016c001ff10a236"), command)


def test_every_placeholder_is_set_and_none_shadows_another(compose: dict[str, Any]) -> None:
    placeholders = set(PLACEHOLDER.findall(config_text()))
    environment = compose["services"]["chirpstack"]["environment"]
    assert placeholders == set(environment)
    # ChirpStack replaces "$KEY" for every variable KEY in turn: a KEY that begins another
    # placeholder's name would cut it in two.
    for key in environment:
        assert [p for p in placeholders if p != key and p.startswith(key)] == [], key
    filled = config_text()
    for key in sorted(environment, key=len, reverse=True):
        filled = filled.replace(f"${key}", "0123456789abcdef")
    config = tomllib.loads(filled)
    assert config["api"]["secret"] == "0123456789abcdef"
    assert topics.integration()["password"] == "$CHIRPSTACK_MQTT_PASSWORD"


def test_secrets_are_the_same_env_values_the_other_services_use(compose: dict[str, Any]) -> None:
    services = compose["services"]
    chirpstack = services["chirpstack"]["environment"]
    assert chirpstack["CHIRPSTACK_MQTT_PASSWORD"] == (
        services["mosquitto"]["environment"]["MQTT_CHIRPSTACK_PASSWORD"])
    assert chirpstack["CHIRPSTACK_PG_PASSWORD"] == (
        services["chirpstack-postgres"]["environment"]["POSTGRES_PASSWORD"])
    bridge = services["chirpstack-gateway-bridge"]["environment"]
    assert bridge == {"INTEGRATION__MQTT__AUTH__GENERIC__PASSWORD":
                      services["mosquitto"]["environment"]["MQTT_GATEWAY_BRIDGE_PASSWORD"]}


def test_hosts_in_the_config_are_services_chirpstack_can_reach(compose: dict[str, Any]) -> None:
    config = topics.chirpstack_config()
    dsn = urlsplit(config["postgresql"]["dsn"])
    postgres = compose["services"]["chirpstack-postgres"]["environment"]
    assert (dsn.hostname, dsn.username, dsn.path) == (
        "chirpstack-postgres", postgres["POSTGRES_USER"], f"/{postgres['POSTGRES_DB']}")
    (redis,) = config["redis"]["servers"]
    hosts = {
        dsn.hostname, urlsplit(redis).hostname, urlsplit(topics.integration()["server"]).hostname,
        urlsplit(topics.gateway_backend()["server"]).hostname,
    }
    assert hosts == {"chirpstack-postgres", "chirpstack-redis", "mosquitto"}
    for host in hosts:
        assert shares_network(compose, "chirpstack", str(host)), host
    assert config["monitoring"]["bind"] == "0.0.0.0:8070"
    assert compose["services"]["chirpstack"]["healthcheck"]["test"][-1] == (
        "http://127.0.0.1:8070/health")


def test_gateway_bridge_listens_where_compose_publishes(compose: dict[str, Any]) -> None:
    bridge = topics.bridge_config()
    assert bridge["backend"]["type"] == "semtech_udp"
    assert bridge["backend"]["semtech_udp"]["udp_bind"] == "0.0.0.0:1700"
    service = compose["services"]["chirpstack-gateway-bridge"]
    assert service["ports"] == ["1700:1700/udp"]
    generic = bridge["integration"]["mqtt"]["auth"]["generic"]
    assert (generic["servers"], generic["username"]) == (["tcp://mosquitto:1883"],
                                                         "gateway-bridge")
    assert "password" not in generic
    assert shares_network(compose, "chirpstack-gateway-bridge", "mosquitto")
    (mount,) = service["volumes"]
    assert mount == "./deploy/chirpstack/gateway-bridge:/etc/chirpstack-gateway-bridge:ro"
    assert service["command"] == [
        "-c", "/etc/chirpstack-gateway-bridge/chirpstack-gateway-bridge.toml"]
    assert compose["services"]["chirpstack"]["volumes"] == [
        "./deploy/chirpstack/config:/etc/chirpstack:ro"]
