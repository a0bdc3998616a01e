"""Sensor health: silent, battery low, poor radio, stuck or impossible readings → defect.

Each problem is its own rule on the device (`health.silent`, `health.battery`, …) and opens a
sensor-maintenance order with a defect; it resolves itself when the device is healthy again.
A device is judged silent only after the engine has seen it report, so a restart or a first
start never declares the whole town silent. State per device: `HealthState`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from rules.actions import Action, Open, Resolve
from rules.assets import Device
from rules.readings import Reading
from rules.ruleset import HealthParams
from rules.state import RuleState

MODULE = "health"
SILENT, BATTERY, RADIO, STUCK, IMPOSSIBLE = (
    "health.silent", "health.battery", "health.radio", "health.stuck", "health.impossible")
# Physically possible ranges of the normalised readings.
RANGES = {
    "soil_moisture_pct": (0.0, 100.0), "battery_pct": (0.0, 100.0), "battery_v": (0.5, 5.0),
    "temperature_c": (-40.0, 90.0), "soil_temperature_c": (-40.0, 60.0),
    "distance_mm": (1.0, 15000.0), "soil_conductivity_us_cm": (0.0, 20000.0),
    "latitude": (-90.0, 90.0), "longitude": (-180.0, 180.0), "hdop": (0.0, 100.0),
}
# The measurements whose exact repetition means a stuck sensor (trackers park legitimately).
STUCK_FIELDS = ("soil_moisture_pct", "soil_temperature_c", "soil_conductivity_us_cm",
                "distance_mm", "temperature_c")
GAPS_KEPT = 9


class BatteryWatch(Protocol):
    """A state that watches a battery (a device's, or a vehicle's tracker)."""

    battery_open: bool  # a battery order is open
    battery_low: int  # consecutive low readings


@dataclass(slots=True)
class HealthState(RuleState, module=MODULE, subject_type="device", open_flags={
        SILENT: "silent", BATTERY: "battery_open", RADIO: "radio_open", STUCK: "stuck_open",
        IMPOSSIBLE: "impossible_open"}):
    """What sensor health remembers of one device."""

    last_ts: float | None = None  # the last reading evaluated
    gaps: list[float] = field(default_factory=list)  # the last gaps between readings, s
    silent: bool = False  # a silence order is open
    battery_open: bool = False
    battery_low: int = 0
    radio_open: bool = False
    radio_count: int = 0  # consecutive readings against the radio order's state
    stuck_sig: list[Any] | None = None  # the last values of STUCK_FIELDS
    stuck_same: int = 0  # how many readings in a row had them
    stuck_open: bool = False
    impossible_open: bool = False
    impossible_count: int = 0  # consecutive readings against the impossible order's state


def interval_s(state: HealthState, device: Device | None, p: HealthParams) -> float:
    """The expected reporting interval: registered, else learned, else the default.

    Learned is the longest of the recent gaps: devices that report irregularly (on change,
    with retries) must not look silent whenever one gap is longer than the typical one.
    """
    if device is not None and device.expected_interval_s:
        return float(device.expected_interval_s)
    gaps = state.gaps
    if len(gaps) >= 3:
        return float(max(gaps))
    return p.default_interval_s


def _open(rule: str, r: Reading | None, dev_eui: str, at: datetime, *, title: str,
          defect: str, p: HealthParams, evidence: tuple[dict[str, Any], ...], kind: str) -> Open:
    return Open(rule=rule, kind=kind, subject_type="device", subject_id=dev_eui, at=at,
                title=title, priority=p.priority, due_at=at + timedelta(days=3), since=at,
                evidence=evidence, defect=defect, dev_eui=dev_eui,
                value=None if r is None else r.num("battery_pct"))


def on_reading(state: HealthState, r: Reading, device: Device | None, p: HealthParams,
               kind: str = "sensor_maintenance") -> list[Action]:
    """Evaluate one reading of a device."""
    if not p.enabled:
        return []
    last = state.last_ts
    if last is not None and r.ts <= last:
        return []
    # The gap this reading ends was too long: the device was silent even if no clock tick
    # fell inside the gap (ticks follow the stream minute by minute, a gap can end between
    # two). Opened as at the moment it became silent, then resolved by this reading.
    actions: list[Action] = on_tick(state, r.time, r.dev_eui, device, p, kind=kind)
    if last is not None:
        gaps = state.gaps
        gaps.append(round(r.ts - last, 3))
        del gaps[:-GAPS_KEPT]
    state.last_ts = r.ts
    if state.silent:
        state.silent = False
        actions.append(Resolve(SILENT, "device", r.dev_eui, r.time, note="reporting again",
                               evidence=({"time": r.time.isoformat(), "dev_eui": r.dev_eui,
                                          "name": "uplink", "value": None},)))
    if device is None or device.asset_type != "vehicle":
        actions += battery(state, r, p, kind)
    actions += _radio(state, r, p, kind)
    actions += _stuck(state, r, p, kind)
    actions += _impossible(state, r, p, kind)
    return actions


def battery(state: BatteryWatch, r: Reading, p: HealthParams, kind: str, *,
            rule: str = BATTERY, subject: tuple[str, str] | None = None) -> list[Action]:
    """Battery below the percentage or the model's voltage for a few readings in a row."""
    pct, volts = r.num("battery_pct"), r.num("battery_v")
    if pct is None and volts is None:
        return []
    low_v = p.battery_low_v_models.get(r.model or "", p.battery_low_v)
    low = (pct is not None and pct < p.battery_low_pct) or (volts is not None and volts < low_v)
    ok = (pct is None or pct >= p.battery_clear_pct) and (volts is None or volts >= low_v + 0.2)
    subject_type, subject_id = subject or ("device", r.dev_eui)
    name = "battery_pct" if pct is not None else "battery_v"
    if state.battery_open:
        if ok:
            state.battery_open, state.battery_low = False, 0
            return [Resolve(rule, subject_type, subject_id, r.time, note="battery replaced",
                            evidence=(r.evidence(name),))]
        return []
    state.battery_low = state.battery_low + 1 if low else 0
    if state.battery_low < p.battery_confirm_readings:
        return []
    state.battery_open = True
    value = f"{pct:g} %" if pct is not None else f"{volts:g} V"
    o = _open(rule, r, r.dev_eui, r.time, title=f"Replace battery of {r.dev_eui} ({value})",
              defect="battery_low", p=p, evidence=(r.evidence(name),), kind=kind)
    return [replace(o, subject_type=subject_type, subject_id=subject_id)]


