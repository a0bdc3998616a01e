"""The MQTT topics ChirpStack and its gateway bridge use, read from deploy/chirpstack/."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

CHIRPSTACK_DIR = Path(__file__).resolve().parents[2] / "deploy" / "chirpstack"
CONFIG_DIR = CHIRPSTACK_DIR / "config"
BRIDGE_FILE = CHIRPSTACK_DIR / "gateway-bridge" / "chirpstack-gateway-bridge.toml"

# ChirpStack's gateway backend subscribes with this share name (its default since v4.7).
CHIRPSTACK_SHARE = "$share/chirpstack/"


def chirpstack_config() -> dict[str, Any]:
    """ChirpStack's configuration as it reads it: every .toml file of the folder, joined."""
    text = "".join(p.read_text(encoding="utf-8") for p in sorted(CONFIG_DIR.glob("*.toml")))
    return tomllib.loads(text)


def bridge_config() -> dict[str, Any]:
    """The gateway bridge's configuration file."""
    return tomllib.loads(BRIDGE_FILE.read_text(encoding="utf-8"))


def render(template: str, **values: str) -> str:
    """Fill a ChirpStack (`{{ name }}`) or gateway bridge (`{{ .Name }}`) topic template."""

    def value(match: re.Match[str]) -> str:
        return values[match.group(1)]

    return re.sub(r"\{\{\s*\.?(\w+)\s*\}\}", value, template)


def integration() -> dict[str, Any]:
    """ChirpStack's [integration.mqtt] section."""
    section: dict[str, Any] = chirpstack_config()["integration"]["mqtt"]
    return section


def gateway_backend() -> dict[str, Any]:
    """The eu868 region's gateway backend MQTT section."""
    (region,) = chirpstack_config()["regions"]
    section: dict[str, Any] = region["gateway"]["backend"]["mqtt"]
    return section


def event_topic(application_id: str, dev_eui: str, event: str) -> str:
    """Where ChirpStack publishes one application event."""
    return render(integration()["event_topic"], application_id=application_id,
                  dev_eui=dev_eui, event=event)


def command_topic(application_id: str, dev_eui: str, command: str) -> str:
    """Where a downlink command for one device goes."""
    return render(integration()["command_topic"], application_id=application_id,
                  dev_eui=dev_eui, command=command)


def command_subscription() -> str:
    """What ChirpStack subscribes to for commands (its template filled with `+`)."""
    return command_topic("+", "+", "+")
