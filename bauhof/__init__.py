"""Bauhof: LoRaWAN sensor data turned into work orders for a town's works depot."""

from __future__ import annotations

__version__ = "0.1.0"
