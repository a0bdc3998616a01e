"""`bauhof bench replay`: simulated days of the default town through ingest, end to end.

Private PostgreSQL+TimescaleDB and Mosquitto start on free ports (`PrivateStack`) and the
default town is loaded into the asset tables. Then, along one of three paths:

1. `direct` (the default): the run is split by device over worker processes (one per core,
   and one more);
   each simulates its share and feeds it straight into ingest's pipeline
   (`ingest.pipeline.Feed`: the same parsing, decoding, COPY and de-duplicating insert as
   `bauhof ingest`) over its own connection (`simulator.direct`). The clock runs from the
   start of the workers until the last one has committed. The breakdown, in seconds summed
   over the workers: `generate_s` (inside the simulator), `prepare_s` (ingest's parsing and
   normalising), `write_s` (COPY, insert, commit: waiting for PostgreSQL), and the CPU
   seconds of the workers (`workers_cpu_s`) and of their PostgreSQL backends
   (`postgres_cpu_s`).
2. `--mqtt`: the stream is generated in this process and each message published as it is
   made (QoS 1, at most 2,000 unacknowledged, PUBLISH packets written over one socket in
   large writes: `send_stream`) to `bauhof ingest` running as a separate process; the clock
   runs from the first message generated until raw_uplinks holds every uplink. The
   breakdown: `generate_s` (time inside the simulator), `publish_s` (the publisher and
   broker's acknowledgements, the rest of the sending loop), `ingest_tail_s` (from the last
   acknowledgement until ingest has committed everything).
3. `--from-recording`: the stream is generated into a recording first (`generate_s`, not
   part of `wall_s`), then replayed through the simulator's paho publisher as `bauhof
   replay` does.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from simulator import SimulatorError, scenario
from simulator.clock import VirtualClock
from simulator.publisher import Publisher
from simulator.recording import Message, read
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


class TimedStream:
    """Iterates a stream and adds up the time spent producing its items."""

    def __init__(self, items: Iterable[Message]) -> None:
        self._items = iter(items)
        self.seconds = 0.0

    def __iter__(self) -> Iterator[Message]:
        while True:
            started = time.perf_counter()
            try:
                item = next(self._items)
            except StopIteration:
                self.seconds += time.perf_counter() - started
                return
            self.seconds += time.perf_counter() - started
            yield item


def send_stream(host: str, port: int, messages: Iterable[Message], window: int = 2000,
                client_id: str = "bauhof-bench-replay") -> int:
    """Publish a stream at QoS 1 over one socket as it is produced, each PUBLISH encoded
    here (no paho: its per-message Python was a third of the run), with at most `window`
    unacknowledged (`ingest.rawpublish.send_packets`); return how many were sent once all
    are acked."""
    from bauhof.mqttwire import publish_packet
    from ingest.rawpublish import send_packets

    packets = (publish_packet(m.topic, m.payload, n % 65535 + 1)
               for n, m in enumerate(messages))
    try:
        result = send_packets(host, port, packets, window=window, client_id=client_id,
                              ack_timeout_s=STORE_TIMEOUT_S)
    except ConnectionError as exc:
        raise BenchError(str(exc)) from exc
    if result.acked < result.sent:
        raise BenchError(f"the broker acknowledged {result.acked} of {result.sent} messages")
    return result.sent


def run_bench(days: float, *, seed: int = 1, as_json: bool = False, path: str = "direct",
              workers: int | None = None) -> int:
    """Run the benchmark along `path` (direct, mqtt or recording); print the figures."""
    from bauhof.services import PrivateStack

    quiet = as_json
    town = scenario.load("herrenberg")
    with tempfile.TemporaryDirectory(prefix="bauhof-bench-replay-") as tmp:
        _note("starting private services", quiet)
        with PrivateStack() as stack:
            load_town(stack.database_url)
            if path == "direct":
                figures = _direct(stack.database_url, town, days, seed,
                                  workers=workers or default_workers(), quiet=quiet)
            else:
                figures = _through_mqtt(stack, town, days, seed, Path(tmp),
                                        from_recording=path == "recording", quiet=quiet)
    if as_json:
        print(json.dumps(figures))
    else:
        for key, value in figures.items():
            print(f"{key:>22}  {value}")
    if figures["stored"] != figures["uplinks"]:
        print(f"bauhof bench replay: only {figures['stored']} of {figures['uplinks']} uplinks "
              "were stored", file=sys.stderr)
        return 1
    return 0


def default_workers() -> int:
    """One worker per core and one more: each waits for PostgreSQL part of the time."""
    return (os.cpu_count() or 1) + 1


def load_town(database_url: str) -> None:
    """The default town's assets into the database."""
    from bauhof import assets

    assets.load_file(database_url, scenario_file())


