"""`bauhof api`, `bauhof users …`, `bauhof open311 key create`, `bauhof bench api`."""

from __future__ import annotations

import argparse
import json
from datetime import timedelta
from typing import Any

from bauhof.cli import bench_command, command
from bauhof.cli import positive_int as _positive


def register(commands: Any, bench: Any) -> None:
    """Add the API's commands."""
    api = command(commands, "api", cmd_api, help="run the HTTP API, the crew web app and Open311")
    api.add_argument("--host", default="127.0.0.1", help="address to listen on (default "
                                                        "127.0.0.1)")
    api.add_argument("--port", type=_port, default=8080, help="port (default 8080)")
    api.add_argument("--workers", type=_positive, default=1, help="processes (default 1)")

    users = commands.add_parser("users", help="API users and their tokens",
                                description="Create users (printing their token once), "
                                            "issue further tokens, revoke, list.")
    actions = users.add_subparsers(dest="action", metavar="ACTION", required=True)
    create = actions.add_parser("create", help="create a user and print a token once")
    create.add_argument("--role", required=True, choices=("crew", "planner", "admin"))
    create.add_argument("--name", required=True, help="login name; a crew's orders are "
                                                      "assigned to crew:<name>")
    create.add_argument("--days", type=_positive, default=365,
                        help="token lifetime in days (default 365)")
    token = actions.add_parser("token", help="print a further token for a user")
    token.add_argument("name")
    token.add_argument("--days", type=_positive, default=365)
    revoke = actions.add_parser("revoke", help="disable a user and revoke all their tokens")
    revoke.add_argument("name")
    actions.add_parser("list", help="list users and token prefixes")
    for sub in (create, token, revoke):
        sub.set_defaults(handler=cmd_users)
    actions.choices["list"].set_defaults(handler=cmd_users)

    open311 = commands.add_parser("open311", help="Open311 api keys",
                                  description="Manage the api_key values Open311 clients "
                                              "send with POST requests.")
    o_actions = open311.add_subparsers(dest="object", metavar="OBJECT", required=True)
    key = o_actions.add_parser("key", help="api keys")
    key.add_argument("action", choices=("create",))
    key.add_argument("--name", default="open311 client", help="who the key is for")
    key.set_defaults(handler=cmd_open311)

    b = bench_command(
        bench, "api", cmd_bench_api,
        help="p50/p99 latency of work-order lists and year-long readings at 200 req/s")
    b.add_argument("--devices", type=_positive, default=300, help="devices (default 300)")
    b.add_argument("--days", type=_positive, default=365, help="days of hourly readings")
    b.add_argument("--rate", type=_positive, default=200, help="requests per second")
    b.add_argument("--seconds", type=_positive, default=30, help="how long to measure")
    b.add_argument("--workers", type=_positive, default=2,
                   help="API processes, as `bauhof api --workers` (default 2: one per core of "
                        "the reference machine)")
    b.add_argument("--warmup", type=int, default=5,
                   help="seconds at the same rate before measuring, reported apart as "
                        "warmup_p99_ms (default 5; 0: measure from the first request)")


def _port(text: str) -> int:
    value = _positive(text)
    if value > 65535:
        raise argparse.ArgumentTypeError(f"{value} is not a TCP port")
    return value


def cmd_api(args: argparse.Namespace) -> int:
    """Serve the API with uvicorn (OpenAPI at /docs, crew app at /crew/, Open311 at
    /open311/v2/). Settings: see docs/api.md."""
    import uvicorn

    from bauhof import settings

    settings.load()  # refuse bad settings before uvicorn starts
    uvicorn.run("api.main:build", factory=True, host=args.host, port=args.port,
                workers=args.workers,
                log_level="info", proxy_headers=False, access_log=False)
    return 0


def cmd_users(args: argparse.Namespace) -> int:
    """Create, list or revoke users."""
    from api import users
    from bauhof import db, settings
    from bauhof.cli import CommandError

    cfg = settings.load()
    with db.connect(cfg.database_url, autocommit=True) as conn:
        try:
            if args.action == "create":
                with conn.transaction():
                    uid = users.create_user(conn, args.name, args.role)
                    issued = users.issue_token(conn, uid, timedelta(days=args.days))
                print(issued.token)
            elif args.action == "token":
                issued = users.issue_token(conn, users.user_id(conn, args.name),
                                           timedelta(days=args.days))
                print(issued.token)
            elif args.action == "revoke":
                count = users.revoke_user(conn, args.name)
                print(f"{args.name}: disabled, {count} token(s) revoked")
            else:
                for u in users.list_users(conn):
                    state = "disabled" if u["disabled_at"] else "active"
                    live = [t["prefix"] + "…" for t in u["tokens"] if not t["revoked_at"]]
                    print(f"{u['name']:<20} {u['role']:<8} {state:<9} {' '.join(live)}")
        except users.UserError as exc:
            raise CommandError(str(exc)) from exc
    return 0


def cmd_open311(args: argparse.Namespace) -> int:
    """Create an Open311 api_key and print it once."""
    from api import open311_store
    from bauhof import db, settings

    cfg = settings.load()
    with db.connect(cfg.database_url, autocommit=True) as conn:
        print(open311_store.create_key(conn, args.name))
    return 0


def cmd_bench_api(args: argparse.Namespace) -> int:
    """Start private services, fill a year of hourly readings, run the API in a subprocess and
    drive it open-loop from a second process."""
    from api.bench import run_bench

    result = run_bench(devices=args.devices, days=args.days, rate=args.rate,
                       seconds=args.seconds, workers=args.workers, warmup=args.warmup)
    if args.json:
        print(json.dumps(result))
    else:
        print(f"api at {result['rate']} req/s for {result['seconds']} s "
              f"({result['rows']:,} readings): p50 {result['p50_ms']:.1f} ms, "
              f"p99 {result['p99_ms']:.1f} ms, achieved {result['rps']:.0f} req/s, "
              f"{result['errors']} errors ({result['workers']} API processes; after a "
              f"{result['warmup_s']} s warm-up whose p99 was {result['warmup_p99_ms']:.0f} ms)")
    return 0
