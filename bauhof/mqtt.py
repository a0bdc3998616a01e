"""MQTT clients (paho-mqtt 2, MQTT 5) built from the settings, shared by every part."""

from __future__ import annotations

import ssl
import threading
import uuid

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from bauhof.settings import MqttTarget

# ChirpStack v4 application events: application/<app>/device/<dev_eui>/event/<type>.
EVENT_TOPIC = "application/+/device/+/event/+"


def make_client(
    target: MqttTarget,
    client_id: str | None = None,
    *,
    ca_file: str | None = None,
    manual_ack: bool = False,
    buffered: bool = False,
) -> paho.Client:
    """A paho MQTT 5 client for the target, with TLS and credentials when it names them.

    `buffered` gives a `RawClient` that hands PUBLISH packets over raw and acknowledges in
    batches, reading the socket in large chunks where the installed paho allows (see
    bauhof.mqttsocket): for high-rate subscribers.
    """
    from bauhof.mqttsocket import Client, raw_client_class

    client_class = raw_client_class() if buffered else Client
    client = client_class(
        CallbackAPIVersion.VERSION2,
        client_id=client_id or f"bauhof-{uuid.uuid4().hex[:12]}",
        protocol=paho.MQTTv5,
        manual_ack=manual_ack,
    )
    if target.username:
        client.username_pw_set(target.username, target.password)
    if target.tls:
        context = ssl.create_default_context(cafile=ca_file)
        client.tls_set_context(context)
    return client


def connect_properties(session_expiry_s: int = 0, receive_maximum: int | None = None) -> (
    Properties
):
    """CONNECT properties: session expiry (MQTT 5 §3.1.2.11.2) and Receive Maximum (§3.1.2.11.3)."""
    props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
    if session_expiry_s:
        props.SessionExpiryInterval = session_expiry_s
    if receive_maximum:
        props.ReceiveMaximum = receive_maximum
    return props


def probe(target: MqttTarget, ca_file: str | None = None, timeout: float = 3.0) -> str | None:
    """Connect once and disconnect; None when healthy, else what went wrong."""
    client = make_client(target, ca_file=ca_file)
    result: list[str | None] = []
    done = threading.Event()

    def on_connect(_c: paho.Client, _u: object, _f: object, reason: object, _p: object) -> None:
        code = getattr(reason, "is_failure", False)
        result.append(str(reason) if code else None)
        done.set()

    client.on_connect = on_connect
    try:
        client.connect(target.host, target.port, keepalive=10)
    except OSError as exc:
        return f"cannot connect to {target.host}:{target.port}: {exc.strerror or exc}"
    client.loop_start()
    try:
        if not done.wait(timeout):
            return "no CONNACK from the broker"
        return result[0]
    finally:
        client.disconnect()
        client.loop_stop()
