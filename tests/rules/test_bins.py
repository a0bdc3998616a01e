"""Bin rule on exact inputs: threshold, forecast, emptying, tilt and fire."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from rules import bins, ruleset
from rules.actions import Open, Resolve
from rules.assets import Bin
from rules.bins import BinState
from tests.rules.factory import at, fill_distance
from tests.rules.pure import BIN, kinds, reading

P = ruleset.load().bins_for("b1")
NO_FORECAST = P.model_copy(update={"forecast": False})


def feed(state: BinState, points: list[tuple[float, float]], b: Any = BIN,
         p: Any = P, **extra: Any) -> list[Any]:
    out: list[Any] = []
    for hours, fill in points:
        out += bins.on_reading(state, reading(hours, dev=2, distance_mm=fill_distance(fill),
                                              **extra), b, p)
    return out


def test_fill_over_threshold_opens_and_a_sudden_drop_resolves() -> None:
    state = BinState()
    assert feed(state, [(0, 10.0), (5, 50.0), (10, 79.0)], p=NO_FORECAST) == []
    (opened,) = feed(state, [(11, 81.0)], p=NO_FORECAST)
    assert isinstance(opened, Open)
    assert (opened.kind, opened.subject_id, opened.value, opened.params["reason"]) == (
        "empty_bin", "b1", 81.0, "threshold")
    assert kinds(feed(state, [(12, 85.0)], p=NO_FORECAST)) == ["Update"]
    (resolved,) = feed(state, [(13, 5.0)], p=NO_FORECAST)
    assert isinstance(resolved, Resolve)
    assert resolved.note == "emptied: fill fell from 85 to 5 %"
    assert feed(state, [(14, 6.0)], p=NO_FORECAST) == []


def test_the_bins_own_threshold_applies() -> None:
    p = ruleset.load().bins_for("b1", fill_threshold_pct=60)
    state = BinState()
    assert kinds(feed(state, [(0, 61.0)], p=p.model_copy(update={"forecast": False}))) == [
        "Open"]


def test_noise_near_full_is_not_an_emptying() -> None:
    state = BinState()
    feed(state, [(0, 90.0)], p=NO_FORECAST)
    assert kinds(feed(state, [(1, 70.0), (2, 88.0)], p=NO_FORECAST)) == ["Update", "Update"]


def forecast_order(b: Bin, fills: list[tuple[float, float]]) -> Open:
    """The forecast order the last of these (hour, fill) readings opens (the others none)."""
    state = BinState()
    assert feed(state, fills[:-1], b) == []
    (opened,) = feed(state, fills[-1:], b)
    assert isinstance(opened, Open)
    assert opened.params["reason"] == "forecast"
    return opened


def test_forecast_opens_early_when_full_before_the_next_collection() -> None:
    # Monday 00:00 start, +5 points an hour; collection on Thursday: full long before that.
    thursday = replace(BIN, collection_weekday=3)
    opened = forecast_order(thursday, [(0, 10.0), (1, 15.0), (2, 20.0), (3, 25.0)])
    # 25 % at 03:00, 75 points to go at 5 an hour: full at 18:00.
    assert opened.params["forecast_full_at"] == "2026-06-01T18:00:00+00:00"
    assert opened.due_at == datetime(2026, 6, 1, 18, 0, tzinfo=UTC)


def test_no_forecast_order_when_the_collection_comes_first() -> None:
    # Slow filling (1 point an hour), collection tomorrow at 06:00: it will not overflow.
    tuesday = replace(BIN, collection_weekday=1)
    state = BinState()
    assert feed(state, [(h, 10.0 + h) for h in range(10)], tuesday) == []


def test_tilted_bin_is_an_urgent_defect_until_upright() -> None:
    state = BinState()
    (opened,) = bins.on_reading(state, reading(1, dev=2, tilted=True), BIN, P)
    assert isinstance(opened, Open)
    assert (opened.rule, opened.kind, opened.priority, opened.defect) == (
        "bins.tilted", "bin_maintenance", 1, "tilted")
    assert bins.on_reading(state, reading(2, dev=2, tilted=True), BIN, P) == []
    (resolved,) = bins.on_reading(state, reading(3, dev=2, tilted=False), BIN, P)
    assert isinstance(resolved, Resolve) and resolved.rule == "bins.tilted"


def test_fire_by_temperature_or_sudden_rise() -> None:
    state = BinState()
    assert bins.on_reading(state, reading(0, dev=2, temperature_c=20.0), BIN, P) == []
    (fire,) = bins.on_reading(state, reading(1, dev=2, temperature_c=50.0), BIN, P)
    assert isinstance(fire, Open) and (fire.rule, fire.defect, fire.value) == (
        "bins.fire", "fire", 50.0)
    # Hysteresis: 50 → 46 stays open, below 45 resolves.
    assert bins.on_reading(state, reading(2, dev=2, temperature_c=46.0), BIN, P) == []
    assert kinds(bins.on_reading(state, reading(3, dev=2, temperature_c=30.0), BIN, P)) == [
        "Resolve"]
    other = BinState()
    assert kinds(bins.on_reading(other, reading(0, dev=2, temperature_c=70.0), BIN, P)) == [
        "Open"]


def test_late_reading_is_ignored() -> None:
    state = BinState()
    feed(state, [(0, 10.0), (5, 20.0)], p=NO_FORECAST)
    assert feed(state, [(3, 95.0)], p=NO_FORECAST) == []
    assert state.last_fill == 20.0


def test_next_collection() -> None:
    assert bins.next_collection(at(0).timestamp(), 0) == at(6).timestamp()  # Monday 06:00
    assert bins.next_collection(at(7).timestamp(), 0) == at(7 * 24 + 6).timestamp()


def test_a_forecast_order_is_due_when_the_bin_is_forecast_full_not_in_24_hours() -> None:
    # +1 point an hour from 10 %, collection on Sunday: full (100 %) on Thursday at 18:00,
    # 87 hours later: that is when it is due, not 24 hours after opening.
    sunday = replace(BIN, collection_weekday=6)
    opened = forecast_order(sunday, [(0, 10.0), (1, 11.0), (2, 12.0), (3, 13.0)])
    assert opened.params["forecast_full_at"] == "2026-06-04T18:00:00+00:00"
    assert opened.due_at == datetime(2026, 6, 4, 18, 0, tzinfo=UTC)
