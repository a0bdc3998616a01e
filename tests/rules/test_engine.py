"""The engine against the database: durability, restarts, concurrency, replays."""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from typing import Any

import psycopg
import pytest

from rules import orders, ruleset
from tests.rules import factory as f
from tests.rules import stream
from tests.rules.conftest import MakeEngine

EXPECTED = [
    ("watering", "watering.dry", "ga1", "resolved", f.at(6), f.at(23), "rules", 3,
     ["opened", "resolved"]),
    ("empty_bin", "bins.full", "b1", "resolved", f.at(10.2), f.at(28.2), "rules", 3,
     ["opened", "resolved"]),
    ("sensor_maintenance", "health.silent", f.eui(5), "open", f.at(13.3), None, None, 3,
     ["opened", "escalated", "reminder"]),
]


def _run_all(conn: psycopg.Connection[Any], engine: Any, batches: list[list[Any]]) -> None:
    for batch in batches:
        f.ingest(conn, batch)
        engine.step()


def test_stream_gives_exactly_the_expected_orders(conn: psycopg.Connection[Any],
                                                  make_engine: MakeEngine) -> None:
    stream.town(conn)
    _run_all(conn, make_engine(), stream.batches())
    assert stream.outcome(conn) == EXPECTED
    (silent,) = orders.list_orders(conn, kind="sensor_maintenance")
    row = conn.execute("SELECT kind, status, dev_eui, order_id FROM defects").fetchall()
    assert row == [("silent", "open", f.eui(5), silent.id)]


def restart_in_the_middle(conn: psycopg.Connection[Any], make_engine: MakeEngine,
                          between: Callable[[], None] = lambda: None) -> None:
    """The test stream through an engine closed after 15 batches (then `between`), and the
    rest through a new one."""
    stream.town(conn)
    batches = stream.batches()
    first = make_engine()
    _run_all(conn, first, batches[:15])
    first.close()
    between()
    second = make_engine()
    _run_all(conn, second, batches[15:])


def test_restart_in_the_middle_neither_loses_nor_repeats(
        conn: psycopg.Connection[Any], make_engine: MakeEngine) -> None:
    restart_in_the_middle(conn, make_engine)
    assert stream.outcome(conn) == EXPECTED


def test_replay_at_full_speed_gives_the_same_orders(
        conn: psycopg.Connection[Any], make_engine: MakeEngine) -> None:
    stream.town(conn)
    for batch in stream.batches():
        f.ingest(conn, batch)
    engine = make_engine(batch_limit=7)
    engine.catch_up()
    assert stream.outcome(conn) == EXPECTED


def test_two_engines_at_once_create_no_duplicates(
        conn: psycopg.Connection[Any], make_engine: MakeEngine) -> None:
    stream.town(conn)
    engines = [make_engine(), make_engine()]
    stop = threading.Event()
    threads = [threading.Thread(target=e.run, args=(stop,), kwargs={"poll_s": 0.01})
               for e in engines]
    for thread in threads:
        thread.start()
    try:
        for batch in stream.batches():
            f.ingest(conn, batch)
        _wait(lambda: len(stream.outcome(conn)) == 3 and stream.outcome(conn) == EXPECTED)
    finally:
        stop.set()
        for thread in threads:
            thread.join(10)
    assert stream.outcome(conn) == EXPECTED
    assert sum(e.stats.readings for e in engines) >= 40 * 3


def _wait(condition: Callable[[], bool], seconds: float = 30.0) -> None:
    done = threading.Event()
    for _ in range(int(seconds / 0.05)):
        if condition():
            return
        done.wait(0.05)
    raise AssertionError("condition not met in time")


def test_two_shards_split_the_subjects(conn: psycopg.Connection[Any],
                                       make_engine: MakeEngine) -> None:
    stream.town(conn)
    shards = [make_engine(shard=0, shards=2), make_engine(shard=1, shards=2)]
    for batch in stream.batches():
        f.ingest(conn, batch)
        for engine in shards:
            engine.step()
    assert stream.outcome(conn) == EXPECTED
    owned = [sorted(k[2] for k in e.states._states) for e in shards]
    assert sorted(owned[0] + owned[1]) == sorted(
        ["ga1", "ga2", "ga3", "b1", f.eui(1), f.eui(2), f.eui(4), f.eui(5)])
    assert not set(owned[0]) & set(owned[1])


