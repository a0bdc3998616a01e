"""The ingest worker's latency histogram, as Prometheus reads it."""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import Metric
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.registry import Collector

from ingest.metrics import BatchLatency


def test_latencies_land_in_cumulative_buckets_with_inclusive_bounds() -> None:
    latency = BatchLatency(bounds=(0.001, 0.01, 1.0))
    latency.add([0.0005, 0.001, 0.003])
    latency.add([0.5, 100.0])
    registry = CollectorRegistry()

    class One(Collector):
        def collect(self) -> Iterable[Metric]:
            yield latency.family("t_seconds", "test")

    registry.register(One())
    text = generate_latest(registry).decode()
    samples = {(s.name, s.labels.get("le")): s.value
               for f in text_string_to_metric_families(text) for s in f.samples}
    assert samples == {
        ("t_seconds_bucket", "0.001"): 2, ("t_seconds_bucket", "0.01"): 3,
        ("t_seconds_bucket", "1.0"): 4, ("t_seconds_bucket", "+Inf"): 5,
        ("t_seconds_count", None): 5, ("t_seconds_sum", None): 100.5045,
    }
    assert latency.batches == 2
