"""Order life cycle, append-only history, one open order per (rule, subject), citizen reports."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from psycopg import errors as pg_errors

from bauhof.assignee import Assignee
from rules import defects, orders
from rules.actions import Open, Resolve, Update
from rules.apply import apply
from rules.assets import Town
from rules.errors import IllegalTransition, OrderNotFound, UnknownSubject
from tests.rules import factory as f


def _open(conn: psycopg.Connection[Any], rule: str = "bins.full", subject: str = "b1") -> int:
    with conn.transaction():
        order_id, created = orders.apply_open(conn, Open(
            rule=rule, kind="empty_bin", subject_type="bin", subject_id=subject, at=f.at(1),
            title="Empty bin b1", value=85.0), "rules", (52.001, 13.001))
    assert created
    return order_id


def test_life_cycle_with_history(conn: psycopg.Connection[Any]) -> None:
    f.bin_(conn)
    oid = _open(conn)
    orders.transition(conn, oid, "assigned", "dispatcher", assignee=Assignee.crew("crew-1"))
    orders.transition(conn, oid, "in_progress", "crew-1")
    done = orders.transition(conn, oid, "done", "crew-1", "emptied")
    assert (done.status, done.assignee, done.resolved_by) == ("done", "crew:crew-1", "crew-1")
    assert done.resolved_at is not None
    assert [(h.event, h.actor, h.from_status, h.to_status) for h in orders.history(conn, oid)] \
        == [("opened", "rules", "open", "open"),
            ("assigned", "dispatcher", "open", "assigned"),
            ("started", "crew-1", "assigned", "in_progress"),
            ("done", "crew-1", "in_progress", "done")]
    topics = [r[0] for r in conn.execute("SELECT topic FROM outbox WHERE channel = 'mqtt' "
                                         "ORDER BY id")]
    assert topics == [f"bauhof/workorders/{oid}/{e}" for e in
                      ("opened", "assigned", "started", "done")]


@pytest.mark.parametrize(("path", "to", "allowed"), [
    ((), "open", ("assigned", "in_progress", "done", "cancelled", "resolved")),
    (("in_progress",), "open", ("assigned", "done", "cancelled", "resolved")),
    (("done",), "assigned", ()),
    (("cancelled",), "in_progress", ()),
])
def test_illegal_transitions_raise(conn: psycopg.Connection[Any], path: tuple[str, ...],
                                   to: str, allowed: tuple[str, ...]) -> None:
    f.bin_(conn)
    oid = _open(conn)
    for status in path:
        orders.transition(conn, oid, status, "crew-1")
    with pytest.raises(IllegalTransition) as caught:
        orders.transition(conn, oid, to, "crew-1")
    assert caught.value.allowed == allowed
    assert caught.value.from_status == (path[-1] if path else "open")
    assert len(orders.history(conn, oid)) == 1 + len(path)


def test_unknown_order(conn: psycopg.Connection[Any]) -> None:
    with pytest.raises(OrderNotFound, match="work order 999 does not exist"):
        orders.transition(conn, 999, "done", "crew-1")


def test_history_is_append_only(conn: psycopg.Connection[Any]) -> None:
    f.bin_(conn)
    oid = _open(conn)
    with pytest.raises(pg_errors.InsufficientPrivilege, match="order_history is append-only"):
        conn.execute("UPDATE order_history SET actor = 'someone' WHERE order_id = %s", (oid,))
    with pytest.raises(pg_errors.InsufficientPrivilege):
        conn.execute("DELETE FROM order_history")
    assert len(orders.history(conn, oid)) == 1


def test_database_refuses_a_second_open_order(conn: psycopg.Connection[Any]) -> None:
    f.bin_(conn)
    _open(conn)
    with pytest.raises(pg_errors.UniqueViolation):
        conn.execute("INSERT INTO work_orders (kind, subject_type, subject_id, rule, title, "
                     "opened_at) VALUES ('empty_bin', 'bin', 'b1', 'bins.full', 'x', now())")
    # Through the API it becomes an update of the open order.
    with conn.transaction():
        oid, created = orders.apply_open(conn, Open(
            rule="bins.full", kind="empty_bin", subject_type="bin", subject_id="b1",
            at=f.at(2), title="again", value=90.0), "rules")
    assert (created, orders.get(conn, oid).last_value) == (False, 90.0)
    assert len(f.orders(conn)) == 1


def test_citizen_report_joins_the_bins_open_order_and_is_told_when_done(
        conn: psycopg.Connection[Any]) -> None:
    f.bin_(conn)
    oid = _open(conn)
    report = defects.report(conn, subject_type="bin", subject_id="b1",
                            description="overflowing", email="anna@example.org", lang="en",
                            service_code="bin-full")
    assert (report.order_id, report.attached) == (oid, True)
    orders.transition(conn, oid, "done", "crew-1")
    status = conn.execute("SELECT status FROM defects WHERE id = %s", (report.defect_id,))
    assert status.fetchone() == ("resolved",)
    mails = conn.execute("SELECT payload->>'to', payload->>'template', payload->>'lang' "
                         "FROM outbox WHERE channel = 'email'").fetchall()
    assert mails == [("anna@example.org", "defect_fixed", "en")]
    assert [h.event for h in orders.history(conn, oid)] == ["opened", "reported", "done"]


def test_citizen_report_without_an_open_order_opens_one(conn: psycopg.Connection[Any]) -> None:
    f.bin_(conn)
    report = defects.report(conn, subject_type="bin", subject_id="b1", description="lid broken")
    order = orders.get(conn, report.order_id)
    assert (report.attached, order.kind, order.rule, order.title) == (
        False, "citizen_defect", "citizen.report", "Reported: lid broken")
    assert (order.latitude, order.longitude) == (52.001, 13.001)
    again = defects.report(conn, subject_type="bin", subject_id="b1", description="still broken")
    assert (again.order_id, again.attached) == (report.order_id, True)
    with pytest.raises(UnknownSubject, match="bin 'nope' is not registered"):
        defects.report(conn, subject_type="bin", subject_id="nope", description="x")


def test_find_open_many_locks_the_open_orders_of_the_keys(
        conn: psycopg.Connection[Any]) -> None:
    f.bin_(conn)
    f.bin_(conn, "b2", dev=3)
    first, second = _open(conn), _open(conn, subject="b2")
    orders.transition(conn, second, "done", "crew-1")
    with conn.transaction():
        found = orders.find_open_many(conn, [("bins.full", "bin", "b1"),
                                             ("bins.full", "bin", "b2"),
                                             ("bins.tilted", "bin", "b1")])
    assert {key: o.id for key, o in found.items()} == {("bins.full", "bin", "b1"): first}
    assert orders.find_open_many(conn, []) == {}


def test_an_update_after_a_resolve_in_one_step_finds_no_order(
        conn: psycopg.Connection[Any]) -> None:
    # The step's Updates are looked up before its actions run; one that follows a Resolve of
    # the same order reads again and finds it closed (its module is told, nothing written).
    f.bin_(conn)
    oid = _open(conn)
    gone: list[tuple[str, str, str]] = []
    with conn.transaction():
        apply(conn, [Update("bins.full", "bin", "b1", f.at(2), 90.0, ({"n": 1},)),
                     Resolve("bins.full", "bin", "b1", f.at(3), note="emptied"),
                     Update("bins.full", "bin", "b1", f.at(4), 10.0, ({"n": 2},))],
              town=Town(), keep=10, order_gone=lambda *key: gone.append(key))
    order = orders.get(conn, oid)
    assert (order.status, order.last_value, order.evidence) == ("resolved", 90.0, [{"n": 1}])
    assert gone == [("bins.full", "bin", "b1")]
