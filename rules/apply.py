"""Writing a step's actions inside its transaction: one case per action, checked exhaustive.

The vocabulary of rules/actions.py is closed; `apply` matches every kind and ends in
`assert_never`, so mypy refuses an action kind added there but not handled here.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, assert_never

import psycopg

from rules import orders
from rules.actions import Action, Escalate, Open, Progress, Remind, Reprioritize, Resolve, Update
from rules.assets import Town
from rules.errors import IllegalTransition

log = logging.getLogger("bauhof.rules")
ACTOR = "rules"


@dataclass
class Applied:
    """What applying did: actions written and the ids of the orders it created."""

    actions: int = 0
    opened: list[int] = field(default_factory=list)


def apply(conn: psycopg.Connection[Any], actions: list[Action], *, town: Town, keep: int,
          order_gone: Callable[[str, str, str], None]) -> Applied:
    """Write the actions (inside the caller's transaction); `order_gone(rule, subject_type,
    subject_id)` is told of an Update whose order a person closed meanwhile."""
    done = Applied()
    todo = coalesce(actions)
    # The orders the step's Updates go to, locked in one query (an Update's own look-up
    # was a round trip each); an order an earlier action of the step touched is read again.
    locked = orders.find_open_many(conn, list(dict.fromkeys(
        _key(a) for a in todo if isinstance(a, Update))))
    touched: set[tuple[str, str, str]] = set()
    for a in todo:
        done.actions += 1
        if isinstance(a, Open | Update | Resolve | Escalate):
            key = _key(a)
            fresh = key not in touched
            touched.add(key)
        match a:
            case Open():
                order_id, created = orders.apply_open(
                    conn, a, ACTOR, town.location(a.subject_type, a.subject_id), keep)
                if created:
                    done.opened.append(order_id)
            case Update():
                order = locked.get(key) if fresh else orders.find_open(
                    conn, a.rule, a.subject_type, a.subject_id, lock=True)
                if order is None:
                    order_gone(a.rule, a.subject_type, a.subject_id)
                else:
                    orders.update_open(conn, order, a, keep)
            case Resolve():
                orders.apply_resolve(conn, a, ACTOR, keep)
            case Escalate():
                orders.apply_escalate(conn, a, ACTOR)
            case Progress():
                _progress(conn, a)
            case Remind():
                orders.remind(conn, a.order_id, ACTOR, a.at, a.mail)
            case Reprioritize():
                orders.set_priority(conn, a.order_id, a.priority, actor=ACTOR, note=a.note,
                                    at=a.at)
            case _:
                assert_never(a)
    return done


def _key(a: Open | Update | Resolve | Escalate) -> tuple[str, str, str]:
    return a.rule, a.subject_type, a.subject_id


def _progress(conn: psycopg.Connection[Any], a: Progress) -> None:
    order = orders.get(conn, a.order_id)
    current = order.assigned_to
    assignee = current if current is not None and current.kind != "sponsor" else a.actor
    try:
        orders.transition(conn, a.order_id, "in_progress", str(a.actor), a.note,
                          assignee=assignee, at=a.at)
    except IllegalTransition:
        log.debug("order %s no longer open for %s", a.order_id, a.actor)


def coalesce(actions: list[Action]) -> list[Action]:
    """Keep only the last of consecutive Updates for the same order (one write per step)."""
    out: list[Action | None] = []
    last_update: dict[tuple[str, str, str], int] = {}
    for action in actions:
        a = action
        key = (a.rule, a.subject_type, a.subject_id) if isinstance(
            a, Open | Update | Resolve | Escalate) else None
        if isinstance(a, Update) and key is not None:
            index = last_update.get(key)
            if index is not None:
                previous = out[index]
                assert isinstance(previous, Update)
                out[index] = None
                a = Update(a.rule, a.subject_type, a.subject_id, a.at, a.value,
                           previous.evidence + a.evidence)
            last_update[key] = len(out)
        elif key is not None:
            last_update.pop(key, None)
        out.append(a)
    return [a for a in out if a is not None]
