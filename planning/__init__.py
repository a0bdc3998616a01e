"""Waste-collection planning: forecasts, bin selection, routing, plans and their work orders."""

from __future__ import annotations

from bauhof.errors import ReasonError


class PlanningError(Exception):
    """A planning problem a person can act on; the message says what to change."""


class SettingsInvalid(PlanningError):
    """Planner settings that do not validate; `problems` name each field."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("planner settings are invalid: " + "; ".join(problems))
        self.problems = problems


class NoVehicles(PlanningError):
    """No vehicle with a capacity can collect bins."""

    def __init__(self) -> None:
        super().__init__("no vehicle can collect bins: give capacity_l to the trucks in the "
                         "asset file, or list vehicles with capacity_l in the planner settings")


class MatrixError(PlanningError, ReasonError):
    """A routing engine's matrix that cannot be used for these places."""

    template = "routing matrix from {source}: {reason}"
    source: str
    reason: str
