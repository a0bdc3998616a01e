"""Planner settings: validation with named fields, versions, references."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from planning import SettingsInvalid
from planning import settings as s
from tests.planning.factory import add_bin, add_vehicle


def test_defaults() -> None:
    cfg = s.PlannerSettings()
    assert (cfg.fill_threshold_pct, cfg.horizon_h, cfg.shift_start, cfg.shift_h,
            cfg.working_days, cfg.road_factor) == (None, 24.0, "06:30", 8.0, [0, 1, 2, 3, 4],
                                                   1.3)
    assert (cfg.threshold_for(None), cfg.threshold_for(70.0)) == (80.0, 70.0)
    assert s.PlannerSettings(fill_threshold_pct=60).threshold_for(70.0) == 60.0


@pytest.mark.parametrize(("data", "problems"), [
    ({"fill_threshold_pct": 120}, ["fill_threshold_pct: Input should be less than or equal "
                                   "to 100"]),
    ({"timezone": "Mars/Olympus"}, ["timezone: Value error, unknown time zone "
                                    "'Mars/Olympus' (e.g. Europe/Berlin)"]),
    ({"shift_start": "6h"}, ["shift_start: Value error, '6h' is not a time of day like 06:30"]),
    ({"always": ["b-1"], "never": ["b-1"]}, ["(settings): Value error, bins both always and "
                                             "never collected: b-1"]),
    ({"vehicles": [{"id": "v", "capacity_l": -1}]}, ["vehicles.0.capacity_l: Input should be "
                                                     "greater than 0"]),
    ({"colour": "red"}, ["colour: Extra inputs are not permitted"]),
])
def test_invalid_settings_name_the_field(data: dict[str, Any], problems: list[str]) -> None:
    with pytest.raises(SettingsInvalid) as caught:
        s.parse(data)
    assert caught.value.problems == problems


def test_saving_makes_versions(conn: psycopg.Connection[Any]) -> None:
    add_bin(conn, "bin-1", 48.6, 8.87)
    add_vehicle(conn, "veh-1", 20000)
    assert s.current(conn) == (None, s.PlannerSettings())
    assert s.save(conn, s.PlannerSettings(fill_threshold_pct=75), "planner:paula", "lower") == 1
    assert s.save(conn, s.PlannerSettings(fill_threshold_pct=85, always=["bin-1"]),
                  "planner:paula") == 2
    version, cfg = s.current(conn)
    assert (version, cfg.fill_threshold_pct, cfg.always) == (2, 85.0, ["bin-1"])
    assert [(h["version"], h["created_by"], h["note"]) for h in s.history(conn)] == [
        (2, "planner:paula", None), (1, "planner:paula", "lower")]
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute("UPDATE planner_settings SET note = 'x'")


def test_unknown_vehicles_and_bins_are_refused(conn: psycopg.Connection[Any]) -> None:
    add_bin(conn, "bin-1", 48.6, 8.87)
    cfg = s.PlannerSettings(vehicles=[s.VehicleSetting(id="veh-9")], never=["bin-7"])
    with pytest.raises(SettingsInvalid) as caught:
        s.save(conn, cfg, "planner:paula")
    assert caught.value.problems == ["vehicles.0.id: no vehicle 'veh-9'",
                                     "never.0: no bin 'bin-7'"]
    assert s.current(conn)[0] is None
