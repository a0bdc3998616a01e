"""Watering rule on exact inputs: sustain, sponsor first, grace, hysteresis, rain, late data."""

from __future__ import annotations

from typing import Any

from bauhof.assignee import Assignee
from rules import ruleset, watering
from rules.actions import Escalate, Open, Resolve
from rules.assets import Weather
from rules.watering import WateringState
from tests.rules.factory import at
from tests.rules.pure import AREA, SPONSORED, kinds, no_weather, reading

P = ruleset.load().watering_for("ga1", "roses")


def feed(state: WateringState, points: list[tuple[float, float]], area: Any = AREA,
         weather: Any = no_weather) -> list[Any]:
    out: list[Any] = []
    for hours, moisture in points:
        out += watering.on_reading(state, reading(hours, soil_moisture_pct=moisture), area, P,
                                   weather)
    return out


def test_defaults_are_20_28_6h_48h() -> None:
    assert (P.low_pct, P.clear_pct, P.sustain_h, P.sponsor_grace_h) == (20, 28, 6, 48)


def test_opens_only_when_dry_for_six_hours_of_reading_time() -> None:
    state = WateringState()
    assert feed(state, [(0, 19.0), (3, 18.0), (5.99, 17.0)]) == []
    (action,) = feed(state, [(6, 16.0)])
    assert isinstance(action, Open)
    assert (action.kind, action.subject_id, action.at, action.since, action.value) == (
        "watering", "ga1", at(6), at(0), 16.0)
    assert action.assignee is None and action.params["stage"] == "bauhof"
    assert kinds(feed(state, [(7, 15.0)])) == ["Update"]


def test_a_wet_reading_restarts_the_six_hours() -> None:
    state = WateringState()
    assert feed(state, [(0, 19.0), (4, 21.0), (5, 19.0), (10, 19.0)]) == []
    assert kinds(feed(state, [(11, 19.0)])) == ["Open"]


def test_hysteresis_no_flapping_on_a_signal_wobbling_around_the_threshold() -> None:
    state = WateringState()
    feed(state, [(0, 15.0), (6, 15.0)])
    wobble = [(7 + i, 19.0 if i % 2 else 21.0) for i in range(20)]
    assert set(kinds(feed(state, wobble))) == {"Update"}
    # Above the clear threshold but not for the clear-sustain time: still open.
    assert set(kinds(feed(state, [(30, 29.0), (31, 27.0), (32, 29.0), (33, 29.5)]))) == {
        "Update"}
    (resolved,) = feed(state, [(34, 30.0)])
    assert isinstance(resolved, Resolve)
    assert (resolved.at, resolved.by) == (at(34), None)
    assert feed(state, [(35, 21.0), (36, 19.0)]) == []


def test_sponsor_is_asked_first_then_bauhof_after_the_grace_period() -> None:
    state = WateringState()
    (opened,) = feed(state, [(0, 15.0), (6, 15.0)], SPONSORED)
    assert isinstance(opened, Open)
    assert opened.assignee == Assignee("sponsor", "sp1")
    assert [(m.to, m.template) for m in opened.mail] == [("pat@example.org",
                                                          "watering_request")]
    assert watering.on_tick(state, at(6 + 47.9), SPONSORED, P) == []
    (escalated,) = watering.on_tick(state, at(6 + 50), SPONSORED, P)
    assert isinstance(escalated, Escalate)
    assert (escalated.at, escalated.unassign, escalated.priority) == (at(54), True, 2)
    assert watering.on_tick(state, at(80), SPONSORED, P) == []


def test_sponsor_who_watered_is_recorded_and_thanked() -> None:
    state = WateringState()
    feed(state, [(0, 15.0), (6, 15.0)], SPONSORED)
    (resolved,) = feed(state, [(10, 35.0), (12, 35.0)], SPONSORED)[-1:]
    assert isinstance(resolved, Resolve)
    assert resolved.by == "sponsor:sp1"
    assert [(m.template, m.context["moisture"]) for m in resolved.mail] == [
        ("watering_thanks", "35")]


def test_no_order_while_rain_is_forecast() -> None:
    rainy = Weather(at(5), 0.0, 12.0)
    state = WateringState()
    assert feed(state, [(0, 15.0), (6, 15.0), (7, 15.0)], weather=lambda _t: rainy) == []
    assert state.held == "12 mm rain forecast in 24 h"
    assert kinds(feed(state, [(8, 15.0)])) == ["Open"]


def test_late_reading_changes_nothing() -> None:
    state = WateringState()
    feed(state, [(0, 25.0), (10, 25.0)])
    # A dry reading from 6 h ago arrives late: no order, no "dry since".
    assert feed(state, [(4, 5.0)]) == []
    assert state.below_since is None


def test_two_probes_are_averaged() -> None:
    state = WateringState()
    # Probe 1 alone is dry; with probe 2 the area's mean (10 + 40) / 2 = 25 is not.
    feed_two = [(0, 1, 10.0), (0.5, 2, 40.0), (6, 1, 10.0), (6.5, 2, 40.0), (7, 2, 20.0)]
    out = [watering.on_reading(state, reading(h, dev=d, soil_moisture_pct=m), AREA, P,
                               no_weather) for h, d, m in feed_two]
    assert out == [[], [], [], [], []]
    assert state.below_since == at(7).timestamp()
    (opened,) = watering.on_reading(state, reading(13, dev=1, soil_moisture_pct=12.0), AREA, P,
                                    no_weather)
    assert isinstance(opened, Open)
    assert (opened.value, opened.since) == (16.0, at(7))
