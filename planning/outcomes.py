"""`bauhof bench outcomes`: 28 simulated days of the default town under three policies."""

from __future__ import annotations

import argparse
import sys
from typing import Any


def register(bench: Any) -> None:
    """Add `bench outcomes`."""
    parser = bench.add_parser(
        "outcomes", help="28 simulated days: fixed schedule vs Bauhof's plans vs no system",
        description="Run the default town for --days simulated days under a fixed weekly "
                    "schedule, under Bauhof's plans, and with no system, and print from the "
                    "simulator's ground truth: km driven, bins emptied, average fill at "
                    "emptying, overflow hours, dry hours and watering trips.")
    parser.add_argument("--days", type=int, default=28)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(handler=cmd_outcomes)


def cmd_outcomes(args: argparse.Namespace) -> int:
    """Run the outcomes benchmark."""
    print("bauhof bench outcomes: needs the simulator's crews (`bauhof simulate --crews`), "
          "which are not available yet", file=sys.stderr)
    return 1
