"""The whole fault suite: which faults, how hard (quick for CI, long for a release), in order."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

from reliability import ReliabilityError, faults, orders
from reliability.lab import Lab
from reliability.report import Row


@dataclass(frozen=True, slots=True)
class Plan:
    """How hard each fault pushes."""

    events: int
    kills: int
    pg_outage_s: float
    broker_restarts: int
    cuts: int
    refuse_s: float
    condition_s: float
    rules_days: float
    rules_kills: int


QUICK = Plan(events=3000, kills=2, pg_outage_s=5.0, broker_restarts=1, cuts=2, refuse_s=2.0,
             condition_s=5.0, rules_days=0.25, rules_kills=3)
LONG = Plan(events=100_000, kills=5, pg_outage_s=30.0, broker_restarts=2, cuts=5,
            refuse_s=10.0, condition_s=30.0, rules_days=2.0, rules_kills=5)

Fault = Callable[[Lab, Plan], Row]

FAULTS: dict[str, Fault] = {
    "kill-ingest": lambda lab, p: faults.kill_ingest(lab, events=p.events, kills=p.kills),
    "postgres-stop": lambda lab, p: faults.postgres_outage(lab, events=p.events,
                                                           seconds=p.pg_outage_s),
    "broker-restart": lambda lab, p: faults.broker_restart(lab, events=p.events,
                                                           restarts=p.broker_restarts),
    "network-cut": lambda lab, p: faults.network_cut(lab, events=p.events, cuts=p.cuts,
                                                     refuse_s=p.refuse_s),
    "read-only": lambda lab, p: faults.read_only(lab, events=p.events, seconds=p.condition_s),
    "disk-full": lambda lab, p: faults.disk_full(lab, events=p.events, seconds=p.condition_s),
    "backlog": lambda lab, p: faults.backlog(lab, events=p.events),
    "kill-rules": lambda lab, p: orders.kill_rules(lab, days=p.rules_days, kills=p.rules_kills),
    "poison": lambda lab, p: faults.poison(lab, events=p.events),
}


def plan_for(quick: bool, events: int | None) -> Plan:
    """The quick or long plan, with the event count overridden when given."""
    plan = QUICK if quick else LONG
    return plan if events is None else replace(plan, events=events)


def run(plan: Plan, names: list[str], progress: bool = True) -> list[Row]:
    """Run the named faults in order on one lab; each row carries its wall time."""
    rows = []
    with Lab() as lab:
        for name in names:
            if progress:
                print(f"  {name} …", file=sys.stderr, flush=True)
            started = time.monotonic()
            try:
                row = FAULTS[name](lab, plan)
            except ReliabilityError as exc:
                # One fault that could not be carried out must not hide the others' figures.
                row = Row(name, 0, 0, 0, 0, 0, details={"error": str(exc)[:500]})
            row.details["wall_s"] = round(time.monotonic() - started, 1)
            rows.append(row)
            if progress:
                verdict = "ok" if row.ok else ("ERROR" if "error" in row.details else "LOSS")
                print(f"  {name}: {verdict} ({row.details['wall_s']} s)", file=sys.stderr,
                      flush=True)
    return rows
