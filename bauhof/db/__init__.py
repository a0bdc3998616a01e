"""Database access shared by every part: connections, versioned migrations and stored functions.

Migrations (`migrations/NNNN_name.sql`) change the schema and are applied once each, in version
order. Stored functions (`functions/NN_name.sql`, `CREATE OR REPLACE FUNCTION` only) have their
one definition there and are re-applied by every `db migrate`: once before pending migrations,
so that a migration can create a trigger or view on them, and once after, so that the files
win over anything a migration left behind.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources

import psycopg
from psycopg import errors as pg_errors

MIGRATION_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")
FUNCTIONS_NAME = re.compile(r"^\d{2}_[a-z0-9_]+\.sql$")
# Any fixed number works: it serialises concurrent `db migrate` runs.
MIGRATION_LOCK = 0x42A0F0


class DatabaseError(Exception):
    """A database problem a person can act on; the message says what to do."""


@dataclass(frozen=True, slots=True)
class Migration:
    """One versioned SQL file."""

    version: int
    name: str
    sql: str


def connect(url: str, *, autocommit: bool = False, application_name: str = "bauhof") -> (
    psycopg.Connection[tuple[object, ...]]
):
    """Open a connection, turning 'cannot connect' into an error that names the fix."""
    try:
        return psycopg.connect(
            url, autocommit=autocommit, application_name=application_name, connect_timeout=10
        )
    except psycopg.OperationalError as exc:
        raise DatabaseError(
            f"cannot connect to the database at {redact(url)}: {first_line(exc)} "
            "(start the local services with `bauhof services up`, or set BAUHOF_DATABASE_URL)"
        ) from exc


def redact(url: str) -> str:
    """The URL with any password replaced by `***`."""
    return re.sub(r"(://[^:/@]+:)[^@]*@", r"\1***@", url)


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def available_migrations() -> list[Migration]:
    """The migrations shipped with Bauhof, in version order."""
    found = []
    for entry in resources.files("bauhof.db.migrations").iterdir():
        match = MIGRATION_NAME.match(entry.name)
        if match:
            found.append(
                Migration(int(match.group(1)), entry.name, entry.read_text(encoding="utf-8"))
            )
    found.sort(key=lambda m: m.version)
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise DatabaseError(f"two migrations share a version number: {versions}")
    return found


def stored_functions() -> list[Migration]:
    """The stored-function files shipped with Bauhof, in file-name order (a file may use the
    functions of the files before it); `version` is 0."""
    found = [Migration(0, entry.name, entry.read_text(encoding="utf-8"))
             for entry in resources.files("bauhof.db.functions").iterdir()
             if FUNCTIONS_NAME.match(entry.name)]
    return sorted(found, key=lambda f: f.name)


def require_timescaledb(conn: psycopg.Connection[tuple[object, ...]]) -> None:
    """Refuse, with the fix, when the TimescaleDB extension cannot be used here."""
    row = conn.execute(
        "SELECT default_version, installed_version FROM pg_available_extensions "
        "WHERE name = 'timescaledb'"
    ).fetchone()
    dbname = conn.info.dbname
    if row is None:
        raise DatabaseError(
            f"TimescaleDB extension not available to database {dbname}: "
            "install it (`make setup` builds it for the local PostgreSQL 15)"
        )
    preload = conn.execute("SHOW shared_preload_libraries").fetchone()
    if row[1] is None and (preload is None or "timescaledb" not in str(preload[0])):
        raise DatabaseError(
            f"TimescaleDB is installed but not preloaded for database {dbname}: "
            "add timescaledb to shared_preload_libraries and restart PostgreSQL"
        )


def migrate(url: str) -> list[str]:
    """Apply every migration not yet recorded, each in its own transaction, and the stored
    functions; return the names of the migrations applied."""
    applied: list[str] = []
    with connect(url, autocommit=True) as conn:
        require_timescaledb(conn)
        conn.execute("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK,))
        try:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " version integer PRIMARY KEY, name text NOT NULL,"
                " applied_at timestamptz NOT NULL DEFAULT now())"
            )
            done = {int(str(r[0])) for r in conn.execute("SELECT version FROM schema_migrations")}
            pending = [m for m in available_migrations() if m.version not in done]
            if pending:
                _apply_functions(conn, before_migrations=True)
            for migration in pending:
                _apply(conn, migration, record=True)
                applied.append(migration.name)
            _apply_functions(conn, before_migrations=False)
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK,))
    return applied


def _apply_functions(conn: psycopg.Connection[tuple[object, ...]], *,
                     before_migrations: bool) -> None:
    """Apply every function file in one transaction.

    Before pending migrations, bodies are not checked (a function may read a table that a
    pending migration creates) and a file that cannot be applied yet is left for afterwards
    (say it changes a function's result type, which a pending migration first drops).
    """
    with conn.transaction():
        conn.execute(f"SET LOCAL check_function_bodies = {'off' if before_migrations else 'on'}")
        for functions in stored_functions():
            try:
                _apply(conn, functions, record=False)
            except DatabaseError:
                if not before_migrations:
                    raise


def _apply(conn: psycopg.Connection[tuple[object, ...]], migration: Migration, *,
           record: bool) -> None:
    """Run one file in a transaction (nested in the caller's, if any); record a migration."""
    what = "migration" if record else "stored functions"
    try:
        with conn.transaction():
            conn.execute(migration.sql.encode())
            if record:
                conn.execute(
                    "INSERT INTO schema_migrations (version, name) VALUES (%s, %s)",
                    (migration.version, migration.name),
                )
    except pg_errors.FeatureNotSupported as exc:
        raise DatabaseError(
            f"{what} {migration.name} needs a TimescaleDB feature this build "
            f"lacks: {first_line(exc)}"
        ) from exc
    except psycopg.Error as exc:
        raise DatabaseError(f"{what} {migration.name} failed: {first_line(exc)}") from exc
