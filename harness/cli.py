"""`bauhof whatif`, `bauhof bench rules`, `bauhof bench outcomes`, `bauhof bench dashboards`."""

from __future__ import annotations

import argparse
import json
from typing import Any

from bauhof.cli import bench_command
from bauhof.cli import positive_int as _positive


def register(commands: Any, bench: Any) -> None:
    """Add the harnesses' commands."""
    from harness import outcomes, whatif_cli

    bench_parser = bench_command(
        bench, "rules", cmd_bench_rules,
        help="latency from MQTT publish to committed order under background load")
    bench_parser.add_argument("--rate", type=_positive, default=1000,
                              help="background uplinks per second (default 1000)")
    bench_parser.add_argument("--seconds", type=_positive, default=20,
                              help="how long to measure (default 20)")
    bench_parser.add_argument("--probes", type=_positive, default=100,
                              help="threshold-crossing uplinks to time (default 100)")

    whatif_cli.register(commands)
    outcomes.register(bench)

    bench_command(bench, "dashboards", cmd_bench_dashboards,
                  help="every panel's query over a year of the default town")


def cmd_bench_rules(args: argparse.Namespace) -> int:
    """Start private services, ingest and the engine; publish threshold-crossing uplinks among
    background load and report p50/p99 latency."""
    from harness.rules_bench import run_bench

    result = run_bench(rate=args.rate, seconds=args.seconds, probes=args.probes)
    if args.json:
        print(json.dumps(result))
    else:
        print(f"rules latency, publish → order commit, {result['probes']} orders at "
              f"{result['background_rate']} uplinks/s background: p50 {result['p50_ms']:.0f} ms,"
              f" p99 {result['p99_ms']:.0f} ms, max {result['max_ms']:.0f} ms")
    return 0


def cmd_bench_dashboards(args: argparse.Namespace) -> int:
    """Fill private services with a synthetic year of the default town (roll-ups, tracker
    positions, orders, two weeks of bin readings and a plan) and report each panel's median
    query time over 365 days."""
    from harness import dashboards_bench

    figures = dashboards_bench.run(progress=not args.json)
    if args.json:
        print(json.dumps(figures))
        return 0
    for name, ms in figures["panels_ms"].items():
        print(f"{ms:8.1f} ms  {name}")
    print(f"slowest: {figures['slowest']} ({figures['max_ms']} ms); filled in "
          f"{figures['fill_s']} s")
    return 0
