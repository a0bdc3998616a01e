"""The command-line vocabulary every part's `cli` module shares: Parser, CommandError, the
argument types (argument_type, positive_int, positive_number, number_between), `bench_command`
(every bench takes --json) and `fail` (one line on stderr, an exit status).

The entry point that wires the parts together is `shell.main` (a layer above every part).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import NoReturn, Protocol, TypeVar


class CommandError(Exception):
    """A command failed in a way the user can fix; printed as one line, exit status 1."""


class _Subparsers(Protocol):
    def add_parser(self, name: str, **kwargs: object) -> argparse.ArgumentParser: ...


Handler = Callable[[argparse.Namespace], int]
T = TypeVar("T")


def fail(command: str, problem: object, status: int = 1) -> int:
    """Print `bauhof <command>: <problem>` on stderr; return the exit status (1: it failed;
    2, with `error: ` in front, for a usage error the parser could not see)."""
    prefix = "error: " if status == 2 else ""
    print(f"bauhof {command}: {prefix}{problem}", file=sys.stderr)
    return status


def command(commands: _Subparsers, name: str, handler: Handler, *,
            help: str) -> argparse.ArgumentParser:
    """Add `bauhof <name>`, run by `handler`; its `--help` describes it with the handler's
    docstring (the one place that says what the command does)."""
    parser = commands.add_parser(name, help=help, description=handler.__doc__)
    parser.set_defaults(handler=handler)
    return parser


def bench_command(bench: _Subparsers, name: str, handler: Handler, *,
                  help: str) -> argparse.ArgumentParser:
    """Add `bauhof bench <name>` as `command` does: every bench takes --json and then prints
    one JSON object."""
    parser = command(bench, name, handler, help=help)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    return parser


def argument_type(parse: Callable[[str], T], what: str) -> Callable[[str], T]:
    """An argparse type: `parse` of the text, or the error "'<text>' is not <what>" where
    `parse` raises ValueError."""

    def argument(text: str) -> T:
        try:
            return parse(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {what}") from None

    return argument


def _number(text: str, of: str) -> float:
    return argument_type(float, f"a number{of}")(text)


def positive_number(unit: str = "") -> Callable[[str], float]:
    """An argparse type: a number above zero; `unit` (e.g. "days") is named in its errors."""
    of, suffix = (f" of {unit}", f" {unit}") if unit else ("", "")

    def parse(text: str) -> float:
        value = _number(text, of)
        if not value > 0:
            raise argparse.ArgumentTypeError(f"{text} must be more than 0{suffix}")
        return value

    return parse


def number_between(low: float, high: float, unit: str, *,
                   low_included: bool = True) -> Callable[[str], float]:
    """An argparse type: a number of `unit` from `low` (or just above it) to `high`."""

    def parse(text: str) -> float:
        value = _number(text, f" of {unit}")
        if not (low <= value if low_included else low < value) or not value <= high:
            raise argparse.ArgumentTypeError(f"{text} is not between {low:g} and {high:g} "
                                             f"{unit}")
        return value

    return parse


def positive_int(text: str) -> int:
    """An argparse type: a whole number above zero, else one clear error."""
    value = argument_type(int, "a whole number")(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{value} must be positive")
    return value


class Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one clear line and exit status 2."""

    def error(self, message: str) -> NoReturn:
        """Print `bauhof <cmd>: error: …` and one hint, then exit 2."""
        self.exit(2, f"{self.prog}: error: {message} (see `{self.prog} --help`)\n")