@pytest.mark.timeout(60)
def test_a_transaction_committing_late_is_not_skipped(
        conn: psycopg.Connection[Any], database_url: str, make_engine: MakeEngine) -> None:
    f.bin_(conn)
    engine = make_engine(rules=ruleset.parse("bins: {forecast: false}"))
    # The week's chunk exists already (creating one would make the two writers wait).
    f.ingest(conn, [f.fill(2, -1, 5.0)])
    engine.step()
    with psycopg.connect(database_url) as slow:  # an ingest worker that commits late
        slow.execute("SELECT 1")  # open the transaction: ingest's block is a savepoint in it
        f.ingest(slow, [f.fill(2, 1, 90.0)])
        f.ingest(conn, [f.fill(2, 0, 10.0)])  # a later transaction commits first
        engine.step()
        assert f.orders(conn) == []
        assert engine.stats.readings == 1  # nothing new below the slow worker's xid yet
        slow.commit()
    engine.step()
    assert [o[1:] for o in f.orders(conn)] == [("empty_bin", "open", "b1", "bins.full")]


def test_a_sole_writer_bounded_by_until_xid_leaves_that_batch_for_the_next_step(
        conn: psycopg.Connection[Any], make_engine: MakeEngine) -> None:
    """What-if commits batch k+1 while the engine is still on batch k: `until_xid` keeps the
    cursor below it although the snapshot's xmax is past it, and the next step reads it."""
    f.bin_(conn)
    engine = make_engine(rules=ruleset.parse("bins: {forecast: false}"), sole_writer=True)
    f.ingest(conn, [f.fill(2, -1, 5.0)])
    engine.step()
    f.ingest(conn, [f.fill(2, 1, 90.0)])
    row = conn.execute("SELECT max(xid)::text FROM ingest_batches").fetchone()
    assert row is not None
    engine.until_xid = int(row[0])
    assert engine.catch_up() == 0
    assert f.orders(conn) == []
    engine.until_xid = int(row[0]) + 1
    assert engine.catch_up() == 1
    assert engine.stats.readings == 2
    assert [o[1:] for o in f.orders(conn)] == [("empty_bin", "open", "b1", "bins.full")]


def test_late_reading_does_not_open_an_order(conn: psycopg.Connection[Any],
                                             make_engine: MakeEngine) -> None:
    f.bin_(conn)
    engine = make_engine(rules=ruleset.parse("bins: {forecast: false}"))
    f.ingest(conn, [f.fill(2, 0, 10.0), f.fill(2, 2, 12.0)])
    engine.step()
    f.ingest(conn, [f.fill(2, 1, 95.0)])  # an old, delayed uplink
    engine.step()
    assert f.orders(conn) == []


def test_no_firing_on_start_up_for_devices_never_seen(conn: psycopg.Connection[Any],
                                                      make_engine: MakeEngine) -> None:
    stream.town(conn)
    engine = make_engine()
    f.ingest(conn, [f.soil(4, 100, 30.0)])  # only ga2's probe reports; clock at 100 h
    engine.step()
    assert f.orders(conn) == []


def test_vehicle_arrival_starts_the_order_and_the_fill_drop_resolves_it(
        conn: psycopg.Connection[Any], make_engine: MakeEngine) -> None:
    f.bin_(conn)
    f.vehicle(conn)
    engine = make_engine(rules=ruleset.parse("bins: {forecast: false}"))
    f.ingest(conn, [f.fill(2, 0, 85.0)])
    engine.step()
    (order,) = orders.list_orders(conn)
    f.ingest(conn, [f.position(3, 1, 52.0011, 13.0011), f.position(3, 1.02, 52.0010, 13.0012)])
    engine.step()
    assert (orders.get(conn, order.id).status, orders.get(conn, order.id).assignee) == (
        "in_progress", "vehicle:v1")
    f.ingest(conn, [f.fill(2, 1.1, 2.0)])
    engine.step()
    done = orders.get(conn, order.id)
    assert (done.status, done.resolved_by, done.resolved_at) == (
        "resolved", "vehicle:v1", f.at(1.1))
    assert [(h.event, h.actor) for h in orders.history(conn, order.id)] == [
        ("opened", "rules"), ("started", "vehicle:v1"), ("resolved", "rules")]


