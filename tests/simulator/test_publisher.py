"""The QoS 1 publisher: every message acknowledged, bounded in flight, nothing lost on a
broker restart, and clear errors."""

from __future__ import annotations

import pytest

from bauhof.services import Mosquitto, free_port
from bauhof.settings import parse_mqtt_url
from simulator.publisher import Publisher, PublishError
from tests.simulator.conftest import Collector, target


def test_every_message_is_acknowledged_in_order(broker: Mosquitto, collector: Collector) -> None:
    sent = [(f"test/{i % 7}", f"message {i}".encode()) for i in range(3000)]
    with Publisher(target(broker), window=50) as publisher:
        for topic, payload in sent:
            publisher.publish(topic, payload)
    assert (publisher.sent, publisher.acked) == (3000, 3000)
    assert collector.wait_for(3000) == sent


def test_nothing_is_lost_when_the_broker_restarts(broker: Mosquitto, collector: Collector) -> None:
    publisher = Publisher(target(broker), window=100, ack_timeout_s=30)
    publisher.connect()
    try:
        for i in range(200):
            publisher.publish("test/a", f"before {i}".encode())
        publisher.flush()
        collector.wait_for(200)
        broker.stop()
        for i in range(50):
            publisher.publish("test/a", f"during {i}".encode())
        broker.start()
        for i in range(200):
            publisher.publish("test/a", f"after {i}".encode())
        publisher.flush()
    finally:
        publisher.close()
    expected = {f"{phase} {i}".encode() for phase, n in (("before", 200), ("during", 50),
                                                         ("after", 200)) for i in range(n)}
    # QoS 1 may deliver some twice around the restart; every message arrives at least once.
    received = collector.wait_until(lambda got: expected <= {p for _, p in got})
    assert expected <= {payload for _, payload in received}


def test_an_unreachable_broker_is_named() -> None:
    port = free_port()
    with pytest.raises(PublishError, match=rf"cannot connect to the MQTT broker at "
                                           rf"127.0.0.1:{port}: .*bauhof services up"):
        Publisher(parse_mqtt_url(f"mqtt://127.0.0.1:{port}")).connect()
