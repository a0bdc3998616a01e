"""`bauhof downlink`: the exact topic and JSON ChirpStack reads, on a real Mosquitto."""

from __future__ import annotations

import json
import queue
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from bauhof import assets
from bauhof.chirpstack.downlink import DownlinkError, interval_command
from bauhof.mqtt import make_client
from bauhof.services import Mosquitto
from bauhof.settings import parse_mqtt_url
from shell.main import main
from tests.factories import APP

REFERENCE = Path(__file__).resolve().parents[4] / "shared/reference/chirpstack"
TOWN = f"""
devices:
  - {{dev_eui: a840410001810001, model: dragino-lse01, application_id: {APP}}}
  - {{dev_eui: 24e124000000000a, model: milesight-em310-udl, application_id: {APP}}}
  - {{dev_eui: 24e1240000000abc, model: milesight-at101, application_id: {APP}}}
  - {{dev_eui: 0004a30b00000001, model: decentlab-dl-smtp, application_id: {APP}}}
  - {{dev_eui: 0004a30b00000002, model: dragino-ldds75}}
"""


@pytest.fixture
def downlinks(broker: Mosquitto, database_url: str, monkeypatch: pytest.MonkeyPatch,
              tmp_path: Path) -> Iterator[queue.Queue[tuple[str, bytes]]]:
    """Settings for the broker and database, a loaded town, and what ChirpStack would receive."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("BAUHOF_MQTT_URL", f"mqtt://127.0.0.1:{broker.port}")
    monkeypatch.setenv("BAUHOF_DATABASE_URL", database_url)
    (tmp_path / "town.yaml").write_text(TOWN)
    assets.load_file(database_url, tmp_path / "town.yaml")
    received: queue.Queue[tuple[str, bytes]] = queue.Queue()
    subscribed = threading.Event()
    client = make_client(parse_mqtt_url(f"mqtt://127.0.0.1:{broker.port}"), "chirpstack-stand-in")
    client.on_message = lambda _c, _u, m: received.put((m.topic, m.payload))
    client.on_subscribe = lambda *_args: subscribed.set()
    client.on_connect = lambda c, *_args: c.subscribe("application/+/device/+/command/+", qos=1)
    client.connect("127.0.0.1", broker.port)
    client.loop_start()
    try:
        assert subscribed.wait(10), "no SUBACK"
        yield received
    finally:
        client.disconnect()
        client.loop_stop()


def downlink(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Run `bauhof downlink`; (exit status, stdout, stderr)."""
    status = main(["downlink", *args])
    out = capsys.readouterr()
    return status, out.out, out.err


