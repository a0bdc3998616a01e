"""Input errors: the reason is the message, and every edge's error is one."""

from __future__ import annotations

import pytest

from bauhof import signed_links
from bauhof.chirpstack import EventError
from bauhof.errors import InputError
from bauhof.payloads import PayloadError, load_json


def test_the_reason_is_the_message() -> None:
    error = InputError("fPort 300 is outside 0..255")
    assert (error.reason, str(error), error.args) == (
        "fPort 300 is outside 0..255", "fPort 300 is outside 0..255",
        ("fPort 300 is outside 0..255",))
    assert isinstance(error, ValueError)


@pytest.mark.parametrize("error", [EventError, PayloadError, signed_links.LinkError])
def test_each_edges_error_is_an_input_error(error: type[InputError]) -> None:
    assert issubclass(error, InputError)
    assert error("why").reason == "why"


def test_a_payload_refused_carries_its_reason() -> None:
    with pytest.raises(InputError) as caught:
        load_json(b"{" * 10, max_bytes=5)
    assert caught.value.reason == "message of 10 bytes is larger than the limit of 5 bytes"
    assert caught.value.code == "too_large"


def test_an_input_error_is_malformed_unless_it_says_otherwise() -> None:
    assert (InputError("x").code, EventError("y", "implausible").code) == (
        "malformed", "implausible")
    with pytest.raises(InputError) as caught:
        load_json(b"{", max_bytes=5)
    assert caught.value.code == "malformed"
