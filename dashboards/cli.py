"""`bauhof dashboards build|check|push|rollups`."""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from bauhof.cli import command, fail, positive_number


def register(commands: Any, bench: Any) -> None:
    """Add the dashboards' commands."""
    parser = command(commands, "dashboards", cmd_dashboards,
                     help="Grafana dashboards: build, check, push; roll-ups")
    parser.add_argument("action", choices=("build", "check", "push", "rollups"))
    parser.add_argument("--every", type=positive_number(), metavar="SECONDS",
                        help="with rollups: repeat every SECONDS until interrupted")



def cmd_dashboards(args: argparse.Namespace) -> int:
    """build: write dashboards/json from dashboards/*.py; check: validate every dashboard (and
    that the JSON is what build writes); push: upload data source, folder and dashboards to
    Grafana (BAUHOF_GRAFANA_URL, BAUHOF_GRAFANA_TOKEN, GRAFANA_DB_PASSWORD); rollups: refresh
    the hourly and daily roll-ups the panels read."""
    from dashboards import DashboardError, build, check

    try:
        if args.action == "build":
            for path in build.write():
                print(f"wrote {path}")
            return 0
        if args.action == "check":
            problems = check.check()
            for problem in problems:
                print(problem, file=sys.stderr)
            if problems:
                return fail("dashboards check", f"{len(problems)} problem(s)")
            print(f"{len(build.dashboards())} dashboards ok")
            return 0
        if args.action == "push":
            from bauhof import settings
            from dashboards import push

            for line in push.push(push.target_from_settings(settings.load().grafana)):
                print(line)
            return 0
        return _rollups(args.every)
    except DashboardError as exc:
        return fail("dashboards", exc)


def _rollups(every: float | None) -> int:
    import psycopg

    from bauhof import db
    from bauhof import settings as bauhof_settings
    from dashboards import rollups

    url = bauhof_settings.load().database_url
    while True:
        started = time.monotonic()
        try:
            with db.connect(url, autocommit=True) as conn:
                hours = rollups.refresh(conn)
            print(f"roll-ups: {hours} device-hours recomputed in "
                  f"{time.monotonic() - started:.1f} s", flush=True)
        except (db.DatabaseError, psycopg.Error) as exc:
            if every is None:
                raise
            # A periodic job keeps going: the database may be back next time.
            print(f"bauhof dashboards rollups: {exc}", file=sys.stderr, flush=True)
        if every is None:
            return 0
        time.sleep(max(0.0, every - (time.monotonic() - started)))
