"""A simulated stream fed straight into ingest's pipeline, in parallel by device.

The run is split in shares (`engine.split`: every asset's devices together, the weather in the
first share); each share is simulated in a worker process of its own, which feeds its
messages through `ingest.pipeline.Feed` over its own database connection, as one more ingest
worker on a shared subscription would. No broker: the messages are the bytes the simulator
would publish, parsed, decoded and stored by ingest's own code. Together the shares are the
whole run's stream, so the database ends up with what one run through `bauhof ingest` stores.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from simulator.engine import Share, Simulator, split
from simulator.scenario import Scenario
from simulator.truth import Truth


@dataclass(frozen=True, slots=True)
class ShareFigures:
    """What one worker fed and where its time went (seconds of its wall clock)."""

    messages: int
    uplinks: int  # uplinks a gateway heard: each is one `up` event to store
    stored: int
    dead_lettered: int
    generate_s: float  # inside the simulator
    prepare_s: float  # ingest's parsing, decoding, normalising into rows
    write_s: float  # COPY, the de-duplicating insert and the commit, waiting for PostgreSQL
    cpu_s: float  # this worker's CPU time
    postgres_cpu_s: float | None  # its PostgreSQL backend's CPU time, when it runs here


def feed_share(database_url: str, town: Scenario, share: Share | None, *, seed: int,
               start_us: int, end_us: int, worker: str, batch_size: int = 5000) -> ShareFigures:
    """Simulate one share of the run and store it through ingest's pipeline."""
    from bauhof import db
    from ingest.pipeline import Feed

    cpu0 = time.process_time()
    truth = Truth()
    stream = Simulator(town, seed=seed, start_us=start_us, end_us=end_us, truth=truth,
                       share=share).messages()
    generate_s = prepare_s = write_s = 0.0
    clock = time.perf_counter
    with db.connect(database_url, autocommit=True, application_name=worker) as conn:
        backend = conn.info.backend_pid
        postgres0 = _process_cpu_s(backend)
        feed = Feed(conn, worker, batch_size)
        mark = clock()
        for message in stream:
            got = clock()
            full = feed.add(message)
            added = clock()
            generate_s += got - mark
            prepare_s += added - got
            mark = added
            if full:
                feed.flush()
                mark = clock()
                write_s += mark - added
        last = clock()
        generate_s += last - mark
        feed.flush()
        write_s += clock() - last
        postgres1 = _process_cpu_s(backend)
    postgres_s = None if postgres0 is None or postgres1 is None else postgres1 - postgres0
    result = feed.result
    return ShareFigures(
        messages=result.messages, uplinks=truth.counts["uplink"], stored=result.written.stored,
        dead_lettered=result.written.dead_lettered, generate_s=generate_s, prepare_s=prepare_s,
        write_s=write_s, cpu_s=time.process_time() - cpu0, postgres_cpu_s=postgres_s)


def feed_parallel(database_url: str, town: Scenario, *, seed: int, start_us: int, end_us: int,
                  workers: int, name: str = "bauhof-direct") -> list[ShareFigures]:
    """Simulate the run in `workers` shares at once, each stored through ingest's pipeline by
    a process of its own; the figures of each (in share order)."""
    shares = split(town, workers)
    # fork: the workers start with the scenario already loaded and nothing to import.
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        futures = [
            pool.submit(feed_share, database_url, town, share, seed=seed, start_us=start_us,
                        end_us=end_us, worker=f"{name}-{i}")
            for i, share in enumerate(shares)
        ]
        return [f.result() for f in futures]


def _process_cpu_s(pid: int) -> float | None:
    """CPU seconds (user and system) a process on this machine has used; None if not here."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
