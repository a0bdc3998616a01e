"""`bauhof routes plan|preview|refresh|settings`, `bauhof bench routes`."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from bauhof.cli import argument_type, bench_command, fail, number_between, positive_number

_positive = positive_number()
_hours = number_between(0, 168, "hours")
_date = argument_type(date.fromisoformat, "a date like 2026-06-02")


def register(commands: Any, bench: Any) -> None:
    """Add the planner's commands."""
    routes = commands.add_parser(
        "routes", help="plan waste-collection routes",
        description="Forecast the bins, choose those to collect on a day, solve the vehicle "
                    "routing problem and store the plan with one collection-route work order "
                    "per route (see docs/planning.md).")
    actions = routes.add_subparsers(dest="action", metavar="ACTION", required=True,
                                    parser_class=type(routes))
    plan = actions.add_parser("plan", help="plan a day and open its collection-route orders")
    plan.add_argument("--date", type=_date, help="the day (YYYY-MM-DD; default: the next "
                                                 "working day after the newest reading)")
    _overrides(plan)
    plan.add_argument("--json", action="store_true", help="print the plan as one JSON object")
    plan.set_defaults(handler=cmd_plan)

    preview = actions.add_parser("preview", help="plan a day without orders (stored preview)")
    preview.add_argument("--date", type=_date, help="the day (default: the next working day)")
    _overrides(preview)
    preview.add_argument("--json", action="store_true", help="print one JSON object")
    preview.set_defaults(handler=cmd_preview)

    refresh = actions.add_parser(
        "refresh", help="recompute forecasts and the dashboard's previews; mark stops done")
    refresh.add_argument("--every", type=_positive, metavar="SECONDS",
                         help="repeat every SECONDS until interrupted")
    refresh.add_argument("--no-previews", action="store_true",
                         help="only forecasts and stops, no preview grid")
    refresh.set_defaults(handler=cmd_refresh)

    cfg = actions.add_parser("settings", help="show, save or list planner settings")
    cfg.add_argument("what", choices=("show", "save", "history"))
    cfg.add_argument("file", nargs="?", type=Path, help="with save: a JSON or YAML file")
    cfg.add_argument("--note", help="with save: why the settings changed")
    cfg.set_defaults(handler=cmd_settings)

    scale = bench_command(bench, "routes", cmd_bench_routes,
                          help="plan 2,000 bins with 8 vehicles; quality against a long run")
    scale.add_argument("--bins", type=int, default=2000)
    scale.add_argument("--vehicles", type=int, default=8)
    scale.add_argument("--limit", type=_positive, default=20.0,
                       help="solver seconds for the plan (default 20)")
    scale.add_argument("--long", type=_positive, default=300.0,
                       help="solver seconds for the reference run (default 300)")



