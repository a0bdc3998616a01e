"""Fixtures for the deployment tests: the repository's files and a production-configured broker."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from bauhof.services import free_port, port_open
from tests.deploy.mqtt_session import MqttSession

REPO = Path(__file__).resolve().parents[2]
COMPOSE_FILE = REPO / "docker-compose.yml"
MOSQUITTO_DIR = REPO / "deploy" / "mosquitto"

# What .env would hold; distinct per account so a mix-up fails.
PASSWORDS = {
    "MQTT_BAUHOF_PASSWORD": "b0a7e5bauhof",
    "MQTT_CHIRPSTACK_PASSWORD": "c41f9chirpstack",
    "MQTT_GATEWAY_BRIDGE_PASSWORD": "9a7e3gateway",
    "MQTT_SIMULATOR_PASSWORD": "51mu1ator",
}
ACCOUNTS = {
    "bauhof": PASSWORDS["MQTT_BAUHOF_PASSWORD"],
    "ingest-1": PASSWORDS["MQTT_BAUHOF_PASSWORD"],
    "ingest-2": PASSWORDS["MQTT_BAUHOF_PASSWORD"],
    "chirpstack": PASSWORDS["MQTT_CHIRPSTACK_PASSWORD"],
    "chirpstack-gw": PASSWORDS["MQTT_CHIRPSTACK_PASSWORD"],
    "gateway-bridge": PASSWORDS["MQTT_GATEWAY_BRIDGE_PASSWORD"],
    "simulator": PASSWORDS["MQTT_SIMULATOR_PASSWORD"],
}
# The one client id each bound account may use (entrypoint.sh; `bauhof` is not bound).
CLIENT_IDS = {
    "ingest-1": "ingest-1",
    "ingest-2": "ingest-2",
    "chirpstack": "chirpstack-integration",
    "chirpstack-gw": "chirpstack-gw-eu868",
    "gateway-bridge": "chirpstack-gateway-bridge",
    "simulator": "bauhof-simulator",
}


@pytest.fixture(scope="session")
def compose() -> dict[str, Any]:
    """docker-compose.yml as PyYAML reads it."""
    data = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


# Where Debian keeps the dynamic-security plugin (the image: /usr/lib/).
DYNSEC_PLUGIN = "/usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so"


def run_entrypoint(dynsec_file: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run deploy/mosquitto/entrypoint.sh as the container would, with `true` as the broker."""
    return subprocess.run(
        ["sh", str(MOSQUITTO_DIR / "entrypoint.sh"), "true"],
        env={"PATH": os.environ["PATH"], "MOSQUITTO_DYNSEC_FILE": str(dynsec_file),
             "MOSQUITTO_ACL_FILE": str(MOSQUITTO_DIR / "acl"), **env},
        capture_output=True, text=True, timeout=60, check=False,
    )


def broker_config_for_test(work: Path, port: int) -> str:
    """deploy/mosquitto/mosquitto.conf with only its paths, port and process account changed.

    The container's paths become files in `work` and Debian's plugin; the listener binds
    127.0.0.1 on a free port; `user` keeps the broker on this process's account so it can
    write its persistence file in `work` (in the container it drops root for `mosquitto`).
    Every rule line is kept as it is.
    """
    text = (MOSQUITTO_DIR / "mosquitto.conf").read_text(encoding="utf-8")
    rewrites = {
        "plugin /usr/lib/mosquitto_dynamic_security.so\n": f"plugin {DYNSEC_PLUGIN}\n",
        "plugin_opt_config_file /mosquitto/auth/dynamic-security.json\n":
            f"plugin_opt_config_file {work / 'dynamic-security.json'}\n",
        "persistence_location /mosquitto/data/\n": f"persistence_location {work}/\n",
        "\nlistener 1883\n": f"\nlistener {port} 127.0.0.1\n",
    }
    for old, new in rewrites.items():
        assert text.count(old) == 1, f"mosquitto.conf no longer has exactly one {old!r}"
        text = text.replace(old, new)
    return text + f"user {pwd.getpwuid(os.geteuid()).pw_name}\n"


@dataclass
class ProductionBroker:
    """A real Mosquitto running Bauhof's production configuration and accounts."""

    port: int
    work: Path


@pytest.fixture(scope="module")
def prod_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ProductionBroker]:
    """Mosquitto with the accounts and roles entrypoint.sh writes (two ingest workers)."""
    work = tmp_path_factory.mktemp("prod-mosquitto")
    result = run_entrypoint(work / "dynamic-security.json",
                            {**PASSWORDS, "MQTT_INGEST_WORKERS": "2"})
    assert result.returncode == 0, result.stderr
    port = free_port()
    conf = work / "mosquitto.conf"
    conf.write_text(broker_config_for_test(work, port), encoding="utf-8")
    binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    with (work / "mosquitto.log").open("wb") as log:
        process = subprocess.Popen([binary, "-c", str(conf)], stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 15
        while not port_open(port):
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(
                    "production mosquitto did not start: "
                    + (work / "mosquitto.log").read_text(errors="replace")
                )
            time.sleep(0.05)
        yield ProductionBroker(port=port, work=work)
    finally:
        process.terminate()
        process.wait(timeout=15)


@pytest.fixture
def mqtt_session(prod_broker: ProductionBroker) -> Iterator[Callable[..., MqttSession]]:
    """Open sessions as an account (or anonymously), with the account's own client id unless
    told another; all are closed after the test."""
    opened: list[MqttSession] = []

    def open_session(user: str | None, password: str | None = None,
                     client_id: str | None = None) -> MqttSession:
        if user is not None and password is None:
            password = ACCOUNTS[user]
        session = MqttSession(prod_broker.port, user, password,
                              client_id or CLIENT_IDS.get(user or ""))
        opened.append(session)
        return session

    yield open_session
    for session in opened:
        session.close()
