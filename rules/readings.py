"""A reading as the rules see it: one decoded uplink with its asset and radio quality."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from bauhof.vocabulary import FLAGS, NUMERIC, WORDS

# The columns of `readings` the rules use, in the order `readings.SELECT` returns them.
COLUMNS = ("time", "dev_eui", "model", "asset_type", "asset_id", *NUMERIC, *FLAGS, *WORDS)

SELECT = (
    "SELECT " + ", ".join(f"r.{c}" for c in COLUMNS) + ", u.rssi, u.snr "
    "FROM readings r LEFT JOIN raw_uplinks u "
    "ON u.deduplication_id = r.deduplication_id AND u.time = r.time "
)


@dataclass(frozen=True, slots=True)
class Reading:
    """One uplink's readings; `values` holds only the names the uplink carried."""

    time: datetime
    dev_eui: str
    model: str | None = None
    asset_type: str | None = None
    asset_id: str | None = None
    values: dict[str, Any] = field(default_factory=dict)
    rssi: float | None = None
    snr: float | None = None
    # POSIX seconds of `time`, once: the rules ask for it about ten times per reading.
    _ts: float = field(init=False, repr=False, compare=False, default=0.0)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_ts", self.time.timestamp())

    @property
    def ts(self) -> float:
        """Event time as POSIX seconds."""
        return self._ts

    def num(self, name: str) -> float | None:
        """A numeric reading, or None when absent."""
        value = self.values.get(name)
        if value is None or isinstance(value, bool | str):
            return None
        return float(value)

    def flag(self, name: str) -> bool | None:
        """A boolean reading, or None when absent."""
        value = self.values.get(name)
        return None if value is None else bool(value)

    def evidence(self, name: str) -> dict[str, Any]:
        """This reading as evidence for an order: time, device, name and value."""
        return {"time": self.time.isoformat(), "dev_eui": self.dev_eui, "name": name,
                "value": self.values.get(name)}


class BadReading(ValueError):
    """A row of `readings` the rules cannot use (a number that is not finite, a position off
    the globe); `reason` is what an operator reads in the dead letters."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# (name, position in a row of SELECT) of the values a reading may carry, in COLUMNS order.
_VALUES = tuple((name, i) for i, name in enumerate(COLUMNS) if i >= 5)
_NUMERIC = frozenset(NUMERIC)
_RSSI = len(COLUMNS)


def from_row(row: tuple[Any, ...]) -> Reading:
    """Build a Reading from a row of `SELECT` (columns, then rssi and snr); BadReading when
    a value is not a finite number or a position is off the globe."""
    # Once per stored reading of a step: only the few non-null columns are visited twice.
    values = {name: row[i] for name, i in _VALUES if row[i] is not None}
    for name, value in values.items():
        if name in _NUMERIC and not math.isfinite(value):
            raise BadReading(f"{name} is {value}, not a finite number")
    for name, limit in (("latitude", 90.0), ("longitude", 180.0)):
        value = values.get(name)
        if value is not None and abs(value) > limit:
            raise BadReading(f"{name} {value} is off the globe")
    rssi, snr = row[_RSSI], row[_RSSI + 1]
    return Reading(
        time=row[0], dev_eui=row[1], model=row[2], asset_type=row[3], asset_id=row[4],
        values=values,
        rssi=None if rssi is None else float(rssi), snr=None if snr is None else float(snr),
    )


class Seen(Protocol):
    """A state that remembers the event time of the last reading it saw."""

    last_ts: float | None


def is_newer(state: Seen, r: Reading) -> bool:
    """Whether `r` is later than the last reading a subject's `state` saw; if so, it becomes the
    last (a replayed or late reading is not evaluated twice)."""
    last = state.last_ts
    if last is not None and r.ts <= last:
        return False
    state.last_ts = r.ts
    return True
