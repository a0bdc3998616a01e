"""The command-line vocabulary every part's `cli` module shares: Parser, CommandError, positive_int.

The entry point that wires the parts together is `shell.main` (a layer above every part).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import NoReturn, Protocol


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