def _overrides(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--threshold", type=_pct, help="fill threshold in %% for every bin")
    parser.add_argument("--horizon", type=_hours, help="forecast horizon in hours")



def _pct(text: str) -> float:
    value = _positive(text)
    if value > 100:
        raise argparse.ArgumentTypeError(f"{text} is more than 100 %")
    return value



def _connect() -> Any:
    from bauhof import db
    from bauhof import settings as bauhof_settings

    return db.connect(bauhof_settings.load().database_url, autocommit=True)


def _print_plan(doc: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print(json.dumps(doc, default=str))
        return
    print(f"{doc['kind']} {doc['id']} for {doc['plan_date']}: {doc['bins_planned']} of "
          f"{doc['bins_selected']} bins in {len(doc['routes'])} route(s), {doc['km']} km, "
          f"{doc['duration_h']} h" + ("" if doc["feasible"] else " (NOT feasible)"))
    for r in doc["routes"]:
        order = f"order {r['order_id']}" if r["order_id"] else "no order"
        print(f"  route {r['route_no']} {r['vehicle_id']}: {r['stops']} stops, {r['km']} km, "
              f"{r['duration_h']} h, {r['load_l']:.0f}/{r['capacity_l']:.0f} l ({order})")
    if doc["unplanned"]:
        print(f"  not planned (no room): {', '.join(doc['unplanned'])}")


def _day(conn: Any, given: date | None) -> date:
    from planning import bins, selection
    from planning import settings as planning_settings

    if given is not None:
        return given
    _, cfg = planning_settings.current(conn)
    newest = bins.latest_reading(conn)
    from datetime import UTC, datetime

    return selection.next_plan_date(newest or datetime.now(UTC), cfg)


def cmd_plan(args: argparse.Namespace) -> int:
    """Plan a day."""
    from planning import previews

    overrides: dict[str, Any] = {}
    if args.threshold is not None:
        overrides["fill_threshold_pct"] = args.threshold
    if args.horizon is not None:
        overrides["horizon_h"] = args.horizon
    return _report(lambda conn: previews.create(conn, _day(conn, args.date), by="planner:cli",
                                                overrides=overrides), args.json)


def cmd_preview(args: argparse.Namespace) -> int:
    """Preview a day."""
    from planning import previews

    return _report(lambda conn: previews.preview(conn, args.threshold, args.horizon,
                                                 _day(conn, args.date), by="planner:cli"),
                   args.json)


def _report(make: Callable[[Any], Any], as_json: bool) -> int:
    """Make a plan or a preview on a connection and print it with its warnings."""
    from planning import PlanningError, workspace

    try:
        with _connect() as conn:
            plan = make(conn)
            found = workspace.plan_warnings(conn, plan)
    except PlanningError as exc:
        return fail("routes", exc)
    doc = plan.summary()
    doc["warnings"] = [w.as_json() for w in found]
    _print_plan(doc, as_json)
    # On stderr, so that --json output stays one object and a person still sees them.
    for w in found:
        print(f"bauhof routes: warning: {w.message}", file=sys.stderr)
    return 0


def cmd_refresh(args: argparse.Namespace) -> int:
    """Refresh forecasts and previews, once or periodically."""
    import psycopg

    from bauhof.db import DatabaseError
    from planning import PlanningError, previews

    while True:
        started = time.monotonic()
        try:
            with _connect() as conn:
                done = previews.refresh(conn, grid=not args.no_previews)
            print(f"forecasts {done.forecasts} (as of {done.as_of}), previews {done.previews} "
                  f"for {done.plan_date}, stops done {done.stops_done} "
                  f"in {time.monotonic() - started:.1f} s", flush=True)
        except (PlanningError, DatabaseError, psycopg.Error) as exc:
            if args.every is None:
                return fail("routes", exc)
            # A periodic job keeps going: the next round may find what was missing.
            print(f"bauhof routes refresh: {exc}", file=sys.stderr, flush=True)
        if args.every is None:
            return 0
        time.sleep(max(0.0, args.every - (time.monotonic() - started)))


def cmd_settings(args: argparse.Namespace) -> int:
    """Show, save or list planner settings."""
    import yaml

    from planning import PlanningError
    from planning import settings as planning_settings

    if args.what == "save" and args.file is not None and not args.file.is_file():
        return fail("routes settings", f"no settings file {args.file}", 2)
    try:
        with _connect() as conn:
            if args.what == "show":
                version, cfg = planning_settings.current(conn)
                print(json.dumps({"version": version, "settings": cfg.model_dump(mode="json")},
                                 indent=2))
            elif args.what == "history":
                for entry in planning_settings.history(conn):
                    print(f"{entry['version']:>4}  {entry['created_at']:%Y-%m-%d %H:%M}  "
                          f"{entry['created_by']}  {entry['note'] or ''}")
            else:
                if args.file is None:
                    return fail("routes settings", "save needs a FILE", 2)
                data = yaml.safe_load(args.file.read_text(encoding="utf-8"))
                if not isinstance(data, dict):
                    print(f"bauhof routes settings: error: {args.file} is not a mapping",
                          file=sys.stderr)
                    return 2
                cfg = planning_settings.parse(data)
                version = planning_settings.save(conn, cfg, "planner:cli", args.note)
                print(f"saved planner settings version {version}")
    except PlanningError as exc:
        return fail("routes", exc)
    return 0


def cmd_bench_routes(args: argparse.Namespace) -> int:
    """Solve a synthetic 2,000-bin, 8-vehicle collection day within the plan's time limit and
    compare its distance with a long solver run."""
    from planning import scale

    figures = scale.run(args.bins, args.vehicles, args.limit, args.long,
                        progress=not args.json)
    if args.json:
        print(json.dumps(figures))
    else:
        for key, value in figures.items():
            print(f"{key:28} {value}")
    return 0
