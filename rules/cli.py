"""`bauhof rules`, `bauhof rules check FILE`, `bauhof orders list`."""

from __future__ import annotations

import argparse
import json
import logging
import signal
import threading
from pathlib import Path
from types import FrameType
from typing import Any

from bauhof.cli import command, fail
from bauhof.metrics import add_port_argument

log = logging.getLogger("bauhof.rules")


def register(commands: Any, bench: Any) -> None:
    """Add the rules engine's commands."""
    parser = command(commands, "rules", cmd_rules,
                     help="run the rules engine (or `rules check FILE`, `rules explain ASSET`)")
    parser.add_argument("action", nargs="?", choices=("run", "check", "explain"), default="run",
                        help="run the engine (default), check a rules file (its parameters "
                             "and where each comes from), or explain one asset's effective "
                             "parameters (green area, bin or vehicle id, or a dev_eui; "
                             "with --rules and the database's rule_overrides)")
    parser.add_argument("file", nargs="?", metavar="FILE|ASSET",
                        help="the rules file to check, or the asset to explain")
    parser.add_argument("--rules", type=Path, metavar="FILE",
                        help="rules file (default: $BAUHOF_RULES_FILE, else the packaged "
                             "rules/default_rules.yaml)")
    parser.add_argument("--shard", type=_shard, default=(0, 1), metavar="I/N",
                        help="handle shard I of N (devices are split between workers)")
    parser.add_argument("--smtp-url",
                        help="smtp://host:port?from=addr (default: $BAUHOF_SMTP_URL; "
                             "no mail is sent without it)")
    parser.add_argument("--once", action="store_true",
                        help="process what is there, deliver the outbox once and exit")
    add_port_argument(parser)

    orders = command(commands, "orders", cmd_orders, help="work orders")
    orders.add_argument("action", choices=("list",))
    orders.add_argument("--status", choices=("open", "assigned", "in_progress", "done",
                                             "cancelled", "resolved"))
    orders.add_argument("--kind", choices=("watering", "empty_bin", "collection_route",
                                           "sensor_maintenance", "bin_maintenance", "vehicle",
                                           "citizen_defect"))
    orders.add_argument("--json", action="store_true", help="one JSON object per line")


def _shard(text: str) -> tuple[int, int]:
    index, sep, total = text.partition("/")
    try:
        i, n = int(index), int(total)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not I/N, e.g. 0/2") from exc
    if not sep or n < 1 or not 0 <= i < n:
        raise argparse.ArgumentTypeError(f"{text!r}: need 0 <= I < N")
    return i, n


def cmd_rules(args: argparse.Namespace) -> int:
    """Turn new readings into work orders and defects. Reads durably from the database (woken by
    NOTIFY), publishes every change on MQTT, webhooks and e-mail. SIGTERM finishes the current
    step and exits 0."""
    from bauhof import settings

    if args.action in ("check", "explain"):
        if args.file is None:
            what = "a FILE" if args.action == "check" else "an ASSET id or dev_eui"
            return fail("rules", f"`rules {args.action}` needs {what}", 2)
        from rules import explain, ruleset

        if args.action == "check":
            path = Path(args.file)
            if not path.is_file():
                return fail("rules", f"no rules file {path}", 2)
            rules = ruleset.load_for_command(path)
            print(f"{path}: ok (version {rules.version}, {len(rules.overrides)} overrides, "
                  f"{len(rules.watering.plant_types)} plant types)")
            for line in explain.check_lines(rules):
                print(line)
            return 0
        chosen = args.rules or settings.load().rules.file
        return explain.cmd_explain(args.file, ruleset.load_for_command(chosen),
                                   "packaged rules" if chosen is None else str(chosen))
    from bauhof import metrics
    from bauhof.cli import CommandError
    from rules import mail, ruleset
    from rules.engine import RulesEngine
    from rules.errors import RulesError
    from rules.metrics import MeteredEngine
    from rules.notify import Publisher

    cfg = settings.load()
    rules_file = args.rules or cfg.rules.file
    rules = ruleset.load_for_command(rules_file)
    smtp_url = args.smtp_url or cfg.rules.smtp_url
    try:
        smtp = mail.parse_smtp_url(smtp_url) if smtp_url else None
    except RulesError as exc:
        raise CommandError(str(exc)) from exc
    shard, shards = args.shard
    stop_metrics = metrics.serve(None, None)
    if args.metrics_port is None:
        engine = RulesEngine(cfg.database_url, rules, shard=shard, shards=shards)
    else:
        engine = metered = MeteredEngine(cfg.database_url, rules, shard=shard, shards=shards)
        stop_metrics = metrics.serve(metered.registry, args.metrics_port, args.metrics_addr)
    engine.connect()  # an unreachable database is reported before anything starts
    publisher = Publisher(cfg.database_url, cfg.mqtt, smtp, ca_file=cfg.mqtt_ca_file,
                          link_secret=settings.require_link_secret(cfg) if smtp else None,
                          public_url=cfg.public_url,
                          webhook_allow_private=cfg.webhook_allow_private)
    stop = threading.Event()

    def on_signal(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    publisher.start()
    log.info("rules engine shard %d/%d running (%s)", shard, shards,
             "packaged rules" if rules_file is None else rules_file)
    try:
        if args.once:
            engine.catch_up(after_step=publisher.wake)
        else:
            engine.run(stop, on_commit=publisher.wake)
    finally:
        stop_metrics()
        publisher.stop()
        engine.close()
    s = engine.stats
    log.info("rules engine stopped: %d readings, %d actions, %d orders opened",
             s.readings, s.actions, s.opened)
    return 0


def cmd_orders(args: argparse.Namespace) -> int:
    """List work orders."""
    from bauhof import db, settings
    from rules import orders

    cfg = settings.load()
    with db.connect(cfg.database_url, autocommit=True) as conn:
        found = orders.list_orders(conn, args.status, args.kind)
    for order in found:
        s = order.summary()
        if args.json:
            print(json.dumps({k: s[k] for k in (
                "id", "kind", "status", "subject_type", "subject_id", "opened_at",
                "resolved_at", "resolved_by")}, ensure_ascii=False))
        else:
            print(f"{order.id:>6}  {order.kind:<18} {order.status:<11} P{order.priority}  "
                  f"{order.subject_type}:{order.subject_id:<14} {order.title}")
    return 0
