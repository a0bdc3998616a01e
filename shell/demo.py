"""`bauhof demo`: the whole chain on one machine, with a progress line and a clean Ctrl-C.

Services up, schema migrated, the default town's assets loaded; then ingest, the rules
engine, the API and the simulator (an hour per second, crews on) as child processes. The
simulated crews work through the API with a token of the `simulator` administrator, issued
for the run and revoked at its end; the demo's API takes their simulated times
(BAUHOF_API_CLIENT_TIME=1), so order times follow the simulated readings.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

from bauhof import assets, db
from bauhof import settings as settings_mod
from bauhof.services import local_services
from simulator.scenario import scenario_file

API_PORT = 8080
SIMULATOR_USER = "simulator"


@dataclass
class Child:
    """A part of Bauhof running as its own process."""

    name: str
    process: subprocess.Popen[bytes]
    log: Path


def _start(name: str, args: list[str], log_dir: Path, env: dict[str, str]) -> Child:
    log = log_dir / f"{name}.log"
    handle = log.open("ab")
    process = subprocess.Popen([sys.executable, "-m", "shell", *args], env=env,
                               stdout=handle, stderr=subprocess.STDOUT,
                               start_new_session=True)
    handle.close()
    return Child(name, process, log)


def _progress(conn: psycopg.Connection[Any], started: float, last: list[int]) -> str:
    row = conn.execute(
        "SELECT (SELECT max(time) FROM raw_uplinks), (SELECT count(*) FROM raw_uplinks),"
        " (SELECT count(*) FROM dead_letters),"
        " (SELECT count(*) FROM work_orders WHERE status IN ('open', 'assigned', 'in_progress')),"
        " (SELECT count(*) FROM work_orders WHERE status IN ('done', 'resolved'))"
    ).fetchone()
    assert row is not None
    sim_time, stored, dead, open_orders, closed = row
    rate = (int(stored) - last[0]) / 2.0 if last else 0.0
    last[:] = [int(stored)]
    when = sim_time.strftime("%Y-%m-%d %H:%M") if sim_time else "waiting…"
    return (f"\rsimulated {when} | {rate:7.0f} msg/s | {stored:>9,} uplinks stored | "
            f"{dead:>5} dead letters | orders open {open_orders:>4}, closed {closed:>5} | "
            f"{time.monotonic() - started:6.0f} s")


def simulator_token(database_url: str) -> tuple[str, int]:
    """A token (and its id) of the `simulator` administrator, created on first use."""
    from datetime import timedelta

    from api import users

    with db.connect(database_url, autocommit=True) as conn:
        row = conn.execute("SELECT id, role FROM api_users WHERE name = %s",
                           (SIMULATOR_USER,)).fetchone()
        if row is not None and row[1] != "admin":
            raise users.UserError(f"user {SIMULATOR_USER!r} exists with role {row[1]}; the "
                                  "demo's crews need it to be an administrator")
        uid = users.user_id(conn, SIMULATOR_USER) if row is not None else (
            users.create_user(conn, SIMULATOR_USER, "admin"))
        issued = users.issue_token(conn, uid, timedelta(days=30))
    return issued.token, issued.token_id


def run(speed: str, crews: bool, days: float | None) -> int:
    """Run the demo until Ctrl-C (or until the simulated days are over)."""
    cfg = settings_mod.load()

    pg, mq = local_services(cfg)
    if cfg.embedded_db:
        pg.start()
        pg.create_database(settings_mod.DEFAULT_DB_NAME)
    if cfg.embedded_mqtt:
        mq.start()
    for name in db.migrate(cfg.database_url):
        print(f"applied {name}")
    counts = assets.load_file(cfg.database_url, scenario_file("herrenberg"))
    print("loaded the default town: " + ", ".join(f"{n} {k}" for k, n in counts.items()))
    log_dir = cfg.state_dir / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    # The children read their settings as this process did; only the private services'
    # addresses are handed down (an external broker's URL they find where this one did).
    env = {**os.environ, "BAUHOF_DATABASE_URL": cfg.database_url}
    mqtt_url = cfg.mqtt.url
    if cfg.embedded_mqtt:
        env["BAUHOF_MQTT_URL"] = mqtt_url = f"mqtt://127.0.0.1:{mq.port}"
    from api.users import UserError

    try:
        token, token_id = simulator_token(cfg.database_url) if crews else ("", 0)
    except UserError as exc:
        print(f"bauhof demo: {exc}", file=sys.stderr)
        return 1
    children = [
        _start("ingest", ["ingest"], log_dir, env),
        _start("rules", ["rules"], log_dir, env),
        _start("api", ["api", "--port", str(API_PORT)], log_dir,
               {**env, "BAUHOF_API_CLIENT_TIME": "1"}),
        # The dashboards' roll-ups and the planners' forecasts and previews, kept fresh.
        _start("rollups", ["dashboards", "rollups", "--every", "60"], log_dir, env),
        _start("routes", ["routes", "refresh", "--every", "600"], log_dir, env),
        # The real weather feed runs as in production; the simulator's own weather (published
        # on MQTT) wins wherever both cover an hour (docs/weather.md).
        _start("weather", ["weather", "run", "--every", "1h"], log_dir, env),
    ]
    time.sleep(2.0)  # let ingest subscribe before the first uplink
    # From now on: a second demo continues the town's story instead of replaying its first
    # day into a database that has seen it (it would be stored once, but the rules engine's
    # clock would not go back).
    sim_args = ["simulate", "--scenario", "herrenberg", "--speed", speed, "--start", "now",
                "--quiet"]
    if crews:
        sim_args += ["--crews", "--citizens", "--api", f"http://127.0.0.1:{API_PORT}"]
    if days is not None:
        sim_args += ["--days", str(days)]
    simulator = _start("simulate", sim_args, log_dir, {**env, "BAUHOF_API_TOKEN": token})
    children.append(simulator)
    print(f"""
