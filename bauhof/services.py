"""Private Mosquitto and PostgreSQL+TimescaleDB processes, for development and tests.

`bauhof services up` runs them under `.bauhof/`; the test fixtures run the same classes in
temporary directories on free ports. PostgreSQL refuses to run as root, so when Bauhof itself
runs as root the cluster belongs to the `postgres` system user (Debian's packages create it).
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Self

if TYPE_CHECKING:
    from bauhof.settings import Settings

PG_BIN_DIRS = ("/usr/lib/postgresql/15/bin",)
# Debian installs the broker outside a normal user's PATH.
MOSQUITTO_FALLBACK = "/usr/sbin/mosquitto"


class ServiceError(RuntimeError):
    """A local service cannot be set up or started; the message names the fix."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_open(port: int, host: str = "127.0.0.1", timeout: float = 0.5) -> bool:
    """Whether something accepts TCP connections on host:port."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def _pg_bin(name: str) -> str:
    for directory in PG_BIN_DIRS:
        candidate = Path(directory) / name
        if candidate.is_file():
            return str(candidate)
    found = shutil.which(name)
    if found is None:
        raise ServiceError(
            f"PostgreSQL 15 server program {name!r} not found: run `make setup` "
            "(it installs postgresql-15 from Debian)"
        )
    return found


def _run_as() -> tuple[list[str], pwd.struct_passwd | None]:
    """The command prefix and account to run PostgreSQL as (not root)."""
    if os.geteuid() != 0:
        return [], None
    try:
        account = pwd.getpwnam("postgres")
    except KeyError as exc:
        raise ServiceError(
            "running as root, and there is no `postgres` user to run PostgreSQL as: "
            "run `make setup` (Debian's postgresql-15 package creates it)"
        ) from exc
    return ["runuser", "-u", "postgres", "--"], account


def timescaledb_installed(sharedir: Path | None = None) -> bool:
    """Whether the TimescaleDB extension is installed for the local PostgreSQL 15."""
    if sharedir is None:
        found = subprocess.run([_pg_bin("pg_config"), "--sharedir"], capture_output=True,
                               text=True, check=False).stdout.strip()
        sharedir = Path(found or "/usr/share/postgresql/15")
    return (sharedir / "extension" / "timescaledb.control").is_file()


def mosquitto_binary() -> str:
    """The broker program, or a ServiceError naming the fix."""
    binary = shutil.which("mosquitto") or MOSQUITTO_FALLBACK
    if not Path(binary).is_file():
        raise ServiceError("mosquitto not found: run `make setup` (it installs Debian's mosquitto)")
    return binary


@dataclass
class Postgres:
    """A private PostgreSQL 15 cluster with TimescaleDB preloaded, on 127.0.0.1:port."""

    data_dir: Path
    port: int
    user: str = "bauhof"
    # Tests trade durability across power loss for speed; a killed *client* still loses nothing.
    fsync: bool = True
    extra_config: str = ""
    # Where to look for timescaledb.control; None asks pg_config.
    extension_dir: Path | None = None

    @property
    def log_file(self) -> Path:
        """Where the server logs."""
        return self.data_dir.parent / f"{self.data_dir.name}.log"

    def url(self, dbname: str = "bauhof") -> str:
        """A libpq URL for a database in this cluster."""
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{dbname}"

    def _pg(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        prefix, _ = _run_as()
        result = subprocess.run(
            [*prefix, *args], capture_output=True, text=True, check=False, timeout=120
        )
        if check and result.returncode != 0:
            raise ServiceError(
                f"{Path(args[0]).name} failed: {(result.stderr or result.stdout).strip()}"
            )
        return result

    def init(self) -> None:
        """Create the cluster if it does not exist yet."""
        if (self.data_dir / "PG_VERSION").is_file():
            return
        if not timescaledb_installed(self.extension_dir):
            raise ServiceError(
                "TimescaleDB is not installed for PostgreSQL 15: run `make setup` "
                "(it builds TimescaleDB from Debian's source package)"
            )
        self.data_dir.mkdir(parents=True, exist_ok=True)
        _, account = _run_as()
        if account is not None:
            os.chown(self.data_dir, account.pw_uid, account.pw_gid)
            self.data_dir.chmod(0o700)
        self._pg(_pg_bin("initdb"), "-D", str(self.data_dir), "-U", self.user,
                 "--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8")
        conf = self.data_dir / "postgresql.conf"
        with conf.open("a", encoding="utf-8") as fh:
            fh.write(
                "\n# Bauhof private cluster\n"
                "listen_addresses = '127.0.0.1'\n"
                f"port = {self.port}\n"
                f"unix_socket_directories = '{self.data_dir}'\n"
                "shared_preload_libraries = 'timescaledb'\n"
                "timescaledb.telemetry_level = off\n"
                "max_connections = 100\n"
                "shared_buffers = 256MB\n"
                "max_wal_size = 2GB\n"
                f"fsync = {'on' if self.fsync else 'off'}\n"
                f"synchronous_commit = {'on' if self.fsync else 'off'}\n"
                f"full_page_writes = {'on' if self.fsync else 'off'}\n"
                f"{self.extra_config}"
            )

    def running(self) -> bool:
        """Whether the server answers on its port."""
        return port_open(self.port)

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        self.init()
        if self.running():
            return
        _, account = _run_as()
        self.log_file.touch()
        if account is not None:
            os.chown(self.log_file, account.pw_uid, account.pw_gid)
        self._pg(_pg_bin("pg_ctl"), "-D", str(self.data_dir), "-l", str(self.log_file),
                 "-w", "-t", "60", "-o", f"-p {self.port}", "start")

    def stop(self, mode: str = "fast") -> None:
        """Stop the server (mode fast, smart or immediate)."""
        if not (self.data_dir / "postmaster.pid").exists():
            return
        self._pg(_pg_bin("pg_ctl"), "-D", str(self.data_dir), "-m", mode, "-w", "stop",
                 check=False)

    def create_database(self, name: str) -> None:
        """Create a database if it does not exist yet."""
        import psycopg

        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
            if exists.fetchone() is None:
                conn.execute(f'CREATE DATABASE "{name}"')


@dataclass
class Mosquitto:
    """A private Mosquitto broker with persistence on 127.0.0.1:port."""

    state_dir: Path
    port: int
    # Held for a client with a persistent session while it is away (see docs/operations.md).
    max_queued_messages: int = 1_000_000
    extra_config: str = ""
    binary: str = ""

    @property
    def conf_file(self) -> Path:
        """The generated configuration file."""
        return self.state_dir / "mosquitto.conf"

    @property
    def pid_file(self) -> Path:
        """Where the daemon writes its process id."""
        return self.state_dir / "mosquitto.pid"

    def write_config(self) -> None:
        """Write the broker configuration."""
        self.binary = self.binary or mosquitto_binary()
        self.state_dir.mkdir(parents=True, exist_ok=True)
        user = pwd.getpwuid(os.geteuid()).pw_name
        self.conf_file.write_text(
            "# Bauhof private broker (generated)\n"
            f"user {user}\n"
            f"pid_file {self.pid_file}\n"
            "persistence true\n"
            f"persistence_location {self.state_dir}/\n"
            "autosave_interval 30\n"
            f"log_dest file {self.state_dir}/mosquitto.log\n"
            "log_type error\nlog_type warning\nlog_type notice\n"
            "per_listener_settings false\n"
            "allow_anonymous true\n"
            # QoS 1 messages for an absent persistent session are kept, not dropped.
            f"max_queued_messages {self.max_queued_messages}\n"
            "max_queued_bytes 0\n"
            # No broker-side cap on un-acknowledged messages per client: the client's MQTT 5
            # Receive Maximum bounds them (ingest acknowledges only after a commit).
            "max_inflight_messages 0\n"
            "set_tcp_nodelay true\n"
            f"listener {self.port} 127.0.0.1\n"
            f"{self.extra_config}",
            encoding="utf-8",
        )

    def pid(self) -> int | None:
        """The daemon's process id, if it runs."""
        try:
            pid = int(self.pid_file.read_text().strip())
        except (OSError, ValueError):
            return None
        try:
            os.kill(pid, 0)
        except OSError:
            return None
        return pid

    def running(self) -> bool:
        """Whether the broker accepts connections on its port."""
        return port_open(self.port)

    def start(self) -> None:
        """Start the broker in the background and wait until it listens."""
        if self.running():
            return
        self.write_config()
        result = subprocess.run(
            [self.binary, "-d", "-c", str(self.conf_file)],
            capture_output=True, text=True, check=False, timeout=30,
        )
        if result.returncode != 0:
            raise ServiceError(f"mosquitto did not start: {result.stderr.strip()}")
        deadline = time.monotonic() + 15
        while not self.running():
            if time.monotonic() > deadline:
                raise ServiceError(
                    f"mosquitto did not listen on port {self.port}: "
                    f"see {self.state_dir}/mosquitto.log"
                )
            time.sleep(0.05)

    def stop(self) -> None:
        """Stop the broker; it saves its persistence file on the way out."""
        pid = self.pid()
        if pid is None:
            return
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 15
        while self.pid() is not None and time.monotonic() < deadline:
            time.sleep(0.05)
        if self.pid() is not None:
            os.kill(pid, signal.SIGKILL)


