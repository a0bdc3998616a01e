"""`bauhof routes …` and `bauhof bench routes` as a user runs them."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import psycopg
import pytest

from shell.main import main


@pytest.fixture
def env(database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The test database as BAUHOF_DATABASE_URL, run from an empty directory."""
    monkeypatch.setenv("BAUHOF_DATABASE_URL", database_url)
    monkeypatch.chdir(tmp_path)


def test_plan_a_day_as_json(town: psycopg.Connection[Any], env: None,
                            capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["routes", "plan", "--date", "2026-06-02", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert (doc["kind"], doc["bins_planned"], doc["routes"][0]["vehicle_id"]) == (
        "plan", 3, "veh-1")
    assert town.execute("SELECT count(*) FROM work_orders WHERE kind = 'collection_route'"
                        ).fetchone() == (1,)


def test_plan_prints_routes(town: psycopg.Connection[Any], env: None,
                            capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["routes", "preview", "--date", "2026-06-02", "--threshold", "95",
                 "--horizon", "0"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("preview ")
    assert lines[0].split(" for ")[1].startswith("2026-06-02: 1 of 1 bins in 1 route(s), ")
    assert lines[1].startswith("  route 1 veh-1: 1 stops, ")
    assert lines[1].endswith("(no order)")


def test_settings_save_and_show(town: psycopg.Connection[Any], env: None, tmp_path: Path,
                                capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "cfg.yaml").write_text("fill_threshold_pct: 70\nhorizon_h: 12\n",
                                       encoding="utf-8")
    assert main(["routes", "settings", "save", str(tmp_path / "cfg.yaml"), "--note", "x"]) == 0
    assert capsys.readouterr().out == "saved planner settings version 2\n"
    assert main(["routes", "settings", "show"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert (shown["version"], shown["settings"]["fill_threshold_pct"],
            shown["settings"]["horizon_h"]) == (2, 70.0, 12.0)
    (tmp_path / "bad.yaml").write_text("fill_threshold_pct: 170\n", encoding="utf-8")
    assert main(["routes", "settings", "save", str(tmp_path / "bad.yaml")]) == 1
    assert capsys.readouterr().err == (
        "bauhof routes: planner settings are invalid: fill_threshold_pct: Input should be "
        "less than or equal to 100\n")


@pytest.mark.parametrize("argv", [
    ["routes", "plan", "--date", "tomorrow"],
    ["routes", "plan", "--threshold", "120"],
    ["routes", "preview", "--horizon", "-1"],
    ["bench", "routes", "--limit", "0"],
])
def test_bad_arguments_exit_2_with_one_line(argv: list[str],
                                            capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(argv)
    assert caught.value.code == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1


def test_bench_routes_prints_one_json_object(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "routes", "--bins", "30", "--vehicles", "2", "--limit", "0.3",
                 "--long", "0.6", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert sorted(doc) == ["bins", "capacity_l", "gap_pct", "long_feasible", "long_km",
                           "long_s", "matrix_s", "plan_feasible", "plan_iterations",
                           "plan_km", "plan_routes", "plan_s", "vehicles"]
    assert (doc["bins"], doc["vehicles"], doc["plan_feasible"]) == (30, 2, True)
    assert doc["gap_pct"] >= 0


def test_refresh_once(town: psycopg.Connection[Any], env: None,
                      capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["routes", "refresh", "--no-previews"]) == 0
    line = capsys.readouterr().out
    assert line.startswith("forecasts 5 (as of 2026-06-01 10:00:00+00:00), previews 0 for "
                           "2026-06-02, stops done 0 in ")
    assert town.execute("SELECT count(*), min(plan_date) FROM bin_forecasts").fetchone() == (
        5, date(2026, 6, 2))
