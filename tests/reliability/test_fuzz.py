"""Fuzzing the edge: `parse_event` raises only `EventError`, and `Preparer.add` never raises
and turns every message into exactly one row or one dead letter."""

from __future__ import annotations

import base64
import copy
import json
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bauhof import codecs
from bauhof.chirpstack import EventError, parse_event
from ingest.devices import DeviceDirectory, DeviceRecord, object_keymap
from ingest.prepare import Preparer
from ingest.writer import Batch
from tests.fixtures.fuzz import json_values
from tests.reliability.corpus.generate import APP, EUI, event, topic

EVENT_TYPES = ["up", "status", "join", "log", "location", "ack", "txack", "integration"]
MODELS = sorted(codecs.models())
# One registered device per model, so that every decoder sees the fuzzed payloads.
DEVICES = {f"a84041000f{n:06x}": model for n, model in enumerate(MODELS)}
FUZZ = settings(max_examples=300, deadline=None,
                suppress_health_check=[HealthCheck.too_slow])

ANY_JSON = json_values(max_text=40, max_key=10, max_items=4, max_leaves=12)


def _dumps(value: Any) -> bytes:
    # The standard library writes integers of any size, as a buggy publisher might.
    return json.dumps(value).encode()


def _field_paths(body: dict[str, Any]) -> list[tuple[str, ...]]:
    paths: list[tuple[str, ...]] = [(k,) for k in body]
    paths += [("deviceInfo", k) for k in body["deviceInfo"]]
    paths += [("rxInfo", "0", k) for k in body["rxInfo"][0]]
    paths += [("txInfo", k) for k in body["txInfo"]]
    return paths


def _replace(body: dict[str, Any], path: tuple[str, ...], value: Any) -> dict[str, Any]:
    out = copy.deepcopy(body)
    node: Any = out
    for key in path[:-1]:
        node = node[int(key)] if isinstance(node, list) else node[key]
    node[path[-1]] = value
    return out


def _parse_or_event_error(topic_: str, payload: bytes) -> None:
    try:
        parse_event(topic_, payload)
    except EventError as exc:
        assert exc.reason


def _preparer() -> Preparer:
    directory = DeviceDirectory()
    for dev_eui, model in DEVICES.items():
        directory.remember(dev_eui, DeviceRecord(model, codecs.get(model).kind, None, None))
    return Preparer(directory, object_keymap())


def _one_row_or_one_dead_letter(topic_: str, payload: bytes) -> None:
    batch = Batch()
    _preparer().add(batch, topic_, payload)
    rows = len(batch.raw) + len(batch.status) + len(batch.other) + len(batch.weather)
    assert (rows, len(batch.dead)) in ((1, 0), (0, 1))
    if batch.dead:
        assert batch.dead[0][2]  # a reason an operator reads


@FUZZ
@given(event_type=st.sampled_from(EVENT_TYPES), payload=st.binary(max_size=512))
@example(event_type="up", payload=b"")
@example(event_type="up", payload=b"{")
def test_arbitrary_bytes_give_an_event_or_an_event_error(event_type: str,
                                                         payload: bytes) -> None:
    _parse_or_event_error(topic(event_type), payload)


@FUZZ
@given(topic_=st.text(max_size=120), payload=st.binary(max_size=64))
def test_arbitrary_topics_give_an_event_or_an_event_error(topic_: str, payload: bytes) -> None:
    _parse_or_event_error(topic_, payload)


@FUZZ
@given(data=st.data(), value=ANY_JSON)
def test_any_json_value_in_any_field_gives_an_event_or_an_event_error(
        data: st.DataObject, value: Any) -> None:
    body = event()
    path = data.draw(st.sampled_from(_field_paths(body)))
    mutated = _replace(body, path, value)
    event_type = data.draw(st.sampled_from(EVENT_TYPES))
    _parse_or_event_error(topic(event_type), _dumps(mutated))


@FUZZ
@given(data=st.data())
def test_damaged_bytes_of_a_valid_event_give_an_event_or_an_event_error(
        data: st.DataObject) -> None:
    payload = bytearray(json.dumps(event()).encode())
    for _ in range(data.draw(st.integers(1, 6))):
        action = data.draw(st.sampled_from(["flip", "cut", "insert", "delete"]))
        at = data.draw(st.integers(0, max(0, len(payload) - 1)))
        if action == "flip" and payload:
            payload[at] = data.draw(st.integers(0, 255))
        elif action == "cut":
            del payload[at:]
        elif action == "insert":
            payload[at:at] = data.draw(st.binary(min_size=1, max_size=8))
        elif payload:
            del payload[at]
    _parse_or_event_error(topic(), bytes(payload))


@FUZZ
@given(data=st.data(), payload=st.binary(max_size=64), fport=st.integers(-5, 300))
def test_preparer_gives_one_row_or_one_dead_letter_for_any_payload_of_any_model(
        data: st.DataObject, payload: bytes, fport: int) -> None:
    dev_eui = data.draw(st.sampled_from(sorted(DEVICES)))
    body = event(dev_eui, fPort=fport, data=base64.b64encode(payload).decode())
    _one_row_or_one_dead_letter(topic(dev=dev_eui), _dumps(body))


@FUZZ
@given(data=st.data(), value=ANY_JSON)
def test_preparer_gives_one_row_or_one_dead_letter_for_any_field_value(
        data: st.DataObject, value: Any) -> None:
    dev_eui = data.draw(st.sampled_from([EUI, *sorted(DEVICES)]))
    body = event(dev_eui)
    path = data.draw(st.sampled_from(_field_paths(body)))
    event_type = data.draw(st.sampled_from(EVENT_TYPES))
    _one_row_or_one_dead_letter(topic(event_type, dev=dev_eui),
                                _dumps(_replace(body, path, value)))


@FUZZ
@given(station=st.text(max_size=70), body=ANY_JSON)
def test_preparer_gives_one_row_or_one_dead_letter_for_any_weather_message(
        station: str, body: Any) -> None:
    _one_row_or_one_dead_letter(f"bauhof/weather/{station}", _dumps(body))


def test_the_fuzzed_topics_belong_to_the_corpus_application() -> None:
    assert topic("up") == f"application/{APP}/device/{EUI}/event/up"
    assert len(DEVICES) == len(MODELS) >= 7


def _sizes(value: Any) -> list[int]:
    """The length of every text, key and container in a JSON value."""
    if isinstance(value, str):
        return [len(value)]
    if isinstance(value, list):
        return [len(value), *(n for item in value for n in _sizes(item))]
    if isinstance(value, dict):
        return [len(value), *(n for k, v in value.items() for n in [len(k), *_sizes(v)])]
    return []


@given(json_values(max_text=3, max_key=3, max_items=2, max_leaves=4))
def test_the_shared_json_strategy_keeps_to_json_and_its_limits(value: Any) -> None:
    assert json.loads(json.dumps(value)) == value
    assert all(n <= 3 for n in _sizes(value))
