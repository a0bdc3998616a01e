"""The database side of the deployment, run against the test cluster: roles, backup, retention.

The scripts are the ones the timescaledb container runs (deploy/timescaledb/); libpq's
PGHOST/PGPORT/PGUSER point them at the fixture's cluster (127.0.0.1, trust, user bauhof, which
is the superuser there as `postgres` is in the container).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psycopg
import pytest
from psycopg import errors as pg_errors

from bauhof.services import Postgres, free_port
from tests.deploy.conftest import REPO

PG_BIN = "/usr/lib/postgresql/15/bin"
TIMESCALEDB_DIR = REPO / "deploy" / "timescaledb"
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def libpq_env(url: str, **extra: str) -> dict[str, str]:
    """The environment the scripts run with: PostgreSQL 15's tools and where the cluster is."""
    parts = urlsplit(url)
    return {
        "PATH": f"{PG_BIN}:{os.environ['PATH']}",
        "PGHOST": parts.hostname or "127.0.0.1",
        "PGPORT": str(parts.port),
        "PGUSER": parts.username or "bauhof",
        **extra,
    }


def run(script: Path, args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run a deployment script with the interpreter its first line names (sh or bash)."""
    interpreter = script.read_text(encoding="utf-8").splitlines()[0].removeprefix("#!")
    assert interpreter in ("/bin/sh", "/bin/bash"), script
    return subprocess.run([interpreter, str(script), *args], env=env, capture_output=True,
                          text=True, timeout=120, check=False)


def as_user(url: str, user: str) -> str:
    """The same database URL for another role (trust authentication in the test cluster)."""
    parts = urlsplit(url)
    return parts._replace(netloc=f"{user}@{parts.hostname}:{parts.port}").geturl()


def fill(conn: psycopg.Connection[Any]) -> None:
    """A few devices, readings over three weekly chunks, raw uplinks, a table with a sequence."""
    devices = [("a84041000181c61a", "soil", "LSE01"), ("a84041000181c61b", "bin", "LDDS75"),
               ("24e124538b223213", "tracker", None)]
    for dev_eui, kind, model in devices:
        conn.execute("INSERT INTO devices (dev_eui, kind, model, name, tags) "
                     "VALUES (%s, %s, %s, %s, %s::jsonb)",
                     (dev_eui, kind, model, f"device {kind}", '{"street": "Hauptstraße"}'))
    readings = [
        (NOW - timedelta(days=20), "a84041000181c61a", 23.5, None, 3.31),
        (NOW - timedelta(days=13), "a84041000181c61a", 19.0, None, 3.29),
        (NOW - timedelta(days=6), "a84041000181c61b", None, 412.0, 3.6),
        (NOW - timedelta(hours=1), "a84041000181c61b", None, 398.0, 3.58),
    ]
    for time, dev_eui, moisture, distance, battery in readings:
        conn.execute("INSERT INTO readings (time, dev_eui, deduplication_id, soil_moisture_pct, "
                     "distance_mm, battery_v) VALUES (%s, %s, %s, %s, %s, %s)",
                     (time, dev_eui, uuid.uuid4(), moisture, distance, battery))
        conn.execute("INSERT INTO raw_uplinks (time, dev_eui, deduplication_id, application_id, "
                     "f_cnt, f_port, payload) VALUES (%s, %s, %s, 'app', 7, 2, %s)",
                     (time, dev_eui, uuid.uuid4(), b"\x0c\xd4\x00\xff"))
    # Not part of the schema: a plain table with a sequence, as an operator might add one.
    conn.execute("CREATE TABLE backup_probe (id bigserial PRIMARY KEY, note text)")
    conn.execute("INSERT INTO backup_probe (note) VALUES ('first'), ('second')")


def snapshot(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table in public, as sorted lists."""
    with psycopg.connect(url) as conn:
        tables = [r[0] for r in conn.execute(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY 1")]
        return {t: sorted(conn.execute(f'SELECT * FROM "{t}"').fetchall(), key=repr)
                for t in tables}


def hypertables(url: str) -> list[tuple[Any, ...]]:
    """(name, number of chunks) of each hypertable."""
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT hypertable_name, num_chunks FROM "
                            "timescaledb_information.hypertables ORDER BY 1").fetchall()


@pytest.fixture(scope="module")
def restore_cluster() -> Iterator[Postgres]:
    """A cluster of its own: a restore restarts TimescaleDB's background workers cluster-wide,
    which must not disturb the shared cluster other tests copy their databases from."""
    root = Path(tempfile.mkdtemp(prefix="bauhof-test-restore-"))
    root.chmod(0o755)
    cluster = Postgres(data_dir=root / "data", port=free_port(), fsync=False)
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop("immediate")
        shutil.rmtree(root, ignore_errors=True)


def migrated_database(cluster: Postgres, work: Path) -> str:
    """A new database in the cluster with Bauhof's schema, by `bauhof db migrate`; its URL."""
    name = f"bauhof_{uuid.uuid4().hex[:8]}"
    cluster.create_database(name)
    # As the bauhof-migrate container does it.
    result = subprocess.run(
        [sys.executable, "-m", "shell", "db", "migrate"], cwd=work,
        env={**os.environ, "BAUHOF_DATABASE_URL": cluster.url(name),
             "PYTHONPATH": str(REPO)},
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert result.returncode == 0, result.stderr
    return cluster.url(name)


def test_backup_and_restore_finds_every_row(restore_cluster: Postgres, tmp_path: Path) -> None:
    database_url = migrated_database(restore_cluster, tmp_path)
    # Rows the migrations themselves seed (schema_migrations, roll-up state, …).
    seeded = {t: len(rows) for t, rows in snapshot(database_url).items() if rows}
    with psycopg.connect(database_url, autocommit=True) as conn:
        fill(conn)
    before = snapshot(database_url)
    assert {t: len(rows) for t, rows in before.items() if rows} == {
        **seeded, "backup_probe": 2, "devices": 3, "raw_uplinks": 4, "readings": 4,
    }
    env = libpq_env(database_url)
    dump = tmp_path / "bauhof.dump"
    database = urlsplit(database_url).path.lstrip("/")
    result = run(TIMESCALEDB_DIR / "scripts" / "backup.sh", [str(dump), database], env)
    assert result.returncode == 0, result.stderr
    assert not (tmp_path / "bauhof.dump.partial").exists()

    result = run(TIMESCALEDB_DIR / "scripts" / "restore.sh", [str(dump), "bauhof_restored"], env)
    assert result.returncode == 0, result.stderr
    restored_url = restore_cluster.url("bauhof_restored")
    assert snapshot(restored_url) == before
    assert hypertables(restored_url) == hypertables(database_url)

    # The restored database works: a new chunk for a new week, the sequence carries on.
    with psycopg.connect(restored_url, autocommit=True) as restored:
        restored.execute("INSERT INTO readings (time, dev_eui, deduplication_id, battery_v) "
                         "VALUES (%s, 'a84041000181c61a', %s, 3.2)",
                         (NOW + timedelta(days=30), uuid.uuid4()))
        new_id = restored.execute("INSERT INTO backup_probe (note) VALUES ('third') "
                                  "RETURNING id").fetchone()
        assert new_id == (3,)
        assert restored.execute("SELECT count(*) FROM readings").fetchone() == (5,)

    # Restoring over an existing database is refused, before anything is written.
    result = run(TIMESCALEDB_DIR / "scripts" / "restore.sh", [str(dump), "bauhof_restored"], env)
    assert result.returncode == 1
    assert 'database "bauhof_restored" already exists' in result.stderr


def test_role_script_gives_grafana_read_only_access(
    database_url: str, conn: psycopg.Connection[Any],
) -> None:
    env = libpq_env(database_url, POSTGRES_USER="bauhof", POSTGRES_DB=conn.info.dbname,
                    BAUHOF_DB_PASSWORD="hex-writer", GRAFANA_DB_PASSWORD="hex-reader")
    for _ in range(2):  # a second run (another database of the cluster) changes nothing
        result = run(TIMESCALEDB_DIR / "init" / "001-roles.sh", [], env)
        assert result.returncode == 0, result.stderr
    fill(conn)
    conn.execute("CREATE TABLE later_table (x integer)")
    conn.execute("INSERT INTO later_table VALUES (42)")

    with psycopg.connect(as_user(database_url, "grafana")) as grafana:
        assert grafana.execute("SHOW default_transaction_read_only").fetchone() == ("on",)
        assert grafana.execute("SELECT count(*) FROM readings").fetchone() == (4,)
        assert grafana.execute("SELECT count(*) FROM devices").fetchone() == (3,)
        assert grafana.execute("SELECT x FROM later_table").fetchall() == [(42,)]
        grafana.rollback()
        for statement in ("INSERT INTO devices (dev_eui) VALUES ('0000000000000001')",
                          "DELETE FROM readings", "CREATE TABLE mine (x integer)"):
            with pytest.raises(pg_errors.InsufficientPrivilege):
                grafana.execute("SET TRANSACTION READ WRITE")
                grafana.execute(statement)
            grafana.rollback()


def test_missing_password_stops_the_role_script(
    database_url: str, conn: psycopg.Connection[Any],
) -> None:
    env = libpq_env(database_url, POSTGRES_USER="bauhof", POSTGRES_DB=conn.info.dbname,
                    BAUHOF_DB_PASSWORD="hex-writer")
    result = run(TIMESCALEDB_DIR / "init" / "001-roles.sh", [], env)
    assert result.returncode == 1
    assert "set GRAFANA_DB_PASSWORD in .env" in result.stderr


def test_retention_statement_of_the_docs_drops_only_old_raw_uplinks(
    conn: psycopg.Connection[Any],
) -> None:
    docs = (REPO / "docs" / "backup.md").read_text(encoding="utf-8")
    statement = "SELECT drop_chunks('raw_uplinks', older_than => INTERVAL '90 days');"
    assert statement in docs
    now = datetime.now(UTC)
    for age in (200, 120, 10):
        conn.execute("INSERT INTO raw_uplinks (time, dev_eui, deduplication_id, application_id, "
                     "f_cnt, f_port, payload) VALUES (%s, 'a84041000181c61a', %s, 'app', %s, 2, "
                     "'\\x01')", (now - timedelta(days=age), uuid.uuid4(), age))
        conn.execute("INSERT INTO readings (time, dev_eui, deduplication_id) "
                     "VALUES (%s, 'a84041000181c61a', %s)",
                     (now - timedelta(days=age), uuid.uuid4()))
    dropped = conn.execute(statement).fetchall()
    assert len(dropped) == 2
    assert conn.execute("SELECT f_cnt FROM raw_uplinks ORDER BY f_cnt").fetchall() == [(10,)]
    assert conn.execute("SELECT count(*) FROM readings").fetchone() == (3,)
