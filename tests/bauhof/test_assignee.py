"""The assignee type: its text form, what it refuses, and the migration to that form."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from bauhof import db
from bauhof.assignee import Assignee, AssigneeError, crew_name


def test_text_form_round_trips() -> None:
    assert str(Assignee.crew("nord")) == "crew:nord"
    assert Assignee.parse("sponsor:sp-1") == Assignee("sponsor", "sp-1")
    assert str(Assignee.parse("vehicle:v-1")) == "vehicle:v-1"
    assert crew_name("crew:crew-1") == "crew-1"
    assert crew_name("sponsor:sp-1") is None
    assert crew_name(None) is None


@pytest.mark.parametrize(("text", "message"), [
    ("crew-1", "'crew-1' is not an assignee: write <kind>:<id> with kind one of crew, "
               "sponsor, vehicle (e.g. crew:nord)"),
    ("team:nord", "assignee kind 'team' is not one of crew, sponsor, vehicle (e.g. crew:nord)"),
    ("crew:", "assignee id '' must be 1 to 64 characters without spaces or colons"),
    ("crew:a b", "assignee id 'a b' must be 1 to 64 characters without spaces or colons"),
    ("crew:a:b", "assignee id 'a:b' must be 1 to 64 characters without spaces or colons"),
])
def test_malformed_text_is_refused_with_what_an_assignee_looks_like(text: str,
                                                                     message: str) -> None:
    with pytest.raises(AssigneeError) as caught:
        Assignee.parse(text)
    assert (str(caught.value), caught.value.text) == (message, text)


def test_the_migration_writes_the_simulators_crews_as_crew_users(
        conn: psycopg.Connection[Any]) -> None:
    # The rows as they were before migration 0080 allowed only `<kind>:<id>`.
    conn.execute("ALTER TABLE work_orders DROP CONSTRAINT work_orders_assignee_form")
    for subject, assignee, resolved_by in (("b1", "crew-1", "crew-1"),
                                           ("b2", "sponsor:sp-1", None),
                                           ("b3", "crew:nord", "crew:nord")):
        conn.execute(
            "INSERT INTO work_orders (kind, subject_type, subject_id, rule, params, priority, "
            "status, title, assignee, resolved_by, opened_at) VALUES ('empty_bin', 'bin', %s, "
            "'bins.full', '{}', 3, 'assigned', 't', %s, %s, now())",
            (subject, assignee, resolved_by))
    migration = next(m for m in db.available_migrations() if m.version == 75)
    conn.execute(migration.sql.encode())
    assert conn.execute("SELECT subject_id, assignee, resolved_by FROM work_orders "
                        "ORDER BY subject_id").fetchall() == [
        ("b1", "crew:crew-1", "crew:crew-1"), ("b2", "sponsor:sp-1", None),
        ("b3", "crew:nord", "crew:nord")]
