"""What rules decide, as values: the engine applies them to the database in one transaction.

The vocabulary is closed: Open, Update, Resolve, Escalate, Progress, Remind. Rules are pure
functions of (state, reading or clock, parameters) returning a list of these.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bauhof.assignee import Assignee


@dataclass(frozen=True, slots=True)
class Mail:
    """An e-mail to send after commit, from a template in rules/templates/."""

    to: str
    template: str
    lang: str = "de"
    context: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Open:
    """Open an order for (rule, subject), or update the one already open."""

    rule: str
    kind: str
    subject_type: str
    subject_id: str
    at: datetime
    title: str
    priority: int = 3
    due_at: datetime | None = None
    since: datetime | None = None
    value: float | None = None
    evidence: tuple[dict[str, Any], ...] = ()
    params: dict[str, Any] = field(default_factory=dict)
    # Who is asked first (a sponsor); None: the order is open to the crews.
    assignee: Assignee | None = None
    # A defect kind makes this a maintenance order with a defect record.
    defect: str | None = None
    dev_eui: str | None = None
    mail: tuple[Mail, ...] = ()


@dataclass(frozen=True, slots=True)
class Update:
    """The condition still holds: record the latest value and evidence on the open order."""

    rule: str
    subject_type: str
    subject_id: str
    at: datetime
    value: float | None = None
    evidence: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True, slots=True)
class Resolve:
    """The condition cleared: close the open order as resolved (by whom, if known)."""

    rule: str
    subject_type: str
    subject_id: str
    at: datetime
    note: str
    by: str | None = None
    evidence: tuple[dict[str, Any], ...] = ()
    mail: tuple[Mail, ...] = ()


@dataclass(frozen=True, slots=True)
class Escalate:
    """Raise priority and/or hand a sponsor request over to Bauhof."""

    rule: str
    subject_type: str
    subject_id: str
    at: datetime
    note: str
    priority: int | None = None
    unassign: bool = False
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Progress:
    """A vehicle stopped at an open order: it is now in progress (the vehicle recorded as
    the actor, and as the assignee unless a crew has the order)."""

    order_id: int
    at: datetime
    actor: Assignee
    note: str


@dataclass(frozen=True, slots=True)
class Remind:
    """The order is still open: publish a reminder (and mail, when given)."""

    order_id: int
    at: datetime
    mail: tuple[Mail, ...] = ()


@dataclass(frozen=True, slots=True)
class Reprioritize:
    """Escalation with age: set the order's priority."""

    order_id: int
    at: datetime
    priority: int
    note: str


Action = Open | Update | Resolve | Escalate | Progress | Remind | Reprioritize
