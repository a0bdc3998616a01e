"""Escalation with age and reminders on the event clock."""

from __future__ import annotations

from rules import escalation, ruleset
from rules.actions import Mail, Remind, Reprioritize
from tests.rules.factory import at

P = ruleset.load().orders


def order(**kw: object) -> escalation.OpenOrder:
    base: dict[str, object] = dict(id=1, rule="bins.full", subject_type="bin", subject_id="b1",
                                   status="open", priority=3, opened_at=at(0), age_steps=0,
                                   reminders=0, last_reminded_at=None, assignee=None, title="t")
    base.update(kw)
    return escalation.OpenOrder(**base)  # type: ignore[arg-type]


def test_nothing_due_when_young() -> None:
    assert escalation.age(order(), at(23), P) == []


def test_priority_rises_at_24_and_72_hours_with_a_reminder_each_day() -> None:
    assert escalation.age(order(), at(24), P) == [
        Reprioritize(1, at(24), 2, "open for 24 h: priority 2"), Remind(1, at(24))]
    assert escalation.age(order(age_steps=1, last_reminded_at=at(24), priority=2), at(80),
                          P) == [Reprioritize(1, at(72), 1, "open for 72 h: priority 1"),
                                 Remind(1, at(48))]
    assert escalation.age(order(age_steps=2, last_reminded_at=at(72), priority=1), at(90),
                          P) == []


def test_reminder_mail_is_attached() -> None:
    mail = Mail("pat@example.org", "watering_reminder")
    p = P.model_copy(update={"escalate_after_h": ()})
    assert escalation.age(order(), at(25), p, mail) == [Remind(1, at(24), (mail,))]


def test_a_forecast_order_is_not_escalated_before_its_due_time() -> None:
    # Opened at 0 % "full in 5 days": 119 h later it is still at its rule's priority.
    forecast = order(due_at=at(120), forecast=True)
    assert escalation.age(forecast, at(119), P) == []
    assert escalation.age(forecast, at(143), P) == []
    assert escalation.age(forecast, at(144), P) == [
        Reprioritize(1, at(144), 2, "open for 24 h: priority 2"), Remind(1, at(144))]


def test_a_threshold_order_ages_from_its_opening_whatever_its_due_time() -> None:
    assert escalation.age(order(due_at=at(120)), at(24), P) == [
        Reprioritize(1, at(24), 2, "open for 24 h: priority 2"), Remind(1, at(24))]


def test_next_due_and_the_order_after_its_actions() -> None:
    young = order()
    assert escalation.next_due(young, P) == at(24)
    aged = escalation.after(young, escalation.age(young, at(24), P))
    assert (aged.priority, aged.age_steps, aged.reminders, aged.last_reminded_at) == (
        2, 1, 1, at(24))
    assert escalation.next_due(aged, P) == at(48)  # the next reminder, before 72 h
    done = order(age_steps=2, priority=1, last_reminded_at=at(72))
    assert escalation.next_due(done, P.model_copy(update={"remind_every_h": None})) is None
    assert escalation.next_due(order(due_at=at(120), forecast=True), P) == at(144)