def _direct(database_url: str, town: scenario.Scenario, days: float, seed: int, *,
            workers: int, quiet: bool) -> dict[str, Any]:
    """Simulate in `workers` processes by device, each feeding ingest's pipeline directly."""
    import psycopg

    from simulator.clock import DAY_US, to_us
    from simulator.direct import feed_parallel

    start_us = to_us(town.simulation.start)
    _note(f"simulating {days:g} days in {workers} processes straight into ingest", quiet)
    t0 = time.perf_counter()
    shares = feed_parallel(database_url, town, seed=seed, start_us=start_us,
                           end_us=start_us + round(days * DAY_US), workers=workers,
                           name="bench-replay")
    wall_s = time.perf_counter() - t0
    with psycopg.connect(database_url, autocommit=True) as conn:
        stored = _scalar(conn, "SELECT count(*) FROM raw_uplinks")
        readings = _scalar(conn, "SELECT count(*) FROM readings")
        dead = _scalar(conn, "SELECT count(*) FROM dead_letters")
    messages = sum(s.messages for s in shares)
    postgres = [s.postgres_cpu_s for s in shares]
    return {
        "mode": "direct", "workers": workers, "simulated_days": days,
        "wall_s": round(wall_s, 2), "events_per_s": round(messages / wall_s, 1),
        "days_per_wall_minute": round(days / wall_s * 60, 2),
        "messages": messages, "uplinks": sum(s.uplinks for s in shares), "stored": stored,
        "readings": readings, "dead_letters": dead,
        # Seconds summed over the workers, which run at once: where the time went.
        "generate_s": round(sum(s.generate_s for s in shares), 2),
        "prepare_s": round(sum(s.prepare_s for s in shares), 2),
        "write_s": round(sum(s.write_s for s in shares), 2),
        # CPU seconds: steadier than the wall clock on a shared machine.
        "workers_cpu_s": round(sum(s.cpu_s for s in shares), 2),
        "postgres_cpu_s": (None if None in postgres
                           else round(sum(p or 0.0 for p in postgres), 2)),
    }


def _through_mqtt(stack: Any, town: scenario.Scenario, days: float, seed: int, tmp: Path, *,
                  from_recording: bool, quiet: bool) -> dict[str, Any]:
    """Send through the broker to `bauhof ingest`: generated while sent, or a recording."""
    import psycopg

    from bauhof.settings import parse_mqtt_url
    from simulator.clock import DAY_US, to_us
    from simulator.engine import Simulator
    from simulator.truth import Truth

    path = tmp / "recording.jsonl"
    generate_s = 0.0
    truth = Truth()
    if from_recording:
        _note(f"generating {days:g} days of the default town", quiet)
        started = time.perf_counter()
        generated = Simulation(town, seed=seed, start=town.simulation.start, days=days,
                               record=path)
        generated.execute(None, progress=not quiet)
        generate_s = time.perf_counter() - started
        # No faults: every uplink a gateway heard is one `up` event, published once.
        expected = int(generated.summary["uplinks"])
        stream: TimedStream = TimedStream(read(path))
    else:
        start_us = to_us(town.simulation.start)
        engine = Simulator(town, seed=seed, start_us=start_us,
                           end_us=start_us + round(days * DAY_US), truth=truth)
        stream = TimedStream(engine.messages())
        expected = -1  # known once the stream is generated
    _note("starting bauhof ingest", quiet)
    proc = subprocess.Popen(
        [sys.executable, "-m", "shell", "ingest", "--client-id", "bench-replay"],
        env=stack.env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        with psycopg.connect(stack.database_url, autocommit=True) as conn, Publisher(
            parse_mqtt_url(stack.mqtt_url)
        ) as publisher:
            wait_for_ingest(conn, publisher, proc, INGEST_START_S)
            _note("sending at --speed max", quiet)
            t0 = time.perf_counter()
            cpu0 = time.process_time()
            if from_recording:
                # The simulator's own publisher, as `bauhof replay` uses it.
                published = run(stream, clock=VirtualClock(None, None), publisher=publisher,
                                progress=Progress(enabled=not quiet)).published
            else:
                target = parse_mqtt_url(stack.mqtt_url)
                published = send_stream(target.host, target.port, stream)
            sent_s = time.perf_counter() - t0
            cpu_s = time.process_time() - cpu0
            if expected < 0:
                expected = truth.counts["uplink"]
            stored = wait_for_rows(conn, expected, STORE_TIMEOUT_S)
            wall_s = time.perf_counter() - t0
            readings = _scalar(conn, "SELECT count(*) FROM readings")
            dead = _scalar(conn, "SELECT count(*) FROM dead_letters")
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(60)
    return {
        "mode": "recording" if from_recording else "mqtt",
        "simulated_days": days, "wall_s": round(wall_s, 2),
        "events_per_s": round(published / wall_s, 1),
        "days_per_wall_minute": round(days / wall_s * 60, 2),
        "messages": published, "uplinks": expected, "stored": stored,
        "readings": readings, "dead_letters": dead,
        "generate_s": round(generate_s if from_recording else stream.seconds, 2),
        "read_recording_s": round(stream.seconds, 2) if from_recording else None,
        "publish_s": round(sent_s - stream.seconds, 2),
        "ingest_tail_s": round(wall_s - sent_s, 2),
        # CPU seconds this process (generator and publisher) used while sending: on a shared
        # machine a steadier figure than the wall clock.
        "sender_cpu_s": round(cpu_s, 2),
    }


def scenario_file() -> Path:
    """The packaged default scenario's file (for `assets.load_file`)."""
    from importlib import resources

    return Path(str(resources.files("simulator.scenarios") / "herrenberg.yaml"))
