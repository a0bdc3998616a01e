"""The rules engine killed and restarted during a replay: the same orders, none twice.

A recording of the default town (the simulator, no faults) is replayed twice through
`bauhof ingest` into two fresh databases. Reference: the rules engine runs once, undisturbed,
after the replay (`bauhof rules --once`). Disturbed: `bauhof rules` runs during the replay and
is killed with SIGKILL at random moments and started again; at the end it is stopped and a
`--once` pass finishes the last readings. `bauhof orders list --json` of both must agree on
every field but the id (`opened_at` and `resolved_at` are event times, not wall-clock).
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from bauhof import assets
from reliability import StepFailed
from reliability.lab import Lab, connection, probe_ingest
from reliability.processes import Worker, ingest, rules
from reliability.publisher import ReliablePublisher
from reliability.report import Row, tally, wait_stored

OrderKey = tuple[tuple[str, Any], ...]


def recording(lab: Lab, days: float, seed: int) -> list[tuple[str, bytes]]:
    """The default town's messages for `days` simulated days (made once per lab)."""
    from simulator import scenario
    from simulator.recording import read
    from simulator.session import Simulation

    path = lab.root / f"town-{days:g}d-{seed}.jsonl"
    if not path.exists():
        town = scenario.load("herrenberg")
        Simulation(town, seed=seed, start=town.simulation.start, days=days,
                   record=path).execute(None, progress=False)
    return [(m.topic, m.payload) for m in read(path)]


def _scenario_file() -> Path:
    from simulator.bench import scenario_file

    return scenario_file()


def list_orders(database_url: str) -> list[dict[str, Any]]:
    """`bauhof orders list --json`, parsed."""
    result = subprocess.run(
        [sys.executable, "-m", "shell", "orders", "list", "--json"],
        env={**_env(database_url)}, capture_output=True, text=True, timeout=120, check=False)
    if result.returncode != 0:
        raise StepFailed("bauhof orders list --json", result.stderr.strip()[-500:])
    return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]


def _env(database_url: str) -> dict[str, str]:
    import os

    return {**os.environ, "BAUHOF_DATABASE_URL": database_url}


def _rules_once(database_url: str, mqtt_url: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "shell", "rules", "--once"],
        env={**_env(database_url), "BAUHOF_MQTT_URL": mqtt_url},
        capture_output=True, text=True, timeout=900, check=False)
    if result.returncode != 0:
        raise StepFailed("bauhof rules --once", result.stderr.strip()[-500:])


def _key(order: dict[str, Any]) -> OrderKey:
    return tuple(sorted((k, v) for k, v in order.items() if k != "id"))


def _identity(order: dict[str, Any]) -> tuple[Any, ...]:
    """What makes an order the same order: rule's kind, subject and when it was opened."""
    return (order["kind"], order["subject_type"], order["subject_id"], order["opened_at"])


def compare(expected: list[dict[str, Any]], found: list[dict[str, Any]]) -> dict[str, int]:
    """Orders missing from `found` and orders found more often than expected."""
    want, got = Counter(map(_key, expected)), Counter(map(_key, found))
    want_id, got_id = Counter(map(_identity, expected)), Counter(map(_identity, found))
    return {"missing": sum((want - got).values()),
            "unexpected": sum((got - want).values()),
            "duplicated": sum((got_id - want_id).values())}


