"""The device simulator: a town of LoRaWAN sensors published as ChirpStack v4 events."""

from __future__ import annotations


class SimulatorError(Exception):
    """Base class of every error the simulator raises; the message says what to fix."""
