"""Rules files say what wins: `force`, the precedence of every layer, `rules explain`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg
import pytest

from rules import ruleset
from rules.errors import RulesFileError
from shell.main import main
from tests.rules import factory as f
from tests.rules.conftest import rules_check

FILE = """
bins:
  fill_threshold_pct: 70
  force: {fill_threshold_pct: 60, confirm_readings: 2}
watering:
  low_pct: 15
  plant_types: {roses: {low_pct: 25, clear_pct: 35}}
  force: {clear_pct: 40}
sensor_health:
  force: {silent_intervals: 5}
vehicles:
  force: {stationary_h: 4}
overrides:
  b2: {bins: {fill_threshold_pct: 90}}
  ga1: {watering: {low_pct: 22}}
  dev1: {sensor_health: {silent_intervals: 7}}
"""


def test_section_values_are_defaults_for_assets_without_their_own() -> None:
    rules = ruleset.parse("bins: {fill_threshold_pct: 60}\n")
    assert rules.bins_for("b1", None).fill_threshold_pct == 60
    # The bin's own column wins over the file's section value: the surprise of issue 20.
    assert rules.bins_for("b1", 80).fill_threshold_pct == 80


def test_force_wins_over_asset_columns_and_overrides_win_over_force() -> None:
    rules = ruleset.parse(FILE)
    assert rules.bins_for("b1", 80).fill_threshold_pct == 60
    assert rules.bins_for("b1", 80).confirm_readings == 2
    assert rules.bins_for("b2", 80).fill_threshold_pct == 90
    area = rules.watering_for("ga2", "roses", low_pct=18, clear_pct=30)
    assert (area.low_pct, area.clear_pct) == (18, 40)
    assert rules.watering_for("ga1", "roses", low_pct=18).low_pct == 22
    assert rules.watering_for("ga3", "lawn").low_pct == 15
    assert rules.health_for("dev9", "b1").silent_intervals == 5
    assert rules.health_for("dev1", "b1").silent_intervals == 7
    assert rules.vehicles_for("v1").stationary_h == 4


def test_force_is_validated_when_loaded() -> None:
    with pytest.raises(RulesFileError) as bad_value:
        ruleset.parse("bins: {force: {fill_threshold_pct: 160}}\n", "r.yaml")
    assert str(bad_value.value) == ("rules file r.yaml: Value error, bins.force: "
                                    "fill_threshold_pct: Input should be less than or equal "
                                    "to 100")
    with pytest.raises(RulesFileError) as unknown:
        ruleset.parse("vehicles: {force: {nosuch: 1}}\n", "r.yaml")
    assert str(unknown.value) == ("rules file r.yaml: Value error, vehicles.force: nosuch: "
                                  "Extra inputs are not permitted")
    with pytest.raises(RulesFileError):
        # Forced values must still keep the hysteresis with the area's other parameters.
        ruleset.parse("watering: {force: {clear_pct: 10}}\n")


def test_explain_names_the_source_of_every_parameter() -> None:
    rules = ruleset.parse(FILE)
    explained = {name: (value, source) for name, value, source in rules.explain(
        "watering", rules.watering_layers("ga1", "roses", low_pct=18, clear_pct=30), "f.yaml")}
    assert explained["low_pct"] == (22, "overrides.ga1.watering")
    assert explained["clear_pct"] == (40, "watering.force")
    assert explained["sustain_h"] == (6, "default")
    explained = {name: (value, source) for name, value, source in rules.explain(
        "watering", rules.watering_layers("ga2", "roses"), "f.yaml")}
    assert explained["low_pct"] == (25, "watering.plant_types.roses")
    assert explained["clear_pct"] == (40, "watering.force")
    explained = {name: (value, source) for name, value, source in rules.explain(
        "watering", rules.watering_layers("ga2", None), "f.yaml")}
    assert explained["low_pct"] == (15, "f.yaml watering.low_pct")


def test_rules_check_prints_forced_values(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "f.yaml"
    assert rules_check(capsys, path, "bins: {force: {fill_threshold_pct: 60}}\n") == (
        f"{path}: ok (version 1, 0 overrides, 0 plant types)\n"
        "  watering: packaged defaults\n"
        "  bins: packaged defaults; forced over every asset: fill_threshold_pct 60\n"
        "  sensor_health: packaged defaults\n"
        "  vehicles: packaged defaults\n")
    assert main(["rules", "check", str(tmp_path / "nosuch.yaml")]) == 2
    assert capsys.readouterr().err == (
        f"bauhof rules: error: no rules file {tmp_path / 'nosuch.yaml'}\n")


def test_rules_explain_asset_from_the_database(
        conn: psycopg.Connection[Any], database_url: str, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    f.bin_(conn, "b1", dev=2, threshold=80)
    f.bin_(conn, "b2", dev=3, threshold=85)
    conn.execute("INSERT INTO rule_overrides (asset_id, section, params, updated_by) "
                 "VALUES ('b2', 'bins', '{\"confirm_readings\": 3}', 'admin')")
    path = tmp_path / "f.yaml"
    path.write_text("bins: {force: {fill_threshold_pct: 60}, priority: 2}\n"
                    "overrides: {b2: {bins: {fill_threshold_pct: 90, confirm_readings: 2}}}\n")
    monkeypatch.setenv("BAUHOF_DATABASE_URL", database_url)
    monkeypatch.chdir(tmp_path)
    assert main(["rules", "explain", "b1", "--rules", str(path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == (f"bin b1: bins parameters (lowest to highest: default, {path} section, "
                        "plant type, the asset's own columns, section.force, overrides.<id>, "
                        "rule_overrides rows)")
    rows = {line.split()[0]: line.split(None, 2)[1:] for line in lines[1:-1]}
    assert rows["fill_threshold_pct"] == ["60.0", f"{path} bins.force"]
    assert rows["priority"] == ["2", f"{path} bins.priority"]
    assert rows["confirm_readings"] == ["1", "default"]
    assert lines[-1] == f"  its sensors' health parameters: bauhof rules explain {f.eui(2)}"
    assert main(["rules", "explain", "b2", "--rules", str(path)]) == 0
    rows = {line.split()[0]: line.split(None, 2)[1:]
            for line in capsys.readouterr().out.splitlines()[1:-1]}
    assert rows["fill_threshold_pct"] == ["90.0", f"{path} overrides.b2.bins"]
    assert rows["confirm_readings"] == ["3", "rule_overrides row b2 bins (API rule settings)"]
    assert main(["rules", "explain", f.eui(2)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith(f"device {f.eui(2)} (") and "on bin b1" in out[0]
    assert main(["rules", "explain", "nosuch"]) == 2
    assert capsys.readouterr().err == (
        "bauhof rules: error: no green area, bin, vehicle or device 'nosuch' in the database "
        "(see `bauhof assets load`)\n")
