"""A simulated town in a database: the simulator's messages stored through ingest in-process.

The same pipeline as `bauhof ingest` (`ingest.pipeline`), without a broker: benchmarks and tests get
the readings a real run would store, in seconds.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg
import yaml

from simulator.recording import Message
from simulator.scenario import Scenario


def feed(conn: psycopg.Connection[Any], messages: Iterable[Message],
         batch_size: int = 5000) -> int:
    """Store the messages as ingest would (one commit per batch: conn must be in
    autocommit mode); return how many were fed."""
    from ingest.pipeline import ingest_messages

    return ingest_messages(conn, messages, worker="planning", batch_size=batch_size).messages


def subset(town: Scenario, *, bins: int, green_areas: int = 0) -> Scenario:
    """The town with only its first `bins` bins and `green_areas` areas (and their sensors);
    every vehicle stays. For tests that need a day of data in seconds."""
    keep_bins = town.bins[:bins]
    keep_areas = town.green_areas[:green_areas]
    kept = {f"bin/{b.id}" for b in keep_bins} | {f"green_area/{a.id}" for a in keep_areas}
    kept |= {f"vehicle/{v.id}" for v in town.vehicles}
    sponsors = {a.sponsor for a in keep_areas}
    return town.model_copy(update={
        "bins": keep_bins, "green_areas": keep_areas,
        "sponsors": [s for s in town.sponsors if s.id in sponsors],
        "devices": [d for d in town.devices if d.asset in kept]})


def load_assets(database_url: str, town: Scenario) -> None:
    """Load a scenario's assets (its asset sections) into the database."""
    from bauhof import assets

    with tempfile.TemporaryDirectory(prefix="bauhof-town-") as folder:
        path = Path(folder) / "town.yaml"
        path.write_text(yaml.safe_dump(town.model_dump(mode="json", exclude_none=True),
                                       allow_unicode=True), encoding="utf-8")
        assets.load_file(database_url, path)


def simulate(database_url: str, town: Scenario, start: datetime, days: float,
             seed: int = 1) -> int:
    """Load the town's assets, then store `days` simulated days from `start` through ingest."""
    from bauhof import db
    from simulator.clock import DAY_US, to_us
    from simulator.engine import Simulator

    load_assets(database_url, town)
    start_us = to_us(start)
    engine = Simulator(town, seed=seed, start_us=start_us, end_us=start_us + round(days * DAY_US))
    with db.connect(database_url, autocommit=True) as conn:
        return feed(conn, engine.messages())
