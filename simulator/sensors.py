"""What each sensor model measures: true state plus noise, quantised to the model's resolution.

Readings are rounded to exactly what the model's byte format carries (e.g. LSE01 moisture in
0.01 %), so decoding the encoded frame gives back the very same numbers — the ground truth
can then be compared with what Bauhof stored by equality. Batteries are primary lithium cells:

    V(q) = 2.8 + 0.85·(1 - (1 - q)⁴)      q state of charge 0..1 (3.65 V full, 3.3 V at 20 %)
    per uplink q -= 5·10⁻⁶ · 2^(SF - 7)   (more airtime, more charge), plus 1 %/year self-drain
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from bauhof.codecs import Readings

SELF_DISCHARGE_PER_DAY = 0.01 / 365
DRAIN_PER_UPLINK = 5e-6
# Standard deviation of a soil probe's moisture reading around the true value.
MOISTURE_NOISE_PCT = 0.3

# Resolution of each reading per model: values are multiples of 1/scale (1 = integers).
SCALES: dict[str, dict[str, float]] = {
    "dragino-lse01": {"battery_v": 1000, "temperature_c": 10, "soil_moisture_pct": 100,
                      "soil_temperature_c": 100, "soil_conductivity_us_cm": 1},
    "milesight-em500-smtc": {"battery_pct": 1, "soil_temperature_c": 10,
                             "soil_moisture_pct": 100, "soil_conductivity_us_cm": 1},
    "dragino-ldds75": {"battery_v": 1000, "distance_mm": 1},
    "milesight-em310-udl": {"battery_pct": 1, "distance_mm": 1},
    "milesight-em400-udl": {"battery_pct": 1, "temperature_c": 10, "distance_mm": 1},
    # The 15-byte frame: the 18-byte one's altitude (s16 / 100) cannot carry 460 m.
    "dragino-lgt92": {"latitude": 1e6, "longitude": 1e6, "battery_v": 1000, "roll_deg": 100,
                      "pitch_deg": 100},
    "milesight-at101": {"battery_pct": 1, "temperature_c": 10, "latitude": 1e6,
                        "longitude": 1e6},
}
SIMULATED_MODELS = frozenset(SCALES)


@dataclass
class Battery:
    """A primary cell: state of charge, drained per uplink; `dying` drains it within days."""

    charge: float
    dying_per_day: float = 0.0

    def voltage(self) -> float:
        """Terminal voltage under load."""
        return 2.8 + 0.85 * (1 - (1 - self.charge) ** 4)

    def percent(self) -> int:
        """Charge as a whole percentage, as Milesight devices report it."""
        return round(self.charge * 100)

    def use(self, seconds: float, spreading_factor: int) -> None:
        """Account for `seconds` of standby and one uplink at the given spreading factor."""
        days = seconds / 86400
        drain = SELF_DISCHARGE_PER_DAY * days + DRAIN_PER_UPLINK * 2 ** (spreading_factor - 7)
        self.charge = max(0.0, self.charge - drain - self.dying_per_day * days)


def quantise(model: str, readings: Readings) -> Readings:
    """Round every number to the model's resolution (ints stay ints, booleans untouched)."""
    scales = SCALES[model]
    out: Readings = {}
    for name, value in readings.items():
        scale = scales.get(name)
        if scale is None or isinstance(value, bool) or not isinstance(value, int | float):
            out[name] = value
        elif scale == 1:
            out[name] = round(value)
        else:
            out[name] = round(value * scale) / scale
    return out


def soil_readings(
    model: str, *, moisture_pct: float, soil_c: float, air_c: float, conductivity_per_pct: float,
    battery: Battery, rng: random.Random,
) -> Readings:
    """A soil probe's frame: moisture ±0.3 %, temperatures ±0.2 °C, EC ±3 %."""
    moisture = max(0.0, moisture_pct + rng.gauss(0, MOISTURE_NOISE_PCT))
    conductivity = max(0.0, moisture * conductivity_per_pct * (1 + rng.gauss(0, 0.03)))
    soil = soil_c + rng.gauss(0, 0.2)
    if model == "dragino-lse01":
        values: Readings = {
            "battery_v": battery.voltage(), "temperature_c": air_c + rng.gauss(0, 0.2),
            "soil_moisture_pct": moisture, "soil_temperature_c": soil,
            "soil_conductivity_us_cm": conductivity,
        }
    else:
        values = {
            "battery_pct": battery.percent(), "soil_temperature_c": soil,
            "soil_moisture_pct": moisture, "soil_conductivity_us_cm": conductivity,
        }
    return quantise(model, values)


def bin_readings(
    model: str, distance_mm: int, air_c: float, battery: Battery, rng: random.Random
) -> Readings:
    """A fill-level sensor's frame: the distance, battery and (EM400) the lid temperature."""
    values: Readings
    if model == "dragino-ldds75":
        values = {"battery_v": battery.voltage(), "distance_mm": distance_mm}
    elif model == "milesight-em310-udl":
        values = {"battery_pct": battery.percent(), "distance_mm": distance_mm, "tilted": False}
    else:
        values = {
            "battery_pct": battery.percent(), "temperature_c": air_c + rng.gauss(1.0, 0.5),
            "distance_mm": distance_mm, "tilted": False,
        }
    return quantise(model, values)


def tracker_readings(
    model: str, *, place: tuple[float, float], moving: bool, air_c: float, battery: Battery,
    rng: random.Random,
) -> Readings:
    """A tracker's frame: position with ~3 m GPS noise, motion state, battery."""
    from bauhof.geo import offset

    lat, lon = offset(place[0], place[1], rng.gauss(0, 3.0), rng.gauss(0, 3.0))
    values: Readings
    if model == "dragino-lgt92":
        values = {
            "latitude": lat, "longitude": lon, "battery_v": battery.voltage(), "alarm": False,
            "motion": "move" if moving else "disabled",
            "roll_deg": rng.gauss(0, 1.5), "pitch_deg": rng.gauss(0, 1.5),
        }
    else:
        values = {
            "battery_pct": battery.percent(), "temperature_c": air_c + rng.gauss(3.0, 1.0),
            "latitude": lat, "longitude": lon, "motion": "moving" if moving else "stop",
        }
    return quantise(model, values)
