"""The rules file: validation, plant types and per-asset overrides."""

from __future__ import annotations

import pytest

from rules import ruleset
from rules.errors import RulesFileError


def test_packaged_defaults_load() -> None:
    rules = ruleset.load()
    assert (rules.bins.fill_threshold_pct, rules.sensor_health.silent_intervals) == (80, 3)


def test_precedence_default_plant_type_column_override() -> None:
    rules = ruleset.parse(
        "watering:\n  plant_types: {lawn: {low_pct: 15, clear_pct: 22, sustain_h: 8}}\n"
        "overrides:\n  ga9: {watering: {clear_pct: 35}}\n")
    assert rules.watering_for("ga1", "roses").low_pct == 20
    lawn = rules.watering_for("ga1", "lawn")
    assert (lawn.low_pct, lawn.clear_pct, lawn.sustain_h) == (15, 22, 8)
    assert rules.watering_for("ga1", "lawn", low_pct=12).low_pct == 12
    assert rules.watering_for("ga9", "lawn", low_pct=12).clear_pct == 35
    assert ruleset.parse("overrides: {b7: {bins: {fill_threshold_pct: 60}}}").bins_for(
        "b7", 90).fill_threshold_pct == 60


@pytest.mark.parametrize(("text", "message"), [
    ("watering: {low_pct: 30, clear_pct: 25}",
     "rules file r.yaml: watering: Value error, clear_pct (25.0) must be above low_pct (30.0): "
     "the gap is the hysteresis that stops orders flapping"),
    ("bins: {fill_threshold_pct: 120}",
     "rules file r.yaml: bins.fill_threshold_pct: Input should be less than or equal to 100"),
    ("bins: {fill_treshold_pct: 70}",
     "rules file r.yaml: bins.fill_treshold_pct: Extra inputs are not permitted"),
    ("overrides: {b1: {bin: {fill_threshold_pct: 70}}}",
     "rules file r.yaml: Value error, overrides.b1: unknown section 'bin' "
     "(one of watering, bins, sensor_health, vehicles)"),
    ("overrides: {b1: {bins: {fill_threshold_pct: -1}}}",
     "rules file r.yaml: Value error, overrides.b1.bins: fill_threshold_pct: "
     "Input should be greater than 0"),
    ("[1, 2]", "rules file r.yaml: the top level must be a mapping"),
])
def test_bad_files_name_the_field(text: str, message: str) -> None:
    with pytest.raises(RulesFileError) as caught:
        ruleset.parse(text, "r.yaml")
    assert str(caught.value) == message


def test_table_overrides_win_over_the_files_per_parameter_and_bad_rows_are_left_out() -> None:
    rules = ruleset.parse("overrides: {b2: {bins: {fill_threshold_pct: 75, confirm_readings: 3}}}")
    merged, refused = rules.with_overrides([
        ("b1", "bins", {"fill_threshold_pct": 70}),
        ("b2", "bins", {"confirm_readings": 2}),
        ("b3", "bins", {"fill_threshold_pct": 150}),
        ("b4", "bins", [70]),
        ("b5", "lights", {"on": True}),
    ])
    assert [(merged.bins_for(b, 80).fill_threshold_pct, merged.bins_for(b).confirm_readings)
            for b in ("b1", "b2", "b3")] == [(70, 1), (75, 2), (80, 1)]
    assert merged.overrides == {"b1": {"bins": {"fill_threshold_pct": 70}},
                                "b2": {"bins": {"fill_threshold_pct": 75, "confirm_readings": 2}}}
    assert refused == [
        "rule_overrides 'b3' bins: fill_threshold_pct: Input should be less than or equal to 100",
        "rule_overrides 'b4' bins: params must be an object of parameters, not list",
        "rule_overrides 'b5' lights: unknown section "
        "(one of watering, bins, sensor_health, vehicles)",
    ]
    assert rules.overrides == {"b2": {"bins": {"fill_threshold_pct": 75, "confirm_readings": 3}}}
