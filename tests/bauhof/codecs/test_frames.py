"""The codec tests' own helpers: hex frames, refusals, raw-field grids."""

from __future__ import annotations

import pytest
from hypothesis import given

from bauhof.codecs.base import Decoded, DecodeError, EncodeError
from tests.bauhof.codecs.frames import decode_refusal, encode_refusal, frame, grid


def test_frame_reads_hex_with_spaces() -> None:
    assert frame("80 0001 02") == b"\x80\x00\x01\x02"
    assert frame("") == b""


def test_decode_refusal_is_the_error_raised() -> None:
    def refuse(fport: int, payload: bytes) -> Decoded:
        raise DecodeError("m", fport, f"{len(payload)} bytes")

    refused = decode_refusal(refuse, 7, b"\x01\x02")
    assert (refused.model, refused.fport, refused.reason) == ("m", 7, "2 bytes")


def test_decode_refusal_fails_the_test_when_the_frame_decodes() -> None:
    with pytest.raises(pytest.fail.Exception):
        decode_refusal(lambda _fport, _payload: Decoded({}), 1, b"\x00")


def test_encode_refusal_is_the_error_raised() -> None:
    def refuse(readings: object) -> tuple[int, bytes]:
        raise EncodeError("m", f"refused {readings!r}")

    refused = encode_refusal(refuse, {"a": 1})
    assert (refused.model, refused.reason) == ("m", "refused {'a': 1}")


def test_encode_refusal_fails_the_test_when_the_readings_encode() -> None:
    with pytest.raises(pytest.fail.Exception):
        encode_refusal(lambda _readings: (1, b""), {})


@given(grid(-3, 5, 4))
def test_grid_holds_raw_values_over_the_scale(value: float) -> None:
    assert value * 4 in range(-3, 6)
