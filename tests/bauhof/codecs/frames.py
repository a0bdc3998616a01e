"""What the codec tests share: frames written in hex, a codec's refusals, and raw-field values."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pytest
from hypothesis import strategies as st

from bauhof.codecs.base import Decoded, DecodeError, EncodeError


def frame(text: str) -> bytes:
    """Bytes from hex written with spaces between fields."""
    return bytes.fromhex(text.replace(" ", ""))


def decode_refusal(
    decode: Callable[[int, bytes], Decoded], fport: int, payload: bytes
) -> DecodeError:
    """The DecodeError with which `decode` refuses the frame; the test fails if it decodes."""
    with pytest.raises(DecodeError) as caught:
        decode(fport, payload)
    return caught.value


def encode_refusal(
    encode: Callable[[Mapping[str, Any]], tuple[int, bytes]], readings: Mapping[str, Any]
) -> EncodeError:
    """The EncodeError with which `encode` refuses the readings; the test fails if it encodes."""
    with pytest.raises(EncodeError) as caught:
        encode(readings)
    return caught.value


def grid(low: int, high: int, scale: int) -> st.SearchStrategy[float]:
    """Values a field of raw integers low..high holds exactly at this scale."""
    return st.integers(low, high).map(lambda raw: raw / scale)
