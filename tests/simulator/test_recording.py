"""Recordings: exact lines, deterministic gzip, and a replay that republishes the same bytes."""

from __future__ import annotations

from pathlib import Path

import pytest

from bauhof.services import Mosquitto
from simulator import scenario
from simulator.clock import VirtualClock
from simulator.publisher import Publisher
from simulator.recording import Message, Recorder, RecordingError, from_line, read, to_line
from simulator.runner import run
from tests.simulator.conftest import Collector, run_engine, target, tiny_town


@pytest.mark.parametrize(("message", "line"), [
    (Message(1_780_272_000_000_000, "bauhof/weather/x", b'{"a":"\xc3\xa4"}', "json"),
     '{"time":"2026-06-01T00:00:00.000000+00:00","topic":"bauhof/weather/x","format":"json",'
     '"payload":"{\\"a\\":\\"\u00e4\\"}"}'),
    (Message(1_780_272_000_000_001, "t", b"\x0a\x01\xff", "protobuf"),
     '{"time":"2026-06-01T00:00:00.000001+00:00","topic":"t","format":"protobuf",'
     '"payload":"CgH/"}'),
])
def test_a_line_holds_the_exact_message(message: Message, line: str) -> None:
    assert to_line(message) == line
    assert from_line(line) == message


def test_bytes_that_are_not_text_are_kept_as_raw_base64() -> None:
    broken = Message(0, "t", b'{"cut":"\xc3', "json")
    line = to_line(broken)
    assert '"format":"raw"' in line
    assert from_line(line) == Message(0, "t", b'{"cut":"\xc3', "raw")


def test_a_bad_line_is_named_with_file_and_number(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"time":"2026-06-01T00:00:00+00:00","topic":"t","format":"json",'
                    '"payload":"x"}\nnot json\n', encoding="utf-8")
    with pytest.raises(RecordingError, match=r"bad.jsonl:2: not a recording line"):
        list(read(path))


@pytest.mark.parametrize("name", ["rec.jsonl", "rec.jsonl.gz"])
def test_writing_the_same_messages_twice_gives_the_same_bytes(tmp_path: Path, name: str) -> None:
    messages = run_engine(scenario.parse(tiny_town(), "tiny"), days=0.2)
    files = []
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        recorder = Recorder(tmp_path / folder / name)
        for message in messages:
            recorder.write(message)
        recorder.close()
        files.append((tmp_path / folder / name).read_bytes())
    assert files[0] == files[1]
    assert list(read(tmp_path / "a" / name)) == messages


def test_a_replay_publishes_the_recorded_topics_and_payloads(
    broker: Mosquitto, collector: Collector, tmp_path: Path,
) -> None:
    path = tmp_path / "rec.jsonl"
    recorder = Recorder(path)
    for message in run_engine(scenario.parse(tiny_town(), "tiny"), days=0.5):
        recorder.write(message)
    recorder.close()
    recorded = [(m.topic, m.payload) for m in read(path)]
    with Publisher(target(broker)) as publisher:
        stats = run(read(path), clock=VirtualClock(None, None), publisher=publisher)
    assert stats.published == len(recorded) > 150
    assert collector.wait_for(len(recorded)) == recorded
