"""docker-compose.yml read with PyYAML: every service, port, volume and variable checked.

Docker cannot run here; these tests check that everything the file refers to exists and that it
says what docs/deployment.md promises (pinned images, secrets only from .env, health checks,
no database or broker port on the host).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from bauhof import settings
from shell.main import build_parser
from tests.deploy.compose_env import (
    bare_dollars,
    interpolate,
    read_env_file,
    references,
)
from tests.deploy.conftest import REPO

ENV_EXAMPLE = REPO / ".env.example"
BAUHOF_SERVICES = ("bauhof-migrate", "bauhof-ingest", "bauhof-rules", "bauhof-api", "simulator",
                   "bauhof-weather")
LONG_RUNNING_BAUHOF = ("bauhof-ingest", "bauhof-rules", "bauhof-api")
DATA_SERVICES = ("timescaledb", "chirpstack-postgres", "chirpstack-redis", "mosquitto")
# What the host sees: UDP 1700 for gateways; everything else on 127.0.0.1 for a reverse proxy.
INTENDED_PORTS = {
    "bauhof-api": ["127.0.0.1:8000:8000"],
    "grafana": ["127.0.0.1:3000:3000"],
    "chirpstack": ["127.0.0.1:8080:8080"],
    "chirpstack-gateway-bridge": ["1700:1700/udp"],
}
# The only secret that may be empty: without it the broker has no simulator account.
OPTIONAL_SECRETS = {"MQTT_SIMULATOR_PASSWORD"}


def example_env() -> dict[str, str]:
    """.env.example with every empty secret filled as a user would."""
    return {k: v or f"hex-{k.lower()}" for k, v in read_env_file(ENV_EXAMPLE).items()}


@pytest.fixture(scope="module")
def resolved(compose: dict[str, Any]) -> dict[str, Any]:
    """The compose file with the variables of a filled-in .env."""
    result = interpolate(compose, example_env())
    assert isinstance(result, dict)
    return result


def mounts(service: dict[str, Any]) -> list[tuple[str, str]]:
    """(source, target) of each short-syntax volume of a service."""
    pairs = []
    for entry in service.get("volumes", []):
        assert isinstance(entry, str), f"use the short volume syntax: {entry!r}"
        source, target, *_ = entry.split(":")
        pairs.append((source, target))
    return pairs


def image_tag(image: str) -> str:
    """The tag of an image reference (after the last colon of its last path part)."""
    name = image.rsplit("/", 1)[-1]
    assert ":" in name, f"{image} has no tag"
    return name.rsplit(":", 1)[1]


def test_every_image_is_pinned_to_a_version(resolved: dict[str, Any]) -> None:
    for name, service in resolved["services"].items():
        tag = image_tag(service["image"])
        assert tag != "latest", name
        # At least major.minor (PostgreSQL's own versions have two parts), then a variant.
        assert re.match(r"^\d+(\.\d+)+(-[a-z0-9]+)?$", tag), f"{name}: {service['image']}"
    assert resolved["services"]["timescaledb"]["image"].endswith("-pg16")


def strings(value: Any) -> list[str]:
    """Every string (keys and values) in a parsed YAML document: what compose interpolates."""
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in (*strings(k), *strings(v))]
    if isinstance(value, list):
        return [s for v in value for s in strings(v)]
    return [value] if isinstance(value, str) else []


def test_every_variable_is_in_env_example_and_every_example_is_used(
    compose: dict[str, Any],
) -> None:
    values = strings(compose)
    used = {ref.name for text in values for ref in references(text)}
    listed = set(read_env_file(ENV_EXAMPLE))
    assert used - listed == set()
    assert listed - used == set()
    # A bare $NAME would be expanded by compose too; container shells get $$NAME.
    assert sum(bare_dollars(text) for text in values) == 0


def test_no_default_passwords(compose: dict[str, Any]) -> None:
    example = read_env_file(ENV_EXAMPLE)
    secrets = {k for k in example if "PASSWORD" in k or "SECRET" in k}
    assert len(secrets) == 11
    assert {k: v for k, v in example.items() if k in secrets and v} == {}
    for ref in (r for text in strings(compose) for r in references(text)):
        if ref.name in OPTIONAL_SECRETS:
            assert (ref.op, ref.arg) == (":-", ""), ref
        elif ref.name in secrets:
            assert (ref.op, ref.arg) == (":?", f"set {ref.name} in .env"), ref
    with pytest.raises(KeyError, match=r"set BAUHOF_DB_PASSWORD in \.env"):
        interpolate(compose, {})


def test_every_mount_exists_or_is_a_declared_named_volume(compose: dict[str, Any]) -> None:
    declared = set(compose["volumes"])
    used = set()
    for name, service in compose["services"].items():
        for source, target in mounts(service):
            assert target.startswith("/"), (name, target)
            if source.startswith(("./", "/")):
                assert source.startswith("./"), f"{name}: {source} is outside the repository"
                assert (REPO / source).exists(), f"{name} mounts missing {source}"
            else:
                assert source in declared, f"{name}: volume {source} is not declared"
                used.add(source)
    assert used == declared


def test_all_data_lives_in_named_volumes(compose: dict[str, Any]) -> None:
    expected = {
        "timescaledb": "/var/lib/postgresql/data",
        "mosquitto": "/mosquitto/data",
        "chirpstack-postgres": "/var/lib/postgresql/data",
        "chirpstack-redis": "/data",
        "grafana": "/var/lib/grafana",
    }
    for name, target in expected.items():
        named = [s for s, t in mounts(compose["services"][name]) if t == target]
        assert named == [f"{name}-data"], name


def test_every_dependency_exists_and_waits_for_the_right_state(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name, service in services.items():
        for target, spec in service.get("depends_on", {}).items():
            assert target in services, f"{name} depends on unknown {target}"
            condition = spec["condition"]
            if condition == "service_healthy":
                check = services[target].get("healthcheck", {})
                assert check.get("test") and not check.get("disable"), (name, target)
            else:
                assert condition == "service_completed_successfully", (name, target)
                assert services[target]["restart"] == "no"
    for name in LONG_RUNNING_BAUHOF:
        assert services[name]["depends_on"] == {
            "bauhof-migrate": {"condition": "service_completed_successfully"},
            "mosquitto": {"condition": "service_healthy"},
        }
    assert services["bauhof-migrate"]["depends_on"] == {
        "timescaledb": {"condition": "service_healthy"},
    }


def test_bauhof_services_share_one_image_with_roles_and_health_checks(
    resolved: dict[str, Any],
) -> None:
    services = resolved["services"]
    images = {services[name]["image"] for name in BAUHOF_SERVICES}
    assert images == {"bauhof:0.1.0"}
    roles = {name: services[name]["command"][1:3] for name in BAUHOF_SERVICES}
    assert roles == {
        "bauhof-migrate": ["db", "migrate"], "bauhof-ingest": ["ingest"],
        "bauhof-rules": ["rules"], "bauhof-api": ["api", "--host"],
        "simulator": ["simulate", "--speed"], "bauhof-weather": ["weather", "run"],
    }
    for name in BAUHOF_SERVICES:
        assert services[name]["command"][0] == "--log-json"
        assert services[name]["pull_policy"] == "build"
    for name in LONG_RUNNING_BAUHOF:
        check = services[name]["healthcheck"]
        assert check["test"][0] == "CMD" and not check.get("disable"), name
        assert services[name]["restart"] == "unless-stopped"
    assert services["bauhof-ingest"]["healthcheck"]["test"][:3] == ["CMD", "sh", "-c"]
    assert services["bauhof-ingest"]["healthcheck"]["test"][3].endswith(
        "; exec bauhof services status")  # run in tests/deploy/test_mqtt_takeover.py
    assert "http://127.0.0.1:8000/health" in services["bauhof-api"]["healthcheck"]["test"][-1]
    assert services["bauhof-migrate"]["restart"] == "no"
    for name, service in services.items():
        if name not in ("bauhof-migrate", "simulator"):
            assert service["restart"] == "unless-stopped", name


def test_commands_parse_with_bauhof_cli(resolved: dict[str, Any]) -> None:
    parser = build_parser()
    migrate = parser.parse_args(resolved["services"]["bauhof-migrate"]["command"])
    assert (migrate.command, migrate.action, migrate.log_json) == ("db", "migrate", True)
    ingest = parser.parse_args(resolved["services"]["bauhof-ingest"]["command"])
    # No fixed id: production settings derive an unguessable one (tests/deploy/
    # test_mqtt_takeover.py).
    assert (ingest.command, ingest.client_id, ingest.share) == ("ingest", None, None)
    rules = parser.parse_args(resolved["services"]["bauhof-rules"]["command"])
    assert (rules.command, rules.action) == ("rules", "run")
    weather = parser.parse_args(resolved["services"]["bauhof-weather"]["command"])
    assert (weather.command, weather.weather_action, weather.every) == ("weather", "run", 3600.0)
    assert settings.load(environ=resolved["services"]["bauhof-weather"]["environment"],
                         cwd=REPO).weather_source == "brightsky"
    simulate = parser.parse_args(resolved["services"]["simulator"]["command"])
    assert (simulate.command, simulate.speed, simulate.start, simulate.crews) == (
        "simulate", "1", "now", False)


def test_workers_serve_metrics_inside_the_compose_network(
    resolved: dict[str, Any], monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("bauhof-ingest", "bauhof-rules"):
        service = resolved["services"][name]
        monkeypatch.setenv("BAUHOF_METRICS_PORT", service["environment"]["BAUHOF_METRICS_PORT"])
        assert build_parser().parse_args(service["command"]).metrics_port == 9100
        assert "ports" not in service
    assert "BAUHOF_METRICS_PORT" not in resolved["services"]["bauhof-api"]["environment"]


def test_bauhof_settings_load_in_every_bauhof_container(
    resolved: dict[str, Any], tmp_path: Path,
) -> None:
    for name in BAUHOF_SERVICES:
        cfg = settings.load(environ=resolved["services"][name]["environment"], cwd=tmp_path)
        assert (cfg.env, cfg.embedded_db, cfg.embedded_mqtt) == ("production", False, False)
        assert cfg.database_url == (
            "postgresql://bauhof:hex-bauhof_db_password@timescaledb:5432/bauhof")
        user = {"simulator": "simulator", "bauhof-ingest": "ingest-1"}.get(name, "bauhof")
        assert (cfg.mqtt.host, cfg.mqtt.port, cfg.mqtt.tls, cfg.mqtt.username) == (
            "mosquitto", 1883, False, user)


def test_ports_are_as_intended_and_no_data_service_is_published(
    resolved: dict[str, Any],
) -> None:
    published = {n: s["ports"] for n, s in resolved["services"].items() if "ports" in s}
    assert published == INTENDED_PORTS
    for name in DATA_SERVICES:
        assert "ports" not in resolved["services"][name]
        assert "expose" not in resolved["services"][name]


def test_networks_keep_data_services_internal(compose: dict[str, Any]) -> None:
    networks = compose["networks"]
    used = set()
    for name, service in compose["services"].items():
        assert service["networks"], name
        for network in service["networks"]:
            assert network in networks, (name, network)
            used.add(network)
        if name in DATA_SERVICES:
            assert all(networks[n].get("internal") for n in service["networks"]), name
        if "ports" in service:
            assert "edge" in service["networks"], name
    assert used == set(networks)
    assert [n for n, spec in networks.items() if not spec.get("internal")] == ["edge"]


def test_simulator_runs_only_in_its_profile(compose: dict[str, Any]) -> None:
    profiles = {n: s["profiles"] for n, s in compose["services"].items() if "profiles" in s}
    assert profiles == {"simulator": ["simulator"]}


def test_timescaledb_runs_the_role_script_after_the_images_own(resolved: dict[str, Any]) -> None:
    service = resolved["services"]["timescaledb"]
    init = [(s, t) for s, t in mounts(service) if t.startswith("/docker-entrypoint-initdb.d/")]
    assert init == [("./deploy/timescaledb/init/001-roles.sh",
                     "/docker-entrypoint-initdb.d/100-bauhof-roles.sh")]
    # The image's scripts are 000_install_timescaledb.sh and 001_timescaledb_tune.sh.
    assert sorted(["000_install_timescaledb.sh", "001_timescaledb_tune.sh",
                   "100-bauhof-roles.sh"])[-1] == "100-bauhof-roles.sh"
    env = service["environment"]
    assert {"BAUHOF_DB_PASSWORD", "GRAFANA_DB_PASSWORD"} <= set(env)
    assert env["POSTGRES_DB"] == "bauhof"
    for name in BAUHOF_SERVICES:
        url = resolved["services"][name]["environment"]["BAUHOF_DATABASE_URL"]
        assert url == f"postgresql://bauhof:{env['BAUHOF_DB_PASSWORD']}@timescaledb:5432/bauhof"


def test_mosquitto_paths_in_its_config_are_mounted(compose: dict[str, Any]) -> None:
    service = compose["services"]["mosquitto"]
    targets = dict((t, s) for s, t in mounts(service))
    conf = (REPO / "deploy/mosquitto/mosquitto.conf").read_text(encoding="utf-8")
    options = dict(line.split(" ", 1) for line in conf.splitlines()
                   if line and not line.startswith("#"))
    assert targets["/mosquitto/config/mosquitto.conf"] == "./deploy/mosquitto/mosquitto.conf"
    assert targets["/mosquitto/config/acl"] == "./deploy/mosquitto/acl"
    assert targets[options["persistence_location"].rstrip("/")] == "mosquitto-data"
    assert service["entrypoint"] == ["/bin/sh", "/opt/bauhof/entrypoint.sh"]
    assert targets["/opt/bauhof/entrypoint.sh"] == "./deploy/mosquitto/entrypoint.sh"
    # The image's plugin, reading the file entrypoint.sh writes; no password or acl file.
    assert options["plugin"] == "/usr/lib/mosquitto_dynamic_security.so"
    assert options["plugin_opt_config_file"] == "/mosquitto/auth/dynamic-security.json"
    assert "password_file" not in options and "acl_file" not in options
    entrypoint = (REPO / "deploy/mosquitto/entrypoint.sh").read_text(encoding="utf-8")
    assert '"${MOSQUITTO_DYNSEC_FILE:-/mosquitto/auth/dynamic-security.json}"' in entrypoint
    assert '"${MOSQUITTO_ACL_FILE:-/mosquitto/config/acl}"' in entrypoint
    required = set(re.findall(r'"\$\{(MQTT_\w+):\?', entrypoint))
    assert required == {"MQTT_BAUHOF_PASSWORD", "MQTT_CHIRPSTACK_PASSWORD",
                        "MQTT_GATEWAY_BRIDGE_PASSWORD"}
    assert required | {"MQTT_SIMULATOR_PASSWORD", "MQTT_INGEST_WORKERS"} == set(
        service["environment"])


def test_every_broker_account_has_acl_rules_and_a_password() -> None:
    acl = (REPO / "deploy/mosquitto/acl").read_text(encoding="utf-8")
    users = re.findall(r"^user (\S+)$", acl, flags=re.MULTILINE)
    assert users == ["chirpstack", "gateway-bridge", "bauhof", "simulator"]
    entrypoint = (REPO / "deploy/mosquitto/entrypoint.sh").read_text(encoding="utf-8")
    # client USER PASSWORD CLIENT_ID ROLE: every role an account takes is an acl user.
    clients = re.findall(r'^\s*client (\S+) "\$(\w+)" (\S+) (\S+)$', entrypoint,
                         flags=re.MULTILINE)
    assert clients == [
        ("bauhof", "MQTT_BAUHOF_PASSWORD", '""', "bauhof"),
        ('"ingest-$n"', "MQTT_BAUHOF_PASSWORD", '"ingest-$n"', "bauhof"),
        ("chirpstack", "MQTT_CHIRPSTACK_PASSWORD", "chirpstack-integration", "chirpstack"),
        ("chirpstack-gw", "MQTT_CHIRPSTACK_PASSWORD", "chirpstack-gw-eu868", "chirpstack"),
        ("gateway-bridge", "MQTT_GATEWAY_BRIDGE_PASSWORD", "chirpstack-gateway-bridge",
         "gateway-bridge"),
        ("simulator", "MQTT_SIMULATOR_PASSWORD", "bauhof-simulator", "simulator"),
    ]
    assert {role for *_, role in clients} == set(users)
    # No rule applies to every client: the file's first "user" line comes before any topic.
    assert acl.index("\nuser ") < acl.index("\ntopic ")
    assert "\npattern " not in acl
