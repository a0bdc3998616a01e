"""Device codecs: one decoder/encoder pair per sensor model, looked up by model id."""

from __future__ import annotations

from collections.abc import Mapping

from bauhof.codecs import cayenne, decentlab, dingtek, dragino, milesight
from bauhof.codecs.base import (
    Codec,
    CodecError,
    Decoded,
    DecodeError,
    DeviceKind,
    EncodeError,
    Readings,
    ReadingValue,
    UnknownModelError,
)

__all__ = [
    "Codec",
    "CodecError",
    "DecodeError",
    "Decoded",
    "DeviceKind",
    "EncodeError",
    "ReadingValue",
    "Readings",
    "UnknownModelError",
    "decode",
    "encode",
    "get",
    "models",
]

_REGISTRY: dict[str, Codec] = {
    codec.model: codec
    for module in (dragino, milesight, cayenne, decentlab, dingtek)
    for codec in module.CODECS
}


def get(model: str) -> Codec:
    """The codec registered under `model`; UnknownModelError if there is none."""
    try:
        return _REGISTRY[model]
    except KeyError:
        raise UnknownModelError(model) from None


def models() -> list[str]:
    """All registered model ids, sorted."""
    return sorted(_REGISTRY)


def decode(model: str, fport: int, payload: bytes) -> Decoded:
    """Decode one uplink payload of `model`; DecodeError when the bytes cannot be decoded."""
    return get(model).decode(fport, payload)


def encode(model: str, readings: Mapping[str, ReadingValue]) -> tuple[int, bytes]:
    """Encode readings as the (fPort, payload) `model` would send; EncodeError if they don't fit."""
    return get(model).encode(readings)
