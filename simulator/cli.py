"""`bauhof simulate`, `bauhof replay` and `bauhof bench replay`."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bauhof.cli import bench_command, command, fail, positive_int, positive_number
from simulator import SimulatorError

_days = positive_number("days")

if TYPE_CHECKING:
    from bauhof.settings import Settings
    from simulator.citizens import DatabaseCitizens, HttpCitizens
    from simulator.crew_api import HttpCrews
    from simulator.crews import DatabaseCrews


def register(commands: Any, bench: Any) -> None:
    """Add the simulator's commands."""
    sim = command(commands, "simulate", cmd_simulate,
                  help="simulate a town of sensors and publish ChirpStack events")
    sim.add_argument("--scenario", default="herrenberg",
                     help="a packaged scenario name or a scenario YAML file (default herrenberg)")
    sim.add_argument("--seed", type=int, help="random seed (default: the scenario's)")
    sim.add_argument("--speed", help="simulated seconds per wall second, or max "
                                     "(default: the scenario's, 3600 for herrenberg)")
    sim.add_argument("--start", help="simulated start, ISO 8601 (e.g. 2026-06-01T06:00Z) or now")
    sim.add_argument("--days", type=_days, help="how many simulated days to run")
    sim.add_argument("--encoding", choices=("json", "protobuf"), default="json",
                     help="ChirpStack event encoding (default json)")
    sim.add_argument("--faults", help="faults to inject: dup,late=0.05,… or all or none "
                                      "(replaces the scenario's); see docs/simulator.md")
    sim.add_argument("--record", type=Path, metavar="FILE",
                     help="write what is published as JSON lines (.gz compresses)")
    sim.add_argument("--truth", type=Path, metavar="FILE",
                     help="write the ground truth as JSON lines (.gz compresses)")
    sim.add_argument("--no-publish", action="store_true",
                     help="do not connect to a broker; only write --record/--truth")
    sim.add_argument("--crews", action="store_true",
                     help="act as the crews on Bauhof's open work orders: through the API "
                          "with --api, else on the database (BAUHOF_DATABASE_URL)")
    sim.add_argument("--api", metavar="URL",
                     help="with --crews: Bauhof's API (e.g. http://127.0.0.1:8080), reached "
                          "with an administrator's token from BAUHOF_API_TOKEN")
    sim.add_argument("--citizens", action="store_true",
                     help="with --crews: citizens ask for free green areas on the portal, "
                          "staff approve, sponsors end (deterministic by seed)")
    sim.add_argument("--quiet", action="store_true", help="no progress line")

    rep = command(commands, "replay", cmd_replay,
                  help="publish a recording again (or one rebuilt from a database)")
    rep.add_argument("file", nargs="?", type=Path, help="a recording (JSON lines, .gz allowed)")
    add_database_range(rep, "rebuild the stream from raw_uplinks of this database (no URL: "
                            "BAUHOF_DATABASE_URL)")
    rep.add_argument("--speed", default="max", help="simulated seconds per wall second, or max")
    rep.add_argument("--save", type=Path, metavar="FILE",
                     help="write the stream to a recording instead of publishing it")
    rep.add_argument("--quiet", action="store_true", help="no progress line")

    ben = bench_command(bench, "replay", cmd_bench_replay,
                        help="replay simulated days of the default town through ingest")
    ben.add_argument("--days", type=_days, default=30.0, help="simulated days (default 30)")
    ben.add_argument("--seed", type=int, default=1)
    path = ben.add_mutually_exclusive_group()
    path.add_argument("--mqtt", dest="path", action="store_const", const="mqtt",
                      default="direct",
                      help="send through the broker to `bauhof ingest` while generating")
    path.add_argument("--from-recording", dest="path", action="store_const",
                      const="recording",
                      help="generate a recording first (timed apart), then replay it through "
                           "the broker")
    ben.add_argument("--workers", type=positive_int, default=None,
                     help="direct path: worker processes (default: one per core and one "
                          "more)")


