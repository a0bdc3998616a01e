"""The rules engine's exceptions: one base class, subclasses that carry what went wrong."""

from __future__ import annotations

from bauhof.errors import ReasonError


class RulesError(Exception):
    """Base class of every error the rules package raises."""


class RulesFileError(RulesError, ReasonError):
    """A rules file that cannot be used; names the file and the offending field."""

    template = "rules file {source}: {reason}"
    source: str
    reason: str


class OrderNotFound(RulesError):
    """No work order with this id."""

    def __init__(self, order_id: int) -> None:
        self.order_id = order_id
        super().__init__(f"work order {order_id} does not exist")


class IllegalTransition(RulesError):
    """A status change the order's life cycle does not allow (the API answers 409)."""

    def __init__(self, order_id: int, from_status: str, to_status: str,
                 allowed: tuple[str, ...]) -> None:
        self.order_id = order_id
        self.from_status = from_status
        self.to_status = to_status
        self.allowed = allowed
        options = ", ".join(allowed) if allowed else "none: the order is closed"
        super().__init__(
            f"work order {order_id} is {from_status} and cannot become {to_status} "
            f"(allowed next: {options})"
        )


class UnknownSubject(RulesError):
    """A report or order names an asset that is not registered."""

    def __init__(self, subject_type: str, subject_id: str) -> None:
        self.subject_type = subject_type
        self.subject_id = subject_id
        super().__init__(
            f"{subject_type} {subject_id!r} is not registered: load it with `bauhof assets load`"
        )


class DeliveryError(RulesError, ReasonError):
    """A notification could not be delivered this time; it is retried from the outbox."""

    template = "{channel} delivery to {target} failed: {reason}"
    channel: str
    target: str
    reason: str
