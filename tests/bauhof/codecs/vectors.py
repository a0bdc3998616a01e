"""The shared reference vectors (reference/decoder-vectors.json) and how a vector is checked."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest

from bauhof.codecs.base import Codec, DecodeError

# The reference directory sits beside the repository, here and in CI.
VECTORS_FILE = Path(__file__).resolve().parents[4] / "shared/reference/decoder-vectors.json"


def load() -> list[dict[str, Any]]:
    """Every vector in the reference file."""
    vectors: list[dict[str, Any]] = json.loads(VECTORS_FILE.read_text(encoding="utf-8"))
    return vectors


def params(*models: str) -> list[Any]:
    """The vectors of these models as pytest parameters, with readable ids."""
    return [
        pytest.param(v, id=f"{v['model']}-{v['fPort']}-{v['hex']}")
        for v in load()
        if v["model"] in models
    ]


def typed(value: object) -> object:
    """A value with its type made part of equality, so True != 1 and 2 != 2.0."""
    if isinstance(value, dict):
        return {key: typed(item) for key, item in value.items()}
    return (type(value).__name__, value)


def check(vector: dict[str, Any], codecs: Iterable[Codec]) -> None:
    """Decode a vector with its model's codec and compare exactly with what it expects."""
    decode = {codec.model: codec.decode for codec in codecs}[vector["model"]]
    payload = bytes.fromhex(vector["hex"])
    if "error" in vector:
        with pytest.raises(DecodeError) as caught:
            decode(vector["fPort"], payload)
        assert vector["error"] in caught.value.reason
        return
    decoded = decode(vector["fPort"], payload)
    assert typed(decoded.readings) == typed(vector["readings"])
    if "warnings" in vector:
        assert list(decoded.warnings) == vector["warnings"]
