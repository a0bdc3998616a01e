"""The reliability suite: faults against real processes, bad input, and a soak run."""

from __future__ import annotations


class ReliabilityError(RuntimeError):
    """A fault run could not be carried out (not a loss: losses are reported as figures)."""


class StepFailed(ReliabilityError):
    """One step of a fault run did not happen in time; names the step and what was seen."""

    def __init__(self, step: str, seen: str) -> None:
        super().__init__(f"{step}: {seen}")
        self.step = step
        self.seen = seen
