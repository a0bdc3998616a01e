"""Commands of the shared package: services, db, assets, decode."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bauhof import settings as settings_mod
from bauhof.cli import command, fail
from bauhof.services import local_services


def register(commands: Any, bench: Any) -> None:
    """Add `services`, `db`, `assets` and `decode`."""
    services = commands.add_parser("services", help="run the private Mosquitto and PostgreSQL")
    services.add_argument("action", choices=("up", "down", "status"))
    services.set_defaults(handler=cmd_services)

    database = commands.add_parser("db", help="database schema")
    database.add_argument("action", choices=("migrate", "retention"),
                          help="migrate: apply pending migrations; retention: drop old chunks")
    database.add_argument("--now", metavar="TIME",
                          help="retention: measure the horizons back from this time (ISO 8601) "
                               "instead of the clock, for a copy of simulated data")
    database.add_argument("--force", action="store_true",
                          help="retention: drop a table's rows even when all are past its "
                               "horizon")
    database.set_defaults(handler=cmd_db)

    assets = commands.add_parser("assets", help="green areas, sponsors, bins, vehicles, devices")
    assets.add_argument("action", choices=("load", "import"),
                        help="load: an asset file; import: a green-area cadastre export "
                             "(GeoJSON, idempotent by id, history recorded)")
    assets.add_argument("file", type=Path,
                        help="a YAML asset file, GeoJSON, a scenario file or a packaged "
                             "scenario's name (herrenberg)")
    assets.set_defaults(handler=cmd_assets)

    demo = command(commands, "demo", cmd_demo,
                   help="run everything with the simulated town (Ctrl-C stops)")
    demo.add_argument("--speed", default="3600",
                      help="simulated seconds per wall second, or max (default 3600)")
    demo.add_argument("--days", type=float, default=365.0,
                      help="stop after this many simulated days (default 365)")
    demo.add_argument("--no-crews", action="store_true", help="nobody works off the orders")

    decode = commands.add_parser(
        "decode", help="decode one payload or one ChirpStack event and print JSON"
    )
    decode.add_argument("--model", help="device model id (see --list)")
    decode.add_argument("--fport", type=int, help="LoRaWAN fPort")
    decode.add_argument("--hex", help="payload as hex")
    decode.add_argument("--event", type=Path, help="a ChirpStack v4 event file (JSON or Protobuf)")
    decode.add_argument("--list", action="store_true", help="list the model ids")
    decode.set_defaults(handler=cmd_decode)


def cmd_services(args: argparse.Namespace) -> int:
    """Start, stop or report the private services."""
    from bauhof import db

    cfg = settings_mod.load()
    pg, mq = local_services(cfg)
    external = "external (BAUHOF_{}_URL is set), not managed here"
    if args.action == "up":
        if cfg.embedded_db:
            pg.start()
            pg.create_database(settings_mod.DEFAULT_DB_NAME)
            print(f"database  up  {cfg.database_url}  (data in {pg.data_dir})")
        else:
            print(f"database  {external.format('DATABASE')}")
        if cfg.embedded_mqtt:
            mq.start()
            print(f"mqtt      up  {cfg.mqtt.url}  (data in {mq.state_dir})")
        else:
            print(f"mqtt      {external.format('MQTT')}")
        return 0
    if args.action == "down":
        if cfg.embedded_mqtt:
            mq.stop()
            print("mqtt      stopped")
        if cfg.embedded_db:
            pg.stop()
            print("database  stopped")
        return 0
    healthy = True
    try:
        with db.connect(cfg.database_url) as conn:
            row = conn.execute(
                "SELECT extversion FROM pg_extension WHERE extname = 'timescaledb'").fetchone()
        db_state = (f"healthy, TimescaleDB {row[0]}" if row else
                    "healthy, but not migrated (run `bauhof db migrate`)")
    except db.DatabaseError as exc:
        db_state, healthy = f"DOWN ({exc})", False
    from bauhof.mqtt import probe

    problem = probe(cfg.mqtt, cfg.mqtt_ca_file)
    mqtt_state = "healthy" if problem is None else f"DOWN ({problem})"
    healthy = healthy and problem is None
    print(f"database  {db.redact(cfg.database_url)}  {db_state}")
    print(f"mqtt      {cfg.mqtt.url}  {mqtt_state}")
    return 0 if healthy else 1


def cmd_demo(args: argparse.Namespace) -> int:
    """Start the services, migrate, load the default town, and run ingest, rules, the API,
    roll-ups, route forecasts and the simulator together with a progress line."""
    from shell import demo

    return demo.run(args.speed, not args.no_crews, args.days)


def cmd_db(args: argparse.Namespace) -> int:
    """Apply pending migrations."""
    from bauhof import db

    if args.action != "retention" and (args.now or args.force):
        return fail("db", "--now and --force are for `db retention`", 2)
    now = None
    if args.now:
        try:
            now = datetime.fromisoformat(args.now)
        except ValueError:
            print(f"bauhof db: error: --now {args.now!r}: expected ISO 8601 like "
                  "2026-06-30T00:00Z", file=sys.stderr)
            return 2
        now = now if now.tzinfo else now.replace(tzinfo=UTC)
    cfg = settings_mod.load()
    if args.action == "retention":
        from bauhof.db import retention

        status = 0
        with db.connect(cfg.database_url, autocommit=True) as conn:
            for dropped in retention.apply(conn, retention.horizons(cfg.retain_days), now,
                                           args.force):
                if dropped.skipped:
                    print(f"bauhof db retention: warning: {dropped.skipped}", file=sys.stderr)
                    status = 1
                    continue
                print(f"{dropped.table:14} keep {dropped.days} days: "
                      f"dropped {dropped.chunks} {dropped.unit}")
            from api.sponsorship_store import anonymise

            # Personal data goes by the wall clock, whatever --now says of the readings.
            count = anonymise(conn, datetime.now(UTC), cfg.sponsor_retention_days)
            print(f"{'sponsorships':14} keep {cfg.sponsor_retention_days} days after the end: "
                  f"anonymised {count}")
        return status
    applied = db.migrate(cfg.database_url)
    if applied:
        for name in applied:
            print(f"applied {name}")
    else:
        print("database is up to date")
    return 0


def cmd_assets(args: argparse.Namespace) -> int:
    """Validate and load an asset file."""
    from bauhof import assets

    path = args.file
    if args.action == "import":
        return _import_cadastre(settings_mod.load().database_url, path)
    if not path.exists() and path.suffix == "" and "/" not in str(path):
        # A packaged scenario's name: `bauhof assets load herrenberg`.
        from simulator.scenario import scenario_file

        path = scenario_file(str(path))
    if not path.is_file():
        from simulator.scenario import packaged

        print(f"bauhof assets: error: no asset file {args.file} (nor a packaged scenario: "
              f"{', '.join(packaged())})", file=sys.stderr)
        return 2
    cfg = settings_mod.load()
    try:
        counts = assets.load_file(cfg.database_url, path)
    except assets.AssetFileError as exc:
        return fail("assets", exc)
    print(", ".join(f"{n} {kind}" for kind, n in counts.items()))
    return 0


def _import_cadastre(database_url: str, path: Path) -> int:
    """`bauhof assets import FILE.geojson`: every problem listed and nothing stored, or all."""
    from bauhof import cadastre, db

    try:
        areas = cadastre.parse_geojson(path)
    except cadastre.CadastreError as exc:
        print(f"bauhof assets: {path}: {len(exc.problems)} problem(s), nothing imported:",
              file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    with db.connect(database_url) as conn:
        counts = cadastre.import_areas(conn, areas, "import")
    print(f"{counts['new']} new, {counts['changed']} changed, {counts['unchanged']} unchanged "
          "green areas")
    return 0


def cmd_decode(args: argparse.Namespace) -> int:
    """Decode a payload or a whole ChirpStack event."""
    from bauhof import codecs

    if args.list:
        for model in codecs.models():
            print(model)
        return 0
    if args.event is not None:
        from shell.decode import decode_event_file

        if not args.event.is_file():
            return fail("decode", f"no event file {args.event}", 2)
        keymap = settings_mod.load().object_keymap
        try:
            result = decode_event_file(args.event, model=args.model, keymap=keymap)
        except codecs.UnknownModelError as exc:
            return fail("decode", f"{exc} (see `bauhof decode --list`)", 2)
        except (codecs.CodecError, ValueError, OSError) as exc:
            return fail("decode", exc)
        print(json.dumps(result, ensure_ascii=False))
        return 0
    missing = [flag for flag, value in
               (("--model", args.model), ("--fport", args.fport), ("--hex", args.hex))
               if value is None]
    if missing:
        print(f"bauhof decode: error: {', '.join(missing)} required (or --event FILE)",
              file=sys.stderr)
        return 2
    try:
        payload = bytes.fromhex(args.hex)
    except ValueError:
        return fail("decode", f"--hex {args.hex!r} is not hexadecimal", 2)
    try:
        decoded = codecs.decode(args.model, args.fport, payload)
    except codecs.UnknownModelError as exc:
        return fail("decode", f"{exc} (see `bauhof decode --list`)", 2)
    except codecs.CodecError as exc:
        return fail("decode", exc)
    print(json.dumps({"model": args.model, "readings": decoded.readings,
                      "warnings": list(decoded.warnings)}, ensure_ascii=False))
    return 0
