"""Which bins are collected on a day, and when shifts start."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from planning import forecast as fc
from planning import selection
from planning.settings import PlannerSettings
from rules.assets import Bin

FRIDAY = date(2026, 6, 5)


def test_shift_start_is_local_time_in_utc() -> None:
    cfg = PlannerSettings()
    day = selection.schedule(FRIDAY, cfg)
    assert day.starts_at == datetime(2026, 6, 5, 4, 30, tzinfo=UTC)
    # The next working day after a Friday is the Monday.
    assert day.next_at == datetime(2026, 6, 8, 4, 30, tzinfo=UTC)
    assert selection.next_plan_date(datetime(2026, 6, 5, 4, 29, tzinfo=UTC), cfg) == FRIDAY
    assert selection.next_plan_date(datetime(2026, 6, 5, 4, 31, tzinfo=UTC), cfg) == date(
        2026, 6, 8)


def bins(*ids: str, threshold: float | None = 80) -> dict[str, Bin]:
    """1100-litre bins."""
    return {i: Bin(i, None, 48.6, 8.87, 1100.0, 1000.0, 100.0, threshold, 4) for i in ids}


def flat(bin_id: str, as_of: datetime, fill: float, rate: float) -> fc.Forecast:
    """A forecast rising linearly from `fill` at `rate` % per hour from as_of."""
    curve = fc.curve_from(fill, rate, as_of.timestamp(), [1.0] * 7)
    return fc.Forecast(bin_id, as_of, as_of, fill, rate, 80.0, None, None, 10, "trend", curve)


def test_reasons_in_order_of_precedence() -> None:
    cfg = PlannerSettings(horizon_h=24, compaction=0.25, always=["b-always"],
                          never=["b-never"])
    tuesday = selection.schedule(date(2026, 6, 2), cfg)
    as_of = tuesday.starts_at - timedelta(hours=10)
    # The next shift is 34 h after as_of, the horizon ends 34 h after it too.
    forecasts = {
        "b-full": flat("b-full", as_of, 70.0, 1.0),          # 80 at the start
        "b-overflow": flat("b-overflow", as_of, 10.0, 3.0),  # 40 at the start, 112 next
        "b-soon": flat("b-soon", as_of, 50.0, 0.5),          # 55 at the start, 67 in 24 h
        "b-horizon": flat("b-horizon", as_of, 50.0, 1.0),    # 60 at the start, 84 in 24 h
        "b-low": flat("b-low", as_of, 5.0, 0.1),
        "b-never": flat("b-never", as_of, 99.0, 1.0),
        "b-always": flat("b-always", as_of, 0.0, 0.0),
    }
    chosen = selection.select(forecasts, bins(*forecasts), tuesday, cfg)
    assert [(s.bin_id, s.reason, s.expected_fill_pct, s.load_l) for s in chosen] == [
        ("b-always", "always", 0.0, 0.0),
        ("b-full", "threshold", 80.0, 220.0),
        ("b-horizon", "forecast", 60.0, 165.0),
        ("b-overflow", "overflow", 40.0, 110.0),
    ]


def test_planner_threshold_overrides_the_bins_own() -> None:
    as_of = datetime(2026, 6, 5, 4, 30, tzinfo=UTC)
    day = selection.schedule(FRIDAY, PlannerSettings())
    forecasts = {"b-1": flat("b-1", as_of, 65.0, 0.0)}
    own = selection.select(forecasts, bins("b-1"), day, PlannerSettings(horizon_h=0))
    lower = selection.select(forecasts, bins("b-1"), day,
                             PlannerSettings(horizon_h=0, fill_threshold_pct=60))
    assert own == []
    assert [(s.bin_id, s.reason) for s in lower] == [("b-1", "threshold")]
