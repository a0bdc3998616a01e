"""Was this run published before? The first uplinks' ids looked up in the database.

Deduplication ids derive from the seed, the start and the scenario (`engine.run_key`), so a
run repeated with all three the same is the same data, and ingest stores none of it again.
`bauhof simulate` says so, instead of leaving a user wondering where the readings went.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson

from simulator.engine import Simulator
from simulator.scenario import Scenario

SAMPLE = 200


def first_ids(scenario: Scenario, *, seed: int, start_us: int, end_us: int,
              faults: dict[str, float] | None = None, count: int = SAMPLE) -> list[str]:
    """The deduplication ids of the run's first `count` uplinks (ids do not depend on the
    encoding, and only a moment of the run is simulated to find them)."""
    engine = Simulator(scenario, seed=seed, start_us=start_us, end_us=end_us, faults=faults)
    ids: list[str] = []
    for message in engine.messages():
        if not message.topic.endswith("/event/up"):
            continue
        try:
            event: Any = orjson.loads(message.payload)
            ids.append(str(event["deduplicationId"]))
        except (orjson.JSONDecodeError, KeyError, TypeError):
            continue  # a malformed-message fault
        if len(ids) >= count:
            break
    return ids


def stored_before(database_url: str, ids: list[str], before: datetime) -> int:
    """How many of these uplinks a Bauhof database had stored before `before`."""
    from bauhof import db

    with db.connect(database_url, autocommit=True, application_name="bauhof-simulate") as conn:
        row = conn.execute(
            "SELECT count(DISTINCT deduplication_id) FROM raw_uplinks "
            "WHERE deduplication_id = ANY(%s::uuid[]) AND received_at < %s",
            (ids, before)).fetchone()
    return int(str(row[0])) if row else 0
