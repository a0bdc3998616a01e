"""The staff side of the portal: award, decline, end, inspections, the cadastre, privacy."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
import pytest
from fastapi.testclient import TestClient

from api import sponsorship_store as store
from shell import main as cli
from tests.api import portal_town
from tests.api.conftest import Tokens
from tests.api.test_portal import INQUIRY, _act, _inquire


@pytest.fixture
def portal(conn: psycopg.Connection[Any], tokens: Tokens) -> Tokens:
    """The portal town and users of every role."""
    portal_town.build(conn)
    return tokens


def _requested(client: TestClient, conn: psycopg.Connection[Any], **changes: Any) -> int:
    """An inquiry confirmed from its mail; its id."""
    assert _act(client, _inquire(client, conn, **changes)).status_code == 200
    row = conn.execute("SELECT max(id) FROM sponsorships").fetchone()
    assert row is not None
    return int(row[0])


def test_only_planners_and_admins_manage_sponsorships(
        client: TestClient, conn: psycopg.Connection[Any], portal: Tokens) -> None:
    sid = _requested(client, conn)
    assert client.get("/api/v1/sponsorships").status_code == 401
    assert client.get("/api/v1/sponsorships", headers=portal.crew).status_code == 403
    assert client.post(f"/api/v1/sponsorships/{sid}/approve",
                       headers=portal.crew).status_code == 403
    assert client.get("/api/v1/sponsorships/export?email=erika@example.org",
                      headers=portal.planner).status_code == 403
    assert client.get("/api/v1/sponsorships/999", headers=portal.admin).status_code == 404


def test_decline_with_reason_and_refusals(
        client: TestClient, conn: psycopg.Connection[Any], portal: Tokens) -> None:
    sid = _requested(client, conn, lang="en")
    short = client.post(f"/api/v1/sponsorships/{sid}/decline", headers=portal.planner,
                        json={"reason": ""})
    assert short.status_code == 422
    assert [e["field"] for e in short.json()["errors"]] == ["reason"]
    declined = client.post(f"/api/v1/sponsorships/{sid}/decline", headers=portal.planner,
                           json={"reason": "Die Fläche wird 2027 umgebaut."})
    assert (declined.status_code, declined.json()["status"], declined.json()["reason"]) == (
        200, "declined", "Die Fläche wird 2027 umgebaut.")
    to, template, lang, context = portal_town.mails(conn)[-1]
    assert (to, template, lang, context["reason"]) == (
        "erika@example.org", "sponsorship_declined", "en", "Die Fläche wird 2027 umgebaut.")
    again = client.post(f"/api/v1/sponsorships/{sid}/approve", headers=portal.planner)
    assert (again.status_code, again.json()["detail"]) == (
        409, "only a confirmed request can be approved; this one is declined")
    ended = client.post(f"/api/v1/sponsorships/{sid}/end", headers=portal.planner)
    assert (ended.status_code, ended.json()["detail"]) == (
        409, "only an active sponsorship can be ended; this one is declined")
    assert client.get("/api/v1/public/green-areas/ga2").json()["properties"]["status"] == "free"


def test_unconfirmed_cannot_be_approved(
        client: TestClient, conn: psycopg.Connection[Any], portal: Tokens) -> None:
    _inquire(client, conn)
    row = conn.execute("SELECT id FROM sponsorships").fetchone()
    assert row is not None
    response = client.post(f"/api/v1/sponsorships/{row[0]}/approve", headers=portal.admin)
    assert (response.status_code, response.json()["detail"]) == (
        409, "only a confirmed request can be approved; this one is unconfirmed")


def test_one_sponsor_per_area_unless_it_allows_several(
        client: TestClient, conn: psycopg.Connection[Any], portal: Tokens) -> None:
    first = _requested(client, conn)
    second = _requested(client, conn, email="zweite@example.org", name="Zweite Person")
    assert client.post(f"/api/v1/sponsorships/{first}/approve",
                       headers=portal.planner).status_code == 200
    refused = client.post(f"/api/v1/sponsorships/{second}/approve", headers=portal.planner)
    assert (refused.status_code, refused.json()["detail"]) == (
        409, "green area 'ga2' already has a sponsor; it allows only one")
    # ga3 allows several: two active sponsors, the first one asked when it is dry.
    a = _requested(client, conn, area_id="ga3", email="a@example.org")
    b = _requested(client, conn, area_id="ga3", email="b@example.org")
    for sid in (a, b):
        assert client.post(f"/api/v1/sponsorships/{sid}/approve",
                           headers=portal.planner).json()["status"] == "active"
    assert conn.execute("SELECT sponsor_id FROM green_areas WHERE id = 'ga3'").fetchone() == (
        f"pt-{a}",)
    assert conn.execute("SELECT count(*) FROM work_orders WHERE kind = 'planting'"
                        ).fetchone() == (1,)  # ga3 needs no planting
    public = client.get("/api/v1/public/green-areas/ga3").json()["properties"]
    assert (public["status"], public["takes_sponsors"]) == ("sponsored", True)
    # Staff end the first: the second takes over the watering requests.
    ended = client.post(f"/api/v1/sponsorships/{a}/end", headers=portal.admin)
    assert (ended.json()["status"], ended.json()["ended_by"]) == ("ended", "admin:root")
    assert conn.execute("SELECT sponsor_id FROM green_areas WHERE id = 'ga3'").fetchone() == (
        f"pt-{b}",)
    listed = client.get("/api/v1/sponsorships?area_id=ga3&status=active",
                        headers=portal.admin).json()["items"]
    assert [(x["id"], x["email"]) for x in listed] == [(b, "b@example.org")]


def test_inspections_each_season_once_with_the_result_on_the_area(
        client: TestClient, conn: psycopg.Connection[Any], portal: Tokens) -> None:
    sid = _requested(client, conn)
    client.post(f"/api/v1/sponsorships/{sid}/approve", headers=portal.planner)
    opened = client.post("/api/v1/green-areas/inspections", headers=portal.planner,
                         json={"season": "spring"}).json()["opened"]
    assert len(opened) == 3
    year = datetime.now(ZoneInfo("Europe/Berlin")).year  # the town's year, as the orders'
    assert conn.execute("SELECT subject_id, kind, title FROM work_orders WHERE rule = "
                        "'portal.inspection' ORDER BY subject_id").fetchall() == [
        ("ga1", "inspection", f"Flächenkontrolle Area ga1 ({year}-spring)"),
        ("ga2", "inspection", f"Flächenkontrolle Marktplatz Beet ({year}-spring)"),
        ("ga3", "inspection", f"Flächenkontrolle Stadtgraben Hecke ({year}-spring)")]
    assert client.post("/api/v1/green-areas/inspections", headers=portal.planner,
                       json={"season": "spring"}).json() == {"opened": []}
    bad = client.post("/api/v1/green-areas/ga2/inspection", headers=portal.crew,
                      json={"result": "fine"})
    assert [e["field"] for e in bad.json()["errors"]] == ["result"]
    done = client.post("/api/v1/green-areas/ga2/inspection", headers=portal.crew,
                       json={"result": "needs_care", "note": "Unkraut"})
    assert (done.json()["result"], done.json()["by"]) == ("needs_care", "crew:nord")
    assert conn.execute("SELECT status FROM work_orders WHERE rule = 'portal.inspection' "
                        "AND subject_id = 'ga2'").fetchone() == ("done",)
    assert conn.execute("SELECT inspection->>'result' FROM green_areas WHERE id = 'ga2'"
                        ).fetchone() == ("needs_care",)
    to, template, _, context = portal_town.mails(conn)[-1]
    assert (to, template, context["result"], context["note"]) == (
        "erika@example.org", "sponsorship_inspection", "braucht Pflege", "Unkraut")
    assert client.get("/api/v1/public/green-areas/ga2").json()["properties"][
        "inspected"] == "needs_care"


AREA = {"id": "ga9", "name": "Neues Beet", "plant_type": "flowers", "latitude": 48.6,
        "longitude": 8.87, "radius_m": 6, "area_m2": 30, "planting_year": 2025,
        "trees": [{"species": "Acer campestre", "planting_year": 2025}], "notes": "schattig"}


def test_cadastre_create_change_retire_with_history(
        client: TestClient, conn: psycopg.Connection[Any], portal: Tokens) -> None:
    assert client.post("/api/v1/green-areas", headers=portal.planner,
                       json=AREA).status_code == 403
    created = client.post("/api/v1/green-areas", headers=portal.admin, json=AREA)
    assert created.status_code == 201
    assert client.post("/api/v1/green-areas", headers=portal.admin,
                       json=AREA).status_code == 409
    bad = client.post("/api/v1/green-areas", headers=portal.admin,
                      json={**AREA, "id": "ga10", "area_m2": -1, "plant_type": "cactus"})
    assert bad.status_code == 422
    assert sorted(e["field"] for e in bad.json()["errors"]) == ["area_m2", "plant_type"]
    changed = client.patch("/api/v1/green-areas/ga9", headers=portal.admin,
                           json={"area_m2": 32, "name": "Neues Beet Süd"})
    assert changed.json() == {"id": "ga9", "changed": {
        "name": ["Neues Beet", "Neues Beet Süd"], "area_m2": [30.0, 32.0]}}
    assert client.patch("/api/v1/green-areas/ga9", headers=portal.admin,
                        json={"sponsor_id": "x"}).status_code == 422
    assert client.delete("/api/v1/green-areas/ga1", headers=portal.admin).status_code == 409
    assert client.delete("/api/v1/green-areas/ga9", headers=portal.admin).status_code == 204
    assert client.get("/api/v1/public/green-areas/ga9").status_code == 404
    assert client.patch("/api/v1/green-areas/ga9", headers=portal.admin,
                        json={"area_m2": 1}).status_code == 404
    history = client.get("/api/v1/green-areas/ga9/history", headers=portal.planner).json()
    assert [(h["actor"], h["event"]) for h in history] == [
        ("admin:root", "created"), ("admin:root", "changed"), ("admin:root", "retired")]


def _feature(ident: str, **props: Any) -> dict[str, Any]:
    return {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [portal_town.RING]},
            "properties": {"id": ident, "name": f"Fläche {ident}", "plant_type": "meadow",
                           "area_m2": 50, **props}}


def test_cadastre_import_is_idempotent_and_refuses_a_bad_file_whole(
        conn: psycopg.Connection[Any], database_url: str, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("BAUHOF_DATABASE_URL", database_url)
    good = tmp_path / "kataster.geojson"
    good.write_text(json.dumps({"type": "FeatureCollection", "features": [
        _feature("k1", trees=[{"species": "Quercus robur", "planting_year": 1950}]),
        _feature("k2")]}))
    assert cli.main(["assets", "import", str(good)]) == 0
    assert cli.main(["assets", "import", str(good)]) == 0
    assert capsys.readouterr().out == ("2 new, 0 changed, 0 unchanged green areas\n"
                                       "0 new, 0 changed, 2 unchanged green areas\n")
    assert conn.execute("SELECT id, round(latitude::numeric, 6)::float, area_m2, trees "
                        "FROM green_areas ORDER BY id").fetchall() == [
        ("k1", 48.595, 50.0, [{"species": "Quercus robur", "planting_year": 1950}]),
        ("k2", 48.595, 50.0, [])]
    bad = tmp_path / "bad.geojson"
    bad.write_text(json.dumps({"type": "FeatureCollection", "features": [
        _feature("k1", area_m2=70), _feature("k3", plant_type="cactus"),
        {"type": "Feature", "geometry": None, "properties": {"id": "k4"}}, _feature("k1")]}))
    assert cli.main(["assets", "import", str(bad)]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err[0] == f"bauhof assets: {bad}: 3 problem(s), nothing imported:"
    assert err[1].startswith("  feature 1 (k3): plant_type: Input should be 'lawn'")
    assert err[2:] == ["  feature 2 (k4): geometry must be a Polygon or a Point",
                       "  feature 3 (k1): id 'k1' appears twice"]
    assert conn.execute("SELECT area_m2 FROM green_areas WHERE id = 'k1'").fetchone() == (50.0,)
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["assets", "import"])
    assert exit_info.value.code == 2
    assert conn.execute("SELECT actor, event FROM green_area_history WHERE area_id = 'k1'"
                        ).fetchall() == [("import", "imported")]


def test_export_and_anonymisation_after_the_period(
        client: TestClient, conn: psycopg.Connection[Any], portal: Tokens) -> None:
    sid = _requested(client, conn)
    client.post(f"/api/v1/sponsorships/{sid}/approve", headers=portal.planner)
    client.post(f"/api/v1/sponsorships/{sid}/end", headers=portal.planner)
    export = client.get("/api/v1/sponsorships/export?email=ERIKA@example.org",
                        headers=portal.admin).json()
    assert [(s["id"], s["name"], s["phone"], s["status"]) for s in export["sponsorships"]] == [
        (sid, "Erika Mustermann", "+49 7032 5555", "ended")]
    assert [s["id"] for s in export["sponsors"]] == [f"pt-{sid}"]
    assert [m["template"] for m in export["mails"]] == [
        "sponsorship_confirm", "sponsorship_received", "sponsorship_approved",
        "sponsorship_ended"]
    now = datetime.now(UTC)
    assert store.anonymise(conn, now, 90) == 0
    assert store.anonymise(conn, now + timedelta(days=91), 90) == 1
    assert conn.execute("SELECT name, email, phone, message FROM sponsorships").fetchall() == [
        ("(anonymisiert)", None, None, None)]
    assert conn.execute("SELECT name, email, phone FROM sponsors WHERE id = %s",
                        (f"pt-{sid}",)).fetchone() == ("(anonymisiert)", None, None)
    empty = client.get("/api/v1/sponsorships/export?email=erika@example.org",
                       headers=portal.admin).json()
    assert (empty["sponsorships"], empty["sponsors"], empty["mails"]) == ([], [], [])
    assert "Erika" not in json.dumps([r[0] for r in conn.execute(
        "SELECT payload FROM outbox").fetchall()])


def test_planner_sees_the_inquiry_without_personal_data(
        client: TestClient, conn: psycopg.Connection[Any], portal: Tokens) -> None:
    client.post("/api/v1/public/sponsorships", json=INQUIRY)
    text = client.get("/api/v1/sponsorships", headers=portal.planner).text
    for word in ("Erika", "erika@example.org", "5555", "gieße"):
        assert word not in text


def test_chores_from_the_command_line(
        client: TestClient, conn: psycopg.Connection[Any], portal: Tokens, database_url: str,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("BAUHOF_DATABASE_URL", database_url)
    monkeypatch.setenv("BAUHOF_RETAIN_SPONSORS_DAYS", "0")
    _inquire(client, conn)
    conn.execute("UPDATE sponsorships SET confirm_by = now() - interval '1 second'")
    assert cli.main(["sponsorships", "expire"]) == 0
    sid = _requested(client, conn, email="zweite@example.org")
    client.post(f"/api/v1/sponsorships/{sid}/decline", headers=portal.planner,
                json={"reason": "Die Fläche wird umgebaut."})
    assert cli.main(["sponsorships", "anonymise"]) == 0
    assert cli.main(["sponsorships", "inspections", "--season", "autumn"]) == 0
    assert cli.main(["sponsorships", "inspections", "--season", "autumn"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "expired 1 unconfirmed inquiries",
        "anonymised 2 sponsorships ended more than 0 days ago",
        "opened 3 inspection orders", "opened 0 inspection orders"]
    assert conn.execute("SELECT status, name, email FROM sponsorships ORDER BY id").fetchall() == [
        ("expired", "(anonymisiert)", None), ("declined", "(anonymisiert)", None)]
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["sponsorships", "inspections", "--season", "summer"])
    assert exit_info.value.code == 2
    # `bauhof db retention` anonymises too.
    third = _requested(client, conn, area_id="ga3", email="dritte@example.org")
    client.post(f"/api/v1/sponsorships/{third}/decline", headers=portal.planner,
                json={"reason": "Doppelt angefragt."})
    capsys.readouterr()
    assert cli.main(["db", "retention"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == (
        "sponsorships   keep 0 days after the end: anonymised 1")
    assert conn.execute("SELECT email FROM sponsorships WHERE id = %s", (third,)).fetchone() == (
        None,)


def test_inspections_follow_the_month() -> None:
    assert [store.SEASONS.get(m) for m in range(1, 13)] == [
        None, None, "spring", "spring", "spring", None, None, None, "autumn", "autumn",
        "autumn", None]


def test_inspections_follow_the_month_in_the_towns_time_zone(
        conn: psycopg.Connection[Any], portal: Tokens) -> None:
    def titles() -> list[tuple[str, str]]:
        return [(r[0], r[1]) for r in conn.execute(
            "SELECT subject_id, title FROM work_orders WHERE rule = 'portal.inspection' "
            "ORDER BY id").fetchall()]

    # 28 February 23:59 in Berlin (22:59 UTC): no season yet.
    assert store.open_inspections(conn, datetime(2027, 2, 28, 22, 59, tzinfo=UTC), "bauhof") == []
    # 1 March 00:30 in Berlin is still February in UTC: spring has begun.
    assert len(store.open_inspections(conn, datetime(2027, 2, 28, 23, 30, tzinfo=UTC),
                                      "bauhof")) == 3
    for area in ("ga1", "ga2", "ga3"):
        store.record_inspection(conn, area, "ok", note=None, actor="crew:nord",
                                now=datetime(2027, 3, 2, 9, tzinfo=UTC))
    # 1 September 00:30 in Berlin (summer time) is 31 August 22:30 UTC: autumn.
    assert len(store.open_inspections(conn, datetime(2027, 8, 31, 22, 30, tzinfo=UTC),
                                      "bauhof")) == 3
    assert titles() == [
        ("ga1", "Flächenkontrolle Area ga1 (2027-spring)"),
        ("ga2", "Flächenkontrolle Marktplatz Beet (2027-spring)"),
        ("ga3", "Flächenkontrolle Stadtgraben Hecke (2027-spring)"),
        ("ga1", "Flächenkontrolle Area ga1 (2027-autumn)"),
        ("ga2", "Flächenkontrolle Marktplatz Beet (2027-autumn)"),
        ("ga3", "Flächenkontrolle Stadtgraben Hecke (2027-autumn)")]


def test_steps_out_of_turn_are_refused(
        client: TestClient, conn: psycopg.Connection[Any], portal: Tokens) -> None:
    confirm = _inquire(client, conn)
    row = conn.execute("SELECT id FROM sponsorships").fetchone()
    assert row is not None
    sid = int(row[0])
    assert client.post(f"/api/v1/sponsorships/{sid}/decline", headers=portal.planner,
                       json={"reason": "Fläche entfällt."}).json()["status"] == "declined"
    late = _act(client, confirm)
    assert (late.status_code, late.json()["detail"]) == (409, "the inquiry is declined")
    assert client.post("/api/v1/sponsorships/999/approve",
                       headers=portal.planner).status_code == 404
    other = _requested(client, conn, email="zweite@example.org")
    approved = client.post(f"/api/v1/sponsorships/{other}/approve", headers=portal.planner)
    end_link = portal_town.mails(conn)[-1][3]["link_end"]
    again = client.post(f"/api/v1/sponsorships/{other}/decline", headers=portal.planner,
                        json={"reason": "zu spät"})
    assert (again.status_code, again.json()["detail"]) == (
        409, "only an open request can be declined; this one is active")
    assert approved.json()["status"] == "active"
    assert _act(client, end_link).json()["status"] == "ended"
    twice = _act(client, end_link)
    assert (twice.status_code, twice.json()["detail"]) == (
        409, "the sponsorship has already ended")
    unknown = client.post("/api/v1/green-areas/nope/inspection", headers=portal.crew,
                          json={"result": "ok"})
    assert unknown.status_code == 404
    assert conn.execute("SELECT status FROM sponsorships ORDER BY id").fetchall() == [
        ("declined",), ("ended",)]
