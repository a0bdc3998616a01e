"""Per bin: the current fill, a robust weekday-aware fill rate, and when it reaches its
threshold and 100 %.

The readings of a bin are split into fill cycles at each emptying (a drop of `drop_pct` points
or more between two readings). The trend of the current cycle is a Theil-Sen line (the rules'
`rules.fill_forecast.theil_sen`): one bad echo or a bird on the sensor does not move it, and
the emptying itself is never inside a cycle. The completed cycles teach the bin's weekday
profile (`weekday_rates`, `blend`, `factors` from the same module), and a cycle too short for a
trend borrows the median rate of the earlier ones. The forecast steps forward hour by hour,
scaling the rate by the weekday's factor, and is kept as a curve of 169 hourly values so that
any threshold and horizon can be read off it (also in SQL, see `bin_forecasts.curve`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from rules import fill_forecast

HOUR = 3600.0
CURVE_HOURS = 168
DROP_PCT = 40.0
MIN_POINTS = 4
MIN_SPAN_H = 2.0
MAX_TREND_POINTS = 96

Point = tuple[float, float]  # (POSIX seconds, fill %)


@dataclass(frozen=True, slots=True)
class Forecast:
    """What a bin will look like: fill now and hour by hour for a week."""

    bin_id: str
    as_of: datetime
    last_reading_at: datetime | None
    fill_pct: float
    rate_pct_h: float
    threshold_pct: float
    threshold_at: datetime | None
    full_at: datetime | None
    readings: int
    method: str
    curve: tuple[float, ...]

    def fill_at(self, when: datetime) -> float:
        """Expected fill % at `when` (linear between hours; held at the curve's ends)."""
        hours = (when - self.as_of).total_seconds() / HOUR
        if hours <= 0:
            return self.curve[0]
        if hours >= len(self.curve) - 1:
            return self.curve[-1]
        low = math.floor(hours)
        frac = hours - low
        return self.curve[low] + frac * (self.curve[low + 1] - self.curve[low])

    def reaches(self, pct: float) -> datetime | None:
        """When the fill first reaches `pct` within the curve, or None."""
        hours = crossing(self.curve, pct)
        return None if hours is None else self.as_of + timedelta(hours=hours)


def crossing(curve: Sequence[float], pct: float) -> float | None:
    """Hours from the curve's start until it first reaches `pct` (interpolated), or None."""
    if curve[0] >= pct:
        return 0.0
    for hour in range(1, len(curve)):
        if curve[hour] >= pct:
            before, after = curve[hour - 1], curve[hour]
            return hour - 1 + (pct - before) / (after - before)
    return None


def cycles(points: Sequence[Point], drop_pct: float = DROP_PCT) -> list[list[Point]]:
    """The readings split into fill cycles at every emptying (a drop of drop_pct or more)."""
    out: list[list[Point]] = [[]]
    for ts, fill in points:
        current = out[-1]
        if current and current[-1][1] - fill >= drop_pct:
            out.append([])
        out[-1].append((ts, fill))
    return [c for c in out if c]


def trend(cycle: Sequence[Point], min_points: int = MIN_POINTS,
          min_span_h: float = MIN_SPAN_H) -> tuple[float, float] | None:
    """(rate % per hour, fill at the last reading) of a cycle's Theil-Sen line, or None."""
    if len(cycle) < min_points or (cycle[-1][0] - cycle[0][0]) / HOUR < min_span_h:
        return None
    # Theil-Sen is quadratic in the points: a long cycle is thinned evenly (the last
    # reading always stays), which changes the median slope very little.
    step = math.ceil(len(cycle) / MAX_TREND_POINTS)
    kept = list(cycle[::-1][::step][::-1])
    ts = [p[0] for p in kept]
    slope, intercept = fill_forecast.theil_sen(ts, [p[1] for p in kept])
    return slope * HOUR, intercept + slope * ts[-1]


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def curve_from(level: float, rate_h: float, start: float, factors: Sequence[float],
               hours: int = CURVE_HOURS) -> tuple[float, ...]:
    """Expected fill at start + 0 … `hours` h, the rate scaled by each hour's weekday factor."""
    values = [level]
    for hour in range(hours):
        t = start + hour * HOUR
        level += rate_h * factors[fill_forecast.weekday(t)]
        values.append(level)
    return tuple(round(v, 3) for v in values)


def forecast(bin_id: str, points: Sequence[Point], as_of: datetime, threshold_pct: float, *,
             drop_pct: float = DROP_PCT, min_points: int = MIN_POINTS,
             min_span_h: float = MIN_SPAN_H) -> Forecast:
    """The forecast of one bin from its readings (oldest first, none after as_of)."""
    start = as_of.timestamp()
    split = cycles(points, drop_pct)
    if not split:
        return Forecast(bin_id, as_of, None, 0.0, 0.0, threshold_pct, None, None, 0, "none",
                        (0.0,) * (CURVE_HOURS + 1))
    current, earlier = split[-1], split[:-1]
    profile: list[float | None] | None = None
    for cycle in earlier:
        profile = fill_forecast.blend(profile, fill_forecast.weekday_rates(
            [[t, f] for t, f in cycle]))
    factors = fill_forecast.factors(profile)
    fitted = trend(current, min_points, min_span_h)
    last_ts = current[-1][0]
    if fitted is not None and fitted[0] > 0:
        rate, level, method = fitted[0], fitted[1], "trend"
    else:
        history = [t[0] for c in earlier if (t := trend(c, min_points, min_span_h)) and t[0] > 0]
        rate = _median(history) if history else 0.0
        method = "history" if history else "none"
        level = _median([f for _, f in current[-3:]])
    # From the last reading to as_of at the weekday-scaled rate.
    elapsed = start - last_ts
    while elapsed > 0:
        step = min(HOUR, elapsed)
        level += rate * factors[fill_forecast.weekday(start - elapsed)] * step / HOUR
        elapsed -= step
    level = max(0.0, level)
    curve = curve_from(level, rate, start, factors)
    made = Forecast(bin_id, as_of, datetime.fromtimestamp(last_ts, UTC), round(level, 3),
                    round(rate, 4), threshold_pct, None, None, len(current), method, curve)
    return Forecast(bin_id, as_of, made.last_reading_at, made.fill_pct, made.rate_pct_h,
                    threshold_pct, made.reaches(threshold_pct), made.reaches(100.0),
                    len(current), method, curve)
