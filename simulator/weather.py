"""Hourly weather: air temperature, rain, sunshine and a 24-hour rain forecast.

For hour h (UTC), with solar time s = UTC hour + ½ + longitude/15 and day of year n:

    T(h) = T̄ - A_season·cos(2π(n - 20)/365.25) + A_day·cos(2π(s - 15)/24) + a(h) - 1.5·[rain]
    a(h+1) = 0.97·a(h) + N(0, 0.35)                      (weather anomaly, sigma ≈ 1.4 °C)
    sun(h) = max(0, sin(π(s - 6)/12)) x (0.3 if raining else 1)
    rain: two-state Markov chain; a dry hour turns wet with p_start, a wet one stays wet with
          p_continue; a wet hour's intensity is exponential with mean `rain_mean_mm_h`.
    forecast(h) = Σ rain over hours h+1 … h+24, times a log-normal error (sigma 0.3).

Fixed `rain_events` in the scenario override the random rain.
"""

from __future__ import annotations

import json
import math
import random
from dataclasses import dataclass

from simulator.clock import HOUR_US, from_us, to_us
from simulator.scenario import WeatherConfig

ANOMALY_PERSISTENCE = 0.97
ANOMALY_STEP_C = 0.35
RAIN_COOLING_C = 1.5
FORECAST_HOURS = 24
FORECAST_ERROR_SIGMA = 0.3


@dataclass(frozen=True, slots=True)
class Hour:
    """The weather during one hour starting at `start_us`."""

    start_us: int
    temperature_c: float
    rain_mm_h: float
    sun: float
    forecast_rain_mm_24h: float

    def message(self) -> bytes:
        """The observation as published on `bauhof/weather/<station>`."""
        return json.dumps(
            {
                "time": from_us(self.start_us).isoformat(),
                "rain_mm_h": self.rain_mm_h,
                "temperature_c": self.temperature_c,
                "forecast_rain_mm_24h": self.forecast_rain_mm_24h,
            },
            separators=(",", ":"),
        ).encode()


def solar_hour(hour_start_us: int, longitude: float) -> float:
    """Local solar time (0..24) in the middle of the hour."""
    utc_hours = (hour_start_us // HOUR_US) % 24
    return (utc_hours + 0.5 + longitude / 15) % 24


def sunshine(solar: float, raining: bool) -> float:
    """Relative irradiance 0..1: a half-sine from 6 to 18 solar time, dimmed by rain."""
    sun = max(0.0, math.sin(math.pi * (solar - 6) / 12))
    return sun * (0.3 if raining else 1.0)


def seasonal_mean_c(config: WeatherConfig, hour_start_us: int) -> float:
    """The climatological mean temperature of the day, coldest around 20 January."""
    day = from_us(hour_start_us).timetuple().tm_yday
    return config.mean_temperature_c - config.seasonal_amplitude_c * math.cos(
        2 * math.pi * (day - 20) / 365.25
    )


class Weather:
    """The town's weather, generated hour by hour from its own seeded stream."""

    def __init__(self, config: WeatherConfig, seed: int, longitude: float, start_us: int) -> None:
        self.config = config
        self.station = config.station
        self.longitude = longitude
        self.first_hour = start_us // HOUR_US
        self._rng = random.Random(f"{seed}:weather")
        self._forecast_rng = random.Random(f"{seed}:weather-forecast")
        self._rain: list[float] = []
        self._anomaly: list[float] = []
        self._hours: list[Hour] = []
        self._wet = False
        self._events = [
            (to_us(e.start) // HOUR_US, to_us(e.start) // HOUR_US + e.hours, e.mm_h)
            for e in config.rain_events
        ]

    def _draw(self) -> None:
        """Generate rain and anomaly for the next hour index."""
        index = self.first_hour + len(self._rain)
        previous = self._anomaly[-1] if self._anomaly else 0.0
        self._anomaly.append(ANOMALY_PERSISTENCE * previous + self._rng.gauss(0, ANOMALY_STEP_C))
        p_wet = (
            self.config.rain_continue_probability if self._wet
            else self.config.rain_start_probability
        )
        self._wet = self._rng.random() < p_wet
        rain = round(self._rng.expovariate(1 / self.config.rain_mean_mm_h), 1) if self._wet else 0.0
        for first, end, mm_h in self._events:
            if first <= index < end:
                rain = mm_h
        self._rain.append(rain)

    def hour(self, offset: int) -> Hour:
        """The weather of the hour `offset` hours after the first hour."""
        while len(self._hours) <= offset:
            n = len(self._hours)
            while len(self._rain) <= n + FORECAST_HOURS:
                self._draw()
            start = (self.first_hour + n) * HOUR_US
            rain = self._rain[n]
            temperature = (
                seasonal_mean_c(self.config, start)
                + self.config.daily_amplitude_c
                * math.cos(2 * math.pi * (solar_hour(start, self.longitude) - 15) / 24)
                + self._anomaly[n]
                - (RAIN_COOLING_C if rain > 0 else 0.0)
            )
            ahead = sum(self._rain[n + 1 : n + 1 + FORECAST_HOURS])
            error = math.exp(self._forecast_rng.gauss(0, FORECAST_ERROR_SIGMA))
            self._hours.append(
                Hour(
                    start_us=start,
                    temperature_c=round(temperature, 1),
                    rain_mm_h=rain,
                    sun=sunshine(solar_hour(start, self.longitude), rain > 0),
                    forecast_rain_mm_24h=round(ahead * error, 1),
                )
            )
        return self._hours[offset]

    def at(self, t_us: int) -> Hour:
        """The weather of the hour containing `t_us` (not before the first hour)."""
        return self.hour(max(0, t_us // HOUR_US - self.first_hour))