class Stage:
    """Services started and stopped together, as a context manager: `start` on entry, `stop` on
    exit. A `start` that fails part-way (Ctrl-C included) is undone by `stop` before the error
    goes on, so `stop` copes with parts that never started."""

    def start(self) -> None:
        """Start every part."""
        raise NotImplementedError

    def stop(self) -> None:
        """Stop every part, started or not."""
        raise NotImplementedError

    def __enter__(self) -> Self:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()


class PrivateStack(Stage):
    """A throw-away PostgreSQL+TimescaleDB and Mosquitto on free ports (benchmarks, tests).

    Use as a context manager; the database `bauhof` is created and migrated.
    """

    def __init__(self, fsync: bool = True, max_queued_messages: int = 1_000_000) -> None:
        import tempfile

        self.root = Path(tempfile.mkdtemp(prefix="bauhof-stack-"))
        self.root.chmod(0o755)
        self.postgres = Postgres(self.root / "pg", free_port(), fsync=fsync)
        self.mosquitto = Mosquitto(self.root / "mqtt", free_port(),
                                   max_queued_messages=max_queued_messages)

    @property
    def database_url(self) -> str:
        """The migrated database."""
        return self.postgres.url("bauhof")

    @property
    def mqtt_url(self) -> str:
        """The broker."""
        return f"mqtt://127.0.0.1:{self.mosquitto.port}"

    def env(self) -> dict[str, str]:
        """Environment for a `bauhof` subprocess using this stack."""
        return {**os.environ, "BAUHOF_DATABASE_URL": self.database_url,
                "BAUHOF_MQTT_URL": self.mqtt_url}

    def start(self) -> None:
        """Start PostgreSQL, create and migrate the database, start the broker."""
        from bauhof import db

        self.postgres.start()
        self.postgres.create_database("bauhof")
        db.migrate(self.database_url)
        self.mosquitto.start()

    def stop(self) -> None:
        """Stop both and remove their directory."""
        self.mosquitto.stop()
        self.postgres.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)


def local_services(cfg: Settings) -> tuple[Postgres, Mosquitto]:
    """The private services for these settings."""
    return (
        Postgres(data_dir=cfg.state_dir / "postgres", port=cfg.embedded_pg_port),
        Mosquitto(state_dir=cfg.state_dir / "mosquitto", port=cfg.embedded_mqtt_port),
    )