def _replay(lab: Lab, label: str, messages: list[tuple[str, bytes]], seed: int,
            kills: int) -> tuple[str, Row]:
    """Replay into a fresh database; with `kills`, the engine runs (and dies) meanwhile."""
    rng = random.Random(seed)
    url = lab.database(label)
    assets.load_file(url, _scenario_file())
    broker = lab.broker()
    mqtt_url = f"mqtt://127.0.0.1:{broker.port}"
    ingester = ingest(url, mqtt_url, lab.log_dir(), label).start()
    engine: Worker | None = rules(url, mqtt_url, lab.log_dir(), label) if kills else None
    try:
        probe_ingest(url, broker.port, ingester.alive)
        if engine is not None:
            engine.start()
        publisher = ReliablePublisher("127.0.0.1", broker.port, messages,
                                      client_id=f"{label}-pub",
                                      rate=1500.0 if engine else None).start()
        uplinks = [i for i, (topic, _) in enumerate(messages) if topic.endswith("/event/up")]
        ids = _uplink_ids(messages)
        if engine is not None:
            with connection(url) as conn:
                for _ in range(kills):
                    # Kill while the engine works: after it committed a step of this start
                    # (or, once it has caught up with the replay, while it waits).
                    _wait_running(engine)
                    _wait_progress(conn, engine, 10.0)
                    time.sleep(rng.uniform(0.0, 0.5))  # a random instant, not a sync
                    engine.kill9()
                    engine.start()
        report = publisher.join(600)
        published = [ids[i] for i in uplinks if i in report.acked]
        with connection(url) as conn:
            wait_stored(conn, len(published))
            counted = tally(conn, published, [ids[i] for i in uplinks])
        if engine is not None:
            # SIGTERM is handled once the engine runs (before, it just ends the process).
            _wait_running(engine)
        if engine is not None and engine.stop() != 0:
            raise StepFailed("stopping bauhof rules", engine.log_text()[-500:])
        if ingester.stop() != 0:
            raise StepFailed("stopping bauhof ingest", ingester.log_text()[-500:])
        _rules_once(url, mqtt_url)
    finally:
        if engine is not None:
            engine.stop()
        ingester.stop()
        lab.drop_broker(broker)
    row = Row("rules engine killed", kills, counted.published, counted.stored,
              counted.duplicates, counted.lost)
    return url, row


def _cursor(conn: Any) -> str | None:
    row = conn.execute("SELECT next_xid::text || updated_at::text FROM rules_cursor").fetchone()
    return None if row is None else str(row[0])


def _wait_running(engine: Worker) -> None:
    """Wait until this start of the engine logged that it runs."""
    engine.wait_logged("rules engine shard")


def _wait_progress(conn: Any, engine: Worker, timeout: float) -> bool:
    """Wait until the engine's cursor moves (a step committed); False if it stays idle."""
    before = _cursor(conn)
    deadline = time.monotonic() + timeout
    while _cursor(conn) == before:
        if not engine.alive():
            raise StepFailed("bauhof rules during the replay", engine.log_text()[-500:])
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def _uplink_ids(messages: list[tuple[str, bytes]]) -> dict[int, str]:
    return {i: str(json.loads(p)["deduplicationId"]) for i, (t, p) in enumerate(messages)
            if t.endswith("/event/up")}


def kill_rules(lab: Lab, *, days: float, kills: int, seed: int = 8) -> Row:
    """Kill `bauhof rules` `kills` times during a replay of `days` of the default town."""
    started = time.monotonic()
    messages = recording(lab, days, seed=1)
    recorded = time.monotonic()
    reference_url, _ = _replay(lab, "rulesref", messages, seed, kills=0)
    referenced = time.monotonic()
    disturbed_url, row = _replay(lab, "ruleskill", messages, seed, kills=kills)
    expected, found = list_orders(reference_url), list_orders(disturbed_url)
    diff = compare(expected, found)
    row.orders_expected, row.orders_found = len(expected), len(found)
    row.orders_missing, row.orders_duplicated = diff["missing"], diff["duplicated"]
    row.details.update({"simulated_days": days, "messages": len(messages),
                        "uplinks": sum(1 for t, _ in messages if t.endswith("/event/up")),
                        "orders_unexpected": diff["unexpected"],
                        "recording_s": round(recorded - started, 1),
                        "reference_s": round(referenced - recorded, 1),
                        "disturbed_s": round(time.monotonic() - referenced, 1),
                        "order_kinds": dict(Counter(o["kind"] for o in found))})
    return row