def test_a_hex_downlink_is_exactly_chirpstacks_command_format(
        downlinks: queue.Queue[tuple[str, bytes]], capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = downlink(capsys, "--dev-eui", "0102030405060708", "--fport", "10",
                                "--hex", "010203", "--application-id", APP)
    assert (status, err) == (0, "")
    topic, payload = downlinks.get(timeout=10)
    assert topic == f"application/{APP}/device/0102030405060708/command/down"
    reference = json.loads((REFERENCE / "command-down.json").read_text())
    assert json.loads(payload) == reference
    assert list(json.loads(payload)) == ["devEui", "confirmed", "fPort", "data"]
    assert out == (f"queued 010203 on fPort 10 (unconfirmed) for 0102030405060708 via {topic}; "
                   "ChirpStack sends it after the device's next uplink\n")


@pytest.mark.parametrize(("dev_eui", "interval", "fport", "data"), [
    # Dragino TDC: 0x01 + 3 bytes BE seconds; 1200 s = 0x0004B0.
    ("a840410001810001", "20m", 1, "AQAEsA=="),
    # Milesight report interval: FF 03 + u16 LE seconds; the vendor's example ff03b004 = 1200 s.
    ("24e124000000000a", "1200", 85, "/wOwBA=="),
    # AT101: FF 8E 00 + u16 LE minutes; 6 h = 360 min = 0x0168.
    ("24e1240000000abc", "6h", 85, "/44AaAE="),
])
def test_interval_downlinks_use_the_devices_model_and_application(
        downlinks: queue.Queue[tuple[str, bytes]], capsys: pytest.CaptureFixture[str],
        dev_eui: str, interval: str, fport: int, data: str) -> None:
    status, _, err = downlink(capsys, "--dev-eui", dev_eui.upper(), "--interval", interval,
                              "--confirmed")
    assert (status, err) == (0, "")
    topic, payload = downlinks.get(timeout=10)
    assert topic == f"application/{APP}/device/{dev_eui}/command/down"
    assert json.loads(payload) == {"devEui": dev_eui, "confirmed": True, "fPort": fport,
                                   "data": data}


def test_the_vendors_documented_examples_encode_exactly() -> None:
    assert interval_command("dragino-lse01", 60) == (1, bytes.fromhex("0100003c"))
    assert interval_command("dragino-lgt92", 300) == (1, bytes.fromhex("0100012c"))
    assert interval_command("dragino-ldds75", 600) == (1, bytes.fromhex("01000258"))
    assert interval_command("milesight-em500-smtc", 1200) == (85, bytes.fromhex("ff03b004"))
    assert interval_command("milesight-em400-udl", 1200) == (85, bytes.fromhex("ff03b004"))
    assert interval_command("milesight-at101", 1200) == (85, bytes.fromhex("ff8e001400"))
    with pytest.raises(DownlinkError, match=r"^milesight-em500-smtc takes an interval of 60 to "
                                            r"64800 s, not 30$"):
        interval_command("milesight-em500-smtc", 30)
    with pytest.raises(DownlinkError, match=r"^milesight-at101 takes an interval of 60 to 86400 "
                                            r"s in whole minutes, not 90$"):
        interval_command("milesight-at101", 90)


def test_mistakes_are_one_line_each(downlinks: queue.Queue[tuple[str, bytes]],
                                    capsys: pytest.CaptureFixture[str]) -> None:
    assert downlink(capsys, "--dev-eui", "0004a30b00000001", "--interval", "600") == (
        1, "", "bauhof downlink: no documented interval command for model 'decentlab-dl-smtp' "
               "(known for dragino-ldds75, dragino-lgt92, dragino-lse01, milesight-at101, "
               "milesight-em310-udl, milesight-em400-udl, milesight-em500-smtc); send the "
               "vendor's bytes with --hex\n")
    assert downlink(capsys, "--dev-eui", "0004a30b00000002", "--interval", "600") == (
        1, "", "bauhof downlink: no ChirpStack application known for 0004a30b00000002: pass "
               "--application-id (or run `bauhof chirpstack sync`)\n")
    assert downlink(capsys, "--dev-eui", "1111111111111111", "--fport", "2", "--hex", "00") == (
        1, "", "bauhof downlink: Bauhof does not know device 1111111111111111: pass "
               "--application-id (and --model with --interval)\n")
    assert downlink(capsys, "--dev-eui", "a840410001810001", "--fport", "0", "--hex", "00") == (
        1, "", "bauhof downlink: fPort 0 is not an application port (1-223)\n")
    assert downlink(capsys, "--dev-eui", "a840410001810001", "--hex", "00") == (
        2, "", "bauhof downlink: error: --fport N is needed with --hex\n")
    assert downlinks.empty()


def test_an_unreachable_broker_is_reported(capsys: pytest.CaptureFixture[str],
                                           monkeypatch: pytest.MonkeyPatch,
                                           tmp_path: Path) -> None:
    from bauhof.services import free_port

    monkeypatch.chdir(tmp_path)
    port = free_port()
    monkeypatch.setenv("BAUHOF_MQTT_URL", f"mqtt://127.0.0.1:{port}")
    status, out, err = downlink(capsys, "--dev-eui", "0102030405060708", "--fport", "10",
                                "--hex", "01", "--application-id", APP)
    assert (status, out) == (1, "")
    assert err == (f"bauhof downlink: cannot connect to MQTT at mqtt://127.0.0.1:{port}: "
                   "Connection refused\n")

