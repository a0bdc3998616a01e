"""`bauhof whatif`: a stream through ingest and the rules in a throw-away database."""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path
from typing import Any

from bauhof.cli import command, fail
from simulator.cli import add_database_range, database_range


def register(commands: Any) -> None:
    """Add `bauhof whatif`."""
    parser = command(commands, "whatif", cmd_whatif,
                     help="run a recorded stream through ingest and rules in a throw-away database")
    parser.add_argument("stream", nargs="?", type=Path, metavar="STREAM",
                        help="a recording (JSON lines, .gz allowed)")
    add_database_range(parser, "take the stream and its assets from a Bauhof database's raw "
                               "uplinks (no URL: the town's, BAUHOF_DATABASE_URL)")
    parser.add_argument("--rules", type=Path, metavar="FILE",
                        help="rules file (default: the packaged rules)")
    parser.add_argument("--compare", type=Path, metavar="FILE2",
                        help="run the stream with this rules file too and show the orders "
                             "gained and lost per rule")
    parser.add_argument("--scenario", default="herrenberg",
                        help="for a recording: the scenario whose assets it was made with "
                             "(packaged name or YAML file; default herrenberg)")
    parser.add_argument("--keep", action="store_true",
                        help="keep the throw-away database(s) and print their names")
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def cmd_whatif(args: argparse.Namespace) -> int:
    """Feed a recording (`simulate --record`) or a time range of the town's raw uplinks
    (--from-db) through ingest and the rules engine in a fresh database created next to the
    town's (BAUHOF_DATABASE_URL) and dropped afterwards; print the orders and defects per rule.
    The town's own data is never written."""
    from bauhof import settings
    from bauhof.cli import CommandError
    from harness.whatif import Stream, WhatIfError, compare, whatif
    from rules import ruleset
    from simulator import SimulatorError, clock, scenario

    if (args.stream is None) == (args.from_db is None):
        return fail("whatif", "give a recording STREAM or --from-db (one of them)", 2)
    if args.stream is not None and (args.since or args.until):
        return fail("whatif", "--since and --until are for --from-db", 2)
    try:
        since, until = database_range(args)
    except clock.ClockError as exc:
        return fail("whatif", str(exc), 2)
    if args.stream is not None and not args.stream.is_file():
        return fail("whatif", f"no recording {args.stream}", 2)
    for flag, path in (("--rules", args.rules), ("--compare", args.compare)):
        if path is not None and not path.is_file():
            return fail("whatif", f"{flag}: no rules file {path}", 2)
    if not args.verbose:
        # The engine's per-step timings are for operators of a live engine, not for this.
        logging.getLogger("bauhof.rules").setLevel(logging.WARNING)
    rules_a = ruleset.load_for_command(args.rules)
    rules_b = ruleset.load_for_command(args.compare) if args.compare is not None else None
    cfg = settings.load()
    town = None
    if args.stream is not None:
        try:
            town = scenario.load(args.scenario)
        except scenario.ScenarioError as exc:
            return fail("whatif", str(exc), 2)
    stream = Stream(recording=args.stream,
                    from_db=None if args.from_db is None else args.from_db or cfg.database_url,
                    since=since, until=until, town=town, object_keymap=cfg.object_keymap)
    try:
        first = whatif(cfg.database_url, stream, rules_a, keep=args.keep)
        second = whatif(cfg.database_url, stream, rules_b, keep=args.keep) \
            if rules_b is not None else None
    except (WhatIfError, SimulatorError) as exc:
        raise CommandError(str(exc)) from exc
    if second is None:
        if args.json:
            print(json.dumps(first.summary(), sort_keys=True))
        else:
            _print_outcome(first, str(args.rules or "packaged rules"))
        return 0
    result = compare(first, second)
    if args.json:
        print(json.dumps(result.summary(), sort_keys=True))
    else:
        _print_comparison(result, str(args.rules or "packaged rules"), str(args.compare))
    return 0


def _print_outcome(outcome: Any, label: str) -> None:
    print(f"{label}: {outcome.messages:,} messages, {outcome.uplinks:,} uplinks stored, "
          f"{outcome.dead_letters:,} dead letters, {outcome.wall_s:.1f} s")
    for title, counts in (("orders", outcome.orders), ("defects", outcome.defects)):
        print(f"  {title}:" + ("" if counts else " none"))
        for rule, count in sorted(counts.items()):
            print(f"    {rule:<24} {count:>7,}")
    if outcome.database:
        print(f"  kept database {outcome.database}")


def _print_comparison(result: Any, label_a: str, label_b: str) -> None:
    a, b = result.a, result.b
    rules = sorted(set(a.orders) | set(b.orders))
    width = max([24, *(len(r) for r in rules)])
    print(f"orders per rule: A = {label_a}, B = {label_b} "
          f"({a.uplinks:,} uplinks, {a.wall_s + b.wall_s:.1f} s)")
    print(f"  {'rule':<{width}} {'A':>7} {'B':>7} {'gained':>7} {'lost':>7}")
    for rule in rules:
        print(f"  {rule:<{width}} {a.orders.get(rule, 0):>7,} {b.orders.get(rule, 0):>7,} "
              f"{len(result.gained.get(rule, [])):>7,} {len(result.lost.get(rule, [])):>7,}")
    for word, changes in (("gained", result.gained), ("lost", result.lost)):
        for rule, keys in sorted(changes.items()):
            print(f"  {word} {rule}, e.g.:")
            for key in keys[:3]:
                print(f"    {key.subject_type}:{key.subject_id} opened "
                      f"{key.opened_at.isoformat()}")
    for outcome in (a, b):
        if outcome.database:
            print(f"  kept database {outcome.database}")
