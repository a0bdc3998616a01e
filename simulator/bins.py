"""Waste bins filling up and being emptied, and what an ultrasonic sensor under the lid sees.

The fill f is the share of the bin's usable height (0 empty, 1 full, up to 1.3 with waste
piled above the line). Within each hour the bin fills at a constant rate

    r = F_type · W(weekday) · C(distance to the centre) · P(local hour) / 15.5 · ε   per hour
    F_type   share of a bin filled per day: residual 0.11, organic 0.10, packaging 0.10,
             paper 0.08, glass 0.05
    W        Mon 1.05, Tue-Thu 1.0, Fri 1.1, Sat 1.35, Sun 1.25 (weekend walkers)
    C(d)     0.7 + 0.9·exp(-d / 600 m): up to 1.6 in the town centre, 0.7 on the outskirts
    P        1 from 7:00 to 21:00 local time, 0.15 at night (14 + 10·0.15 = 15.5 per day)
    ε        log-normal noise, sigma = 0.4, drawn once per hour from the bin's own stream

so fill grows linearly inside an hour and the result does not depend on when it is read.
Emptying leaves a residue of 0-3 %. The sensor reports the distance from lid to waste,

    d = E - f·(E - F)   clamped to [30 mm, E]   (E empty distance, F full distance)

plus N(0, 8 mm) noise; the inverse is Bauhof's `fill_pct = 100·(E - d)/(E - F)`.
"""

from __future__ import annotations

import math
import random

from simulator.clock import HOUR_US, TownTime

DAILY_FILL = {"residual": 0.11, "organic": 0.10, "packaging": 0.10, "paper": 0.08, "glass": 0.05}
WEEKDAY_FACTOR = (1.05, 1.0, 1.0, 1.0, 1.1, 1.35, 1.25)
DAY_HOURS = range(7, 21)
NIGHT_WEIGHT = 0.15
WEIGHT_PER_DAY = len(DAY_HOURS) + (24 - len(DAY_HOURS)) * NIGHT_WEIGHT
NOISE_SIGMA = 0.4
MAX_FILL = 1.3
MIN_DISTANCE_MM = 30
DISTANCE_NOISE_MM = 8.0
RESIDUE = 0.03


def centre_factor(distance_m: float) -> float:
    """How much busier a bin is for being near the town centre (0.7 … 1.6)."""
    return 0.7 + 0.9 * math.exp(-distance_m / 600)


def hourly_rate(waste_type: str, weekday: int, local_hour: int, centre: float) -> float:
    """Mean fill added per hour (share of the bin) before noise."""
    weight = 1.0 if local_hour in DAY_HOURS else NIGHT_WEIGHT
    return DAILY_FILL[waste_type] * WEEKDAY_FACTOR[weekday] * centre * weight / WEIGHT_PER_DAY


def distance_mm(fill: float, empty_mm: float, full_mm: float) -> float:
    """Lid-to-waste distance for a fill level, within what the sensor can report."""
    return min(empty_mm, max(MIN_DISTANCE_MM, empty_mm - fill * (empty_mm - full_mm)))


class BinFill:
    """The true fill of one bin, advanced hour by hour."""

    def __init__(
        self,
        waste_type: str,
        *,
        centre: float,
        fill: float,
        start_us: int,
        rng: random.Random,
        town_time: TownTime,
    ) -> None:
        self.waste_type = waste_type
        self.centre = centre
        self.fill = fill
        self.t_us = start_us
        self._rng = rng
        self._time = town_time
        self._hour = -1
        self._rate = 0.0

    def _rate_per_us(self, t_us: int) -> float:
        hour = t_us // HOUR_US
        if hour != self._hour:
            # The rate is constant within an hour (its noise, weekday and local hour): worked
            # out once, not on every reading in it.
            self._hour = hour
            noise = math.exp(self._rng.gauss(0, NOISE_SIGMA) - NOISE_SIGMA**2 / 2)
            weekday, local_hour = self._time.weekday_hour(t_us)
            rate = hourly_rate(self.waste_type, weekday, local_hour, self.centre)
            self._rate = rate * noise / HOUR_US
        return self._rate

    def advance(self, t_us: int) -> int | None:
        """Fill up to `t_us`; the time the bin became full (fill crossed 1) if it did now."""
        overflow_at = None
        while self.t_us < t_us:
            segment_end = min(t_us, (self.t_us // HOUR_US + 1) * HOUR_US)
            rate = self._rate_per_us(self.t_us)
            new_fill = min(MAX_FILL, self.fill + rate * (segment_end - self.t_us))
            if self.fill < 1.0 <= new_fill and overflow_at is None and rate > 0:
                overflow_at = self.t_us + math.ceil((1.0 - self.fill) / rate)
            self.fill = new_fill
            self.t_us = segment_end
        return overflow_at

    def empty(self) -> float:
        """Empty the bin now (after `advance`); return the fill it had."""
        before = self.fill
        self.fill = self._rng.uniform(0, RESIDUE)
        return before


def sensor_distance_mm(
    fill: float, empty_mm: float, full_mm: float, rng: random.Random
) -> int:
    """One noisy ultrasonic reading in whole millimetres."""
    true = distance_mm(fill, empty_mm, full_mm)
    noisy = true + rng.gauss(0, DISTANCE_NOISE_MM)
    return round(min(empty_mm, max(MIN_DISTANCE_MM, noisy)))

