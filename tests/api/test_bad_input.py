"""Hostile input at the public door: SQL-looking text is data, broken bytes are a 400."""

from __future__ import annotations

from typing import Any

import psycopg
from fastapi.testclient import TestClient

from api import open311_store
from tests.api import town
from tests.api.conftest import Tokens

SQLISH = "Müll'); DROP TABLE work_orders; -- ' OR '1'='1"


def _key(conn: psycopg.Connection[Any]) -> str:
    town.build(conn)
    return open311_store.create_key(conn, "Mark-a-Spot")


def test_sql_looking_text_is_stored_verbatim(client: TestClient, conn: psycopg.Connection[Any],
                                             tokens: Tokens) -> None:
    key = _key(conn)
    orders_before = conn.execute("SELECT count(*) FROM work_orders").fetchone()
    response = client.post("/open311/v2/requests.json", data={
        "api_key": key, "service_code": "other", "address_string": "Markt 1",
        "description": SQLISH})
    assert response.status_code == 200
    request_id = response.json()[0]["service_request_id"]
    got = client.get(f"/open311/v2/requests/{request_id}.json").json()
    assert got[0]["description"] == SQLISH
    assert conn.execute("SELECT count(*) FROM work_orders").fetchone() == orders_before
    assert conn.execute("SELECT description FROM open311_requests").fetchall() == [(SQLISH,)]


def test_invalid_utf8_in_a_form_is_refused(
        client: TestClient, conn: psycopg.Connection[Any], tokens: Tokens) -> None:
    key = _key(conn)
    response = client.post(
        "/open311/v2/requests.json",
        content=b"api_key=" + key.encode() + b"&service_code=other&address_string=Markt+1&"
                b"description=kaputt%FF%FE",
        headers={"content-type": "application/x-www-form-urlencoded"})
    assert response.status_code == 400
    assert response.json() == [{"code": 400, "description": "the form body is not valid "
                                "UTF-8 (percent-encoded bytes)"}]
    assert conn.execute("SELECT count(*) FROM open311_requests").fetchone() == (0,)


def test_an_oversized_form_is_refused(
        client: TestClient, conn: psycopg.Connection[Any], tokens: Tokens) -> None:
    key = _key(conn)
    response = client.post("/open311/v2/requests.json", data={
        "api_key": key, "service_code": "other", "address_string": "Markt 1",
        "description": "x" * 2_000_000})
    assert response.status_code == 413
    # Refused by its length before a byte is read (api/bodylimit.py), in Open311's format.
    assert response.json() == [
        {"code": 413, "description": "the request body is larger than 262144 bytes, this "
                                     "route's limit; send a smaller one"}]
    assert conn.execute("SELECT count(*) FROM open311_requests").fetchone() == (0,)
