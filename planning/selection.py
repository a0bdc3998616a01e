"""Which bins to collect on a day.

A bin is collected on day D (shift starting at `starts_at`) when, in this order of reasons:
- `always`: the planner listed it in `always`;
- `threshold`: its expected fill when the shift starts is at or above its threshold;
- `overflow`: it is expected to reach 100 % before the next possible collection (the shift of
  the next working day), so waiting would let it overflow;
- `forecast`: it is expected to reach its threshold within `horizon_h` hours of the start.
Bins listed in `never` are not collected. The same rule is what the dashboards evaluate in SQL
on `bin_forecasts.curve` (see dashboards/build.py), so the map agrees with the plan.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from planning.bins import Schedule
from planning.forecast import Forecast
from planning.settings import PlannerSettings
from rules.assets import Bin


@dataclass(frozen=True, slots=True)
class Selected:
    """A bin chosen for the day, with why and how much it holds."""

    bin_id: str
    reason: str
    fill_now_pct: float
    expected_fill_pct: float
    load_l: float


def shift_start(day: date, settings: PlannerSettings) -> datetime:
    """The start of the shift on a day, in UTC."""
    local = datetime.combine(day, time.fromisoformat(settings.shift_start),
                             ZoneInfo(settings.timezone))
    return local.astimezone(UTC)


def schedule(day: date, settings: PlannerSettings) -> Schedule:
    """The shift of `day` and the next working day's."""
    following = day + timedelta(days=1)
    # Holidays may cover a whole week; a working weekday still recurs within a year.
    for _ in range(366):
        if settings.works_on(following):
            break
        following += timedelta(days=1)
    return Schedule(day, shift_start(day, settings), shift_start(following, settings))


def next_plan_date(after: datetime, settings: PlannerSettings) -> date:
    """The first working day whose shift starts after `after`."""
    day = after.astimezone(ZoneInfo(settings.timezone)).date()
    for _ in range(366):
        if settings.works_on(day) and shift_start(day, settings) > after:
            return day
        day += timedelta(days=1)
    raise AssertionError("unreachable: a working day recurs within a year")


def select(forecasts: dict[str, Forecast], bins: dict[str, Bin], day: Schedule,
           settings: PlannerSettings) -> list[Selected]:
    """The bins to collect on the day, ordered by bin id."""
    never = set(settings.never)
    always = set(settings.always)
    horizon = day.starts_at + timedelta(hours=settings.horizon_h)
    chosen = []
    for bin_id in sorted(bins):
        if bin_id in never:
            continue
        b = bins[bin_id]
        f = forecasts.get(bin_id)
        at_start = f.fill_at(day.starts_at) if f else 0.0
        threshold = settings.threshold_for(b.fill_threshold_pct)
        if bin_id in always:
            reason = "always"
        elif f is None:
            continue
        elif at_start >= threshold:
            reason = "threshold"
        elif f.fill_at(day.next_at) >= 100.0:
            reason = "overflow"
        elif f.fill_at(horizon) >= threshold:
            reason = "forecast"
        else:
            continue
        fill = min(at_start, 100.0)
        chosen.append(Selected(
            bin_id, reason, round(f.fill_pct if f else 0.0, 2), round(at_start, 2),
            round(b.volume_l * fill / 100.0 * settings.compaction, 1)))
    return chosen
