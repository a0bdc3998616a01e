"""Turn one MQTT message into rows of a batch, or into a dead letter with the reason."""

from __future__ import annotations

import json
import logging
import math
import re
from datetime import UTC, datetime
from typing import Any, NamedTuple

import orjson

from bauhof import codecs
from bauhof.chirpstack import EventError, OtherEvent, StatusEvent, UplinkEvent, parse_event
from bauhof.codecs import plausibility
from bauhof.dead_letters import REASON_CODES, digest
from bauhof.payloads import PayloadError, load_json
from ingest.devices import DeviceDirectory, DeviceRecord, resolve_model
from ingest.normalise import ReadingError, readings_from_object, split_readings
from ingest.writer import Batch, DeadRow

WEATHER_PREFIX = "bauhof/weather/"
# A weather message is a handful of fields; a thousand times that is still no weather.
WEATHER_MAX_BYTES = 16 * 1024
log = logging.getLogger("bauhof.ingest")
_DEV_IN_TOPIC = re.compile(r"/device/([0-9a-fA-F]{16})/")
_STATION = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


class Message(NamedTuple):
    """One message as received from the broker (a tuple: made thousands of times a second)."""

    topic: str
    payload: bytes
    mid: int
    qos: int
    received: float
    generation: int


class Preparer:
    """Parses, decodes and validates messages into a batch."""

    def __init__(self, directory: DeviceDirectory, keymap: dict[str, str]) -> None:
        self.directory = directory
        self.keymap = keymap

    def add(self, batch: Batch, topic: str, payload: bytes) -> None:
        """Add one message to the batch: as rows, or as a dead letter."""
        try:
            if topic.startswith(WEATHER_PREFIX):
                self._weather(batch, topic, payload)
                return
            event = parse_event(topic, payload)
            _readable_time(event.time)
            if isinstance(event, UplinkEvent):
                self._uplink(batch, event)
            elif isinstance(event, StatusEvent):
                self._status(batch, event)
            else:
                self._other(batch, event)
        except (EventError, codecs.CodecError, ReadingError) as exc:
            self.dead(batch, topic, payload, *_reason(exc))
        except Exception as exc:  # no message may stop ingest (issue 13)
            # A fault of ours, not a known kind of bad input: logged once with the message,
            # dead-lettered with the reason, so the batch and the worker go on.
            log.warning("cannot use the message on %s (%s: %s); payload starts %r", topic[:200],
                        type(exc).__name__, str(exc)[:200], payload[:200])
            self.dead(batch, topic, payload,
                      f"cannot use the event: {type(exc).__name__}: {exc}", "internal")

    def dead(self, batch: Batch, topic: str, payload: bytes, reason: str, code: str) -> None:
        """Put a message into the dead letters of the batch, with its reason and reason code
        (one of REASON_CODES)."""
        assert code in REASON_CODES, code
        match = _DEV_IN_TOPIC.search(topic)
        # PostgreSQL text holds no NUL: a reason quoting the payload must still be stored.
        batch.dead.append(DeadRow(topic[:1024].replace("\0", "\ufffd"), payload,
                                  reason[:1000].replace("\0", "\ufffd"),
                                  match.group(1).lower() if match else None,
                                  digest(topic, payload), code))

    def _device(self, batch: Batch, event: UplinkEvent | StatusEvent | OtherEvent) -> (
        DeviceRecord | None
    ):
        info = event.device
        record = self.directory.get(info.dev_eui)
        if record is None:
            # Unknown devices are registered, never dropped; an operator assigns them later.
            model = resolve_model(None, info)
            kind = codecs.get(model).kind if model else "other"
            record = DeviceRecord(model, kind, None, None)
            batch.new_devices.append((
                info.dev_eui, model, kind, info.device_name or None, info.application_id or None,
                info.device_profile_id or None, info.device_profile_name or None,
                json.dumps(dict(info.tags)),
            ))
            self.directory.remember(info.dev_eui, record)
        return record

    def _uplink(self, batch: Batch, event: UplinkEvent) -> None:
        record = self._device(batch, event)
        model = resolve_model(record, event.device)
        readings: dict[str, Any] | None = None
        if model is not None:
            decoded = codecs.decode(model, event.f_port, event.data)
            readings = dict(decoded.readings)
        elif event.object is not None:
            readings = readings_from_object(event.object, self.keymap)
        values: list[Any] | None = None
        extra: str | None = None
        if readings:
            problems = plausibility.check(readings, model, self.directory.region)
            if problems:
                raise EventError("implausible readings: " + "; ".join(problems), "implausible")
            values, extra = split_readings(readings)
        batch.raw.append((
            event.time, event.device.dev_eui, event.deduplication_id,
            event.device.application_id, event.f_cnt, event.f_port, event.data,
            event.confirmed, event.dr, event.frequency, event.rssi, event.snr,
            event.gateway_count, event.rx_info,
            orjson.dumps(event.object).decode() if event.object is not None else None,
        ))
        battery_v = battery_pct = None
        if values is not None:
            asset_type = record.asset_type if record else None
            asset_id = record.asset_id if record else None
            batch.readings.append((
                event.time, event.device.dev_eui, event.deduplication_id, model, asset_type,
                asset_id, *values, extra,
            ))
            battery_v, battery_pct = values[0], values[1]
        batch.see(event.device.dev_eui, event.time, battery_v=battery_v,
                  battery_pct=battery_pct, rssi=event.rssi, snr=event.snr)

    def _status(self, batch: Batch, event: StatusEvent) -> None:
        self._device(batch, event)
        batch.status.append((
            event.time, event.device.dev_eui, event.deduplication_id, event.margin,
            event.external_power_source, event.battery_level_unavailable, event.battery_level,
        ))
        batch.see(event.device.dev_eui, event.time, battery_pct=event.battery_level)

    def _other(self, batch: Batch, event: OtherEvent) -> None:
        self._device(batch, event)
        batch.other.append((
            event.time, event.device.dev_eui, event.event_type, event.key, event.level,
            event.code, event.description, event.body,
        ))

    def _weather(self, batch: Batch, topic: str, payload: bytes) -> None:
        station = topic[len(WEATHER_PREFIX):]
        if not _STATION.match(station):
            raise EventError(f"weather station {station[:80]!r} is not a simple name")
        try:
            body = load_json(payload, max_bytes=WEATHER_MAX_BYTES)
        except PayloadError as exc:
            raise EventError(exc.reason, exc.code) from exc
        if not isinstance(body, dict):
            raise EventError("weather message is not a JSON object")
        try:
            time = datetime.fromisoformat(str(body["time"]))
        except (KeyError, ValueError) as exc:
            raise EventError("weather message needs an ISO 8601 time") from exc
        if time.tzinfo is None:
            raise EventError("weather time has no UTC offset")
        _readable_time(time)
        rain = _number(body, "rain_mm_h", required=True)
        forecast = _number(body, "forecast_rain_mm_24h")
        if (rain is not None and rain < 0) or (forecast is not None and forecast < 0):
            raise EventError("rain cannot be negative")
        batch.weather.append((time, station, rain, _number(body, "temperature_c"), forecast))


def _readable_time(time: datetime) -> None:
    """Refuse a time PostgreSQL would store but no reader could load back (Python's datetime
    ends at the years 1 and 9999): such a row would break the rules engine, API and replay."""
    try:
        time.astimezone(UTC)
    except OverflowError as exc:
        raise EventError(
            f"time {time.isoformat()} is not between the years 1 and 9999 in UTC") from exc


def _number(body: dict[str, Any], key: str, required: bool = False) -> float | None:
    value = body.get(key)
    if value is None:
        if required:
            raise EventError(f"weather message needs {key}")
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise EventError(f"weather {key} is {value!r}, expected a number")
    return float(value)


def _reason(exc: Exception) -> tuple[str, str]:
    """The reason an operator reads, and its code."""
    if isinstance(exc, codecs.UnknownModelError):
        return f"unknown model {exc.model!r}: register the device with a model of " \
               "`bauhof decode --list`", "unknown_model"
    if isinstance(exc, codecs.DecodeError):
        return f"decode error: {exc}", "undecodable"
    if isinstance(exc, EventError):
        return exc.reason, exc.code
    return str(exc), "malformed"
