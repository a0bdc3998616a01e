"""Downlinks through ChirpStack's MQTT integration: `application/<app>/device/<eui>/command/down`.

The payload is the JSON ChirpStack v4 reads there (shared/reference/chirpstack/command-down.json):
`{"devEui", "confirmed", "fPort", "data"}` with `data` in base64. ChirpStack queues it and sends
it after the device's next uplink (class A). Per-model "change the uplink interval" commands
are taken from the vendors' documentation; models whose command could not be confirmed there
have none (see docs/chirpstack.md).
"""

from __future__ import annotations

import base64
import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass

import paho.mqtt.client as paho

from bauhof.chirpstack.api import ChirpStackError
from bauhof.mqtt import make_client
from bauhof.settings import MqttTarget

# LoRaWAN 1.0.3 §4.3.2: fPort 0 carries MAC commands only, 224 is the test port, above RFU.
FPORTS = range(1, 224)
# The largest FRMPayload of any EU868 data rate (DR6/7); slow data rates take less (51 B at DR0).
MAX_PAYLOAD = 242
_DEV_EUI = re.compile(r"^[0-9a-f]{16}$")


class DownlinkError(ChirpStackError):
    """A downlink that cannot be built or was not accepted by the broker."""


@dataclass(frozen=True, slots=True)
class Downlink:
    """One downlink for ChirpStack to queue."""

    application_id: str
    dev_eui: str
    fport: int
    data: bytes
    confirmed: bool = False

    def __post_init__(self) -> None:
        if not _DEV_EUI.match(self.dev_eui):
            raise DownlinkError(f"DevEUI {self.dev_eui!r} is not 16 lower-case hex digits")
        if not self.application_id or "/" in self.application_id or "+" in self.application_id:
            raise DownlinkError(f"application id {self.application_id!r} cannot be a topic level")
        if self.fport not in FPORTS:
            raise DownlinkError(f"fPort {self.fport} is not an application port (1-223)")
        if not 0 < len(self.data) <= MAX_PAYLOAD:
            raise DownlinkError(f"payload of {len(self.data)} bytes: 1 to {MAX_PAYLOAD} fit")

    @property
    def topic(self) -> str:
        """Where ChirpStack's MQTT integration takes downlinks for this device."""
        return f"application/{self.application_id}/device/{self.dev_eui}/command/down"

    def payload(self) -> bytes:
        """The JSON body, keys in ChirpStack's order."""
        return json.dumps({"devEui": self.dev_eui, "confirmed": self.confirmed,
                           "fPort": self.fport,
                           "data": base64.b64encode(self.data).decode()}).encode()


@dataclass(frozen=True, slots=True)
class IntervalCommand:
    """How one model is told a new uplink interval; `source` names the vendor's document."""

    fport: int
    minimum_s: int
    maximum_s: int
    step_s: int
    encode: Callable[[int], bytes]
    source: str


def _dragino(seconds: int) -> bytes:
    # Type code 0x01 (TDC, transmit interval) + 3 bytes BE seconds; Dragino accepts any fPort.
    return b"\x01" + seconds.to_bytes(3, "big")


def _milesight_seconds(seconds: int) -> bytes:
    # Channel 0xFF, type 0x03 (report interval), u16 LE seconds.
    return b"\xff\x03" + seconds.to_bytes(2, "little")


def _milesight_minutes(seconds: int) -> bytes:
    # Channel 0xFF, type 0x8E, 0x00 (periodic report), u16 LE minutes.
    return b"\xff\x8e\x00" + (seconds // 60).to_bytes(2, "little")


_DRAGINO_DOC = "Dragino user manual, downlink TDC (type 0x01), FPort any"
_MILESIGHT_DOC = "Milesight downlink command reference, application port 85"
INTERVAL_COMMANDS: dict[str, IntervalCommand] = {
    "dragino-lse01": IntervalCommand(1, 1, 0xFFFFFF, 1, _dragino, _DRAGINO_DOC),
    "dragino-ldds75": IntervalCommand(1, 1, 0xFFFFFF, 1, _dragino, _DRAGINO_DOC),
    "dragino-lgt92": IntervalCommand(1, 1, 0xFFFFFF, 1, _dragino, _DRAGINO_DOC),
    "milesight-em500-smtc": IntervalCommand(85, 60, 64800, 1, _milesight_seconds,
                                            _MILESIGHT_DOC),
    "milesight-em310-udl": IntervalCommand(85, 1, 0xFFFF, 1, _milesight_seconds,
                                           _MILESIGHT_DOC),
    "milesight-em400-udl": IntervalCommand(85, 1, 0xFFFF, 1, _milesight_seconds,
                                           _MILESIGHT_DOC),
    "milesight-at101": IntervalCommand(85, 60, 1440 * 60, 60, _milesight_minutes,
                                       _MILESIGHT_DOC),
}


def interval_command(model: str, seconds: int) -> tuple[int, bytes]:
    """(fPort, payload) that sets `model`'s uplink interval; DownlinkError if it has none."""
    command = INTERVAL_COMMANDS.get(model)
    if command is None:
        raise DownlinkError(
            f"no documented interval command for model {model!r} (known for "
            f"{', '.join(sorted(INTERVAL_COMMANDS))}); send the vendor's bytes with --hex")
    if not command.minimum_s <= seconds <= command.maximum_s or seconds % command.step_s:
        step = " in whole minutes" if command.step_s == 60 else ""
        raise DownlinkError(f"{model} takes an interval of {command.minimum_s} to "
                            f"{command.maximum_s} s{step}, not {seconds}")
    return command.fport, command.encode(seconds)


def publish(downlink: Downlink, target: MqttTarget, ca_file: str | None = None,
            timeout: float = 10.0) -> None:
    """Publish at QoS 1 and wait for the broker's PUBACK; DownlinkError if refused."""
    client = make_client(target, ca_file=ca_file)
    connected = threading.Event()
    acked = threading.Event()
    failure: list[str] = []

    def on_connect(_c: paho.Client, _u: object, _f: object, reason: object, _p: object) -> None:
        if getattr(reason, "is_failure", False):
            failure.append(f"the broker refused the connection: {reason}")
        connected.set()

    def on_publish(_c: paho.Client, _u: object, _mid: int, reason: object, _p: object) -> None:
        if getattr(reason, "is_failure", False):
            failure.append(f"the broker refused the downlink on {downlink.topic}: {reason}")
        acked.set()

    client.on_connect = on_connect
    client.on_publish = on_publish
    try:
        client.connect(target.host, target.port, keepalive=30)
    except OSError as exc:
        raise DownlinkError(f"cannot connect to MQTT at {target.url}: "
                            f"{exc.strerror or exc}") from None
    client.loop_start()
    try:
        if not connected.wait(timeout):
            raise DownlinkError(f"no CONNACK from MQTT at {target.url} within {timeout:g} s")
        if not failure:
            client.publish(downlink.topic, downlink.payload(), qos=1)
            if not acked.wait(timeout):
                raise DownlinkError(f"no PUBACK from MQTT at {target.url} within {timeout:g} s")
        if failure:
            raise DownlinkError(failure[0])
    finally:
        client.disconnect()
        client.loop_stop()
