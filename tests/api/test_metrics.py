"""`GET /metrics` of the API: what the database holds, scraped over HTTP by a real client."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import psycopg

from bauhof.dead_letters import digest
from tests.api import town
from tests.prometheus import scrape, value
from tests.rules import factory as f


def _order(conn: psycopg.Connection[Any], kind: str, subject: str, status: str) -> None:
    closed = status in ("done", "resolved", "cancelled")
    conn.execute(
        "INSERT INTO work_orders (kind, subject_type, subject_id, rule, status, title, "
        "opened_at, resolved_at) VALUES (%s, 'bin', %s, %s, %s, 'test', now(), %s)",
        (kind, subject, f"test.{subject}", status, datetime.now(UTC) if closed else None))


def test_metrics_from_the_database(live_server: Callable[..., str],
                                   conn: psycopg.Connection[Any]) -> None:
    town.two_ingest_workers(conn)
    for n, status in enumerate(("new", "new", "new", "discarded")):
        payload = f"bad {n}".encode()
        conn.execute("INSERT INTO dead_letters (topic, payload, reason, digest, status) "
                     "VALUES ('t', %s, 'invalid JSON', %s, %s)",
                     (payload, digest("t", payload), status))
    for n, (kind, status) in enumerate([("empty_bin", "open"), ("empty_bin", "open"),
                                        ("empty_bin", "in_progress"), ("watering", "assigned"),
                                        ("empty_bin", "resolved"), ("watering", "done")]):
        _order(conn, kind, f"b{n}", status)
    f.bin_(conn, "b1", dev=2)
    f.ingest(conn, [f.fill(2, 1.0, 30.0)])

    before = datetime.now(UTC)
    samples = scrape(live_server() + "/metrics")
    after = datetime.now(UTC)

    for name, a, b in (("received", 100, 10), ("stored", 90, 10), ("duplicates", 8, 0),
                       ("dead_lettered", 2, 0)):
        assert value(samples, f"bauhof_ingest_worker_{name}_total", worker="a") == a
        assert value(samples, f"bauhof_ingest_worker_{name}_total", worker="b") == b
    assert value(samples, "bauhof_ingest_worker_lag_seconds", worker="a") == 0.25
    assert value(samples, "bauhof_ingest_worker_lag_seconds", worker="b") == 9.0
    assert value(samples, "bauhof_ingest_worker_stale", worker="a") == 0
    assert value(samples, "bauhof_ingest_worker_stale", worker="b") == 1
    assert {s: value(samples, "bauhof_dead_letters", status=s)
            for s in ("new", "reprocessed", "discarded")} == {
        "new": 3, "reprocessed": 0, "discarded": 1}
    open_orders = {(dict(k[1])["kind"], dict(k[1])["status"]): v for k, v in samples.items()
                   if k[0] == "bauhof_work_orders_open" and v}
    assert open_orders == {("empty_bin", "open"): 2, ("empty_bin", "in_progress"): 1,
                           ("watering", "assigned"): 1}
    assert sum(1 for k in samples if k[0] == "bauhof_work_orders_open") == 7 * 3
    assert value(samples, "bauhof_rules_backlog_batches") == 1
    age = value(samples, "bauhof_newest_reading_age_seconds")
    assert (before - f.at(1.0)).total_seconds() - 1 <= age <= (after - f.at(1.0)).total_seconds()


def test_metrics_of_an_empty_database(live_server: Callable[..., str]) -> None:
    samples = scrape(live_server() + "/metrics")
    assert value(samples, "bauhof_rules_backlog_batches") == 0
    assert value(samples, "bauhof_dead_letters", status="new") == 0
    assert sum(v for k, v in samples.items() if k[0] == "bauhof_work_orders_open") == 0
    assert not [k for k in samples if k[0].startswith("bauhof_ingest_worker_")
                or k[0] == "bauhof_newest_reading_age_seconds"]
