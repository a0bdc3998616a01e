"""ChirpStack v4 integration events: parsed once at the edge into typed, immutable values."""

from __future__ import annotations

from bauhof.chirpstack.events import (
    DeviceInfo,
    EventError,
    EventTopic,
    OtherEvent,
    StatusEvent,
    UplinkEvent,
    parse_event,
    parse_topic,
)

__all__ = [
    "DeviceInfo",
    "EventError",
    "EventTopic",
    "OtherEvent",
    "StatusEvent",
    "UplinkEvent",
    "parse_event",
    "parse_topic",
]
