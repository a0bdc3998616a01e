"""`bauhof decode --event FILE`: decode the payload of a whole ChirpStack event."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from bauhof import codecs
from bauhof.chirpstack.events import EventError, UplinkEvent, parse_event

_TYPES = ("up", "status", "join", "log", "location", "ack", "txack")


def _topic_for(payload: bytes, event_type: str) -> str:
    """A topic matching the event's own devEui, so the topic check passes."""
    dev_eui = "0" * 16
    app = "unknown"
    if payload.lstrip()[:1] == b"{":
        try:
            info = json.loads(payload).get("deviceInfo") or {}
            dev_eui = str(info.get("devEui") or dev_eui).lower()
            app = str(info.get("applicationId") or app)
        except (ValueError, AttributeError):
            pass
    return f"application/{app}/device/{dev_eui}/event/{event_type}"


def decode_event_file(path: Path, model: str | None = None, event_type: str = "up",
                      keymap: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Parse an `up` event file (JSON or Protobuf) and decode its payload; without a model,
    ChirpStack's `object` is mapped with `keymap` beyond the built-in key map."""
    payload = path.read_bytes()
    if event_type not in _TYPES:
        raise ValueError(f"unknown event type {event_type!r}")
    if payload.lstrip()[:1] != b"{":
        # A Protobuf UplinkEvent names its devEui only inside; parse once to learn it.
        from chirpstack_api import integration
        from google.protobuf.message import DecodeError

        message = integration.UplinkEvent()
        try:
            message.ParseFromString(payload)
        except DecodeError as exc:
            raise ValueError(f"{path}: neither JSON nor a Protobuf UplinkEvent") from exc
        info = message.device_info
        topic = (f"application/{info.application_id or 'unknown'}/device/"
                 f"{(info.dev_eui or '0' * 16).lower()}/event/up")
    else:
        topic = _topic_for(payload, event_type)
    try:
        event = parse_event(topic, payload)
    except EventError as exc:
        raise ValueError(f"{path}: {exc.reason}") from exc
    if not isinstance(event, UplinkEvent):
        raise ValueError(f"{path}: not an uplink event")
    chosen = model or _model_from(event)
    if chosen is None and event.object is not None:
        # As ingest does: ChirpStack's own decoding, its keys mapped to reading names.
        from ingest.devices import object_keymap
        from ingest.normalise import readings_from_object

        readings = readings_from_object(event.object, object_keymap(keymap))
        return {"model": None, "readings": readings,
                "warnings": ["no model: the readings are ChirpStack's `object`, mapped "
                             "through BAUHOF_OBJECT_KEYMAP"]}
    if chosen is None:
        raise ValueError(
            f"{path}: no model: pass --model, or set the device profile name or the "
            "bauhof_model tag to a model id (or let ChirpStack decode it into `object`)"
        )
    decoded = codecs.decode(chosen, event.f_port, event.data)
    return {"model": chosen, "readings": decoded.readings, "warnings": list(decoded.warnings)}


def _model_from(event: UplinkEvent) -> str | None:
    known = set(codecs.models())
    tag = event.device.tag("bauhof_model")
    if tag in known:
        return tag
    if event.device.device_profile_name in known:
        return event.device.device_profile_name
    return None
