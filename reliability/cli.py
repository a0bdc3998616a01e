"""`bauhof bench faults` and `bauhof bench soak`."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from bauhof.cli import bench_command, positive_number
from bauhof.cli import positive_int as _positive


def register(commands: Any, bench: Any) -> None:
    """Add the reliability benchmarks."""
    del commands
    from reliability.suite import FAULTS

    faults = bench_command(
        bench, "faults", cmd_bench_faults,
        help="crash, outage and restart faults against real processes: what was lost")
    faults.add_argument("--quick", action="store_true",
                        help="the CI form: small streams and short outages (a few minutes)")
    faults.add_argument("--events", type=_positive, metavar="N",
                        help="events per fault (default 3,000 quick, 100,000 long)")
    faults.add_argument("--only", type=_names(set(FAULTS)), metavar="NAME[,NAME…]",
                        help=f"run only these faults ({', '.join(FAULTS)})")

    soak = bench_command(bench, "soak", cmd_bench_soak,
                         help="the default town at 60x for an hour: memory, lag and connections")
    soak.add_argument("--minutes", type=positive_number(), default=60.0,
                      help="wall minutes to run (default 60)")
    soak.add_argument("--speed", type=_positive, default=60,
                      help="simulated seconds per wall second (default 60)")
    soak.add_argument("--sample-s", type=positive_number(), default=60.0,
                      help="seconds between samples (default 60)")
    soak.add_argument("--plot", type=Path, default=Path("soak.png"),
                      help="where to write the PNG (default soak.png)")



def _names(known: set[str]) -> Any:
    def parse(text: str) -> list[str]:
        names = [n.strip() for n in text.split(",") if n.strip()]
        unknown = [n for n in names if n not in known]
        if unknown or not names:
            raise argparse.ArgumentTypeError(
                f"unknown fault {', '.join(unknown) or text!r}; known: {', '.join(sorted(known))}")
        return names
    return parse


def cmd_bench_faults(args: argparse.Namespace) -> int:
    """Run every fault (kill -9 of ingest, PostgreSQL stopped, broker restarted, network cut,
    database read-only, disk full, backlog, rules engine killed during a replay, poison messages
    on every subscribed topic) on private services and print: fault, times tried, events
    published, events stored, duplicates, orders expected, orders found. Exits 1 on any loss or
    duplicate, or a fault that could not be run."""
    from reliability import report, suite

    plan = suite.plan_for(args.quick, args.events)
    names = args.only or list(suite.FAULTS)
    rows = suite.run(plan, names, progress=not args.json)
    result = report.summary(rows)
    if args.json:
        print(json.dumps(result))
    else:
        print(report.table(rows))
        print(f"lost {result['lost']}, duplicated {result['duplicated']}, orders missing "
              f"{result['orders_missing']}, orders duplicated {result['orders_duplicated']}, "
              f"faults that could not be run {result['errors']}")
        for row in rows:
            figures = ", ".join(f"{k} {v}" for k, v in row.details.items())
            print(f"  {row.fault}: {figures}")
    bad = (result["lost"] or result["duplicated"] or result["orders_missing"]
           or result["orders_duplicated"] or result["errors"])
    return 1 if bad else 0


def cmd_bench_soak(args: argparse.Namespace) -> int:
    """Run ingest, rules and the simulator (with crews when available) on private services;
    every minute sample each process's RSS, ingest lag (ingest_stats) and open database
    connections; write a PNG plot and print the figures. Exits 1 unless memory is flat, lag
    bounded, connections constant and every process exits cleanly."""
    from reliability import soak

    figures = soak.run(minutes=args.minutes, speed=args.speed, sample_s=args.sample_s,
                       plot=args.plot, progress=not args.json)
    if args.json:
        print(json.dumps(figures))
    else:
        print(soak.describe(figures))
    return 0 if figures["ok"] else 1
