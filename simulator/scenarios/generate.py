"""Generate the default scenario `herrenberg.yaml`: a small town around 48.596 N, 8.870 E.

Run `python -m simulator.scenarios.generate` to rewrite the file; it is seeded, so the output
only changes when this script does. Places, names and sponsors are made up.
"""

from __future__ import annotations

import math
import random
import sys
import uuid
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from bauhof.geo import offset

CENTRE = (48.5955, 8.8707)
DEPOT = (48.6031, 8.8562)
NAMESPACE = uuid.UUID("0b5c6a52-3a1e-4a4f-8d7e-6f2b1c9e4a10")
STREETS = (
    "Marktplatz", "Bahnhofstraße", "Tübinger Straße", "Stuttgarter Straße",
    "Hildrizhauser Straße", "Horber Straße", "Nagolder Straße", "Schlossberg", "Seestraße",
    "Bronngasse", "Hindenburgstraße",
    "Reinhold-Schick-Platz", "Kalkofenstraße", "Affstätter Tal", "Schießmauer", "Spitalgasse",
    "Graben", "Bismarckstraße", "Jahnstraße", "Walther-Knoll-Straße", "Zeppelinstraße",
    "Längenholz", "Stadtpark", "Alzentalstraße", "Wiesenstraße", "Hohlweg", "Mühlstraße",
)
AREA_KINDS = {"lawn": "Rasen", "flowers": "Beet", "shrubs": "Hecke", "trees": "Baumscheibe",
              "meadow": "Wiese"}
TRADES = ("Bäckerei", "Gärtnerei", "Apotheke", "Metzgerei", "Buchhandlung", "Café", "Praxis",
          "Autohaus", "Verein", "Familie")
SURNAMES = ("Schmid", "Weller", "Maier", "Hahn", "Kübler", "Renz", "Bauer", "Schäfer", "Hipp",
            "Lutz", "Wagner", "Gauß", "Zeeb", "Kienzle", "Haug", "Rapp", "Ott", "Seeger")
GATEWAYS = (
    ("Rathaus", 48.5955, 8.8707, 455.0), ("Schlossberg", 48.5922, 8.8748, 492.0),
    ("Nord", 48.6068, 8.8689, 441.0), ("Ost", 48.5978, 8.8885, 448.0),
    ("West", 48.5931, 8.8528, 462.0),
)
# (waste type, share, volume l, empty mm, full mm)
BIN_TYPES = (
    ("residual", 0.45, 240, 1000, 180), ("packaging", 0.2, 1100, 1300, 250),
    ("paper", 0.15, 1100, 1300, 250), ("organic", 0.1, 240, 1000, 180),
    ("glass", 0.1, 1100, 1300, 300),
)
VEHICLES = (
    ("veh-1", "Müllwagen 1", "BB-HB 101", "truck", 20000, "dragino-lgt92"),
    ("veh-2", "Müllwagen 2", "BB-HB 102", "truck", 20000, "dragino-lgt92"),
    ("veh-3", "Pritsche 1", "BB-HB 201", "van", 1500, "milesight-at101"),
    ("veh-4", "Pritsche 2", "BB-HB 202", "van", 1500, "milesight-at101"),
    ("veh-5", "Kehrmaschine", "BB-HB 301", "sweeper", 4000, "dragino-lgt92"),
    ("veh-6", "Dienstwagen", "BB-HB 401", "car", None, "milesight-at101"),
)
APPS = {"green": "Grünflächen", "bins": "Abfall", "fleet": "Fuhrpark"}


def app_id(key: str) -> str:
    """A fixed application UUID per application key."""
    return str(uuid.uuid5(NAMESPACE, f"application:{key}"))


def scatter(rng: random.Random, sigma_m: float, limit_m: float) -> tuple[float, float]:
    """A point around the centre, normally scattered, within `limit_m`."""
    while True:
        north, east = rng.gauss(0, sigma_m), rng.gauss(0, sigma_m)
        if north * north + east * east <= limit_m * limit_m:
            lat, lon = offset(*CENTRE, north, east)
            return round(lat, 6), round(lon, 6)


