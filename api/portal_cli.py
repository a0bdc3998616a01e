"""`bauhof sponsorships expire|anonymise|inspections`: the portal's scheduled chores."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from typing import Any

from bauhof.cli import command


def register(commands: Any, bench: Any) -> None:
    """Add `sponsorships`."""
    parser = command(commands, "sponsorships", cmd_sponsorships,
                     help="the portal's chores: expire, anonymise, inspections")
    parser.add_argument("action", choices=("expire", "anonymise", "inspections"))
    parser.add_argument("--season", choices=("spring", "autumn"),
                        help="inspections: the season (default: the current month's)")


def cmd_sponsorships(args: argparse.Namespace) -> int:
    """expire: unconfirmed inquiries older than 72 h; anonymise: personal data of sponsorships
    ended longer than BAUHOF_RETAIN_SPONSORS_DAYS ago; inspections: open this season's
    inspection order for every green area."""
    from api import sponsorship_store as store
    from bauhof import db, settings

    cfg = settings.load()
    now = datetime.now(UTC)
    with db.connect(cfg.database_url, autocommit=True) as conn:
        if args.action == "expire":
            with conn.transaction():
                print(f"expired {store.expire(conn, now)} unconfirmed inquiries")
        elif args.action == "anonymise":
            count = store.anonymise(conn, now, cfg.sponsor_retention_days)
            print(f"anonymised {count} sponsorships ended more than "
                  f"{cfg.sponsor_retention_days} days ago")
        else:
            opened = store.open_inspections(conn, now, "bauhof", args.season)
            print(f"opened {len(opened)} inspection orders")
    return 0
