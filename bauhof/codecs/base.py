"""The codec contract: one decoder/encoder pair per device model, registered under its id."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from bauhof.errors import ReasonError

# A reading value: numbers or booleans; the few enumerations (LGT92 `motion`) are short words;
# Cayenne LPP's compound types (gps, accelerometer) are flat dicts of numbers.
ReadingValue = float | int | bool | str | dict[str, float]
Readings = dict[str, ReadingValue]
DeviceKind = Literal["soil", "bin", "tracker", "other"]


class CodecError(Exception):
    """Base class of every error the codecs raise."""


class UnknownModelError(CodecError):
    """No codec is registered under this model id."""

    def __init__(self, model: str) -> None:
        super().__init__(f"unknown model {model!r}")
        self.model = model


class DecodeError(CodecError, ReasonError):
    """A payload that the model's codec cannot decode; `reason` is a short phrase."""

    template = "{model} fPort {fport}: {reason}"
    model: str
    fport: int
    reason: str


class EncodeError(CodecError, ReasonError):
    """Readings that the model's byte format cannot carry."""

    template = "{model}: {reason}"
    model: str
    reason: str


@dataclass(frozen=True, slots=True)
class Decoded:
    """What a decoder found in one frame."""

    readings: Readings
    warnings: tuple[str, ...] = field(default=())


@dataclass(frozen=True, slots=True)
class Codec:
    """A device model's decoder and encoder."""

    model: str
    kind: DeviceKind
    default_fport: int
    decode: Callable[[int, bytes], Decoded]
    encode: Callable[[Mapping[str, ReadingValue]], tuple[int, bytes]]
    # What the model can measure at all (inclusive), narrower than the general physical limits
    # of bauhof/codecs/plausibility.py: a reading outside is a fault, not the world.
    limits: Mapping[str, tuple[float, float]] = field(default_factory=dict)
