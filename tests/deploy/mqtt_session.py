"""A paho-mqtt 2 client (MQTT 5) that reports CONNACK, SUBACK and PUBACK reason codes."""

from __future__ import annotations

import queue
import threading
import uuid
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

TIMEOUT_S = 10.0


class MqttSession:
    """One client connection whose outcomes a test can wait for and assert exactly."""

    def __init__(self, port: int, username: str | None, password: str | None,
                 client_id: str | None = None) -> None:
        self.port = port
        self.client = paho.Client(
            CallbackAPIVersion.VERSION2,
            client_id=client_id or f"test-{username or 'anonymous'}-{uuid.uuid4().hex[:8]}",
            protocol=paho.MQTTv5,
        )
        if username is not None:
            self.client.username_pw_set(username, password)
        self.messages: queue.Queue[tuple[str, bytes]] = queue.Queue()
        self._connack = threading.Event()
        self._connect_reason: int | None = None
        self._acks: dict[int, list[int]] = {}
        self._acked = threading.Condition()
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        self.client.on_subscribe = self._on_subscribe
        self.client.on_publish = self._on_publish

    def _on_connect(self, _c: Any, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        self._connect_reason = int(reason.value)
        self._connack.set()

    def _on_message(self, _c: Any, _u: Any, message: Any) -> None:
        self.messages.put((message.topic, bytes(message.payload)))

    def _record(self, mid: int, codes: list[int]) -> None:
        with self._acked:
            self._acks[mid] = codes
            self._acked.notify_all()

    def _on_subscribe(self, _c: Any, _u: Any, mid: int, reasons: Any, _p: Any) -> None:
        self._record(mid, [int(r.value) for r in reasons])

    def _on_publish(self, _c: Any, _u: Any, mid: int, reason: Any, _p: Any) -> None:
        self._record(mid, [int(reason.value)])

    def _wait_ack(self, mid: int) -> list[int]:
        with self._acked:
            if not self._acked.wait_for(lambda: mid in self._acks, TIMEOUT_S):
                raise AssertionError(f"no acknowledgement for message id {mid}")
            return self._acks.pop(mid)

    def connect(self) -> int:
        """Connect; the CONNACK reason code (0 success, 135 not authorised)."""
        self.client.connect("127.0.0.1", self.port, keepalive=30)
        self.client.loop_start()
        if not self._connack.wait(TIMEOUT_S):
            raise AssertionError("no CONNACK from the broker")
        assert self._connect_reason is not None
        if self._connect_reason != 0:
            # Refused: stop paho from trying again in the background.
            self.close()
        return self._connect_reason

    def subscribe(self, topic: str, qos: int = 1) -> int:
        """Subscribe; the SUBACK reason code (the granted QoS on success)."""
        _, mid = self.client.subscribe(topic, qos=qos)
        assert mid is not None
        return self._wait_ack(mid)[0]

    def publish(self, topic: str, payload: bytes, qos: int = 1) -> int:
        """Publish at QoS 1; the PUBACK reason code (0 accepted, 135 not authorised)."""
        info = self.client.publish(topic, payload, qos=qos)
        return self._wait_ack(info.mid)[0]

    def next_message(self) -> tuple[str, bytes]:
        """The next message delivered to this client, waiting up to the timeout."""
        try:
            return self.messages.get(timeout=TIMEOUT_S)
        except queue.Empty:
            raise AssertionError("no message arrived") from None

    def received_until(self, marker_topic: str) -> list[tuple[str, bytes]]:
        """Every message up to and including the first one on marker_topic.

        The broker queues a client's messages in order, so anything published (and
        acknowledged) before the marker would be in this list: what is not, never arrives.
        """
        seen: list[tuple[str, bytes]] = []
        while True:
            message = self.next_message()
            seen.append(message)
            if message[0] == marker_topic:
                return seen

    def close(self) -> None:
        """Disconnect and stop the network thread."""
        self.client.disconnect()
        self.client.loop_stop()