def _counter(is_open: bool, count: int, bad: bool, need: int, clear: int | None = None) -> (
    tuple[bool, int, str | None]
):
    """A persistent condition: `open` after `need` bad readings in a row, `clear` after
    `clear` (default: as many) good ones in a row while open. Returns whether it is open
    now, the new count of readings against that, and the change ("open", "clear", None)."""
    count = count + 1 if bad != is_open else 0
    if count < ((clear or need) if is_open else need):
        return is_open, count, None
    return not is_open, 0, "clear" if is_open else "open"


def _radio(state: HealthState, r: Reading, p: HealthParams, kind: str) -> list[Action]:
    if r.rssi is None and r.snr is None:
        return []
    bad = (r.rssi is not None and r.rssi < p.rssi_poor_dbm) or (
        r.snr is not None and r.snr < p.snr_poor_db)
    ev = ({"time": r.time.isoformat(), "dev_eui": r.dev_eui, "name": "rssi/snr",
           "value": [r.rssi, r.snr]},)
    state.radio_open, state.radio_count, change = _counter(
        state.radio_open, state.radio_count, bad, p.radio_poor_readings)
    if change == "open":
        return [_open(RADIO, r, r.dev_eui, r.time,
                      title=f"Poor radio link of {r.dev_eui} (RSSI {r.rssi}, SNR {r.snr})",
                      defect="poor_radio", p=p, evidence=ev, kind=kind)]
    if change == "clear":
        return [Resolve(RADIO, "device", r.dev_eui, r.time, note="radio link good again",
                        evidence=ev)]
    return []


