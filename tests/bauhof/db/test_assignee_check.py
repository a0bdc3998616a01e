"""Migration 0080: a work order's assignee is `<kind>:<id>` as bauhof/assignee.py accepts it,
or NULL; the database refuses any other value by the constraint's name."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from psycopg import errors as pg_errors

from bauhof import db
from bauhof.assignee import Assignee, AssigneeError

_INSERT = ("INSERT INTO work_orders (kind, subject_type, subject_id, rule, title, opened_at, "
           "status, assignee) VALUES ('empty_bin', 'bin', %s, 'bins.full', 't', now(), %s, %s) "
           "RETURNING id")


def _insert(conn: psycopg.Connection[Any], subject: str, assignee: str | None) -> int:
    row = conn.execute(_INSERT, (subject, "open" if assignee is None else "assigned",
                                 assignee)).fetchone()
    assert row is not None
    return int(row[0])


@pytest.mark.parametrize("text", [
    "nord", "crew:", "team:nord", "crew:two words", "crew:a:b", "crew:" + "x" * 65,
    "Crew:nord", " crew:nord", "crew:nord\n"])
def test_a_malformed_assignee_is_refused_by_the_constraint(
        conn: psycopg.Connection[Any], text: str) -> None:
    with pytest.raises(AssigneeError):
        Assignee.parse(text)
    with pytest.raises(pg_errors.CheckViolation) as refused:
        _insert(conn, "b1", text)
    assert refused.value.diag.constraint_name == "work_orders_assignee_form"


@pytest.mark.parametrize("text", [
    "crew:nord", "sponsor:sp-1", "vehicle:veh-1", "crew:" + "x" * 64, "crew:Grün_Süd.2"])
def test_a_well_formed_assignee_is_stored(conn: psycopg.Connection[Any], text: str) -> None:
    assert str(Assignee.parse(text)) == text
    order_id = _insert(conn, "b1", text)
    assert conn.execute("SELECT assignee FROM work_orders WHERE id = %s",
                        (order_id,)).fetchone() == (text,)


def test_nobody_is_allowed(conn: psycopg.Connection[Any]) -> None:
    order_id = _insert(conn, "b1", None)
    assert conn.execute("SELECT assignee FROM work_orders WHERE id = %s",
                        (order_id,)).fetchone() == (None,)


def test_the_migration_makes_bare_names_crews_and_stops_at_other_values(
        conn: psycopg.Connection[Any]) -> None:
    conn.execute("ALTER TABLE work_orders DROP CONSTRAINT work_orders_assignee_form")
    ids = {text: _insert(conn, f"b{n}", text) for n, text in enumerate(
        ["nord", "crew:sued", "sponsor:sp-1", "vehicle:v1", None])}
    bad = _insert(conn, "b9", "planner:paula")
    (migration,) = [m for m in db.available_migrations() if m.version == 80]
    with pytest.raises(pg_errors.RaiseException) as stopped:
        conn.execute(migration.sql)
    diag = stopped.value.diag
    assert (diag.message_primary, diag.message_hint) == (
        f"work orders with an assignee not of the form <kind>:<id>: {bad} ('planner:paula')",
        "set each to crew:<name>, sponsor:<id>, vehicle:<id> or NULL, then run "
        "`bauhof db migrate` again")
    conn.execute("UPDATE work_orders SET assignee = NULL, status = 'open' WHERE id = %s",
                 (bad,))
    conn.execute(migration.sql)
    assert dict(conn.execute("SELECT id, assignee FROM work_orders WHERE id <> %s",
                             (bad,)).fetchall()) == {
        ids["nord"]: "crew:nord", ids["crew:sued"]: "crew:sued",
        ids["sponsor:sp-1"]: "sponsor:sp-1", ids["vehicle:v1"]: "vehicle:v1", ids[None]: None}
    with pytest.raises(pg_errors.CheckViolation):
        _insert(conn, "b10", "planner:paula")
