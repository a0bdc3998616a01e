"""`bauhof demo`'s token for the simulated crews."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from api import users
from shell import demo


def test_the_simulator_administrator_is_made_once_and_given_a_token_per_run(
        database_url: str, conn: psycopg.Connection[Any]) -> None:
    first, first_id = demo.simulator_token(database_url)
    second, second_id = demo.simulator_token(database_url)
    assert first != second and first_id != second_id
    assert conn.execute("SELECT name, role FROM api_users").fetchall() == [
        ("simulator", "admin")]
    for token in (first, second):
        principal = users.authenticate(conn, token)
        assert principal is not None
        assert (principal.name, principal.role) == ("simulator", "admin")


def test_a_simulator_user_of_another_role_is_refused(database_url: str,
                                                     conn: psycopg.Connection[Any]) -> None:
    users.create_user(conn, "simulator", "planner")
    with pytest.raises(users.UserError) as caught:
        demo.simulator_token(database_url)
    assert str(caught.value) == ("user 'simulator' exists with role planner; the demo's crews "
                                 "need it to be an administrator")
    assert conn.execute("SELECT count(*) FROM api_tokens").fetchone() == (0,)
