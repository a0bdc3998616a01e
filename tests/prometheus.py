"""Scrape a `/metrics` page over HTTP and read its samples (prometheus_client's parser)."""

from __future__ import annotations

import httpx
from prometheus_client.parser import text_string_to_metric_families

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape(url: str) -> Samples:
    """{(sample name, sorted labels): value} of every sample on the page."""
    response = httpx.get(url, timeout=10)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=")
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(response.text)
            for s in family.samples}


def value(samples: Samples, name: str, **labels: str) -> float:
    """One sample's value; KeyError naming what is there when it is missing."""
    key = (name, tuple(sorted(labels.items())))
    if key not in samples:
        raise KeyError(f"{key} not among {sorted(k for k in samples if k[0] == name)}")
    return samples[key]
