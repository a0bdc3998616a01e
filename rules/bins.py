"""Waste bins: full or forecast full → empty-bin order; emptied → resolved; tilt, fire → defect.

State per bin: `BinState`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from rules import fill_forecast
from rules.actions import Action, Open, Resolve, Update
from rules.assets import Bin
from rules.readings import Reading, is_newer
from rules.ruleset import BinParams
from rules.state import RuleState

MODULE = "bins"
FULL = "bins.full"
TILTED = "bins.tilted"
FIRE = "bins.fire"
MAX_POINTS = 96
# Collections are taken to happen at this hour (UTC) on the bin's collection weekday.
COLLECTION_HOUR = 6


@dataclass(slots=True)
class BinState(RuleState, module=MODULE, subject_type="bin",
               open_flags={FULL: "open", TILTED: "tilt_open", FIRE: "fire_open"}):
    """What the bin rules remember of one bin."""

    last_ts: float | None = None  # the last reading evaluated
    last_fill: float | None = None
    points: list[list[float]] = field(default_factory=list)  # [[ts, fill %], …] since emptied
    above: int = 0  # consecutive readings over the threshold
    open: bool = False  # an empty-bin order is open
    profile: list[float | None] | None = None  # learned fill rates by weekday
    tilt_open: bool = False
    fire_open: bool = False
    temp: list[float] | None = None  # [ts, °C] of the last temperature

    def order_gone(self, rule: str) -> None:
        """Clear the order's flag; an empty-bin order's also restarts the count of readings
        over the threshold."""
        RuleState.order_gone(self, rule)
        if rule == FULL:
            self.above = 0


def next_collection(ts: float, weekday: int) -> float:
    """The next collection time after ts on the given weekday."""
    now = datetime.fromtimestamp(ts, UTC)
    day = now.replace(hour=COLLECTION_HOUR, minute=0, second=0, microsecond=0)
    for ahead in range(8):
        candidate = day + timedelta(days=ahead)
        if candidate.weekday() == weekday and candidate > now:
            return candidate.timestamp()
    raise AssertionError("unreachable: a weekday recurs within 8 days")


def on_reading(state: BinState, r: Reading, b: Bin, p: BinParams) -> list[Action]:
    """Evaluate one bin reading."""
    if not p.enabled or not is_newer(state, r):
        return []
    actions = _tilt(state, r, b) + _fire(state, r, b, p)
    fill = b.fill_pct(r.num("distance_mm"))
    if fill is not None:
        actions += _fill(state, r, b, p, fill)
    return actions


def _defect(rule: str, r: Reading, b: Bin, *, title: str, defect: str, name: str) -> Open:
    return Open(rule=rule, kind="bin_maintenance", subject_type="bin", subject_id=b.id,
                at=r.time, title=title, priority=1, due_at=r.time + timedelta(hours=2),
                since=r.time, value=r.num(name), evidence=(r.evidence(name),),
                defect=defect, dev_eui=r.dev_eui)


def _tilt(state: BinState, r: Reading, b: Bin) -> list[Action]:
    tilted = r.flag("tilted")
    if tilted and not state.tilt_open:
        state.tilt_open = True
        return [_defect(TILTED, r, b, title=f"Bin {b.name or b.id} is tilted or knocked over",
                        defect="tilted", name="tilted")]
    if tilted is False and state.tilt_open:
        state.tilt_open = False
        return [Resolve(TILTED, "bin", b.id, r.time, note="bin upright again",
                        evidence=(r.evidence("tilted"),))]
    return []


def _fire(state: BinState, r: Reading, b: Bin, p: BinParams) -> list[Action]:
    temp = r.num("temperature_c")
    if temp is None:
        return []
    previous = state.temp
    state.temp = [r.ts, temp]
    spike = (previous is not None and r.ts - previous[0] <= 2 * 3600
             and temp - previous[1] >= p.fire_rise_c)
    if not state.fire_open and (temp >= p.fire_temperature_c or spike):
        state.fire_open = True
        return [_defect(FIRE, r, b, title=f"Possible fire in bin {b.name or b.id}: {temp:.0f} °C",
                        defect="fire", name="temperature_c")]
    if state.fire_open and temp < p.fire_clear_c:
        state.fire_open = False
        return [Resolve(FIRE, "bin", b.id, r.time, note=f"temperature down to {temp:.0f} °C",
                        evidence=(r.evidence("temperature_c"),))]
    return []


def _fill(state: BinState, r: Reading, b: Bin, p: BinParams, fill: float) -> (
    list[Action]
):
    fill = round(fill, 2)
    actions: list[Action] = []
    evidence = r.evidence("distance_mm") | {"fill_pct": fill}
    last_fill = state.last_fill
    points = state.points
    if last_fill is not None and last_fill - fill >= p.emptied_drop_pct:
        state.profile = fill_forecast.blend(state.profile, fill_forecast.weekday_rates(points))
        points.clear()
        state.above = 0
        if state.open:
            state.open = False
            actions.append(Resolve(FULL, "bin", b.id, r.time,
                                   note=f"emptied: fill fell from {last_fill:.0f} to {fill:.0f} %",
                                   evidence=(evidence,)))
    state.last_fill = fill
    points.append([r.ts, fill])
    del points[:-MAX_POINTS]
    if state.open:
        return [*actions, Update(FULL, "bin", b.id, r.time, fill, (evidence,))]
    threshold = p.fill_threshold_pct
    if fill >= threshold:
        state.above += 1
        if state.above >= p.confirm_readings:
            state.open = True
            actions.append(_full_order(r, b, p, fill, evidence=evidence, full_ts=None))
        return actions
    state.above = 0
    if p.forecast:
        until = (next_collection(r.ts, b.collection_weekday) if b.collection_weekday is not None
                 else r.ts + p.forecast_horizon_h * 3600)
        when = fill_forecast.full_at(points, until, profile=state.profile,
                                     min_points=p.forecast_min_points,
                                     min_span_h=p.forecast_min_span_h)
        if when is not None:
            state.open = True
            actions.append(_full_order(r, b, p, fill, evidence=evidence, full_ts=when))
    return actions


def _full_order(r: Reading, b: Bin, p: BinParams, fill: float, *,
                evidence: dict[str, Any], full_ts: float | None) -> Open:
    params: dict[str, Any] = {"fill_threshold_pct": p.fill_threshold_pct,
                              "reason": "threshold" if full_ts is None else "forecast"}
    due = r.time + timedelta(hours=24)
    title = f"Empty bin {b.name or b.id}: {fill:.0f} % full"
    if full_ts is not None:
        full = datetime.fromtimestamp(full_ts, UTC)
        params["forecast_full_at"] = full.isoformat()
        due = full  # not late before the time it forecasts (rules/escalation.py)
        title = f"Empty bin {b.name or b.id}: {fill:.0f} %, full by {full:%a %H:%M} (forecast)"
    return Open(rule=FULL, kind="empty_bin", subject_type="bin", subject_id=b.id, at=r.time,
                title=title, priority=p.priority, due_at=due, since=r.time, value=fill,
                evidence=(evidence,), params=params, dev_eui=r.dev_eui)
