"""An ingest worker's Prometheus metrics: its running counters and the commit latency.

The counters are the worker's own `Counters` (the ones it logs and saves to `ingest_stats`),
read at scrape time, so the loop pays nothing for them. The latency histogram counts every
message: the seconds from its arrival (paho's network thread) to the commit of the batch
holding it; the loop adds a whole batch at once.
"""

from __future__ import annotations

import bisect
import threading
import time
from collections.abc import Iterable, Sequence

from prometheus_client import CollectorRegistry
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from bauhof.metrics import LATENCY_BUCKETS, new_registry
from ingest.prepare import Message
from ingest.worker import Counters, IngestConfig, IngestWorker


class BatchLatency:
    """A histogram of per-message latencies, filled a batch at a time; counts the batches."""

    def __init__(self, bounds: Sequence[float] = LATENCY_BUCKETS) -> None:
        self.bounds = tuple(bounds)
        self.batches = 0
        self._counts = [0] * (len(self.bounds) + 1)
        self._sum = 0.0
        self._lock = threading.Lock()

    def add(self, latencies: Iterable[float]) -> None:
        """Count one batch, and each of its latencies (seconds) in its bucket."""
        counts = [0] * len(self._counts)
        total = 0.0
        for value in latencies:
            counts[bisect.bisect_left(self.bounds, value)] += 1
            total += value
        with self._lock:
            for i, n in enumerate(counts):
                self._counts[i] += n
            self._sum += total
            self.batches += 1

    def family(self, name: str, documentation: str) -> HistogramMetricFamily:
        """The histogram as Prometheus exposes it (cumulative buckets)."""
        with self._lock:
            counts, total = list(self._counts), self._sum
        buckets: list[tuple[str, float]] = []
        running = 0
        for bound, n in zip((*map(str, self.bounds), "+Inf"), counts, strict=True):
            running += n
            buckets.append((bound, running))
        return HistogramMetricFamily(name, documentation, buckets=buckets, sum_value=total)


class IngestCollector(Collector):
    """Reads one worker's counters when Prometheus scrapes."""

    def __init__(self, counters: Counters, latency: BatchLatency) -> None:
        self.counters = counters
        self.latency = latency

    def collect(self) -> Iterable[Metric]:
        """The metric families of this worker."""
        c = self.counters
        for name, value, text in (
            ("received", c.received, "messages received from the broker and committed"),
            ("stored", c.stored, "events stored (new rows)"),
            ("duplicates", c.duplicates, "redelivered events skipped as already stored"),
            ("dead_lettered", c.dead_lettered, "messages put in dead_letters"),
        ):
            yield CounterMetricFamily(f"bauhof_ingest_events_{name}", f"Events: {text}.",
                                      value=value)
        yield CounterMetricFamily("bauhof_ingest_batches", "Batches committed.",
                                  value=self.latency.batches)
        yield GaugeMetricFamily(
            "bauhof_ingest_lag_seconds",
            "Age of the oldest message of the last batch when it was committed.", value=c.lag_s)
        yield self.latency.family(
            "bauhof_ingest_commit_latency_seconds",
            "Seconds from a message's arrival to the commit of the batch holding it.")


class MeteredIngestWorker(IngestWorker):
    """An ingest worker that keeps Prometheus metrics in `registry`."""

    def __init__(self, config: IngestConfig) -> None:
        super().__init__(config)
        self.registry: CollectorRegistry = new_registry()
        self.latency = BatchLatency()
        self.registry.register(IngestCollector(self.counters, self.latency))

    def _account(self, messages: list[Message], stored: int, duplicates: int,
                 dead: int) -> None:
        # Called once per committed batch (or message, when a batch is written singly); the
        # histogram first, so that a scrape never counts a message it has no latency for.
        now = time.monotonic()
        self.latency.add(now - m.received for m in messages)
        super()._account(messages, stored, duplicates, dead)
