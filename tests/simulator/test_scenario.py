"""The scenario file: the default town, and validation errors that name the field."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
import yaml

from bauhof import assets
from simulator import scenario
from simulator.scenarios import generate
from tests.simulator.conftest import tiny_town


def test_default_town_has_the_promised_assets(herrenberg: scenario.Scenario) -> None:
    models = sorted({d.model for d in herrenberg.devices})
    assert (len(herrenberg.green_areas), len(herrenberg.bins), len(herrenberg.vehicles),
            len(herrenberg.gateways), len(herrenberg.devices)) == (40, 250, 6, 5, 296)
    assert models == ["dragino-ldds75", "dragino-lgt92", "dragino-lse01", "milesight-at101",
                      "milesight-em310-udl", "milesight-em400-udl", "milesight-em500-smtc"]
    # Areas 1-32 have a sponsor; 33-40 are free for the portal and need a first planting.
    assert [a.id for a in herrenberg.green_areas if a.sponsor is None] == [
        f"ga-{n:03d}" for n in range(33, 41)]
    assert all(a.needs_planting == (a.sponsor is None) for a in herrenberg.green_areas)
    assert all(a.area_m2 for a in herrenberg.green_areas)
    assert all(d.expected_interval_s for d in herrenberg.devices)
    assert herrenberg.town.name == "Herrenberg"
    assert abs(herrenberg.town.latitude - 48.596) < 0.01
    assert abs(herrenberg.town.longitude - 8.870) < 0.01


def test_generator_reproduces_the_packaged_file() -> None:
    packaged = Path(generate.__file__).with_name("herrenberg.yaml").read_text(encoding="utf-8")
    data = generate.build(random.Random(2026))
    text = yaml.dump(data, Dumper=generate._Dumper, sort_keys=False, allow_unicode=True,
                     width=100)
    assert packaged.endswith(text)


def test_the_asset_loader_reads_the_scenario_file() -> None:
    path = Path(generate.__file__).with_name("herrenberg.yaml")
    parsed = assets.parse(path)
    assert (len(parsed.sponsors), len(parsed.green_areas), len(parsed.bins),
            len(parsed.vehicles), len(parsed.devices)) == (32, 40, 250, 6, 296)
    assert assets.cross_check(parsed) == []


def test_a_name_resolves_to_the_packaged_scenario_and_a_path_to_a_file(tmp_path: Path) -> None:
    path = tmp_path / "town.yaml"
    path.write_text(yaml.safe_dump(tiny_town()), encoding="utf-8")
    assert scenario.load(path).town.name == "Testdorf"
    assert "herrenberg" in scenario.packaged()
    with pytest.raises(scenario.ScenarioError, match=r"no such file, and no packaged scenario"):
        scenario.load("atlantis")


@pytest.mark.parametrize(("change", "message"), [
    ({"devices": [{"dev_eui": "A840410000000001", "model": "dragino-lse01"}]},
     "devices[0].dev_eui: Value error, must be 16 lower-case hex digits, got 'A840410000000001'"),
    ({"devices": [{"dev_eui": "a840410000000001", "model": "acme-9000"}]},
     "devices[0].model: unknown model 'acme-9000'"),
    ({"devices": [{"dev_eui": "a840410000000001", "model": "dragino-lse01",
                   "asset": "green_area/ga-9"}]},
     "devices[0].asset: no green_area 'ga-9'"),
    ({"devices": [{"dev_eui": "a840410000000001", "model": "dragino-lse01",
                   "asset": "bin/bin-1"}]},
     "devices[0].asset: a soil sensor (dragino-lse01) cannot sit on a bin"),
    ({"faults": {"gremlins": 0.1}}, "faults.gremlins: unknown fault"),
    ({"bins": [{"id": "bin-1", "latitude": 91, "longitude": 8.87, "volume_l": 240,
                "empty_distance_mm": 1000, "full_distance_mm": 200}]},
     "bins[0].latitude: Input should be less than or equal to 90"),
    ({"gateways": []}, "gateways: List should have at least 1 item"),
    ({"town": {"name": "X", "latitude": 48.6, "longitude": 8.87}}, "town.depot: Field required"),
    ({"green_areas": [{"id": "ga-1", "name": "Beet", "latitude": 48.6, "longitude": 8.87,
                       "sponsor": "sp-9"}]},
     "green_areas[0].sponsor: no sponsor 'sp-9'"),
])
def test_validation_errors_name_the_field(change: dict[str, object], message: str) -> None:
    with pytest.raises(scenario.ScenarioError) as caught:
        scenario.parse(tiny_town(**change), "town.yaml")
    assert any(p.startswith(message) for p in caught.value.problems), caught.value.problems
    assert str(caught.value).startswith("scenario town.yaml: ")


def test_a_file_that_is_not_yaml_is_named(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("town: [unclosed\n", encoding="utf-8")
    with pytest.raises(scenario.ScenarioError, match=r"broken.yaml: not valid YAML"):
        scenario.load(path)
