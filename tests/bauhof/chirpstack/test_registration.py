"""One insert for devices learnt from ChirpStack, by ingest or by the import."""

from __future__ import annotations

from typing import Any

import psycopg

from bauhof.chirpstack.registration import insert_devices

LSE01 = ("a840410000000001", "dragino-lse01", "soil", "Beet 1", "app-1", "prof-1", "LSE01",
         '{"row": "3"}')


def test_inserts_the_chirpstack_columns_and_who_registered_them(
        conn: psycopg.Connection[Any]) -> None:
    other = ("a840410000000002", None, "other", None, None, None, None, "{}")
    with conn.cursor() as cur:
        insert_devices(cur, [LSE01], "ingest")
        insert_devices(cur, [other], "chirpstack")
    assert conn.execute(
        "SELECT dev_eui, model, kind, name, application_id, device_profile_id,"
        " device_profile_name, tags, registered_by FROM devices ORDER BY dev_eui").fetchall() == [
        ("a840410000000001", "dragino-lse01", "soil", "Beet 1", "app-1", "prof-1", "LSE01",
         {"row": "3"}, "ingest"),
        ("a840410000000002", None, "other", None, None, None, None, {}, "chirpstack"),
    ]


def test_a_device_registered_meanwhile_stays_as_it_is(conn: psycopg.Connection[Any]) -> None:
    with conn.cursor() as cur:
        insert_devices(cur, [LSE01], "chirpstack")
        insert_devices(cur, [(*LSE01[:3], "Renamed", *LSE01[4:])], "ingest")
    assert conn.execute("SELECT name, registered_by FROM devices").fetchall() == [
        ("Beet 1", "chirpstack")]
