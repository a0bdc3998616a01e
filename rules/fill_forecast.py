"""When will a bin be full? A robust, weekday-aware forecast of the fill rate.

The trend is a Theil-Sen fit (median of pairwise slopes) over the readings since the last
emptying, so a bird on the sensor or a single bad echo does not move it. Each bin also
learns how its fill rate differs by weekday (parks fill at weekends, markets on Fridays):
at every emptying the cycle's per-weekday rates are blended into a profile, and the
forecast scales the trend by each weekday's factor as it steps forward hour by hour.
"""

from __future__ import annotations

import functools
import itertools

import numpy as np
import numpy.typing as npt

HOUR = 3600.0
DAY = 86400.0
# 1 January 1970 was a Thursday (weekday 3).
_EPOCH_WEEKDAY = 3


@functools.lru_cache(maxsize=256)
def _pairs(n: int) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
    """The index pairs i < j of n points (the same few lengths come up for every bin)."""
    i, j = np.triu_indices(n, k=1)
    return i, j


def _median(values: npt.NDArray[np.float64]) -> float:
    """np.median of a 1-D array without NaN, the same value a third of the time: numpy's
    general wrapper cost more than the partition itself, once per reading of every bin."""
    n = values.size
    k = n // 2
    if n % 2:
        return float(np.partition(values, k)[k])
    part = np.partition(values, (k - 1, k))
    return float((part[k - 1] + part[k]) / 2)


def theil_sen(ts: list[float], ys: list[float]) -> tuple[float, float]:
    """Slope (per second) and intercept of the median-of-pairwise-slopes line."""
    return _theil_sen(np.asarray(ts, dtype=float), np.asarray(ys, dtype=float))


def _theil_sen(x: npt.NDArray[np.float64], y: npt.NDArray[np.float64]) -> tuple[float, float]:
    i, j = _pairs(len(x))
    dx = x[j] - x[i]
    if len(x) > 1 and (x[1:] > x[:-1]).all():
        # Times strictly increasing (a bin's readings always are): every pair counts, and
        # the mask would copy the same values.
        slope = _median((y[j] - y[i]) / dx)
        return slope, _median(y - slope * x)
    keep = dx > 0
    if not keep.any():
        return 0.0, _median(y) if len(y) else 0.0
    slope = _median((y[j] - y[i])[keep] / dx[keep])
    intercept = _median(y - slope * x)
    return slope, intercept


def weekday(ts: float) -> int:
    """Monday = 0 … Sunday = 6, in UTC."""
    # Arithmetic, not datetime: the forecast asks for every hour it steps through.
    return int((ts // DAY + _EPOCH_WEEKDAY) % 7)


def weekday_rates(points: list[list[float]]) -> list[float | None]:
    """Median fill rate (points per hour) for each weekday seen in one fill cycle."""
    per_day: list[list[float]] = [[] for _ in range(7)]
    for (t0, f0), (t1, f1) in itertools.pairwise(points):
        if t1 > t0 and f1 >= f0:
            per_day[weekday((t0 + t1) / 2)].append((f1 - f0) / ((t1 - t0) / HOUR))
    return [float(np.median(r)) if r else None for r in per_day]


def blend(profile: list[float | None] | None, cycle: list[float | None]) -> list[float | None]:
    """Fold one cycle's weekday rates into the learned profile (equal weights)."""
    old = profile or [None] * 7
    out: list[float | None] = []
    for a, b in zip(old, cycle, strict=True):
        out.append(b if a is None else a if b is None else (a + b) / 2)
    return out


def factors(profile: list[float | None] | None) -> list[float]:
    """Each weekday's rate relative to the mean of known weekdays (1 where unknown)."""
    known = [r for r in (profile or []) if r is not None and r > 0]
    if len(known) < 2:
        return [1.0] * 7
    mean = sum(known) / len(known)
    return [1.0 if r is None else max(r, 0.0) / mean for r in (profile or [None] * 7)]


def full_at(points: list[list[float]], until: float, *, full_pct: float = 100.0,
            profile: list[float | None] | None = None, min_points: int = 4,
            min_span_h: float = 2.0) -> float | None:
    """When the fill reaches full_pct (POSIX seconds) if that is before `until`, else None."""
    if len(points) < min_points:
        return None
    first, last = points[0][0], points[-1][0]
    if (last - first) / HOUR < min_span_h:
        return None
    # One array for both columns: two list comprehensions per reading of every bin cost
    # as much as the fit.
    xy = np.fromiter(itertools.chain.from_iterable(points), dtype=float,
                     count=2 * len(points)).reshape(-1, 2)
    slope, intercept = _theil_sen(xy[:, 0], xy[:, 1])
    if slope <= 0:
        return None
    rate_h = slope * HOUR
    scale = factors(profile)
    t = last
    level = max(points[-1][1], intercept + slope * t)
    # Most forecasts stay short of full: the fastest weekday's rate over the whole span (an
    # hour and a rounding margin more) bounds every sum the steps below can reach, so those
    # end here instead of stepping up to a week hour by hour. The same answer, not a guess.
    if level + rate_h * max(scale) * ((until - t) / HOUR + 1.0) * (1.0 + 1e-9) < full_pct:
        return None
    # A whole hour's gain per weekday, computed as the step computes it (same rounding).
    hourly = [rate_h * f * HOUR / HOUR for f in scale]
    while t < until:
        step = min(HOUR, until - t)
        gain = hourly[weekday(t)] if step == HOUR else rate_h * scale[weekday(t)] * step / HOUR
        if level + gain >= full_pct:
            return t + step * (full_pct - level) / gain
        level += gain
        t += step
    return None
