"""Soil moisture of a green area: a one-layer water balance ("bucket") of the root zone.

The root zone holds S = θ·D/100 mm of water (θ volumetric moisture in %, D root depth in mm).
Per hour, with air temperature T (°C), relative sunshine s (0..1) and rain R (mm/h):

    PET   = 0.35 · (0.1 + 0.9·s) · max(T, 0) / 25                 potential evaporation, mm/h
    f(θ)  = clamp((θ - θ_wp) / (θ_fc - θ_wp), 0, 1)               drought stress (less when dry)
    g(θ)  = clamp((θ - θ_ad) / (θ_wp - θ_ad), 0, 1)               θ_ad = θ_wp/2: air-dry soil
    ET    = PET · max(k_c · f(θ), e · g(θ))                        k_c: the plant's crop coefficient
    Dr    = max(θ - θ_fc, 0) · D/100 / τ                          drainage above field capacity
    dS/dt = i·R - ET - Dr                                          i: share of rain reaching soil

Transpiration (k_c·f) stops at the wilting point, but the bare soil between the plants keeps
evaporating at a share e (0.1) of the potential rate until it is air-dry, taken as half the
wilting point as for the evaporating layer of FAO-56 (Allen et al. 1998, eq. 73). The floor
only takes over when k_c·f(θ) < e, i.e. in the last tenth or so of the available water, so a
long hot and rainless spell dries an unwatered area below its wilting point (which
transpiration alone only approaches). θ stays between 2 % and saturation θ_sat; watering W mm
adds W·100/D percentage points at once.
At 25 °C under full sun a lawn (D = 100 mm) loses 0.35 mm/h, about 3 mm (3 %) on a clear day;
nights lose a tenth of that. The soil temperature follows the air with a lag of τ_T = 18 h.
The state advances on a fixed 10-minute grid (explicit Euler), so results do not depend on
when it is read.
"""

from __future__ import annotations

from dataclasses import dataclass

from simulator.clock import US
from simulator.weather import Weather

PET_PEAK_MM_H = 0.35
PET_REFERENCE_C = 25.0
NIGHT_SHARE = 0.1
MIN_MOISTURE_PCT = 2.0
SOIL_TEMPERATURE_LAG_H = 18.0
STEP_US = 600 * US


@dataclass(frozen=True, slots=True)
class SoilParams:
    """Hydraulic and plant properties of a green area's root zone."""

    root_depth_mm: float
    crop_coefficient: float
    field_capacity_pct: float = 32.0
    wilting_point_pct: float = 10.0
    saturation_pct: float = 45.0
    drainage_time_h: float = 12.0
    rain_reaching_soil: float = 0.9
    # Share of the potential rate the bare soil still evaporates once plants stop drawing.
    soil_evaporation: float = 0.1


PLANTS: dict[str, SoilParams] = {
    "lawn": SoilParams(root_depth_mm=100, crop_coefficient=1.0),
    "flowers": SoilParams(root_depth_mm=150, crop_coefficient=1.1),
    "shrubs": SoilParams(root_depth_mm=300, crop_coefficient=0.8, rain_reaching_soil=0.8),
    "trees": SoilParams(root_depth_mm=400, crop_coefficient=0.7, rain_reaching_soil=0.7),
    "meadow": SoilParams(root_depth_mm=200, crop_coefficient=0.9),
}


def potential_et_mm_h(temperature_c: float, sun: float) -> float:
    """Potential evaporation in mm/h for air temperature and relative sunshine."""
    return PET_PEAK_MM_H * (NIGHT_SHARE + (1 - NIGHT_SHARE) * sun) * max(temperature_c, 0.0) / (
        PET_REFERENCE_C
    )


def stress(moisture_pct: float, params: SoilParams) -> float:
    """How freely plants draw water (1) down to not at all at the wilting point (0)."""
    span = params.field_capacity_pct - params.wilting_point_pct
    return min(1.0, max(0.0, (moisture_pct - params.wilting_point_pct) / span))


def evaporation_factor(moisture_pct: float, params: SoilParams) -> float:
    """The share of potential evaporation the soil loses at this moisture: the plants'
    k_c·f(θ), but never less than the bare soil's e·g(θ) until the soil is air-dry."""
    air_dry = params.wilting_point_pct / 2
    bare = min(1.0, max(0.0, (moisture_pct - air_dry) / (params.wilting_point_pct - air_dry)))
    return max(params.crop_coefficient * stress(moisture_pct, params),
               params.soil_evaporation * bare)


def step(
    moisture_pct: float,
    params: SoilParams,
    *,
    hours: float,
    rain_mm_h: float,
    temperature_c: float,
    sun: float,
) -> float:
    """Moisture after `hours` of the given weather (one explicit Euler step of the balance)."""
    et = potential_et_mm_h(temperature_c, sun) * evaporation_factor(moisture_pct, params)
    excess = max(moisture_pct - params.field_capacity_pct, 0.0)
    drainage = excess * params.root_depth_mm / 100 / params.drainage_time_h
    change_mm = (params.rain_reaching_soil * rain_mm_h - et - drainage) * hours
    moisture = moisture_pct + change_mm * 100 / params.root_depth_mm
    return min(params.saturation_pct, max(MIN_MOISTURE_PCT, moisture))


class Soil:
    """The true state of one green area's soil, advanced on a fixed grid."""

    def __init__(
        self, params: SoilParams, moisture_pct: float, temperature_c: float, start_us: int
    ) -> None:
        self.params = params
        self.moisture_pct = moisture_pct
        self.temperature_c = temperature_c
        self.grid_us = start_us - start_us % STEP_US

    def advance(self, t_us: int, weather: Weather) -> None:
        """Integrate up to the last grid point at or before `t_us`."""
        hours = STEP_US / US / 3600
        while self.grid_us + STEP_US <= t_us:
            hour = weather.at(self.grid_us)
            self.moisture_pct = step(
                self.moisture_pct, self.params, hours=hours, rain_mm_h=hour.rain_mm_h,
                temperature_c=hour.temperature_c, sun=hour.sun,
            )
            self.temperature_c += (hour.temperature_c - self.temperature_c) * (
                hours / SOIL_TEMPERATURE_LAG_H
            )
            self.grid_us += STEP_US

    def water(self, mm: float) -> None:
        """Add `mm` of water (litres per square metre) to the root zone now."""
        self.moisture_pct = min(
            self.params.saturation_pct, self.moisture_pct + mm * 100 / self.params.root_depth_mm
        )