def test_order_closed_by_a_crew_while_the_bin_stays_full_reopens(
        conn: psycopg.Connection[Any], make_engine: MakeEngine) -> None:
    f.bin_(conn)
    engine = make_engine(rules=ruleset.parse("bins: {forecast: false}"))
    f.ingest(conn, [f.fill(2, 0, 85.0)])
    engine.step()
    (first,) = orders.list_orders(conn)
    orders.transition(conn, first.id, "done", "crew-1")
    f.ingest(conn, [f.fill(2, 1, 86.0)])  # the update finds no open order: start afresh
    engine.step()
    f.ingest(conn, [f.fill(2, 2, 87.0)])
    engine.step()
    assert [o[1:] for o in f.orders(conn)] == [("empty_bin", "done", "b1", "bins.full"),
                                               ("empty_bin", "open", "b1", "bins.full")]


def test_tilted_bin_becomes_an_urgent_defect(conn: psycopg.Connection[Any],
                                             make_engine: MakeEngine) -> None:
    f.bin_(conn)
    engine = make_engine()
    f.ingest(conn, [f.fill(2, 0, 20.0, tilted=True)])
    engine.step()
    (order,) = orders.list_orders(conn)
    assert (order.kind, order.priority, order.rule) == ("bin_maintenance", 1, "bins.tilted")
    topics = [r[0] for r in conn.execute("SELECT topic FROM outbox WHERE channel = 'mqtt' "
                                         "ORDER BY id")]
    assert topics == ["bauhof/defects/1/opened", f"bauhof/workorders/{order.id}/opened"]
    f.ingest(conn, [f.fill(2, 1, 20.0, tilted=False)])
    engine.step()
    assert conn.execute("SELECT status FROM defects").fetchall() == [("resolved",)]


def test_an_uplink_ingest_refused_as_implausible_is_a_defect(
        conn: psycopg.Connection[Any], make_engine: MakeEngine) -> None:
    f.area(conn, "ga1", dev=1)
    engine = make_engine()
    f.ingest(conn, [f.soil(1, 0, 25.0)])
    engine.step()
    conn.execute("INSERT INTO dead_letters (topic, payload, reason, dev_eui, digest, "
                 "reason_code) VALUES ('application/x/device/0000000000000001/event/up', '', "
                 "'implausible readings: soil_moisture_pct 300 above 100', %s, 'a', "
                 "'implausible')", (f.eui(1),))
    conn.execute("INSERT INTO dead_letters (topic, payload, reason, digest, reason_code) "
                 "VALUES ('x', '', 'bad', 'b', 'malformed')")
    # Matched by its code, not its wording: the same text coded otherwise is no defect.
    conn.execute("INSERT INTO dead_letters (topic, payload, reason, dev_eui, digest) VALUES "
                 "('application/x/device/0000000000000001/event/up', 'c', "
                 "'implausible readings: soil_moisture_pct 300 above 100', %s, 'c')",
                 (f.eui(1),))
    engine.step()
    (order,) = orders.list_orders(conn)
    assert (order.rule, order.kind, order.subject_id, order.opened_at) == (
        "health.impossible", "sensor_maintenance", f.eui(1), f.at(0))
    for h in range(1, 13):
        f.ingest(conn, [f.soil(1, h, 25.0 + h / 10)])
        engine.step()
    assert orders.get(conn, order.id).status == "resolved"
    engine.step()
    assert len(orders.list_orders(conn)) == 1


def _dead_letter(conn: psycopg.Connection[Any], dev: int, digest: bytes) -> int:
    """A dead letter for an implausible uplink, written as ingest writes it (not committed)."""
    row = conn.execute(
        "INSERT INTO dead_letters (topic, payload, reason, dev_eui, digest, reason_code) VALUES "
        "(%s, '', 'implausible readings: soil_moisture_pct 300 above 100', %s, %s, "
        "'implausible') RETURNING id",
        (f"application/x/device/{f.eui(dev)}/event/up", f.eui(dev), digest)
    ).fetchone()
    assert row is not None
    return int(row[0])


