"""Helpers for pure rule tests: readings and assets as values, no database."""

from __future__ import annotations

from datetime import date
from typing import Any

from rules.assets import Area, Bin, Device, Sponsor, Weather
from rules.readings import Reading
from tests.rules.factory import at, eui

SPONSOR = Sponsor("sp1", "Pat Paten", "pat@example.org", date(2026, 1, 1), date(2026, 12, 31))
AREA = Area("ga1", "Rose garden", "roses", 52.0, 13.0, None, None, None)
SPONSORED = Area("ga1", "Rose garden", "roses", 52.0, 13.0, SPONSOR, None, None)
BIN = Bin("b1", "Market", 52.001, 13.001, 240.0, 1000.0, 100.0, None, None)
SOIL_DEVICE = Device(eui(1), "dragino-lse01", "soil", "green_area", "ga1", 3600)


def reading(hours: float, dev: int = 1, rssi: float | None = None, snr: float | None = None,
            model: str | None = None, **values: Any) -> Reading:
    """A reading at T0 + hours."""
    return Reading(time=at(hours), dev_eui=eui(dev), model=model, values=values,
                   rssi=rssi, snr=snr)


def no_weather(_at: object) -> Weather | None:
    """A town without a weather feed."""
    return None


def kinds(actions: list[Any]) -> list[str]:
    """The action class names, for compact assertions."""
    return [type(a).__name__ for a in actions]