def _stuck(state: HealthState, r: Reading, p: HealthParams, kind: str) -> list[Action]:
    signature = [r.values[n] for n in STUCK_FIELDS if r.values.get(n) is not None]
    if len(signature) < 2:
        return []
    ev = ({"time": r.time.isoformat(), "dev_eui": r.dev_eui, "name": "values",
           "value": signature},)
    if signature == state.stuck_sig:
        state.stuck_same += 1
    else:
        state.stuck_sig = signature
        state.stuck_same = 1
        if state.stuck_open:
            state.stuck_open = False
            return [Resolve(STUCK, "device", r.dev_eui, r.time, note="readings change again",
                            evidence=ev)]
    if not state.stuck_open and state.stuck_same >= p.stuck_readings:
        state.stuck_open = True
        return [_open(STUCK, r, r.dev_eui, r.time,
                      title=f"Sensor {r.dev_eui} stuck: {state.stuck_same} identical readings",
                      defect="stuck", p=p, evidence=ev, kind=kind)]
    return []


def impossible_values(r: Reading) -> list[str]:
    """The readings outside their physically possible range."""
    out = []
    for name, (lo, hi) in RANGES.items():
        value = r.num(name)
        if value is not None and not lo <= value <= hi:
            out.append(f"{name}={value:g}")
    return out


def _impossible(state: HealthState, r: Reading, p: HealthParams, kind: str) -> list[Action]:
    bad = impossible_values(r)
    ev = ({"time": r.time.isoformat(), "dev_eui": r.dev_eui, "name": "impossible",
           "value": bad},)
    state.impossible_open, state.impossible_count, change = _counter(
        state.impossible_open, state.impossible_count, bool(bad), p.impossible_readings,
        p.impossible_clear_readings)
    if change == "open":
        return [_open(IMPOSSIBLE, r, r.dev_eui, r.time,
                      title=f"Sensor {r.dev_eui} reports impossible values: {', '.join(bad)}",
                      defect="impossible", p=p, evidence=ev, kind=kind)]
    if change == "clear":
        return [Resolve(IMPOSSIBLE, "device", r.dev_eui, r.time,
                        note="readings plausible again", evidence=ev)]
    return []


def on_rejected(state: HealthState, dev_eui: str, at: datetime, reason: str,
                p: HealthParams, *, kind: str = "sensor_maintenance") -> list[Action]:
    """Ingest refused an uplink as implausible (a dead letter): an impossible reading."""
    if not p.enabled:
        return []
    ev = ({"time": at.isoformat(), "dev_eui": dev_eui, "name": "dead_letter",
           "value": reason[:200]},)
    state.impossible_count = 0
    if state.impossible_open:
        return []
    state.impossible_open = True
    return [_open(IMPOSSIBLE, None, dev_eui, at,
                  title=f"Sensor {dev_eui} sent an impossible uplink ({reason[:120]})",
                  defect="impossible", p=p, evidence=ev, kind=kind)]


def silent_due(state: HealthState, device: Device | None, p: HealthParams) -> float:
    """An epoch time before which on_tick cannot report the device silent (inf: not at all)."""
    last = state.last_ts
    if not p.enabled or last is None or state.silent:
        return math.inf
    # A millisecond early, so rounding never puts it after the moment on_tick would fire.
    return last + p.silent_intervals * interval_s(state, device, p) - 0.001


def on_tick(state: HealthState, now: datetime, dev_eui: str, device: Device | None,
            p: HealthParams, *, kind: str = "sensor_maintenance") -> list[Action]:
    """Silent for more than `silent_intervals` expected intervals (on the event clock)."""
    last = state.last_ts
    if not p.enabled or last is None or state.silent:
        return []
    limit = p.silent_intervals * interval_s(state, device, p)
    if now.timestamp() - last <= limit:
        return []
    state.silent = True
    at = datetime.fromtimestamp(last + limit, UTC)
    seen = datetime.fromtimestamp(last, UTC)
    return [_open(SILENT, None, dev_eui, at,
                  title=f"Sensor {dev_eui} silent since {seen:%Y-%m-%d %H:%M}", defect="silent",
                  p=p, evidence=({"time": seen.isoformat(), "dev_eui": dev_eui,
                                  "name": "last_uplink", "value": None},), kind=kind)]
