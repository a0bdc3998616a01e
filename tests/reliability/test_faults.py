"""The quick fault suite (`bauhof bench faults --quick`) as tests: each fault against real
processes, nothing lost, nothing stored twice, the workers recovering on their own."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from reliability import faults, orders
from reliability.lab import Lab
from reliability.report import Row
from reliability.suite import QUICK

EVENTS = QUICK.events


@pytest.fixture(scope="module")
def lab() -> Iterator[Lab]:
    """One private cluster for the module; every fault gets a fresh database and broker."""
    with Lab() as running:
        yield running


def _nothing_lost(row: Row, events: int = EVENTS) -> None:
    assert (row.published, row.stored, row.lost, row.duplicates) == (events, events, 0, 0)
    assert row.details["dead_letters"] == 0
    assert row.details["ingest_exit_status"] == 0


def test_kill_9_of_ingest_at_random_moments(lab: Lab) -> None:
    row = faults.kill_ingest(lab, events=EVENTS, kills=QUICK.kills)
    _nothing_lost(row)
    assert row.tried == QUICK.kills
    assert row.details["ingest_starts"] == QUICK.kills + 1
    assert all(0 < n < EVENTS for n in row.details["killed_at"])


def test_postgres_stopped_mid_stream(lab: Lab) -> None:
    row = faults.postgres_outage(lab, events=EVENTS, seconds=QUICK.pg_outage_s)
    _nothing_lost(row)
    # Ingest rode out the outage itself: one start, alive throughout, retrying with backoff.
    assert row.details["ingest_starts"] == 1
    assert row.details["ingest_alive_during_outage"] is True
    assert row.details["retries_logged"] >= 2


def test_broker_restarted_with_persistence(lab: Lab) -> None:
    row = faults.broker_restart(lab, events=EVENTS, restarts=QUICK.broker_restarts)
    _nothing_lost(row)
    assert row.details["ingest_starts"] == 1
    assert row.details["publisher_reconnects"] == QUICK.broker_restarts


def test_network_to_the_broker_cut(lab: Lab) -> None:
    row = faults.network_cut(lab, events=EVENTS, cuts=QUICK.cuts, refuse_s=QUICK.refuse_s)
    _nothing_lost(row)
    assert row.details["ingest_starts"] == 1
    assert row.details["connections_reset"] == QUICK.cuts
    assert row.details["connections_refused"] >= 1


@pytest.mark.parametrize(("fault", "log_says"), [
    (faults.read_only, "cannot execute CREATE TABLE in a read-only transaction"),
    (faults.disk_full, "No space left on device; nothing acknowledged"),
])
def test_database_refusing_writes_is_waited_out(lab: Lab, fault: faults.Condition,
                                                log_says: str) -> None:
    row = fault(lab, events=EVENTS, seconds=QUICK.condition_s)
    _nothing_lost(row)
    # Nothing stored (so nothing acknowledged) while refused; no crash, no restart.
    assert row.details["stored_during_condition"] == 0
    assert row.details["ingest_alive_during_condition"] is True
    assert row.details["ingest_starts"] == 1
    assert log_says in row.details["log_says"]


def test_backlog_queued_while_ingest_is_down_drains_completely(lab: Lab) -> None:
    row = faults.backlog(lab, events=EVENTS)
    _nothing_lost(row, 2 * EVENTS)
    assert row.details["backlog_events"] == EVENTS
    assert row.details["ingest_starts"] == 2
    assert row.details["drain_per_s"] > 0


@pytest.mark.slow
def test_rules_engine_killed_during_a_replay_gives_the_same_orders(lab: Lab) -> None:
    row = orders.kill_rules(lab, days=QUICK.rules_days, kills=QUICK.rules_kills)
    assert (row.lost, row.duplicates) == (0, 0)
    # Every uplink of the town's first six hours, and the undisturbed run's orders.
    assert row.published == row.stored == row.details["uplinks"] > 5000
    assert row.orders_found == row.orders_expected >= 20
    assert (row.orders_missing, row.orders_duplicated) == (0, 0)
    assert row.details["orders_unexpected"] == 0
