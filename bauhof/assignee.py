"""Who a work order is assigned to, as one typed value; stored and sent as `<kind>:<id>`.

A crew is `crew:<user name>` (the crew's API user; the simulator's crews are users too, so
its first crew is `crew:crew-1` whether it works through the API or the database), a sponsor
asked first `sponsor:<sponsor id>`, a vehicle that reached the site `vehicle:<vehicle id>`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal, cast, get_args

Kind = Literal["crew", "sponsor", "vehicle"]
KINDS: tuple[str, ...] = get_args(Kind)
# Ids are user names, sponsor ids or vehicle ids: printable, no spaces, at most 64 characters.
_ID = re.compile(r"[^\s:]{1,64}")


class AssigneeError(ValueError):
    """A text that is not an assignee (`text`); the message says what one looks like."""

    def __init__(self, text: str, message: str) -> None:
        super().__init__(message)
        self.text = text


@dataclass(frozen=True, slots=True)
class Assignee:
    """A crew, sponsor or vehicle an order is assigned to."""

    kind: Kind
    id: str

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise AssigneeError(str(self), f"assignee kind {self.kind!r} is not one of "
                                           f"{', '.join(KINDS)}")
        if not _ID.fullmatch(self.id):
            raise AssigneeError(str(self), f"assignee id {self.id!r} must be 1 to 64 characters "
                                           "without spaces or colons")

    def __str__(self) -> str:
        return f"{self.kind}:{self.id}"

    @classmethod
    def parse(cls, text: str) -> Assignee:
        """The assignee written as `<kind>:<id>`; AssigneeError when it is not one."""
        kind, colon, ident = text.partition(":")
        if not colon:
            raise AssigneeError(text, f"{text!r} is not an assignee: write <kind>:<id> with "
                                      f"kind one of {', '.join(KINDS)} (e.g. crew:nord)")
        if kind not in KINDS:
            raise AssigneeError(text, f"assignee kind {kind!r} is not one of "
                                      f"{', '.join(KINDS)} (e.g. crew:nord)")
        return cls(cast(Kind, kind), ident)

    @classmethod
    def crew(cls, name: str) -> Assignee:
        """The crew whose user name is `name`."""
        return cls("crew", name)


def crew_name(text: str | None) -> str | None:
    """The crew's user name when `text` is a crew's assignee, else None."""
    if text is None or not text.startswith("crew:"):
        return None
    return Assignee.parse(text).id
