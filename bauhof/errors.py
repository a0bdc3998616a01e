"""The errors several parts of Bauhof share: one whose reason a person reads, and input that
cannot be used."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, dataclass_transform


@dataclass_transform(eq_default=False)
class ReasonError(Exception):
    """An error a person reads: `reason` says what went wrong, the other fields where (a model
    and fPort, a file and line, a step). A subclass declares its fields in the order it is
    raised with, `reason` among them, and its message as `template` over them
    (`"{path}:{line}: {reason}"`). It becomes a dataclass that compares by identity and keeps
    the usual repr; its `args` are the message alone, as for any exception."""

    template: ClassVar[str] = "{reason}"
    reason: str

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        dataclass(eq=False, repr=False)(cls)

    def __post_init__(self) -> None:
        super().__init__(self.template.format_map(vars(self)))


class InputError(ReasonError, ValueError):
    """A message, an event or a link that cannot be used; `reason` is the line a person reads
    (in the dead letters, on the command line, on a page); `code` what kind of problem it
    is where a dead letter records it (bauhof/dead_letters.py REASON_CODES). Subclasses say
    which input."""

    reason: str
    code: str = "malformed"
