"""Typed rule states: stored as JSON objects keyed by field name, and states stored by the
untyped rules before (dicts holding only the keys a rule had set) load with their values."""

from __future__ import annotations

import dataclasses
import json
from typing import Any, cast

import psycopg
import pytest

from rules import bins, dispatch, sensor_health, watering
from rules.bins import BinState
from rules.sensor_health import HealthState
from rules.state import RuleState, StateStore, dumps
from rules.vehicles import VehicleState
from rules.watering import WateringState
from tests.rules import stream
from tests.rules.conftest import MakeEngine
from tests.rules.test_engine import EXPECTED, restart_in_the_middle

# States as the untyped rules wrote them (taken from a recorded week's what-if on main).
OLD = {
    ("health", "device", "24e1240000000101"): {
        "battery_low": 0, "gaps": [1200.621, 1200.836, 1198.39], "impossible_count": 0,
        "last_ts": 1780876425.029644, "radio_count": 0, "stuck_same": 1,
        "stuck_sig": [30.32, 17.1, 302.0]},
    ("health", "device", "24e1240000000501"): {
        "last_ts": 1780876000.5, "silent": True, "radio_open": True, "radio_count": 1,
        "battery_open": True, "battery_low": 3, "stuck_open": False},
    ("watering", "green_area", "ga-001"): {
        "probes": {"24e1240000000101": [1780876425.029644, 30.32]},
        "watched_ts": 1780272015.510633},
    ("watering", "green_area", "ga-002"): {
        "above_since": None, "below_since": 1780480458.304494,
        "first": {"dev_eui": "24e1240000000102", "name": "soil_moisture_pct",
                  "time": "2026-06-03T09:54:18.304494+00:00", "value": 21.83},
        "open": True, "opened_ts": 1780496057.297143,
        "probes": {"24e1240000000102": [1780876434.587673, 25.03]}, "sponsor": "sp-002",
        "stage": "bauhof", "watched_ts": 1780272015.510633},
    ("bins", "bin", "bin-0001"): {
        "above": 0, "last_fill": 59.33, "last_ts": 1780876220.337395,
        "points": [[1780762211.100207, 48.86], [1780763411.722831, 48.95]],
        "profile": [None, 0.4, 0.5, None, None, 1.25, None], "open": True,
        "temp": [1780876220.337395, 17.5]},
    ("vehicles", "vehicle", "veh-1"): {
        "anchor": [48.603071, 8.856197, 1780638245.065851], "arrived": [12, 40],
        "battery_low": 0, "last_ts": 1780875847.407163, "near": {"40": 2}, "no_fix": 0},
}

LOADED = {
    ("health", "device", "24e1240000000101"): HealthState(
        last_ts=1780876425.029644, gaps=[1200.621, 1200.836, 1198.39],
        stuck_sig=[30.32, 17.1, 302.0], stuck_same=1),
    ("health", "device", "24e1240000000501"): HealthState(
        last_ts=1780876000.5, silent=True, radio_open=True, radio_count=1, battery_open=True,
        battery_low=3),
    ("watering", "green_area", "ga-001"): WateringState(
        probes={"24e1240000000101": [1780876425.029644, 30.32]},
        watched_ts=1780272015.510633),
    ("watering", "green_area", "ga-002"): WateringState(
        probes={"24e1240000000102": [1780876434.587673, 25.03]},
        below_since=1780480458.304494, open=True, stage="bauhof",
        opened_ts=1780496057.297143, sponsor="sp-002",
        first={"dev_eui": "24e1240000000102", "name": "soil_moisture_pct",
               "time": "2026-06-03T09:54:18.304494+00:00", "value": 21.83},
        watched_ts=1780272015.510633),
    ("bins", "bin", "bin-0001"): BinState(
        last_ts=1780876220.337395, last_fill=59.33,
        points=[[1780762211.100207, 48.86], [1780763411.722831, 48.95]], open=True,
        profile=[None, 0.4, 0.5, None, None, 1.25, None], temp=[1780876220.337395, 17.5]),
    ("vehicles", "vehicle", "veh-1"): VehicleState(
        last_ts=1780875847.407163, anchor=[48.603071, 8.856197, 1780638245.065851],
        near={"40": 2}, arrived=[12, 40]),
}


def _insert(conn: psycopg.Connection[Any], states: dict[tuple[str, str, str], Any]) -> None:
    with conn.cursor() as cur:
        cur.executemany("INSERT INTO rule_state (rule, subject_type, subject_id, state) "
                        "VALUES (%s, %s, %s, %s)",
                        [(*key, json.dumps(state)) for key, state in states.items()])


