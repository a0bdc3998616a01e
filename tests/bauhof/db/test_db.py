"""Migrations: applied once, recorded, safe to re-run; refused without TimescaleDB."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import psycopg
import pytest

from bauhof import db
from bauhof.services import Postgres, free_port


def test_migrate_is_recorded_and_idempotent(pg_cluster: Postgres) -> None:
    pg_cluster.create_database("migrate_twice")
    url = pg_cluster.url("migrate_twice")
    names = [m.name for m in db.available_migrations()]
    assert names[:2] == ["0001_foundation.sql", "0002_weather.sql"]
    assert db.migrate(url) == names
    assert db.migrate(url) == []
    with psycopg.connect(url) as conn:
        recorded = [r[0] for r in conn.execute("SELECT name FROM schema_migrations ORDER BY 1")]
        hypertables = {r[0] for r in conn.execute(
            "SELECT hypertable_name FROM timescaledb_information.hypertables")}
    assert recorded == names
    assert {"raw_uplinks", "readings", "device_status", "device_events"} <= hypertables


def test_migrate_refuses_a_server_without_timescaledb_preloaded() -> None:
    root = Path(tempfile.mkdtemp(prefix="bauhof-test-plain-"))
    root.chmod(0o755)
    plain = Postgres(root / "data", free_port(), fsync=False)
    plain.init()
    conf = plain.data_dir / "postgresql.conf"
    conf.write_text(conf.read_text().replace("shared_preload_libraries = 'timescaledb'", ""))
    plain.start()
    try:
        with pytest.raises(db.DatabaseError) as caught:
            db.migrate(plain.url("postgres"))
        assert str(caught.value) == (
            "TimescaleDB is installed but not preloaded for database postgres: add timescaledb "
            "to shared_preload_libraries and restart PostgreSQL")
    finally:
        plain.stop("immediate")
        shutil.rmtree(root, ignore_errors=True)


def test_unreachable_database_names_the_fix() -> None:
    url = f"postgresql://bauhof:secret@127.0.0.1:{free_port()}/bauhof"
    with pytest.raises(db.DatabaseError) as caught:
        db.migrate(url)
    message = str(caught.value)
    assert message.startswith("cannot connect to the database at postgresql://bauhof:***@127.0.0.1:")
    assert message.endswith("(start the local services with `bauhof services up`, "
                            "or set BAUHOF_DATABASE_URL)")