Bauhof is running (Ctrl-C stops everything):
  API and OpenAPI docs  http://127.0.0.1:{API_PORT}/docs
  crew web app          http://127.0.0.1:{API_PORT}/crew
                        (a token: bauhof users create --role crew --name me)
  planners' workspace   http://127.0.0.1:{API_PORT}/planner  (--role planner)
  green-area portal     http://127.0.0.1:{API_PORT}/portal   (public)
  citizens' reports     http://127.0.0.1:{API_PORT}/melden   (public)
  database (psql)       {db.redact(cfg.database_url)}
  MQTT                  {mqtt_url}  (mosquitto_sub -t 'bauhof/#' -v)
  logs                  {log_dir}/<part>.log
""")
    interrupted = False

    def on_signal(_signum: int, _frame: object) -> None:
        nonlocal interrupted
        interrupted = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    started = time.monotonic()
    last: list[int] = []
    exit_code = 0
    try:
        with db.connect(cfg.database_url, autocommit=True) as conn:
            while not interrupted:
                sys.stderr.write(_progress(conn, started, last))
                sys.stderr.flush()
                failed = [c for c in children if c.process.poll() not in (None, 0)]
                if failed:
                    names = ", ".join(f"{c.name} (see {c.log})" for c in failed)
                    print(f"\nstopped: {names} exited with an error", file=sys.stderr)
                    exit_code = 1
                    break
                if simulator.process.poll() == 0:
                    print("\nthe simulation is over", file=sys.stderr)
                    break
                time.sleep(2.0)
    finally:
        print("\nstopping…", file=sys.stderr)
        for child in reversed(children):
            if child.process.poll() is None:
                child.process.send_signal(signal.SIGTERM)
        for child in reversed(children):
            try:
                child.process.wait(30)
            except subprocess.TimeoutExpired:
                child.process.kill()
        if token_id:
            from api import users

            with db.connect(cfg.database_url, autocommit=True) as conn:
                users.revoke_token(conn, token_id)
    print("stopped; the services keep running (`bauhof services down` stops them)")
    return exit_code
