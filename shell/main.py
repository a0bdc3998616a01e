"""The `bauhof` command line: one entry point, each part registers its own commands."""

from __future__ import annotations

import importlib
import logging
import sys
from collections.abc import Sequence

from bauhof.cli import CommandError, Handler, Parser

# Each module has `register(commands, bench)` adding its sub-commands; see shell/commands.py.
PARTS = (
    "shell.commands",
    "ingest.cli",
    "rules.cli",
    "harness.cli",
    "simulator.cli",
    "api.cli",
    "reliability.cli",
    "bauhof.chirpstack.cli",
    "planning.cli", "dashboards.cli",
    "api.portal_cli",
    "ingest.weather.cli",
)


def build_parser() -> Parser:
    """The full parser with every part's commands."""
    parser = Parser(
        prog="bauhof",
        description="Bauhof: LoRaWAN sensor data turned into work that gets done in a town.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    parser.add_argument("--log-json", action="store_true", help="log as JSON lines")
    commands = parser.add_subparsers(
        dest="command", metavar="COMMAND", parser_class=Parser, required=True
    )
    bench_parser = commands.add_parser(
        "bench", help="measure speed and memory (each takes --json)",
        description="Benchmarks that print their figures; --json prints one JSON object.",
    )
    bench = bench_parser.add_subparsers(
        dest="bench", metavar="BENCH", parser_class=Parser, required=True
    )
    for name in PARTS:
        module = importlib.import_module(name)
        module.register(commands, bench)
    return parser


def setup_logging(verbose: bool, as_json: bool) -> None:
    """Log to stderr, human-readable or as JSON lines."""
    handler = logging.StreamHandler(sys.stderr)
    if as_json:
        from bauhof.logs import JsonFormatter

        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s", "%H:%M:%S")
        )
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO, handlers=[handler])


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; user errors become one line on stderr."""
    parser = build_parser()
    args = parser.parse_args(argv)
    setup_logging(args.verbose, args.log_json)
    handler: Handler = args.handler
    from bauhof.db import DatabaseError
    from bauhof.services import ServiceError
    from bauhof.settings import SettingsError

    try:
        return handler(args)
    except (CommandError, DatabaseError, ServiceError, SettingsError) as exc:
        print(f"bauhof {args.command}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
