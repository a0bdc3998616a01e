"""Orders age: priority rises at configured ages, reminders repeat while an order stays open.

A forecast order (a bin expected to be full later) is not late before the time it forecasts:
its ageing counts from its due time, so a bin at 0 % "full in 5 days" stays at its rule's
priority until then.

Both are judged on the event clock, and each action carries the moment it became due
(opened_at + age), so a replay at any speed produces the same history.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from bauhof.assignee import Assignee
from rules.actions import Action, Mail, Remind, Reprioritize
from rules.ruleset import OrderParams


@dataclass(frozen=True, slots=True)
class OpenOrder:
    """What ageing needs to know about one open order."""

    id: int
    rule: str
    subject_type: str
    subject_id: str
    status: str
    priority: int
    opened_at: datetime
    age_steps: int
    reminders: int
    last_reminded_at: datetime | None
    assignee: Assignee | None
    title: str
    latitude: float | None = None
    longitude: float | None = None
    due_at: datetime | None = None
    forecast: bool = False


def ages_from(order: OpenOrder) -> datetime:
    """When ageing starts: the due time of a forecast order, else the opening."""
    if order.forecast and order.due_at is not None and order.due_at > order.opened_at:
        return order.due_at
    return order.opened_at


def age(order: OpenOrder, now: datetime, p: OrderParams,
        reminder_mail: Mail | None = None) -> list[Action]:
    """Escalations and reminders due for one open order at `now`."""
    actions: list[Action] = []
    steps = sorted(p.escalate_after_h)
    priority = order.priority
    start = ages_from(order)
    for index in range(order.age_steps, len(steps)):
        due = start + timedelta(hours=steps[index])
        if due > now:
            break
        if priority > 1:
            priority -= 1
        actions.append(Reprioritize(order.id, due, priority,
                                    note=f"open for {steps[index]:g} h: priority {priority}"))
    reminder = reminder_due(order, p)
    if reminder is not None and reminder <= now:
        mail = () if reminder_mail is None else (reminder_mail,)
        actions.append(Remind(order.id, reminder, mail))
    return actions


def reminder_due(order: OpenOrder, p: OrderParams) -> datetime | None:
    """When the order's next reminder falls due (None: the orders' rules remind no one)."""
    if not p.remind_every_h:
        return None
    return (order.last_reminded_at or ages_from(order)) + timedelta(hours=p.remind_every_h)


def next_due(order: OpenOrder, p: OrderParams) -> datetime | None:
    """The first moment `age` has something for this order: its next escalation or reminder."""
    reminder = reminder_due(order, p)
    due = [] if reminder is None else [reminder]
    steps = sorted(p.escalate_after_h)
    if order.age_steps < len(steps):
        due.append(ages_from(order) + timedelta(hours=steps[order.age_steps]))
    return min(due, default=None)


def after(order: OpenOrder, actions: list[Action]) -> OpenOrder:
    """The order as `age`'s actions leave it (its escalations and reminders counted)."""
    for action in actions:
        if isinstance(action, Reprioritize):
            order = replace(order, priority=action.priority, age_steps=order.age_steps + 1)
        elif isinstance(action, Remind):
            order = replace(order, reminders=order.reminders + 1, last_reminded_at=action.at)
    return order
