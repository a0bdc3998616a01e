"""The portal's public side: the GeoJSON map, inquiries, double opt-in, and sponsors' links."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from bauhof import signed_links
from bauhof.settings import DEFAULT_LINK_SECRET
from tests.api import portal_town, town
from tests.api.conftest import Tokens
from tests.rules import factory as f

INQUIRY = {"area_id": "ga2", "name": "Erika Mustermann", "email": "erika@example.org",
           "phone": "+49 7032 5555", "message": "Ich gieße gern.", "accept_terms": True,
           "display_name": "Familie M."}
PERSONAL = ("Erika", "Mustermann", "erika@example.org", "5555", "Ich gieße", "Pat Paten",
            "pat@example.org", "1234")


@pytest.fixture
def portal(conn: psycopg.Connection[Any], tokens: Tokens) -> Tokens:
    """The portal town and users of every role."""
    portal_town.build(conn)
    return tokens


def _props(client: TestClient) -> dict[str, dict[str, Any]]:
    body = client.get("/api/v1/public/green-areas").json()
    assert body["type"] == "FeatureCollection"
    return {feat["id"]: feat["properties"] for feat in body["features"]}


def _count(conn: psycopg.Connection[Any], table: str) -> int:
    row = conn.execute(f"SELECT count(*) FROM {table}").fetchone()
    assert row is not None
    return int(row[0])


def _act(client: TestClient, url: str) -> Any:
    return client.post("/api/v1/public/sponsor-actions",
                       json={"token": portal_town.token(url)})


def _inquire(client: TestClient, conn: psycopg.Connection[Any], **changes: Any) -> str:
    """Ask for an area; the confirmation link of the mail."""
    response = client.post("/api/v1/public/sponsorships", json={**INQUIRY, **changes})
    assert response.status_code == 202
    return str(portal_town.mails(conn)[-1][3]["link_confirm"])


def test_public_geojson_has_statuses_states_and_no_personal_data(
        client: TestClient, conn: psycopg.Connection[Any], portal: Tokens) -> None:
    f.ingest(conn, [f.soil(1, 0, 35.0), f.soil(5, 0, 12.0)])
    town.open_order(conn, "watering.dry", "watering", "green_area", "ga1", hours=1, value=15.0)
    response = client.get("/api/v1/public/green-areas")
    assert response.status_code == 200
    body = response.json()
    assert [(x["id"], x["geometry"]["type"]) for x in body["features"]] == [
        ("ga1", "Point"), ("ga2", "Polygon"), ("ga3", "Point")]
    assert body["features"][1]["geometry"]["coordinates"] == [portal_town.RING]
    props = {x["id"]: x["properties"] for x in body["features"]}
    keys = ["id", "name", "status", "area_m2", "plant_type", "moisture", "last_watered_at"]
    assert [{k: p[k] for k in keys} for p in props.values()] == [
        {"id": "ga1", "name": "Area ga1", "status": "sponsored", "area_m2": None,
         "plant_type": "flowers", "moisture": "dry", "last_watered_at": None},
        {"id": "ga2", "name": "Marktplatz Beet", "status": "free", "area_m2": 120.0,
         "plant_type": "flowers", "moisture": "dry", "last_watered_at": None},
        {"id": "ga3", "name": "Stadtgraben Hecke", "status": "free", "area_m2": 45.0,
         "plant_type": "shrubs", "moisture": "unknown", "last_watered_at": None}]
    assert props["ga2"]["trees"] == [{"species": "Tilia cordata", "planting_year": 1998}]
    assert props["ga2"]["planting_year"] == 2019
    assert props["ga1"]["sponsor_name"] is None  # sp1 never agreed to be named
    for word in PERSONAL:
        assert word not in response.text


def test_moisture_ok_and_last_watered_by_whom(
        client: TestClient, conn: psycopg.Connection[Any], portal: Tokens) -> None:
    f.ingest(conn, [f.soil(5, 0, 30.0)])
    order = town.open_order(conn, "watering.dry", "watering", "green_area", "ga1", hours=1)
    conn.execute("UPDATE work_orders SET status = 'resolved', resolved_at = %s, "
                 "resolved_by = 'sponsor:sp1' WHERE id = %s", (f.at(5), order))
    order = town.open_order(conn, "watering.dry", "watering", "green_area", "ga3", hours=1)
    conn.execute("UPDATE work_orders SET status = 'resolved', resolved_at = %s, "
                 "resolved_by = 'rain' WHERE id = %s", (f.at(6), order))
    props = _props(client)
    assert [(p["moisture"], p["last_watered_at"], p["last_watered_by"])
            for p in props.values()] == [
        ("unknown", f.at(5).isoformat(), "sponsor"), ("ok", None, None),
        ("unknown", f.at(6).isoformat(), "rain")]
    one = client.get("/api/v1/public/green-areas/ga2").json()
    assert (one["type"], one["properties"]["status"]) == ("Feature", "free")
    assert client.get("/api/v1/public/green-areas/nope").status_code == 404


def test_inquiry_confirm_approve_and_end_by_link(
        client: TestClient, conn: psycopg.Connection[Any], portal: Tokens) -> None:
    confirm = _inquire(client, conn)
    assert portal_town.mails(conn)[0][:3] == ("erika@example.org", "sponsorship_confirm", "de")
    assert _props(client)["ga2"]["status"] == "free"  # unconfirmed does not reserve
    assert conn.execute("SELECT status FROM sponsorships").fetchall() == [("unconfirmed",)]

    response = _act(client, confirm)
    assert response.status_code == 200
    assert response.json()["status"] == "requested"
    assert _act(client, confirm).json()["status"] == "requested"  # a second click is harmless
    assert _props(client)["ga2"]["status"] == "requested"

    listed = client.get("/api/v1/sponsorships?status=requested", headers=portal.planner).json()
    ((item,),) = [listed["items"]]
    assert (item["area_id"], item["name"], item["email"], item["phone"], item["message"],
            item["display_name"]) == ("ga2", None, None, None, None, "Familie M.")
    admin_view = client.get(f"/api/v1/sponsorships/{item['id']}", headers=portal.admin).json()
    assert (admin_view["name"], admin_view["email"], admin_view["phone"]) == (
        "Erika Mustermann", "erika@example.org", "+49 7032 5555")

    approved = client.post(f"/api/v1/sponsorships/{item['id']}/approve", headers=portal.planner)
    assert approved.status_code == 200
    body = approved.json()
    assert (body["status"], body["sponsor_id"], body["decided_by"]) == (
        "active", f"pt-{item['id']}", "planner:paula")
    planting = conn.execute("SELECT id, kind, status, subject_id, rule FROM work_orders "
                            "WHERE kind = 'planting'").fetchall()
    assert planting == [(body["planting_order_id"], "planting", "open", "ga2",
                         "portal.planting")]
    assert conn.execute("SELECT sponsor_id FROM green_areas WHERE id = 'ga2'").fetchone() == (
        f"pt-{item['id']}",)
    assert conn.execute("SELECT name, email, lang, display_name FROM sponsors WHERE id = %s",
                        (body["sponsor_id"],)).fetchone() == (
        "Erika Mustermann", "erika@example.org", "de", "Familie M.")
    props = _props(client)["ga2"]
    assert (props["status"], props["sponsor_name"], props["takes_sponsors"]) == (
        "sponsored", "Familie M.", False)

    sent = portal_town.mails(conn)
    assert [(m[1], m[2]) for m in sent] == [
        ("sponsorship_confirm", "de"), ("sponsorship_received", "de"),
        ("sponsorship_approved", "de")]
    assert sent[2][3]["planting"].startswith("Unser Team übernimmt")
    overview = client.get("/api/v1/sponsorships/overview", headers=portal.planner).json()
    assert [(r["area_id"], r["sponsor_name"], r["sponsor_email"], r["watered_by_sponsor"],
             r["watered_by_bauhof"]) for r in overview] == [
        ("ga1", None, None, 0, 0), ("ga2", "Familie M.", None, 0, 0)]
    admin_overview = client.get("/api/v1/sponsorships/overview", headers=portal.admin).json()
    assert [(r["sponsor_name"], r["sponsor_email"]) for r in admin_overview] == [
        ("Pat Paten", "pat@example.org"), ("Erika Mustermann", "erika@example.org")]

    ended = _act(client, sent[2][3]["link_end"])
    assert ended.json()["status"] == "ended"
    assert conn.execute("SELECT status, ended_by FROM sponsorships").fetchall() == [
        ("ended", f"sponsor:pt-{item['id']}")]
    assert _props(client)["ga2"]["status"] == "free"
    assert portal_town.mails(conn)[-1][1] == "sponsorship_ended"
    history = client.get("/api/v1/green-areas/ga2/history", headers=portal.planner).json()
    assert [h["event"] for h in history] == ["sponsored", "freed"]


@pytest.mark.parametrize(("change", "field"), [
    ({"accept_terms": False}, "accept_terms"),
    ({"accept_terms": None}, "accept_terms"),
    ({"email": "not-an-address"}, "email"),
    ({"name": ""}, "name"),
    ({"phone": "call me"}, "phone"),
    ({"area_id": "nope"}, "area_id"),
    ({"lang": "fr"}, "lang"),
    ({"extra": "x"}, "extra"),
])
def test_bad_inquiries_are_422_naming_the_field_and_store_nothing(
        client: TestClient, conn: psycopg.Connection[Any], portal: Tokens,
        change: dict[str, Any], field: str) -> None:
    body = {k: v for k, v in {**INQUIRY, **change}.items() if v is not None}
    response = client.post("/api/v1/public/sponsorships", json=body)
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == [field]
    assert field in response.json()["detail"]
    assert (_count(conn, "sponsorships"), _count(conn, "outbox")) == (0, 0)


def test_missing_fields_are_each_named(client: TestClient, portal: Tokens) -> None:
    response = client.post("/api/v1/public/sponsorships", json={"area_id": "ga2"})
    assert response.status_code == 422
    assert sorted(e["field"] for e in response.json()["errors"]) == [
        "accept_terms", "email", "name"]


def test_sponsored_area_honeypot_and_repeats(
        client: TestClient, conn: psycopg.Connection[Any], portal: Tokens) -> None:
    taken = client.post("/api/v1/public/sponsorships", json={**INQUIRY, "area_id": "ga1"})
    assert taken.status_code == 409
    assert taken.json()["detail"] == "green area 'ga1' already has a sponsor"
    bot = client.post("/api/v1/public/sponsorships", json={**INQUIRY, "website": "http://x"})
    assert bot.status_code == 202  # a bot is not told it was caught
    assert (_count(conn, "sponsorships"), _count(conn, "outbox")) == (0, 0)
    _inquire(client, conn)
    _inquire(client, conn, email="ERIKA@example.org")
    assert (_count(conn, "sponsorships"), _count(conn, "outbox")) == (1, 1)


def test_public_post_is_rate_limited(live_server: Any, conn: psycopg.Connection[Any],
                                     portal: Tokens) -> None:
    import httpx

    base = live_server(public_rate_per_s=0.01, public_burst=2)
    codes = [httpx.post(f"{base}/api/v1/public/sponsorships",
                        json={**INQUIRY, "website": "bot"}).status_code for _ in range(3)]
    assert codes == [202, 202, 429]


def test_unconfirmed_inquiry_expires_after_72_hours(
        client: TestClient, conn: psycopg.Connection[Any], portal: Tokens) -> None:
    confirm = _inquire(client, conn)
    (confirm_by,) = conn.execute("SELECT confirm_by - created_at FROM sponsorships").fetchone() \
        or (None,)
    assert confirm_by == timedelta(hours=72)
    conn.execute("UPDATE sponsorships SET created_at = created_at - interval '73 hours', "
                 "confirm_by = confirm_by - interval '73 hours'")
    response = _act(client, confirm)
    assert response.status_code == 410
    assert "expired" in response.json()["detail"]
    assert conn.execute("SELECT status FROM sponsorships").fetchall() == [("expired",)]
    # The area takes inquiries again.
    _inquire(client, conn, email="neu@example.org")
    assert conn.execute("SELECT status FROM sponsorships ORDER BY id").fetchall() == [
        ("expired",), ("unconfirmed",)]


def test_forged_expired_and_pointless_links_are_refused(
        client: TestClient, conn: psycopg.Connection[Any], portal: Tokens) -> None:
    now = datetime.now(UTC)
    forged = signed_links.sign("another secret", "end", "sp1", now)
    response = client.post("/api/v1/public/sponsor-actions", json={"token": forged})
    assert (response.status_code, response.json()["detail"]) == (
        403, "the link is not valid: open it from the e-mail again")
    old = signed_links.sign(DEFAULT_LINK_SECRET, "watered", "sp1", now - timedelta(days=15))
    response = client.post("/api/v1/public/sponsor-actions", json={"token": old})
    assert (response.status_code, response.json()["detail"]) == (410, "the link has expired")
    watered = signed_links.sign(DEFAULT_LINK_SECRET, "watered", "sp1", now)
    response = client.post("/api/v1/public/sponsor-actions", json={"token": watered})
    assert (response.status_code, response.json()["detail"]) == (
        409, "no watering request is open for you right now")
    cannot = signed_links.sign(DEFAULT_LINK_SECRET, "cannot", "sp1", now)
    assert client.post("/api/v1/public/sponsor-actions",
                       json={"token": cannot}).status_code == 409
    assert client.post("/api/v1/public/sponsor-actions",
                       json={"token": "abc.def.ghi"}).status_code == 403


def _sponsor_order(conn: psycopg.Connection[Any]) -> int:
    return town.open_order(conn, "watering.dry", "watering", "green_area", "ga1", hours=1,
                           value=12.0, assignee="sponsor:sp1",
                           params={"stage": "sponsor", "sponsor_id": "sp1"})


def test_i_have_watered_is_recorded_and_the_order_stays_open(
        client: TestClient, conn: psycopg.Connection[Any], portal: Tokens) -> None:
    # A Bauhof watering closed earlier counts for Bauhof.
    bauhof = town.open_order(conn, "watering.dry", "watering", "green_area", "ga1",
                             hours=-48, assignee=None)
    conn.execute("UPDATE work_orders SET status = 'done', resolved_at = %s, "
                 "resolved_by = 'crew:nord' WHERE id = %s", (f.at(-40), bauhof))
    order = _sponsor_order(conn)
    token = signed_links.sign(DEFAULT_LINK_SECRET, "watered", "sp1", datetime.now(UTC))
    response = client.post("/api/v1/public/sponsor-actions", json={"token": token})
    assert response.json()["status"] == "recorded"
    assert conn.execute("SELECT status, assignee FROM work_orders WHERE id = %s",
                        (order,)).fetchone() == ("assigned", "sponsor:sp1")
    assert conn.execute("SELECT actor, event, note FROM order_history WHERE order_id = %s "
                        "ORDER BY id DESC LIMIT 1", (order,)).fetchone() == (
        "sponsor:sp1", "sponsor_watered", "Pate hat gegossen / the sponsor watered")
    props = _props(client)["ga1"]
    (at,) = conn.execute("SELECT max(at) FROM order_history WHERE event = 'sponsor_watered'"
                         ).fetchone() or (None,)
    assert (props["last_watered_at"], props["last_watered_by"]) == (at.isoformat(), "sponsor")
    overview = client.get("/api/v1/sponsorships/overview", headers=portal.planner).json()
    assert [(r["area_id"], r["watered_by_sponsor"], r["watered_by_bauhof"])
            for r in overview] == [("ga1", 1, 1)]


def test_i_cannot_this_time_hands_the_order_to_the_crews_at_once(
        client: TestClient, conn: psycopg.Connection[Any], portal: Tokens) -> None:
    from rules import orders
    from rules.actions import Escalate, Resolve

    order = _sponsor_order(conn)
    token = signed_links.sign(DEFAULT_LINK_SECRET, "cannot", "sp1", datetime.now(UTC))
    response = client.post("/api/v1/public/sponsor-actions", json={"token": token})
    assert response.json()["status"] == "handed_over"
    row = conn.execute("SELECT status, assignee, priority, params->>'stage' FROM work_orders "
                       "WHERE id = %s", (order,)).fetchone()
    assert row == ("open", None, 2, "bauhof")
    crew = client.get("/api/v1/work-orders?status=active&kind=watering",
                      headers=portal.crew).json()
    assert [o["id"] for o in crew["items"]] == [order]
    # The engine's own hand-over after the grace time later changes nothing more.
    with conn.transaction():
        orders.apply_escalate(conn, Escalate("watering.dry", "green_area", "ga1", f.at(50),
                                             note="grace over", priority=2, unassign=True,
                                             params={"stage": "bauhof"}), "rules")
    assert conn.execute("SELECT count(*) FROM order_history WHERE order_id = %s AND "
                        "event = 'escalated'", (order,)).fetchone() == (1,)
    # Moisture rising closes it; the sponsor is not credited with Bauhof's watering.
    with conn.transaction():
        orders.apply_resolve(conn, Resolve("watering.dry", "green_area", "ga1", f.at(60),
                                           note="wet", by="sponsor:sp1"), "rules")
    assert conn.execute("SELECT status, resolved_by FROM work_orders WHERE id = %s",
                        (order,)).fetchone() == ("resolved", "rules")
    assert conn.execute("SELECT count(*) FROM outbox WHERE channel = 'email'").fetchone() == (0,)


def test_stop_mail_link(client: TestClient, conn: psycopg.Connection[Any],
                        portal: Tokens) -> None:
    from rules.assets import load_town

    token = signed_links.sign(DEFAULT_LINK_SECRET, "stop_mail", "sp1", datetime.now(UTC))
    response = client.post("/api/v1/public/sponsor-actions", json={"token": token})
    assert response.json()["status"] == "mail_stopped"
    sponsor = load_town(conn).areas["ga1"].sponsor
    assert sponsor is not None
    assert (sponsor.email, sponsor.active(f.at(0).date())) == (None, False)


def test_portal_pages_are_served_with_a_strict_policy(client: TestClient) -> None:
    page = client.get("/portal/")
    assert (page.status_code, page.headers["content-type"]) == (200, "text/html; charset=utf-8")
    assert '<html lang="de">' in page.text
    assert page.headers["content-security-policy"].startswith(
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: https:")
    for name in ("app.js", "app.css", "act.html", "act.js", "staff.html", "staff.js"):
        assert client.get(f"/portal/{name}").status_code == 200
    assert client.get("/portal/nope.js").status_code == 404
    staff = client.get("/portal/staff", follow_redirects=False)
    assert (staff.status_code, staff.headers["location"]) == (308, "/portal/staff.html")
