"""The weather feed: hourly rain, temperature and evapotranspiration fetched from public
services (Bright Sky over the German Weather Service's open data, Open-Meteo) into table
`weather`, beside what is published on MQTT `bauhof/weather/<station>`."""

from __future__ import annotations


class WeatherError(Exception):
    """The weather feed failed; the message says why and what to do."""