def build(rng: random.Random) -> dict[str, Any]:
    """The whole scenario as plain data."""
    counters = {"a84041": 0x100, "24e124": 0x100}

    def eui(model: str) -> str:
        oui = "a84041" if model.startswith("dragino") else "24e124"
        counters[oui] += 1
        return f"{oui}{counters[oui]:010x}"

    sponsors = []
    for n in range(1, 33):
        name = f"{rng.choice(TRADES)} {rng.choice(SURNAMES)}"
        sponsors.append({"id": f"sp-{n:03d}", "name": name,
                         "email": f"pate{n:03d}@example.org",
                         "period_start": date(2026, 4, 1), "period_end": date(2027, 3, 31)})
    areas, devices = [], []
    for n in range(1, 41):
        plant = rng.choices(list(AREA_KINDS), weights=(35, 30, 15, 10, 10))[0]
        lat, lon = scatter(rng, 600, 1600)
        area_id = f"ga-{n:03d}"
        name = f"{rng.choice(STREETS)} {AREA_KINDS[plant]} {n}"
        radius = rng.choice((5, 8, 12, 20, 30))
        area: dict[str, Any] = {"id": area_id, "name": name, "plant_type": plant,
                                "latitude": lat, "longitude": lon, "radius_m": radius,
                                "area_m2": round(math.pi * radius * radius)}
        # Areas 1-32 have a sponsor; 33-40 are free for the portal, and need a first planting.
        if n <= len(sponsors):
            area["sponsor"] = sponsors[n - 1]["id"]
        else:
            area["needs_planting"] = True
        areas.append(area)
        model = "dragino-lse01" if rng.random() < 0.6 else "milesight-em500-smtc"
        devices.append({"dev_eui": eui(model), "model": model, "name": f"Sonde {name}",
                        "asset": f"green_area/{area_id}", "expected_interval_s": 1200,
                        "application_id": app_id("green")})
    bins = []
    for n in range(1, 251):
        waste, _, volume, empty, full = rng.choices(BIN_TYPES, weights=[t[1] for t in BIN_TYPES])[0]
        lat, lon = scatter(rng, 700, 2200)
        bin_id = f"bin-{n:04d}"
        name = f"{rng.choice(STREETS)} {rng.randint(1, 60)}"
        bins.append({"id": bin_id, "name": name, "waste_type": waste, "latitude": lat,
                     "longitude": lon, "volume_l": volume, "empty_distance_mm": empty,
                     "full_distance_mm": full, "fill_threshold_pct": 80,
                     "collection_weekday": rng.randint(0, 4)})
        model = rng.choices(("dragino-ldds75", "milesight-em310-udl", "milesight-em400-udl"),
                            weights=(40, 35, 25))[0]
        devices.append({"dev_eui": eui(model), "model": model, "name": f"Füllstand {name}",
                        "asset": f"bin/{bin_id}", "expected_interval_s": 1200,
                        "application_id": app_id("bins")})
    vehicles, routes = [], {}
    for vid, name, plate, kind, capacity, model in VEHICLES:
        vehicle: dict[str, Any] = {"id": vid, "name": name, "plate": plate, "kind": kind}
        if capacity:
            vehicle["capacity_l"] = capacity
        vehicles.append(vehicle)
        devices.append({"dev_eui": eui(model), "model": model, "name": f"Tracker {name}",
                        "asset": f"vehicle/{vid}", "expected_interval_s": 1800,
                        "application_id": app_id("fleet")})
        if kind != "truck":
            stops = [scatter(rng, 700, 1800) for _ in range(rng.randint(5, 8))]
            routes[vid] = [[lon, lat] for lat, lon in stops]
    gateways = [
        {"id": f"0016c001ffa1{n:04x}", "name": f"Gateway {name}", "latitude": lat,
         "longitude": lon, "altitude_m": alt}
        for n, (name, lat, lon, alt) in enumerate(GATEWAYS, 1)
    ]
    return {
        "town": {"name": "Herrenberg", "latitude": CENTRE[0], "longitude": CENTRE[1],
                 "timezone": "Europe/Berlin",
                 "depot": {"latitude": DEPOT[0], "longitude": DEPOT[1]}, "routes": routes},
        "gateways": gateways,
        "weather": {"station": "herrenberg", "mean_temperature_c": 9.3,
                    "seasonal_amplitude_c": 9.0, "daily_amplitude_c": 5.0,
                    "rain_start_probability": 0.025, "rain_continue_probability": 0.75,
                    "rain_mean_mm_h": 1.2},
        "faults": {},
        "simulation": {"seed": 1, "start": "2026-06-01T00:00:00+00:00", "days": 1,
                       "speed": 3600, "tenant_id": str(uuid.uuid5(NAMESPACE, "tenant")),
                       "tenant_name": "Stadt Herrenberg",
                       "applications": {app_id(k): v for k, v in APPS.items()},
                       "default_application": app_id("green"), "status_interval_h": 24},
        "sponsors": sponsors, "green_areas": areas, "bins": bins, "vehicles": vehicles,
        "devices": devices,
    }


class _Dumper(yaml.SafeDumper):
    """Writes lists of numbers (coordinate pairs) on one line."""


def _list(dumper: yaml.SafeDumper, items: list[Any]) -> yaml.Node:
    flat = all(isinstance(i, int | float) for i in items)
    return dumper.represent_sequence("tag:yaml.org,2002:seq", items, flow_style=flat)


_Dumper.add_representer(list, _list)


def main() -> int:
    """Write herrenberg.yaml next to this script."""
    data = build(random.Random(2026))
    header = ("# Default scenario: a small town modelled on Herrenberg. Generated by\n"
              "# `python -m simulator.scenarios.generate`; edit that script, not this file.\n")
    text = yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)
    target = Path(__file__).with_name("herrenberg.yaml")
    target.write_text(header + text, encoding="utf-8")
    print(f"wrote {target} ({len(data['devices'])} devices)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
