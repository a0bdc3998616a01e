"""One simulation run: the engine wired to the clock, the broker, the recording and the truth."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from bauhof.settings import MqttTarget
from simulator.citizens import CitizenBackend
from simulator.clock import DAY_US, VirtualClock, to_us
from simulator.crews import CrewBackend
from simulator.engine import Simulator
from simulator.envelope import Encoding
from simulator.publisher import Publisher
from simulator.recording import Recorder
from simulator.runner import Progress, RunStats, run
from simulator.scenario import Scenario
from simulator.truth import Truth


class Simulation:
    """A configured run of a scenario; `execute` publishes and/or records it."""

    def __init__(
        self,
        scenario: Scenario,
        *,
        seed: int,
        start: datetime,
        days: float,
        encoding: Encoding = "json",
        faults: dict[str, float] | None = None,
        record: Path | None = None,
        truth: Path | None = None,
        crews: CrewBackend | None = None,
        citizens: CitizenBackend | None = None,
    ) -> None:
        self.scenario = scenario
        self.seed = seed
        self.start_us = to_us(start)
        self.days = days
        self.end_us = self.start_us + round(days * DAY_US)
        self.encoding: Encoding = encoding
        self.faults = faults or {}
        self.record = record
        self.truth_path = truth
        self.crews = crews
        self.citizens = citizens
        self.summary: dict[str, Any] = {}

    def execute(
        self,
        target: MqttTarget | None,
        *,
        ca_file: str | None = None,
        speed: float | None = None,
        progress: bool = True,
    ) -> RunStats:
        """Run to the end (or Ctrl-C): publish to `target` unless None, write the files."""
        truth = Truth(self.truth_path)
        engine = Simulator(
            self.scenario, seed=self.seed, start_us=self.start_us, end_us=self.end_us,
            encoding=self.encoding, faults=self.faults, truth=truth, crews=self.crews,
            citizens=self.citizens,
        )
        recorder = Recorder(self.record) if self.record is not None else None
        publisher = None
        try:
            if target is not None:
                publisher = Publisher(target, ca_file=ca_file)
                publisher.connect()
            clock = VirtualClock(self.start_us, speed if target is not None else None)
            stats = run(engine.messages(), clock=clock, publisher=publisher, recorder=recorder,
                        progress=Progress(enabled=progress))
            self.summary = {
                "uplinks": truth.counts["uplink"], "lost": truth.counts["lost"],
                "faults": dict(truth.faults),
                "orders_done": engine.crews.done if engine.crews is not None else 0,
                "portal": engine.citizens.summary() if engine.citizens is not None else {},
            }
            return stats
        finally:
            if publisher is not None:
                publisher.close()
            if recorder is not None:
                recorder.close()
            truth.close()