@contextmanager
def _sigterm_stops() -> Iterator[None]:
    """While running, SIGTERM (e.g. from `bauhof demo`) stops like Ctrl-C: files are closed,
    the exit status is 130."""

    def interrupt(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _file_fail(command: str, exc: OSError) -> int:
    return fail(command, f"cannot use {exc.filename}: {exc.strerror or exc}")


def cmd_simulate(args: argparse.Namespace) -> int:
    """Simulate a town's soil probes, bin sensors and vehicle trackers, publish their ChirpStack
    v4 events to MQTT (BAUHOF_MQTT_URL) at QoS 1 on a virtual clock, and optionally record the
    stream and the ground truth."""
    from bauhof import settings
    from simulator import clock, faults, scenario
    from simulator.session import Simulation

    if not Path(args.scenario).is_file() and args.scenario not in scenario.packaged():
        print(f"bauhof simulate: error: --scenario {args.scenario}: no such file, and no "
              f"packaged scenario of that name ({', '.join(scenario.packaged())})",
              file=sys.stderr)
        return 2
    try:
        town = scenario.load(args.scenario)
        speed = clock.parse_speed(args.speed) if args.speed else (
            None if town.simulation.speed == "max" else float(town.simulation.speed)
        )
        start = clock.parse_time(args.start) if args.start else town.simulation.start
        rates = faults.parse_spec(args.faults) if args.faults is not None else dict(town.faults)
    except (clock.ClockError, faults.FaultSpecError) as exc:
        return fail("simulate", exc, 2)
    except SimulatorError as exc:
        return fail("simulate", exc)
    if args.no_publish and args.record is None and args.truth is None:
        return fail("simulate", "--no-publish needs --record or --truth", 2)
    if args.api is not None and not args.crews:
        return fail("simulate", "--api is for --crews", 2)
    if args.citizens and not args.crews:
        return fail("simulate", "--citizens is for --crews", 2)
    cfg = settings.load()
    crews: DatabaseCrews | HttpCrews | None = None
    citizens: DatabaseCitizens | HttpCitizens | None = None
    if args.crews:
        if speed is None:
            print("bauhof simulate: note: with --speed max the town runs ahead of ingest and "
                  "rules, so crews find few orders; try --speed 3600", file=sys.stderr)
        try:
            crews = _crews(args.api, cfg)
            if args.citizens:
                citizens = _citizens(args.api, cfg)
        except SimulatorError as exc:
            print(f"bauhof simulate: --crews: {exc}", file=sys.stderr)
            return 2 if isinstance(exc, MissingToken) else 1
    if args.quiet:
        # --quiet means quiet: no HTTP request log of the crews' API client either.
        logging.getLogger("httpx").setLevel(logging.WARNING)
    began = datetime.now(UTC)
    run = Simulation(
        town, seed=town.simulation.seed if args.seed is None else args.seed, start=start,
        days=args.days or town.simulation.days, encoding=args.encoding, faults=rates,
        record=args.record, truth=args.truth, crews=crews, citizens=citizens,
    )
    try:
        with _sigterm_stops():
            stats = run.execute(
                None if args.no_publish else cfg.mqtt, ca_file=cfg.mqtt_ca_file, speed=speed,
                progress=not args.quiet,
            )
    except SimulatorError as exc:
        return fail("simulate", exc)
    except OSError as exc:
        return _file_fail("simulate", exc)
    finally:
        if crews is not None:
            crews.close()
        if citizens is not None:
            citizens.close()
    summary = run.summary
    print(f"simulated {run.days:g} days from {start.isoformat()} (seed {run.seed}): "
          f"{summary['uplinks']:,} uplinks, {summary['lost']:,} lost, "
          f"{stats.published:,} messages {'recorded' if args.no_publish else 'published'} "
          f"in {stats.wall_s:.1f} s" + (" (stopped early)" if stats.stopped else ""))
    if crews is not None:
        print(f"crews closed {summary['orders_done']} work orders")
    if citizens is not None:
        portal = summary["portal"]
        print(f"portal: {portal['asked']} inquiries, {portal['approved']} approved, "
              f"{portal['ended']} sponsorships ended")
    for label, path in (("recording", args.record), ("ground truth", args.truth)):
        if path is not None:
            print(f"{label}: {path}")
    if not args.no_publish and stats.published:
        _warn_if_repeated(run, cfg.database_url, began)
    return 130 if stats.stopped else 0


def _warn_if_repeated(run: Any, database_url: str, began: datetime) -> None:
    """Warn when most of the run's first uplinks were stored before it began (a repeat)."""
    from bauhof.db import DatabaseError
    from simulator import duplicates

    ids = duplicates.first_ids(run.scenario, seed=run.seed, start_us=run.start_us,
                               end_us=run.end_us, faults=run.faults)
    try:
        stored = duplicates.stored_before(database_url, ids, began)
    except DatabaseError:
        return  # no database here to ask: the broker's ingest may write elsewhere
    if ids and stored * 2 > len(ids):
        print(f"bauhof simulate: warning: {stored} of the first {len(ids)} uplinks of this run "
              "were already stored before it began, so ingest counted them as duplicates: the "
              "same --seed, --start and --scenario give the same data; change one of them for "
              "new data", file=sys.stderr)


class MissingToken(SimulatorError):
    """--api without BAUHOF_API_TOKEN."""


def _citizens(api: str | None, cfg: Settings) -> DatabaseCitizens | HttpCitizens:
    """The portal's citizens: through the API at `api`, else on the database."""
    from bauhof.db import DatabaseError
    from simulator.citizens import CitizenError, DatabaseCitizens, HttpCitizens

    if api is None:
        try:
            return DatabaseCitizens(cfg.database_url)
        except DatabaseError as exc:
            raise CitizenError(str(exc)) from exc
    return HttpCitizens(api, cfg.api_token or "", cfg.link_secret)


def _crews(api: str | None, cfg: Settings) -> DatabaseCrews | HttpCrews:
    """The crews' backend: the API at `api` (with the settings' BAUHOF_API_TOKEN), else the
    database; SimulatorError when it cannot be used."""
    from bauhof.db import DatabaseError
    from simulator.crew_api import HttpCrews
    from simulator.crews import CrewError, DatabaseCrews

    if api is None:
        try:
            return DatabaseCrews(cfg.database_url)
        except DatabaseError as exc:
            raise CrewError(str(exc)) from exc
    token = cfg.api_token
    if not token:
        raise MissingToken("--api needs an administrator's token in BAUHOF_API_TOKEN "
                           "(`bauhof users create --role admin --name simulator`)")
    return HttpCrews(api, token)


def add_database_range(parser: argparse.ArgumentParser, from_db_help: str) -> None:
    """Add --from-db [URL], --since and --until: a stream rebuilt from a database's raw
    uplinks (`bauhof replay`, `bauhof whatif`); `database_range` reads the times."""
    parser.add_argument("--from-db", metavar="URL", nargs="?", const="", help=from_db_help)
    parser.add_argument("--since", help="with --from-db: first event time (ISO 8601)")
    parser.add_argument("--until", help="with --from-db: end of the time range (ISO 8601)")


def database_range(args: argparse.Namespace) -> tuple[datetime | None, datetime | None]:
    """--since and --until as times (None when not given); ClockError names the option."""
    from simulator import clock

    since = clock.parse_time(args.since, "--since") if args.since else None
    until = clock.parse_time(args.until, "--until") if args.until else None
    return since, until


def cmd_replay(args: argparse.Namespace) -> int:
    """Publish a recording made with `simulate --record` at its original pace times --speed, or
    rebuild one from a Bauhof database's raw uplinks."""
    from bauhof import settings
    from simulator import archive, clock, recording
    from simulator.publisher import Publisher
    from simulator.runner import Progress, run

    if (args.file is None) == (args.from_db is None):
        print("bauhof replay: error: give a recording FILE or --from-db (one of them)",
              file=sys.stderr)
        return 2
    try:
        speed = clock.parse_speed(args.speed)
        since, until = database_range(args)
    except clock.ClockError as exc:
        return fail("replay", exc, 2)
    cfg = settings.load()
    if args.file is not None:
        if not args.file.is_file():
            return fail("replay", f"no recording {args.file}", 2)
        messages = recording.read(args.file)
    else:
        messages = archive.from_database(args.from_db or cfg.database_url, since, until)
    progress = Progress(enabled=not args.quiet)
    try:
        if args.save is not None:
            recorder = recording.Recorder(args.save)
            try:
                with _sigterm_stops():
                    stats = run(messages, clock=clock.VirtualClock(None, None),
                                recorder=recorder, progress=progress)
            finally:
                recorder.close()
            print(f"saved {stats.published:,} messages to {args.save}")
            return 0
        with Publisher(cfg.mqtt, ca_file=cfg.mqtt_ca_file) as publisher, _sigterm_stops():
            stats = run(messages, clock=clock.VirtualClock(None, speed), publisher=publisher,
                        progress=progress)
    except SimulatorError as exc:
        return fail("replay", exc)
    except OSError as exc:
        return _file_fail("replay", exc)
    span = timedelta(microseconds=(stats.last_us or 0) - (stats.first_us or 0))
    print(f"replayed {stats.published:,} messages spanning {span} in {stats.wall_s:.1f} s")
    return 130 if stats.stopped else 0


def cmd_bench_replay(args: argparse.Namespace) -> int:
    """Generate the default town's stream and store it through ingest into private services on
    free ports: by default split by device over worker processes, each feeding ingest's
    pipeline directly; with --mqtt sent through the broker to `bauhof ingest` while it is
    generated; with --from-recording a recording generated first, replayed through the broker.
    Report the end-to-end time, where it went, simulated days per wall minute and events per
    second."""
    from simulator.bench import run_bench

    try:
        return run_bench(args.days, seed=args.seed, as_json=args.json, path=args.path,
                         workers=args.workers)
    except SimulatorError as exc:
        return fail("bench replay", exc)
