"""The codecs' shared frame checks."""

from __future__ import annotations

from collections.abc import Callable

from bauhof.codecs.base import Decoded
from bauhof.codecs.fields import check_frame, check_length
from tests.bauhof.codecs.frames import decode_refusal


def _checked(
    expected_fport: int | None, sizes: tuple[int, ...] = ()
) -> Callable[[int, bytes], Decoded]:
    """A decoder of model "m" that only checks the frame."""

    def decode(fport: int, payload: bytes) -> Decoded:
        check_frame("m", fport, payload, expected_fport)
        if sizes:
            check_length("m", fport, payload, sizes)
        return Decoded({})

    return decode


def test_check_frame_wants_the_models_port_before_anything_else() -> None:
    refused = decode_refusal(_checked(2), 3, b"")
    assert (refused.model, refused.fport, refused.reason) == ("m", 3, "unknown fPort")


def test_check_frame_refuses_an_empty_frame() -> None:
    assert decode_refusal(_checked(2), 2, b"").reason == "empty payload"
    assert decode_refusal(_checked(None), 9, b"").reason == "empty payload"


def test_check_frame_lets_a_frame_on_any_port_pass_when_the_model_takes_any() -> None:
    check_frame("m", 9, b"\x00")
    check_frame("m", 2, b"\x00", 2)


def test_check_length_names_the_sizes_allowed() -> None:
    assert decode_refusal(_checked(None, (3, 5)), 1, b"\x00\x00\x00\x00").reason == (
        "unexpected frame length: 4 bytes, expected 3 or 5")
    assert decode_refusal(_checked(None, (3,)), 1, b"").reason == "empty payload"
