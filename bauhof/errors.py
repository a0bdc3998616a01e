"""The one error several edges of Bauhof share: input that cannot be used."""

from __future__ import annotations


class InputError(ValueError):
    """A message, an event or a link that cannot be used; `reason` is the line a person reads
    (in the dead letters, on the command line, on a page); `code` what kind of problem it
    is where a dead letter records it (bauhof/dead_letters.py REASON_CODES). Subclasses say
    which input."""

    def __init__(self, reason: str, code: str = "malformed") -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code
