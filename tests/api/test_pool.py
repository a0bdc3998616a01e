"""The API's connection pool: opened full and warmed before the first request."""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

import psycopg
import pytest

from api.config import ApiSettings
from api.database import open_pool
from bauhof.services import Postgres


def test_the_pool_opens_with_pool_min_connections_that_have_planned_the_readings(
        api_settings: ApiSettings, conn: psycopg.Connection[Any]) -> None:
    pool = open_pool(replace(api_settings, pool_min=3, pool_max=4))
    try:
        rows = conn.execute(
            "SELECT state, query FROM pg_stat_activity WHERE application_name = 'bauhof-api' "
            "AND datname = current_database() ORDER BY pid").fetchall()
    finally:
        pool.close()
    assert [state for state, _ in rows] == ["idle"] * 3
    # The last statement of each: the warm-up's plan of rollup_daily.
    assert {query for _, query in rows} == {
        "EXPLAIN SELECT * FROM rollup_daily WHERE dev_eui = ''"}


def test_a_database_without_the_schema_is_named_not_hung_on(
        api_settings: ApiSettings, pg_cluster: Postgres,
        caplog: pytest.LogCaptureFixture) -> None:
    with psycopg.connect(pg_cluster.url("postgres"), autocommit=True) as admin:
        admin.execute('DROP DATABASE IF EXISTS "bauhof_unmigrated"')
        admin.execute('CREATE DATABASE "bauhof_unmigrated"')
    try:
        with caplog.at_level(logging.WARNING, logger="bauhof.api.database"):
            pool = open_pool(replace(api_settings, pool_min=1, pool_max=1,
                                     database_url=pg_cluster.url("bauhof_unmigrated")))
            pool.close()
        assert caplog.messages == [
            "the database has no readings tables yet: run `bauhof db migrate`"]
    finally:
        with psycopg.connect(pg_cluster.url("postgres"), autocommit=True) as admin:
            admin.execute('DROP DATABASE "bauhof_unmigrated" WITH (FORCE)')
