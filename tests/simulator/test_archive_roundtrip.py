"""A stream rebuilt from the database stores the same rows again (README, "What
`replay --from-db` reproduces")."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import psycopg

from bauhof import db
from harness import town as town_mod
from harness import whatif
from simulator import archive, scenario
from simulator.clock import HOUR_US, to_us
from simulator.engine import Simulator

START = to_us(datetime(2026, 6, 1, tzinfo=UTC))
RAW = ("SELECT time, dev_eui, deduplication_id, application_id, f_cnt, f_port, payload, "
       "confirmed, dr, frequency, rssi, snr, gateway_count, rx_info, object FROM raw_uplinks "
       "ORDER BY time, deduplication_id")
READINGS = ("SELECT * FROM readings ORDER BY time, deduplication_id")


def _rows(conn: psycopg.Connection[Any], query: str, drop: str | None = None) -> list[Any]:
    cur = conn.execute(query)  # type: ignore[arg-type]  # the constants above
    names = [c.name for c in cur.description or []]
    return [tuple(v for n, v in zip(names, row, strict=True) if n != drop)
            for row in cur.fetchall()]


def test_a_rebuilt_stream_stores_the_same_rows(
        conn: psycopg.Connection[Any], database_url: str) -> None:
    small = town_mod.subset(scenario.load("herrenberg"), bins=10, green_areas=2)
    town_mod.load_assets(database_url, small)
    town_mod.feed(conn, Simulator(small, seed=5, start_us=START,
                                  end_us=START + 6 * HOUR_US).messages())
    with whatif.throwaway(database_url) as (_name, url):
        whatif.copy_assets(database_url, url)
        with db.connect(url, autocommit=True) as copy:
            fed = town_mod.feed(copy, archive.from_database(database_url))
            assert fed == _rows(conn, "SELECT count(*) FROM raw_uplinks")[0][0] > 100
            assert _rows(copy, RAW) == _rows(conn, RAW)
            assert _rows(copy, READINGS, "ingest_xid") == _rows(conn, READINGS, "ingest_xid")