def test_a_dead_letter_committed_after_a_later_one_is_not_skipped(
        conn: psycopg.Connection[Any], database_url: str, make_engine: MakeEngine) -> None:
    f.area(conn, "ga1", dev=1)
    f.area(conn, "ga2", dev=4, lat=52.01)
    engine = make_engine()
    f.ingest(conn, [f.soil(1, 0, 25.0), f.soil(4, 0, 25.0)])
    engine.step()
    with psycopg.connect(database_url) as slow, psycopg.connect(database_url) as fast:
        # Two ingest transactions: the first takes the lower id but commits last.
        first = _dead_letter(slow, 1, b"slow")
        second = _dead_letter(fast, 4, b"fast")
        fast.commit()
        engine.step()
        # The engine waits for the older transaction instead of passing its id.
        assert (first < second, orders.list_orders(conn)) == (True, [])
        slow.commit()
    engine.step()
    found = [(o.rule, o.subject_id) for o in orders.list_orders(conn)]
    assert sorted(found) == [("health.impossible", f.eui(1)), ("health.impossible", f.eui(4))]
    engine.step()
    assert len(orders.list_orders(conn)) == 2


def _past_power_of_ten(conn: psycopg.Connection[Any], margin: int) -> int:
    """A power of ten at least `margin` transaction ids in the past (burning ids if needed)."""
    row = conn.execute("SELECT pg_current_xact_id()::text::bigint").fetchone()
    assert row is not None
    if row[0] < 1000 + margin:
        # Each exception block is a subtransaction with an id of its own.
        conn.execute(f"DO $$ BEGIN FOR i IN 1..{1000 + margin - row[0]} LOOP "
                     "BEGIN PERFORM pg_current_xact_id(); EXCEPTION WHEN OTHERS THEN NULL; END; "
                     "END LOOP; END $$")
        return 1000
    return int(10 ** math.floor(math.log10(row[0] - margin)))


def test_a_backlog_whose_transaction_ids_cross_a_power_of_ten_is_read_in_order(
        conn: psycopg.Connection[Any], make_engine: MakeEngine) -> None:
    stream.town(conn)
    batches = stream.batches()
    power = _past_power_of_ten(conn, len(batches))
    # Ids power - 20 … power + 19: as text "1000" sorts before "980".
    for i, batch in enumerate(batches):
        f.ingest(conn, batch, xid=power - 20 + i)
    engine = make_engine(batch_limit=3)
    assert engine.catch_up() == sum(len(b) for b in batches) == 131
    assert engine.stats.steps == 15
    assert stream.outcome(conn) == EXPECTED


def test_a_forecast_order_is_not_escalated_before_its_due_time(
        conn: psycopg.Connection[Any], make_engine: MakeEngine) -> None:
    # +1 point an hour from 10 %, collection on Sunday: forecast full on Thursday 18:00 (90 h).
    f.bin_(conn, weekday=6)
    engine = make_engine()
    _run_all(conn, engine, [[f.fill(2, h, 10.0 + h)] for h in range(4)])
    (order,) = orders.list_orders(conn)
    assert (order.params["reason"], order.due_at, order.priority) == ("forecast", f.at(90), 3)
    _run_all(conn, engine, [[f.fill(2, 60, 20.0)], [f.fill(2, 89, 30.0)]])
    assert [(h.event, h.note) for h in orders.history(conn, order.id)] == [
        ("opened", order.title)]
    assert orders.get(conn, order.id).priority == 3
    _run_all(conn, engine, [[f.fill(2, 115, 40.0)]])
    assert [(h.event, h.note) for h in orders.history(conn, order.id)] == [
        ("opened", order.title), ("escalated", "open for 24 h: priority 2"),
        ("reminder", "still open since Mon Jun  1 03:00:00 2026")]
    assert orders.get(conn, order.id).priority == 2


def test_an_order_closed_late_in_a_step_keeps_the_escalation_it_reached_while_open(
        conn: psycopg.Connection[Any], make_engine: MakeEngine) -> None:
    # A full bin's order, then one step of a day and a half of hourly readings: still full at
    # 24 h (escalation and reminder due), emptied at 31 h. Escalation runs on the event clock
    # within the step, so the step's size does not decide whether the order was escalated.
    f.bin_(conn)
    engine = make_engine()
    _run_all(conn, engine, [[f.fill(2, 0, 90.0)],
                            [f.fill(2, h, 90.0) for h in range(1, 31)] + [f.fill(2, 31, 5.0)]])
    (order,) = orders.list_orders(conn)
    assert [(h.event, h.at, h.note) for h in orders.history(conn, order.id)] == [
        ("opened", f.at(0), order.title),
        ("escalated", f.at(24), "open for 24 h: priority 2"),
        ("reminder", f.at(24), "still open since Mon Jun  1 00:00:00 2026"),
        ("resolved", f.at(31), "emptied: fill fell from 90 to 5 %")]
    assert (order.status, order.priority) == ("resolved", 2)
