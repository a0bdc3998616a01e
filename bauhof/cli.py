"""The `bauhof` command line: one entry point, each part registers its own commands."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Callable, Sequence
from typing import NoReturn, Protocol

# Each module has `register(commands, bench)` adding its sub-commands; see bauhof/commands.py.
PARTS = (
    "bauhof.commands",
    "ingest.cli",
    "rules.cli",
    "simulator.cli",
    "api.cli",
    "reliability.cli",
    "bauhof.chirpstack.cli",
    "planning.cli", "dashboards.cli",
    "api.portal_cli",
    "ingest.weather.cli",
)


class CommandError(Exception):
    """A command failed in a way the user can fix; printed as one line, exit status 1."""


class _Subparsers(Protocol):
    def add_parser(self, name: str, **kwargs: object) -> argparse.ArgumentParser: ...


Handler = Callable[[argparse.Namespace], int]


def positive_int(text: str) -> int:
    """An argparse type: a whole number above zero, else one clear error."""
    try:
        value = int(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from exc
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{value} must be positive")
    return value


class Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one clear line and exit status 2."""

    def error(self, message: str) -> NoReturn:
        """Print `bauhof <cmd>: error: …` and one hint, then exit 2."""
        self.exit(2, f"{self.prog}: error: {message} (see `{self.prog} --help`)\n")


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
