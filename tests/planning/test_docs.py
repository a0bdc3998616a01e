"""docs/planning.md's examples run as written: its planner.yaml is saved on the default town
and a day is planned with it; `routes plan` for a day the data has passed warns."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import psycopg
import pytest

from harness import town
from shell.main import main
from simulator import scenario

DOCS = Path(__file__).resolve().parents[2] / "docs" / "planning.md"


@pytest.fixture
def env(database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The test database as BAUHOF_DATABASE_URL, run from an empty directory."""
    monkeypatch.setenv("BAUHOF_DATABASE_URL", database_url)
    monkeypatch.chdir(tmp_path)


def planner_yaml() -> str:
    """The planner.yaml block of docs/planning.md, as a reader copies it."""
    text = DOCS.read_text(encoding="utf-8")
    match = re.search(r"`planner.yaml`[^\n]*\n\n```yaml\n(.*?)```", text, re.DOTALL)
    assert match is not None
    return match.group(1)


def test_the_documented_planner_yaml_saves_and_plans(
        database_url: str, conn: psycopg.Connection[Any], env: None, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    town.load_assets(database_url, scenario.load("herrenberg"))
    (tmp_path / "planner.yaml").write_text(planner_yaml(), encoding="utf-8")
    assert main(["routes", "settings", "save", "planner.yaml", "--note",
                 "depot and trucks"]) == 0
    assert capsys.readouterr().out == "saved planner settings version 1\n"
    # No readings yet: only the bin always collected goes, on one of the two trucks listed.
    assert main(["routes", "plan", "--date", "2026-06-02", "--json"]) == 0
    captured = capsys.readouterr()
    doc = json.loads(captured.out)
    assert (doc["bins_planned"], [r["bins"] for r in doc["routes"]]) == (1, [["bin-0007"]])
    assert doc["routes"][0]["vehicle_id"] in ("veh-1", "veh-2")
    assert [w["code"] for w in doc["warnings"]] == ["date_past", "no_readings"]
    assert captured.err.splitlines()[1] == (
        "bauhof routes: warning: There are no bin readings: nothing to forecast.")


def test_planning_a_day_the_data_has_passed_warns(town: psycopg.Connection[Any], env: None,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    # The town's readings run from Monday 1 June 00:00 to 10:00 UTC; Monday's shift began
    # at 04:30 UTC.
    assert main(["routes", "plan", "--date", "2026-06-01", "--json"]) == 0
    captured = capsys.readouterr()
    doc = json.loads(captured.out)
    assert [w["code"] for w in doc["warnings"]] == [
        "date_past", "data_after_date", "stale_data", "bins_without_recent_reading"]
    lines = captured.err.splitlines()
    assert lines[1] == (
        "bauhof routes: warning: The data goes on after the day's shift began (newest "
        "reading 2026-06-01 12:00): the plan uses forecasts from then, not from that day.")
    assert lines[3] == (
        "bauhof routes: warning: 1 bins have no reading in the 24 h before the newest one: "
        "bin-5.")
    assert len(lines) == 4
