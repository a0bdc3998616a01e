"""`bauhof bench replay`: simulated days of the default town replayed through ingest.

1. The recording is generated first (not timed as part of the replay; reported as
   `generate_s`), with the default town loaded into the asset tables.
2. Private Mosquitto and PostgreSQL+TimescaleDB start on free ports (`PrivateStack`), and
   `bauhof ingest` runs against them as a separate process.
3. The recording is replayed at `--speed max` through the simulator's QoS 1 publisher; the
   clock runs from the first publish until raw_uplinks holds every uplink of the recording.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from simulator import SimulatorError, scenario
from simulator.clock import VirtualClock
from simulator.publisher import Publisher
from simulator.recording import read
from simulator.runner import Progress, run
from simulator.session import Simulation

INGEST_START_S = 60.0
STORE_TIMEOUT_S = 900.0


class BenchError(SimulatorError):
    """The benchmark could not complete; says which step failed."""


def _note(text: str, quiet: bool) -> None:
    if not quiet:
        print(f"  {text}", file=sys.stderr, flush=True)


def _scalar(conn: Any, sql: str) -> int:
    row = conn.execute(sql).fetchone()
    return int(row[0]) if row else 0


def wait_for_ingest(
    conn: Any, publisher: Publisher, proc: subprocess.Popen[bytes] | None, timeout_s: float
) -> None:
    """Wait until ingest stores what is published: a weather probe (station `probe`) is
    published every 0.2 s until its row appears, so no simulated message can go unheard."""
    deadline = time.monotonic() + timeout_s
    hour = 0
    while not _scalar(conn, "SELECT count(*) FROM weather WHERE station = 'probe'"):
        if proc is not None and proc.poll() is not None:
            raise BenchError(f"bauhof ingest exited with status {proc.returncode}")
        if time.monotonic() > deadline:
            raise BenchError(f"bauhof ingest stored nothing within {timeout_s:g} s")
        probe = {"time": f"2000-01-01T{hour % 24:02d}:00:00+00:00", "rain_mm_h": 0.0,
                 "temperature_c": 0.0, "forecast_rain_mm_24h": 0.0}
        publisher.publish("bauhof/weather/probe", json.dumps(probe).encode())
        hour += 1
        time.sleep(0.2)
    conn.execute("DELETE FROM weather WHERE station = 'probe'")


def wait_for_rows(conn: Any, expected: int, timeout_s: float) -> int:
    """Poll raw_uplinks until it holds `expected` rows; return the final count."""
    deadline = time.monotonic() + timeout_s
    stored = 0
    while time.monotonic() < deadline:
        stored = _scalar(conn, "SELECT count(*) FROM raw_uplinks")
        if stored >= expected:
            break
        time.sleep(0.05)
    return stored


def run_bench(days: float, *, seed: int = 1, as_json: bool = False) -> int:
    """Generate, replay through ingest, and print the figures."""
    import psycopg

    from bauhof import assets
    from bauhof.services import PrivateStack
    from bauhof.settings import parse_mqtt_url

    quiet = as_json
    town = scenario.load("herrenberg")
    with tempfile.TemporaryDirectory(prefix="bauhof-bench-replay-") as tmp:
        path = Path(tmp) / "recording.jsonl"
        _note(f"generating {days:g} days of the default town", quiet)
        started = time.perf_counter()
        generated = Simulation(town, seed=seed, start=town.simulation.start, days=days,
                               record=path)
        generated.execute(None, progress=not quiet)
        generate_s = time.perf_counter() - started
        # No faults: every uplink a gateway heard is one `up` event, published once.
        expected = int(generated.summary["uplinks"])
        _note(f"{expected:,} uplinks; starting private services and bauhof ingest", quiet)
        with PrivateStack() as stack:
            assets.load_file(stack.database_url, scenario_file())
            proc = subprocess.Popen(
                [sys.executable, "-m", "bauhof.cli", "ingest", "--client-id", "bench-replay"],
                env=stack.env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )
            try:
                with psycopg.connect(stack.database_url, autocommit=True) as conn, Publisher(
                    parse_mqtt_url(stack.mqtt_url)
                ) as publisher:
                    wait_for_ingest(conn, publisher, proc, INGEST_START_S)
                    _note("replaying at --speed max", quiet)
                    t0 = time.perf_counter()
                    stats = run(read(path), clock=VirtualClock(None, None),
                                publisher=publisher, progress=Progress(enabled=not quiet))
                    publish_s = time.perf_counter() - t0
                    stored = wait_for_rows(conn, expected, STORE_TIMEOUT_S)
                    wall_s = time.perf_counter() - t0
                    readings = _scalar(conn, "SELECT count(*) FROM readings")
                    dead = _scalar(conn, "SELECT count(*) FROM dead_letters")
            finally:
                proc.send_signal(signal.SIGTERM)
                proc.wait(60)
    figures = {
        "simulated_days": days, "wall_s": round(wall_s, 2),
        "events_per_s": round(stats.published / wall_s, 1),
        "days_per_wall_minute": round(days / wall_s * 60, 2),
        "messages": stats.published, "uplinks": expected, "stored": stored,
        "readings": readings, "dead_letters": dead, "publish_s": round(publish_s, 2),
        "generate_s": round(generate_s, 2),
    }
    if as_json:
        print(json.dumps(figures))
    else:
        for key, value in figures.items():
            print(f"{key:>22}  {value}")
    if stored != expected:
        print(f"bauhof bench replay: only {stored} of {expected} uplinks were stored",
              file=sys.stderr)
        return 1
    return 0


def scenario_file() -> Path:
    """The packaged default scenario's file (for `assets.load_file`)."""
    from importlib import resources

    return Path(str(resources.files("simulator.scenarios") / "herrenberg.yaml"))
