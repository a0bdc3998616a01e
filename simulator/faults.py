"""Faults injected on demand: what each one does, its rate unit, and the byte-level mutations.

Rates are probabilities: per uplink (`dup`, `late`, `malformed`, `truncated`, `absurd`), per
device per day (`fcnt-reset`, `silent`, `battery`) or per day for the whole town
(`gateway-outage`, `burst`). Every fault that fires is written to the ground truth with its time
and device (or gateway), so a test can count what Bauhof should have noticed.
"""

from __future__ import annotations

import random
from typing import Literal

from bauhof.errors import ReasonError
from simulator import SimulatorError

FAULT_KINDS = (
    "dup", "late", "fcnt-reset", "silent", "battery",
    "malformed", "truncated", "absurd", "gateway-outage", "burst",
)
PER_UPLINK = frozenset({"dup", "late", "malformed", "truncated", "absurd"})
PER_DEVICE_DAY = frozenset({"fcnt-reset", "silent", "battery"})
PER_DAY = frozenset({"gateway-outage", "burst"})

# Rates used when a fault is named on the command line without `=rate`.
DEFAULT_RATES: dict[str, float] = {
    "dup": 0.02, "late": 0.005, "fcnt-reset": 0.02, "silent": 0.01, "battery": 0.005,
    "malformed": 0.002, "truncated": 0.002, "absurd": 0.002,
    "gateway-outage": 0.25, "burst": 0.1,
}

# A physically impossible but encodable value per device kind (the byte formats can carry it).
ABSURD: dict[str, tuple[str, float]] = {
    "soil": ("soil_moisture_pct", 300.0),
    "bin": ("distance_mm", 9000),
    "tracker": ("latitude", 89.9),
}

LATE_DELAY_S = (600, 6 * 3600)
SILENT_HOURS = (6, 48)
OUTAGE_HOURS = (2, 8)
BURST_MINUTES = 15
BURST_INTERVAL_S = 20
# A dying battery loses this share of its charge per day until it is empty.
DYING_PER_DAY = (0.3, 0.8)


class FaultSpecError(SimulatorError, ReasonError):
    """A `--faults` value that cannot be parsed; names the offending item."""

    template = "--faults {item!r}: {reason} (names: " + ", ".join(FAULT_KINDS) + ")"
    item: str
    reason: str


def parse_spec(spec: str) -> dict[str, float]:
    """Parse `dup,late=0.1,…`, `all` or `none` into rates; a bare name gets its default rate."""
    text = spec.strip()
    if text in ("", "none"):
        return {}
    if text == "all":
        return dict(DEFAULT_RATES)
    rates: dict[str, float] = {}
    for item in text.split(","):
        name, sep, value = item.strip().partition("=")
        if name not in FAULT_KINDS:
            raise FaultSpecError(item, "unknown fault")
        if not sep:
            rates[name] = DEFAULT_RATES[name]
            continue
        try:
            rate = float(value)
        except ValueError:
            raise FaultSpecError(item, "rate must be a number") from None
        if not 0 <= rate <= 1:
            raise FaultSpecError(item, "rate must be between 0 and 1")
        rates[name] = rate
    return rates


class FaultDice:
    """Seeded decisions whether a fault fires; one independent stream per device and the town."""

    def __init__(self, rates: dict[str, float], seed: int) -> None:
        self.rates = {k: v for k, v in rates.items() if v > 0}
        self.seed = seed
        self.town = random.Random(f"{seed}:faults:town")

    def device_rng(self, dev_eui: str) -> random.Random:
        """The fault stream of one device."""
        return random.Random(f"{self.seed}:faults:{dev_eui}")

    def enabled(self, kind: str) -> bool:
        """Whether this fault can fire at all."""
        return kind in self.rates

    def uplink(self, rng: random.Random, kind: str) -> bool:
        """Whether a per-uplink fault fires for this uplink."""
        rate = self.rates.get(kind)
        return rate is not None and rng.random() < rate

    def device(self, rng: random.Random, kind: str, interval_s: float) -> bool:
        """Whether a per-device-per-day fault fires in the `interval_s` before this uplink."""
        rate = self.rates.get(kind)
        return rate is not None and rng.random() < min(1.0, rate * interval_s / 86400)

    def hourly(self, kind: str) -> bool:
        """Whether a per-day town fault starts in this hour."""
        rate = self.rates.get(kind)
        return rate is not None and self.town.random() < rate / 24


def truncate(payload: bytes, rng: random.Random) -> bytes:
    """The frame cut short: at least one byte missing, at least one kept (when it had two)."""
    if len(payload) < 2:
        return b""
    return payload[: rng.randrange(1, len(payload))]


def malform(message: bytes, encoding: Literal["json", "protobuf"], rng: random.Random) -> bytes:
    """An envelope ingest cannot parse: JSON cut mid-way, or Protobuf bytes that are garbage."""
    if encoding == "json":
        return message[: rng.randrange(1, max(2, len(message) // 2))]
    # Field 1 (deduplicationId, a string) declared with a length far past the end of the message.
    return b"\x0a\xff\xff\x03" + bytes(rng.getrandbits(8) for _ in range(12))
