"""Simulated crews through Bauhof's HTTP API: a real database, the real app under uvicorn."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
import yaml

from api import users
from api.app import create_app
from api.config import ApiSettings
from bauhof import assets
from bauhof.assignee import Assignee
from bauhof.services import free_port
from rules import orders
from rules.actions import Open
from shell.main import main
from simulator import scenario, truth
from simulator.crew_api import HttpCrews
from simulator.crews import CrewError, CrewOrder
from tests.fixtures.http import AppServers
from tests.simulator.conftest import crew_day, tiny_town

MONDAY = datetime(2026, 6, 1, tzinfo=UTC)
AT = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
VAN = {"id": "veh-2", "name": "Van", "kind": "van"}
WAIT = 0.01  # between retries: no test waits seconds for a server that is not coming
ServeApi = Callable[..., str]


@pytest.fixture
def serve_api(database_url: str, tmp_path: Path) -> Iterator[ServeApi]:
    """Start the API app under uvicorn in a thread (client_time as asked); its base URL."""
    servers = AppServers()

    def start(client_time: bool = True) -> str:
        return servers.start(create_app(ApiSettings(
            database_url=database_url, media_dir=tmp_path / "media", pool_min=1, pool_max=4,
            client_time=client_time)))

    yield start
    servers.stop_all()


@pytest.fixture
def town(database_url: str, tmp_path: Path) -> dict[str, Any]:
    """The tiny town with a van, its assets loaded into the database."""
    data = tiny_town()
    data["vehicles"] = [*data["vehicles"], VAN]
    town_file = tmp_path / "town.yaml"
    town_file.write_text(yaml.safe_dump(data), encoding="utf-8")
    assets.load_file(database_url, town_file)
    return data


def _token(conn: psycopg.Connection[Any], name: str, role: str) -> str:
    return users.issue_token(conn, users.create_user(conn, name, role)).token


def _open(conn: psycopg.Connection[Any], subject_id: str = "ga-1", *, kind: str = "watering",
          subject_type: str = "green_area", rule: str = "watering.dry",
          assignee: str | None = None, priority: int = 3) -> int:
    with conn.transaction():
        order_id, created = orders.apply_open(conn, Open(
            rule=rule, kind=kind, subject_type=subject_type, subject_id=subject_id,
            at=MONDAY, title=f"{kind} {subject_id}", priority=priority,
            assignee=Assignee.parse(assignee) if assignee else None),
            actor="rules")
    assert created
    return order_id


def _steps(conn: psycopg.Connection[Any], order_id: int) -> list[tuple[str, str, datetime]]:
    return [(h.actor, h.to_status or "", h.at) for h in orders.history(conn, order_id)]


def test_crews_start_and_finish_orders_through_the_api(
        serve_api: ServeApi, town: dict[str, Any], conn: psycopg.Connection[Any],
        tmp_path: Path) -> None:
    order_id = _open(conn)
    admin = _token(conn, "sim", "admin")
    backend = HttpCrews(serve_api(), admin, retry_wait_s=WAIT)
    try:
        crew_day(scenario.parse(town, "tiny"), backend, tmp_path / "truth.jsonl")
    finally:
        backend.close()
    order = orders.get(conn, order_id)
    assert (order.status, order.assignee, order.resolved_by) == (
        "done", "crew:crew-1", "crew:crew-1")
    steps = _steps(conn, order_id)
    assert [(actor, status) for actor, status, _ in steps] == [
        ("rules", "open"), ("crew:crew-1", "in_progress"), ("crew:crew-1", "done")]
    # The simulated times: the shift begins at 7:00 local (05:00 UTC in summer).
    started, finished = steps[1][2], steps[2][2]
    assert started == datetime(2026, 6, 1, 5, 0, tzinfo=UTC)
    assert order.resolved_at == finished
    assert 15 * 60 < (finished - started).total_seconds() < 60 * 60
    watered = [e for e in truth.read(tmp_path / "truth.jsonl") if e["kind"] == "watered"]
    assert [(e["green_area"], e["by"]) for e in watered] == [("ga-1", "crew-1")]
    # The crew got a user of its own; its token of this run is revoked at the end.
    crew_users = conn.execute(
        "SELECT u.name, u.role, count(t.id), count(t.revoked_at) FROM api_users u "
        "JOIN api_tokens t ON t.user_id = u.id WHERE u.name LIKE 'crew-%' "
        "GROUP BY u.name, u.role").fetchall()
    assert crew_users == [("crew-1", "crew", 1, 1)]


def test_a_crew_user_from_an_earlier_run_gets_a_new_token(
        serve_api: ServeApi, town: dict[str, Any], conn: psycopg.Connection[Any]) -> None:
    users.create_user(conn, "crew-1", "crew")
    first, second = _open(conn), _open(conn, "bin-1", kind="empty_bin", subject_type="bin",
                                       rule="bins.full")
    backend = HttpCrews(serve_api(), _token(conn, "sim", "admin"), retry_wait_s=WAIT)
    try:
        assert backend.start(first, "crew-1", AT) is True
        assert backend.finish(first, "crew-1", AT + timedelta(minutes=20), "watered") is True
        assert backend.start(second, "crew-1", AT + timedelta(minutes=30)) is True
    finally:
        backend.close()
    assert conn.execute("SELECT count(*) FROM api_users WHERE name = 'crew-1'").fetchone() == (
        1,)
    assert _steps(conn, first)[1:] == [
        ("crew:crew-1", "in_progress", AT),
        ("crew:crew-1", "done", AT + timedelta(minutes=20))]
    assert _steps(conn, second)[1:] == [
        ("crew:crew-1", "in_progress", AT + timedelta(minutes=30))]
    history = orders.history(conn, first)
    assert [h.note for h in history[1:]] == ["on the way", "watered"]


def test_open_orders_as_the_crews_see_them(serve_api: ServeApi, town: dict[str, Any],
                                           conn: psycopg.Connection[Any]) -> None:
    users.create_user(conn, "nord", "crew")
    untaken = _open(conn, priority=2)
    sponsors = _open(conn, "ga-1", rule="watering.sponsor", assignee="sponsor:sp-1")
    ours = _open(conn, "bin-1", kind="empty_bin", subject_type="bin", rule="bins.full",
                 assignee="crew:crew-2")
    others = _open(conn, "bin-1", kind="bin_maintenance", subject_type="bin",
                   rule="bins.damaged", assignee="crew:nord")
    closed = _open(conn, "24e1240000000002", kind="sensor_maintenance",
                   subject_type="device", rule="health.silent")
    orders.transition(conn, closed, "cancelled", "planner:paula", "duplicate")
    backend = HttpCrews(serve_api(), _token(conn, "sim", "admin"), retry_wait_s=WAIT)
    try:
        found = backend.open_orders()
    finally:
        backend.close()
    assert found == [
        CrewOrder(untaken, "watering", "green_area", "ga-1", 2, MONDAY, None, None, None),
        CrewOrder(sponsors, "watering", "green_area", "ga-1", 3, MONDAY, "sponsor:sp-1",
                  None, None),
        CrewOrder(ours, "empty_bin", "bin", "bin-1", 3, MONDAY, "crew-2", None, None),
        CrewOrder(others, "bin_maintenance", "bin", "bin-1", 3, MONDAY, "nord", None, None),
    ]


def test_an_order_closed_meanwhile_is_false_and_not_touched(
        serve_api: ServeApi, town: dict[str, Any], conn: psycopg.Connection[Any]) -> None:
    cancelled, finished = _open(conn), _open(conn, "bin-1", kind="empty_bin",
                                             subject_type="bin", rule="bins.full")
    backend = HttpCrews(serve_api(), _token(conn, "sim", "admin"), retry_wait_s=WAIT)
    try:
        orders.transition(conn, cancelled, "cancelled", "planner:paula", "it rained")
        assert backend.start(cancelled, "crew-1", AT) is False
        assert backend.start(finished, "crew-1", AT) is True
        orders.transition(conn, finished, "resolved", "rules", "the bin is empty")
        assert backend.finish(finished, "crew-1", AT + timedelta(minutes=5), "emptied") is False
    finally:
        backend.close()
    assert [(a, s) for a, s, _ in _steps(conn, cancelled)] == [
        ("rules", "open"), ("planner:paula", "cancelled")]
    assert [(a, s) for a, s, _ in _steps(conn, finished)] == [
        ("rules", "open"), ("crew:crew-1", "in_progress"), ("rules", "resolved")]


def test_another_crews_order_is_false_and_own_started_order_is_resumed(
        serve_api: ServeApi, town: dict[str, Any], conn: psycopg.Connection[Any]) -> None:
    order_id = _open(conn)
    backend = HttpCrews(serve_api(), _token(conn, "sim", "admin"), retry_wait_s=WAIT)
    try:
        assert backend.start(order_id, "crew-1", AT) is True
        # crew-2 cannot see crew-1's order; crew-1 (after a restart) carries on with it.
        assert backend.start(order_id, "crew-2", AT) is False
        assert backend.start(order_id, "crew-1", AT + timedelta(minutes=10)) is True
    finally:
        backend.close()
    assert _steps(conn, order_id) == [("rules", "open", MONDAY),
                                      ("crew:crew-1", "in_progress", AT)]


class LoseFirstAnswer(httpx.BaseTransport):
    """Sends every request to the server, but drops the answer of the first POST to `path`
    (the connection broke after the server acted)."""

    def __init__(self, path: str) -> None:
        self.inner = httpx.HTTPTransport()
        self.path = path
        self.dropped = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        if request.method == "POST" and request.url.path.endswith(self.path) and not (
                self.dropped):
            response.read()
            response.close()
            self.dropped += 1
            raise httpx.ReadError("connection reset by peer", request=request)
        return response

    def close(self) -> None:
        self.inner.close()


@pytest.mark.parametrize("step", ["start", "done"])
def test_a_lost_answer_is_retried_without_a_second_transition(
        serve_api: ServeApi, town: dict[str, Any], conn: psycopg.Connection[Any],
        step: str) -> None:
    order_id = _open(conn)
    transport = LoseFirstAnswer(f"/{step}")
    backend = HttpCrews(serve_api(), _token(conn, "sim", "admin"), transport=transport,
                        retry_wait_s=WAIT)
    try:
        assert backend.start(order_id, "crew-1", AT) is True
        assert backend.finish(order_id, "crew-1", AT + timedelta(minutes=20), "ok") is True
    finally:
        backend.close()
    assert transport.dropped == 1
    assert _steps(conn, order_id) == [
        ("rules", "open", MONDAY), ("crew:crew-1", "in_progress", AT),
        ("crew:crew-1", "done", AT + timedelta(minutes=20))]


def _until_refused(url: str, token: str) -> None:
    """Wait (at most 10 s) until the API answers 401 to the token."""
    for _ in range(200):
        answer = httpx.get(f"{url}/api/v1/work-orders",
                           headers={"Authorization": f"Bearer {token}"})
        if answer.status_code == 401:
            return
        threading.Event().wait(0.05)
    raise AssertionError(f"the API still accepts the token: {answer.status_code}")


def test_an_expired_crew_token_is_replaced(serve_api: ServeApi, town: dict[str, Any],
                                           conn: psycopg.Connection[Any]) -> None:
    order_id = _open(conn)
    url = serve_api()
    backend = HttpCrews(url, _token(conn, "sim", "admin"), retry_wait_s=WAIT)
    try:
        assert backend.start(order_id, "crew-1", AT) is True
        conn.execute("UPDATE api_tokens SET expires_at = now() - interval '1 second' "
                     "WHERE user_id = (SELECT id FROM api_users WHERE name = 'crew-1')")
        # The API forgets checked tokens when the change's NOTIFY reaches it, a few ms after
        # the commit: wait for that, so the finish below meets the expired token.
        _until_refused(url, backend._token("crew-1"))
        assert backend.finish(order_id, "crew-1", AT + timedelta(minutes=20), "ok") is True
    finally:
        backend.close()
    assert orders.get(conn, order_id).resolved_by == "crew:crew-1"
    assert conn.execute("SELECT count(*) FROM api_tokens t JOIN api_users u ON u.id = "
                        "t.user_id WHERE u.name = 'crew-1'").fetchone() == (2,)


def test_without_client_time_the_api_refuses_and_the_error_says_how_to_allow_it(
        serve_api: ServeApi, town: dict[str, Any], conn: psycopg.Connection[Any]) -> None:
    order_id = _open(conn)
    url = serve_api(client_time=False)
    admin = _token(conn, "sim", "admin")
    backend = HttpCrews(url, admin, retry_wait_s=WAIT)
    try:
        with pytest.raises(CrewError) as caught:
            backend.start(order_id, "crew-1", AT)
    finally:
        backend.close()
    assert str(caught.value) == (
        f"Bauhof's API at {url} does not take the simulated time of the crews' work (body "
        "field 'at': this API stamps transitions with its own clock; a client's time is "
        "accepted only with BAUHOF_API_CLIENT_TIME=1 (simulations and replays)); start the "
        "API with BAUHOF_API_CLIENT_TIME=1 for simulations, so that order times follow the "
        "simulated readings")
    assert orders.get(conn, order_id).status == "open"
    # Asked not to send times, the crews work and the server's clock stamps the history.
    server_time = HttpCrews(url, admin, client_time=False, retry_wait_s=WAIT)
    before = datetime.now(UTC)
    try:
        assert server_time.start(order_id, "crew-1", AT) is True
    finally:
        server_time.close()
    (_, (actor, status, at)) = _steps(conn, order_id)
    assert (actor, status) == ("crew:crew-1", "in_progress")
    assert before <= at <= datetime.now(UTC)


def test_a_bad_token_is_a_clear_error(serve_api: ServeApi) -> None:
    url = serve_api()
    with pytest.raises(CrewError) as caught:
        HttpCrews(url, "bh_not-a-token", retry_wait_s=WAIT)
    assert str(caught.value) == (
        f"Bauhof's API at {url} refused the token to check the token (401: the token is "
        "unknown, expired or revoked: ask an administrator for a new one); set "
        "BAUHOF_API_TOKEN to a valid administrator's token (`bauhof users create --role "
        "admin --name simulator`)")


def test_a_planners_token_is_not_enough(serve_api: ServeApi,
                                        conn: psycopg.Connection[Any]) -> None:
    url = serve_api()
    with pytest.raises(CrewError) as caught:
        HttpCrews(url, _token(conn, "paula", "planner"), retry_wait_s=WAIT)
    assert str(caught.value) == (
        f"Bauhof's API at {url} does not let the crews check the token (403: role planner "
        "may not do this; it needs admin); BAUHOF_API_TOKEN must be an administrator's: the "
        "simulator manages its crews' users")


def test_a_url_that_is_not_the_api_is_a_clear_error(serve_api: ServeApi) -> None:
    url = serve_api() + "/elsewhere"
    with pytest.raises(CrewError) as caught:
        HttpCrews(url, "bh_x", retry_wait_s=WAIT)
    assert str(caught.value) == ("Bauhof's API refused to check the token: 404 no resource at "
                                 "/elsewhere/api/v1/users")


def test_a_crew_name_taken_by_a_planner_is_a_clear_error(
        serve_api: ServeApi, town: dict[str, Any], conn: psycopg.Connection[Any]) -> None:
    order_id = _open(conn)
    users.create_user(conn, "crew-1", "planner")
    backend = HttpCrews(serve_api(), _token(conn, "sim", "admin"), retry_wait_s=WAIT)
    try:
        with pytest.raises(CrewError) as caught:
            backend.start(order_id, "crew-1", AT)
    finally:
        backend.close()
    assert str(caught.value) == ("user 'crew-1' exists with role planner; the simulated crews "
                                 "log in as crew users of their names: rename that user")
    assert conn.execute("SELECT count(*) FROM api_tokens").fetchone() == (1,)


def test_an_unreachable_api_is_a_clear_error() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(CrewError) as caught:
        HttpCrews(url, "bh_x", retries=3, retry_wait_s=0.01)
    message = str(caught.value)
    assert message.startswith(f"cannot reach Bauhof's API at {url} to check the token after "
                              "3 attempts (ConnectError: ")
    assert message.endswith("); is `bauhof api` running there?")


def test_simulate_crews_through_the_api_from_the_command_line(
        serve_api: ServeApi, town: dict[str, Any], conn: psycopg.Connection[Any],
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    order_id = _open(conn)
    url = serve_api()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("BAUHOF_API_TOKEN", _token(conn, "simulator", "admin"))
    assert main(["simulate", "--scenario", "town.yaml", "--days", "1", "--speed", "max",
                 "--no-publish",
                 "--truth", "truth.jsonl", "--crews", "--api", url, "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "crews closed 1 work orders" in out
    order = orders.get(conn, order_id)
    assert (order.status, order.resolved_by) == ("done", "crew:crew-1")
    assert _steps(conn, order_id)[1][2] == datetime(2026, 6, 1, 5, 0, tzinfo=UTC)


def test_simulate_api_options_are_checked(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("BAUHOF_API_TOKEN", raising=False)
    assert main(["simulate", "--api", "http://127.0.0.1:1", "--no-publish", "--truth", "t",
                 "--quiet"]) == 2
    assert capsys.readouterr().err.strip() == "bauhof simulate: error: --api is for --crews"
    assert main(["simulate", "--crews", "--api", "http://127.0.0.1:1", "--no-publish",
                 "--truth", "t", "--quiet"]) == 2
    assert capsys.readouterr().err.strip().splitlines()[-1] == (
        "bauhof simulate: --crews: --api needs an administrator's token in BAUHOF_API_TOKEN "
        "(`bauhof users create --role admin --name simulator`)")
