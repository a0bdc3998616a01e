"""Plausibility by model: each codec's measuring range, and positions near the town."""

from __future__ import annotations

from bauhof import codecs
from bauhof.codecs import plausibility
from bauhof.codecs.plausibility import Region

TOWN = Region.around(48.57, 48.61, 8.84, 8.90, plausibility.REGION_MARGIN_DEG)


def test_ultrasonic_sensors_declare_their_range() -> None:
    assert codecs.get("dragino-ldds75").limits == {"distance_mm": (0, 7500)}
    assert codecs.get("milesight-em310-udl").limits == {"distance_mm": (0, 4500)}
    assert plausibility.check({"distance_mm": 9000}, "dragino-ldds75") == [
        "distance_mm 9000 outside 0..7500 (the dragino-ldds75's range)"]
    assert plausibility.check({"distance_mm": 4600}, "milesight-em400-udl") == [
        "distance_mm 4600 outside 0..4500 (the milesight-em400-udl's range)"]
    assert plausibility.check({"distance_mm": 7400}, "dragino-ldds75") == []
    # Without the model only the general limit applies.
    assert plausibility.check({"distance_mm": 9000}) == []


def test_positions_far_from_the_town_are_implausible() -> None:
    assert plausibility.check({"latitude": 48.6, "longitude": 8.87}, "dragino-lgt92", TOWN) == []
    assert plausibility.check({"latitude": 89.9, "longitude": 8.87}, "dragino-lgt92",
                              TOWN) == [
        "position 89.9, 8.87 outside the town's area 48.07..49.11, 8.34..9.40"]
    # Without a town (no assets loaded) any position on earth is possible.
    assert plausibility.check({"latitude": 89.9, "longitude": 8.87}, "dragino-lgt92") == []
    assert plausibility.check({"battery_v": 3.6}, "dragino-lgt92", TOWN) == []
