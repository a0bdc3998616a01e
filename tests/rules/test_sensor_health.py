"""Sensor-health rules on exact inputs, with the event clock injected."""

from __future__ import annotations

from typing import Any

from rules import ruleset, sensor_health
from rules.actions import Open, Resolve
from rules.sensor_health import HealthState
from tests.rules.factory import at, eui
from tests.rules.pure import SOIL_DEVICE, kinds, reading

P = ruleset.load().health_for(eui(1))


def soil(hours: float, moisture: float = 20.0, temp: float | None = None, **kw: Any) -> Any:
    return reading(hours, soil_moisture_pct=moisture,
                   soil_temperature_c=15.0 + hours / 100 if temp is None else temp, **kw)


def test_silent_after_three_intervals_on_the_event_clock() -> None:
    state = HealthState()
    assert sensor_health.on_tick(state, at(100), eui(1), SOIL_DEVICE, P) == []  # never seen
    sensor_health.on_reading(state, soil(0), SOIL_DEVICE, P)
    assert sensor_health.on_tick(state, at(3), eui(1), SOIL_DEVICE, P) == []
    (opened,) = sensor_health.on_tick(state, at(3.5), eui(1), SOIL_DEVICE, P)
    assert isinstance(opened, Open)
    assert (opened.rule, opened.kind, opened.subject_type, opened.at, opened.defect) == (
        "health.silent", "sensor_maintenance", "device", at(3), "silent")
    assert sensor_health.on_tick(state, at(10), eui(1), SOIL_DEVICE, P) == []
    (back,) = sensor_health.on_reading(state, soil(11), SOIL_DEVICE, P)
    assert isinstance(back, Resolve) and back.note == "reporting again"


def test_a_gap_no_tick_fell_into_is_still_a_silence_opened_and_resolved() -> None:
    state = HealthState()
    sensor_health.on_reading(state, soil(0), SOIL_DEVICE, P)
    assert sensor_health.on_reading(state, soil(3), SOIL_DEVICE, P) == []  # exactly 3 h
    opened, back = sensor_health.on_reading(state, soil(6.01), SOIL_DEVICE, P)
    assert isinstance(opened, Open) and isinstance(back, Resolve)
    assert (opened.rule, opened.at, opened.evidence[0]["time"]) == (
        "health.silent", at(6), at(3).isoformat())
    assert (back.rule, back.at, back.note) == ("health.silent", at(6.01), "reporting again")
    assert state.silent is False


def test_interval_is_learned_when_not_registered() -> None:
    state = HealthState()
    for h in (0, 0.25, 0.5, 0.6, 0.75):
        sensor_health.on_reading(state, soil(h), None, P)
    assert sensor_health.interval_s(state, None, P) == 900.0  # the longest recent gap
    assert sensor_health.on_tick(state, at(0.75 + 0.74), eui(1), None, P) == []
    assert kinds(sensor_health.on_tick(state, at(0.75 + 0.76), eui(1), None, P)) == ["Open"]


def test_battery_low_needs_two_readings_and_clears_with_hysteresis() -> None:
    state = HealthState()
    assert sensor_health.battery(state, reading(0, battery_pct=15.0), P, "sensor_maintenance") \
        == []
    (opened,) = sensor_health.battery(state, reading(1, battery_pct=14.0), P,
                                      "sensor_maintenance")
    assert isinstance(opened, Open) and opened.title == f"Replace battery of {eui(1)} (14 %)"
    assert sensor_health.battery(state, reading(2, battery_pct=25.0), P, "x") == []
    assert kinds(sensor_health.battery(state, reading(3, battery_pct=100.0), P, "x")) == [
        "Resolve"]


def test_battery_voltage_per_model() -> None:
    state = HealthState()
    lse01 = [sensor_health.battery(state, reading(h, battery_v=3.2, model="dragino-lse01"), P,
                                   "x") for h in range(3)]
    assert lse01 == [[], [], []]  # 3.2 V is fine for an LSE01 (low below 3.1 V)
    other = HealthState()
    out = [sensor_health.battery(other, reading(h, battery_v=3.2, model="x"), P, "x")
           for h in range(2)]
    assert kinds(out[1]) == ["Open"]


def test_poor_radio_must_persist() -> None:
    state = HealthState()
    out: list[Any] = []
    for h in range(5):
        out += sensor_health.on_reading(state, soil(h, rssi=-125.0, snr=-5.0), SOIL_DEVICE, P)
    out += sensor_health.on_reading(state, soil(5, rssi=-90.0, snr=5.0), SOIL_DEVICE, P)
    assert out == []  # five bad, then a good one: not persistent
    for h in range(6, 12):
        out += sensor_health.on_reading(state, soil(h, rssi=-90.0, snr=-18.0), SOIL_DEVICE, P)
    assert [a.rule for a in out] == ["health.radio"]
    for h in range(12, 18):
        out += sensor_health.on_reading(state, soil(h, rssi=-80.0, snr=8.0), SOIL_DEVICE, P)
    assert kinds(out) == ["Open", "Resolve"]


def test_stuck_sensor_after_twelve_identical_readings() -> None:
    state = HealthState()
    out: list[Any] = []
    for h in range(11):
        out += sensor_health.on_reading(state, soil(h, 23.5, 14.0), SOIL_DEVICE, P)
    assert out == []
    (stuck,) = sensor_health.on_reading(state, soil(11, 23.5, 14.0), SOIL_DEVICE, P)
    assert isinstance(stuck, Open) and stuck.defect == "stuck"
    assert kinds(sensor_health.on_reading(state, soil(12, 23.6, 14.0), SOIL_DEVICE, P)) == [
        "Resolve"]


def test_one_impossible_value_opens_twelve_plausible_ones_clear() -> None:
    state = HealthState()
    (opened,) = sensor_health.on_reading(state, soil(0, 140.0), SOIL_DEVICE, P)
    assert isinstance(opened, Open)
    assert opened.title == f"Sensor {eui(1)} reports impossible values: soil_moisture_pct=140"
    out: list[Any] = []
    for h in range(1, 12):
        out += sensor_health.on_reading(state, soil(h, 30.0 + h), SOIL_DEVICE, P)
    assert out == []
    assert kinds(sensor_health.on_reading(state, soil(12, 30.0), SOIL_DEVICE, P)) == ["Resolve"]
