"""Asset files: validated whole with errors that name the line or feature, upserted by id."""

from __future__ import annotations

import json
from pathlib import Path

import psycopg
import pytest

from bauhof import assets

GOOD = """\
sponsors:
  - id: sp-1
    name: Bäckerei Schmid
    email: info@example.org
green_areas:
  - id: ga-1
    name: Marktplatz Beet
    plant_type: flowers
    latitude: 48.5952
    longitude: 8.8701
    radius_m: 12
    sponsor: sp-1
bins:
  - id: bin-1
    latitude: 48.5931
    longitude: 8.8655
    volume_l: 240
    empty_distance_mm: 1000
    full_distance_mm: 150
    collection_weekday: 2
vehicles:
  - id: veh-1
    name: Pritsche 1
devices:
  - dev_eui: A84041000181C0DE
    model: dragino-lse01
    asset: green_area/ga-1
    expected_interval_s: 1200
  - dev_eui: a84041000181c0df
    model: dragino-ldds75
    asset: bin/bin-1
gateways: [{id: gw-1}]
"""


def test_load_is_an_upsert(tmp_path: Path, database_url: str,
                           conn: psycopg.Connection[tuple[object, ...]]) -> None:
    path = tmp_path / "town.yaml"
    path.write_text(GOOD, encoding="utf-8")
    counts = assets.load_file(database_url, path)
    assert counts == {"sponsors": 1, "green areas": 1, "bins": 1, "vehicles": 1, "devices": 2}
    assert assets.load_file(database_url, path) == counts
    assert conn.execute("SELECT count(*) FROM devices").fetchone() == (2,)
    assert conn.execute(
        "SELECT dev_eui, kind, asset_type, asset_id, expected_interval_s FROM devices"
        " ORDER BY dev_eui").fetchall() == [
        ("a84041000181c0de", "soil", "green_area", "ga-1", 1200),
        ("a84041000181c0df", "bin", "bin", "bin-1", None)]
    assert conn.execute("SELECT sponsor_id, plant_type FROM green_areas").fetchone() == (
        "sp-1", "flowers")
    path.write_text(GOOD.replace("name: Pritsche 1", "name: Pritsche Eins"), encoding="utf-8")
    assets.load_file(database_url, path)
    assert conn.execute("SELECT name FROM vehicles").fetchall() == [("Pritsche Eins",)]


def test_errors_name_the_yaml_line_and_nothing_is_loaded(
        tmp_path: Path, database_url: str, conn: psycopg.Connection[tuple[object, ...]]) -> None:
    bad = GOOD.replace("latitude: 48.5931", "latitude: 148.5931").replace(
        "model: dragino-ldds75", "model: acme-bin").replace("vehicles:", "trucks:")
    path = tmp_path / "bad.yaml"
    path.write_text(bad, encoding="utf-8")
    with pytest.raises(assets.AssetFileError) as caught:
        assets.load_file(database_url, path)
    assert caught.value.problems == [
        "line 14: bins latitude: Input should be less than or equal to 90",
        "unknown section 'trucks' (expected one of sponsors, green_areas, bins, vehicles, "
        "devices)",
        "line 29: devices model: Value error, unknown model 'acme-bin'; known: cayenne-lpp, "
        "decentlab-dl-smtp, dingtek-df703, dragino-ldds75, dragino-lgt92, dragino-lse01, "
        "milesight-at101, milesight-em310-udl, milesight-em400-udl, milesight-em500-smtc",
    ]
    assert conn.execute("SELECT count(*) FROM sponsors").fetchone() == (0,)


def test_references_and_geometry_are_checked(tmp_path: Path) -> None:
    text = GOOD.replace("sponsor: sp-1", "sponsor: sp-9").replace(
        "full_distance_mm: 150", "full_distance_mm: 1500").replace(
        "asset: bin/bin-1", "asset: bin/bin-2")
    path = tmp_path / "refs.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(assets.AssetFileError) as caught:
        assets.parse(path)
    assert caught.value.problems == [
        "line 14: bins item: Value error, full_distance_mm must be below empty_distance_mm"]
    path.write_text(text.replace("full_distance_mm: 1500", "full_distance_mm: 150"))
    with pytest.raises(assets.AssetFileError) as caught:
        assets.parse(path)
    assert caught.value.problems == [
        "green_areas ga-1: sponsor 'sp-9' is unknown",
        "devices a84041000181c0df: asset bin/bin-2 is unknown",
    ]


def test_geojson_features(tmp_path: Path, database_url: str,
                          conn: psycopg.Connection[tuple[object, ...]]) -> None:
    collection = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [[
            [8.87, 48.59], [8.871, 48.59], [8.871, 48.591], [8.87, 48.59]]]},
         "properties": {"type": "green_area", "id": "ga-7", "name": "Dreieck"}},
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [8.8655, 48.5931]},
         "properties": {"type": "bin", "id": "bin-7", "volume_l": 1100,
                        "empty_distance_mm": 1400, "full_distance_mm": 200}},
        {"type": "Feature", "geometry": None, "properties": {"type": "tree", "id": "t"}},
    ]}
    path = tmp_path / "town.geojson"
    path.write_text(json.dumps(collection))
    with pytest.raises(assets.AssetFileError) as caught:
        assets.load_file(database_url, path)
    assert caught.value.problems == [
        "feature 2: properties.type must be green_area, bin, vehicle, sponsor or device, "
        "got 'tree'"]
    collection["features"] = collection["features"][:2]  # type: ignore[index]
    path.write_text(json.dumps(collection))
    assert assets.load_file(database_url, path)["bins"] == 1
    row = conn.execute("SELECT latitude, longitude, polygon FROM green_areas").fetchone()
    assert row is not None
    assert (round(float(str(row[0])), 6), round(float(str(row[1])), 6)) == (48.590333, 8.870667)
    assert row[2] == [[8.87, 48.59], [8.871, 48.59], [8.871, 48.591], [8.87, 48.59]]
