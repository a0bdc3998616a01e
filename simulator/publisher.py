"""A QoS 1 MQTT publisher that never drops a message silently.

Every publish's return code is checked, and every message is counted until the broker's PUBACK
arrives (MQTT 5 §4.3.2). At most `window` messages are unacknowledged at once: publishing
blocks when the window is full, so memory stays bounded at any speed. paho keeps unacknowledged
QoS 1 messages across a lost connection and re-sends them, with DUP set, once its network
thread has reconnected (§4.4); a PUBACK with a failure reason code (≥ 0x80) is an error, and
so is a window that makes no progress for `ack_timeout_s`.
"""

from __future__ import annotations

import logging
import threading
from types import TracebackType
from typing import Any

import paho.mqtt.client as paho

from bauhof.mqtt import connect_properties, make_client
from bauhof.settings import MqttTarget
from simulator import SimulatorError

log = logging.getLogger(__name__)

# Bauhof's production broker binds its `simulator` account to this one client id
# (deploy/mosquitto/entrypoint.sh): that account connects with it, any other with a random one.
SIMULATOR_ACCOUNT = "simulator"
SIMULATOR_CLIENT_ID = "bauhof-simulator"


class PublishError(SimulatorError):
    """The broker cannot be reached, refused messages, or stopped acknowledging them."""


class Publisher:
    """Publishes at QoS 1 with a bounded window of unacknowledged messages."""

    def __init__(
        self,
        target: MqttTarget,
        *,
        ca_file: str | None = None,
        window: int = 1000,
        ack_timeout_s: float = 60.0,
        client_id: str | None = None,
    ) -> None:
        self.target = target
        self.window = window
        self.ack_timeout_s = ack_timeout_s
        self.sent = 0
        self.acked = 0
        self._outstanding = 0
        self._low_water = window // 2
        self._failures: list[str] = []
        self._cond = threading.Condition()
        self._connected = threading.Event()
        self._closing = False
        if client_id is None and target.username == SIMULATOR_ACCOUNT:
            client_id = SIMULATOR_CLIENT_ID
        self._client = make_client(target, client_id, ca_file=ca_file)
        self._client.max_inflight_messages_set(window)
        self._client.max_queued_messages_set(0)  # unlimited in paho; our window bounds it
        self._client.reconnect_delay_set(min_delay=1, max_delay=5)
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.on_publish = self._on_publish

    def _on_connect(self, _c: Any, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        if getattr(reason, "is_failure", False):
            log.warning("broker refused the connection: %s", reason)
            return
        self._connected.set()

    def _on_disconnect(self, _c: Any, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        self._connected.clear()
        if not self._closing:
            log.warning("disconnected from the broker (%s); reconnecting, nothing is lost",
                        reason)

    def _on_publish(self, _c: Any, _u: Any, mid: int, reason: Any, _p: Any) -> None:
        with self._cond:
            if getattr(reason, "is_failure", False):
                self._failures.append(f"message {mid}: {reason}")
            self._outstanding -= 1
            self.acked += 1
            # Wake the publisher only when half the window is free (or all is acknowledged):
            # waking it per PUBACK costs more thread switches than the publishing itself.
            if self._outstanding <= self._low_water:
                self._cond.notify_all()

    def connect(self, timeout_s: float = 15.0) -> None:
        """Connect and start the network thread; PublishError when the broker is unreachable."""
        where = f"{self.target.host}:{self.target.port}"
        try:
            self._client.connect(
                self.target.host, self.target.port, keepalive=30,
                properties=connect_properties(session_expiry_s=300),
            )
        except OSError as exc:
            raise PublishError(
                f"cannot connect to the MQTT broker at {where}: {exc.strerror or exc} "
                "(start it with `bauhof services up`, or set BAUHOF_MQTT_URL)"
            ) from exc
        self._client.loop_start()
        if not self._connected.wait(timeout_s):
            self._client.loop_stop()
            raise PublishError(f"no CONNACK from the MQTT broker at {where} in {timeout_s:g} s")

    def _check(self) -> None:
        if self._failures:
            raise PublishError(
                f"the broker refused {len(self._failures)} message(s): {self._failures[0]}"
            )

    def publish(self, topic: str, payload: bytes) -> None:
        """Publish at QoS 1, waiting while `window` messages are unacknowledged."""
        with self._cond:
            self._check()
            if self._outstanding >= self.window and not self._cond.wait_for(
                lambda: self._outstanding <= self._low_water, self.ack_timeout_s
            ):
                raise PublishError(
                    f"the broker acknowledged nothing for {self.ack_timeout_s:g} s "
                    f"({self._outstanding} messages waiting for PUBACK)"
                )
            self._outstanding += 1
        info = self._client.publish(topic, payload, qos=1)
        # NO_CONN: paho keeps the message and sends it after reconnecting.
        if info.rc not in (paho.MQTT_ERR_SUCCESS, paho.MQTT_ERR_NO_CONN):
            with self._cond:
                self._outstanding -= 1
            raise PublishError(f"publish to {topic} failed: {paho.error_string(info.rc)}")
        self.sent += 1

    def flush(self, timeout_s: float | None = None) -> None:
        """Wait until every published message is acknowledged."""
        timeout = self.ack_timeout_s if timeout_s is None else timeout_s
        with self._cond:
            if not self._cond.wait_for(lambda: self._outstanding == 0, timeout):
                raise PublishError(
                    f"{self._outstanding} messages still unacknowledged after {timeout:g} s"
                )
            self._check()

    def close(self) -> None:
        """Disconnect and stop the network thread (call `flush` first to wait for PUBACKs)."""
        self._closing = True
        self._client.disconnect()
        self._client.loop_stop()

    def __enter__(self) -> Publisher:
        self.connect()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            if kind is None:
                self.flush()
        finally:
            self.close()
