"""The reading vocabulary is the one the database has: `readings`' columns and the daily
aggregate's numbers, read from a migrated database."""

from __future__ import annotations

from typing import Any

import psycopg

from bauhof import vocabulary
from bauhof.codecs import plausibility

PG_TYPES = {"float8": "double precision", "bool": "boolean", "text": "text"}


def _columns(conn: psycopg.Connection[Any], table: str) -> list[tuple[str, str]]:
    return [(str(r[0]), str(r[1])) for r in conn.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = 'public' AND table_name = %s ORDER BY ordinal_position",
        (table,)).fetchall()]


def test_the_vocabulary_by_kind() -> None:
    assert vocabulary.NAMES == (
        "battery_v", "battery_pct", "temperature_c", "soil_moisture_pct", "soil_temperature_c",
        "soil_conductivity_us_cm", "distance_mm", "tilted", "latitude", "longitude",
        "altitude_m", "hdop", "alarm", "motion", "roll_deg", "pitch_deg")
    assert vocabulary.FLAGS == ("tilted", "alarm")
    assert vocabulary.WORDS == ("motion",)
    assert len(vocabulary.NUMERIC) == 13
    assert set(vocabulary.LIMITS) == set(vocabulary.NUMERIC)
    assert vocabulary.sql_type("hdop") == "float8"
    assert vocabulary.sql_type("alarm") == "bool"
    assert vocabulary.sql_type("motion") == "text"
    # The plausibility check bounds every number of the vocabulary with the same range.
    assert all(plausibility.LIMITS[n] == vocabulary.LIMITS[n] for n in vocabulary.NUMERIC)


def test_readings_has_a_column_of_each_name_in_order_and_type(
        conn: psycopg.Connection[Any]) -> None:
    columns = _columns(conn, "readings")
    names = [name for name, _ in columns]
    first = names.index(vocabulary.NAMES[0])
    assert columns[first:first + len(vocabulary.NAMES)] == [
        (n, PG_TYPES[vocabulary.sql_type(n)]) for n in vocabulary.NAMES]
    # Nothing else in `readings` is a reading: the rest are its keys, asset and `extra`.
    assert set(names) - set(vocabulary.NAMES) == {
        "time", "dev_eui", "deduplication_id", "model", "asset_type", "asset_id", "extra",
        "ingest_xid"}


def test_the_daily_aggregate_keeps_every_number(conn: psycopg.Connection[Any]) -> None:
    counted = {name.removesuffix("_n") for name, _ in _columns(conn, "rollup_daily")
               if name.endswith("_n")}
    assert counted == set(vocabulary.NUMERIC)