def _stored(conn: psycopg.Connection[Any]) -> dict[tuple[str, str, str], dict[str, Any]]:
    return {(r[0], r[1], r[2]): r[3] for r in conn.execute(
        "SELECT rule, subject_type, subject_id, state FROM rule_state")}


def test_states_stored_by_the_untyped_rules_load_with_their_values(
        conn: psycopg.Connection[Any]) -> None:
    _insert(conn, OLD)
    store = StateStore(dispatch.STATES)
    store.load(conn, lambda _key: True)
    kinds = {k.MODULE: k for k in dispatch.STATES}
    assert {key: store.peek(kinds[key[0]], key[2]) for key in OLD} == LOADED
    # Written back, every key keeps its value; the keys the old rules had not set yet are
    # written with their defaults.
    for key in OLD:
        store.get(kinds[key[0]], key[2])
    assert store.save(conn) == len(OLD)
    stored = _stored(conn)
    for key, old in OLD.items():
        assert {k: stored[key][k] for k in old} == old
    assert sorted(stored[("health", "device", "24e1240000000501")]) == sorted(
        ["last_ts", "gaps", "silent", "battery_open", "battery_low", "radio_open",
         "radio_count", "stuck_sig", "stuck_same", "stuck_open", "impossible_open",
         "impossible_count"])


def test_a_state_is_its_fields_by_name_and_reads_back_equal() -> None:
    state = WateringState(probes={"a": [1.5, 20.0]}, open=True, stage="sponsor",
                          sponsor="sp1", held="raining 2 mm/h")
    assert json.loads(dumps(state)) == {
        "probes": {"a": [1.5, 20.0]}, "below_since": None, "above_since": None,
        "open": True, "stage": "sponsor", "opened_ts": None, "sponsor": "sp1",
        "first": None, "held": "raining 2 mm/h", "by_balance": False, "watched_ts": None}
    assert WateringState.from_json(json.loads(dumps(state))) == state
    # A key no field holds (none the rules read) is dropped; a missing one takes its default.
    assert BinState.from_json({"above": 2, "gone": 1}) == BinState(above=2)


def test_states_of_other_modules_or_subject_types_are_left_alone(
        conn: psycopg.Connection[Any]) -> None:
    _insert(conn, {("retired", "bin", "b1"): {"x": 1}, ("bins", "device", "d1"): {"open": True}})
    store = StateStore(dispatch.STATES)
    store.load(conn, lambda _key: True)
    assert len(store) == 0
    assert store.save(conn) == 0


def test_the_engine_carries_on_from_states_in_the_untyped_form(
        conn: psycopg.Connection[Any], make_engine: MakeEngine) -> None:
    def untyped() -> None:
        # As the untyped rules stored them: without the keys no rule had set yet (those the
        # typed states write with their defaults).
        kinds = {k.MODULE: k for k in dispatch.STATES}
        typed = _stored(conn)
        old_form = {}
        for key, state in typed.items():
            default = json.loads(dumps(kinds[key[0]]()))
            old_form[key] = {k: v for k, v in state.items()
                             if not (v == default[k] and type(v) is type(default[k]))}
        assert sum(map(len, old_form.values())) < sum(map(len, typed.values()))
        conn.execute("DELETE FROM rule_state")
        _insert(conn, old_form)

    restart_in_the_middle(conn, make_engine, untyped)
    assert stream.outcome(conn) == EXPECTED


@pytest.mark.parametrize("kind", dispatch.STATES, ids=lambda k: k.MODULE)
def test_a_gone_order_clears_a_flag_the_state_has(kind: type[RuleState]) -> None:
    flags = {f.name: f.default for f in dataclasses.fields(cast(Any, kind))}
    for flag in kind.OPEN_FLAGS.values():
        assert flags[flag] is False


def test_a_gone_order_is_watched_afresh() -> None:
    b = BinState(open=True, above=3, fire_open=True)
    b.order_gone(bins.FULL)
    assert b == BinState(fire_open=True)
    b.order_gone(bins.FIRE)
    assert b == BinState()
    h = HealthState(last_ts=5.0, silent=True, stuck_open=True)
    h.order_gone(sensor_health.STUCK)
    assert h == HealthState(last_ts=5.0, silent=True)
    h.order_gone("health.unknown")
    assert h == HealthState(last_ts=5.0, silent=True)
    w = WateringState(probes={"a": [1.0, 20.0]}, open=True, stage="sponsor", sponsor="sp1",
                      opened_ts=2.0, watched_ts=1.0, held="raining 1 mm/h")
    w.order_gone(watering.RULE)
    assert w == WateringState(probes={"a": [1.0, 20.0]}, watched_ts=1.0)
