"""The codec registry: model ids, kinds, lookups, every reference vector, and robustness."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bauhof import codecs
from bauhof.codecs import base, plausibility
from tests.bauhof.codecs import vectors

KINDS = {
    "cayenne-lpp": "other",
    "decentlab-dl-smtp": "soil",
    "dingtek-df703": "bin",
    "dragino-ldds75": "bin",
    "dragino-lgt92": "tracker",
    "dragino-lse01": "soil",
    "milesight-at101": "tracker",
    "milesight-em310-udl": "bin",
    "milesight-em400-udl": "bin",
    "milesight-em500-smtc": "soil",
}
FPORTS = {
    "cayenne-lpp": 1,
    "decentlab-dl-smtp": 1,
    "dingtek-df703": 3,
    "dragino-ldds75": 2,
    "dragino-lgt92": 2,
    "dragino-lse01": 2,
    "milesight-at101": 85,
    "milesight-em310-udl": 85,
    "milesight-em400-udl": 85,
    "milesight-em500-smtc": 85,
}
# What the simulator might send: one plausible reading set per model.
SAMPLES: dict[str, dict[str, Any]] = {
    "cayenne-lpp": {
        "temperature_3": 21.5,
        "gps_1": {"latitude": 48.1, "longitude": 11.5, "altitude": 520.0},
    },
    "decentlab-dl-smtp": {
        "soil_moisture_pct_0": 24.5,
        "soil_temperature_c_0": 14.2,
        "soil_moisture_pct": 24.5,
        "soil_temperature_c": 14.2,
        "battery_v": 3.05,
    },
    "dingtek-df703": {"distance_mm": 640, "temperature_c": 18.0, "alarm": False, "tilted": False},
    "dragino-ldds75": {"battery_v": 3.35, "distance_mm": 812, "temperature_c": 17.4},
    "dragino-lgt92": {
        "latitude": 48.137154,
        "longitude": 11.576124,
        "battery_v": 3.9,
        "alarm": False,
        "motion": "move",
        "roll_deg": 1.5,
        "pitch_deg": -0.25,
    },
    "dragino-lse01": {
        "battery_v": 3.6,
        "temperature_c": 19.3,
        "soil_moisture_pct": 18.25,
        "soil_temperature_c": 15.5,
        "soil_conductivity_us_cm": 410,
    },
    "milesight-at101": {
        "battery_pct": 77,
        "temperature_c": 11.2,
        "latitude": 48.137154,
        "longitude": 11.576124,
        "motion": "stop",
        "tilted": False,
    },
    "milesight-em310-udl": {"battery_pct": 64, "distance_mm": 1033, "tilted": False},
    "milesight-em400-udl": {
        "battery_pct": 64,
        "temperature_c": -3.5,
        "distance_mm": 1033,
        "tilted": False,
        "alarm": True,
    },
    "milesight-em500-smtc": {
        "battery_pct": 90,
        "soil_temperature_c": 9.8,
        "soil_moisture_pct": 31.07,
        "soil_conductivity_us_cm": 233,
    },
}


def test_models_are_the_ten_from_the_reference_sorted() -> None:
    assert codecs.models() == sorted(KINDS)


@pytest.mark.parametrize("model", sorted(KINDS))
def test_each_codec_has_its_kind_and_default_fport(model: str) -> None:
    codec = codecs.get(model)
    assert (codec.model, codec.kind, codec.default_fport) == (model, KINDS[model], FPORTS[model])


def test_unknown_model() -> None:
    with pytest.raises(codecs.UnknownModelError) as caught:
        codecs.get("acme-9000")
    assert caught.value.model == "acme-9000"
    assert str(caught.value) == "unknown model 'acme-9000'"
    assert isinstance(caught.value, codecs.CodecError)
    with pytest.raises(codecs.UnknownModelError):
        codecs.decode("acme-9000", 1, b"\x00")
    with pytest.raises(codecs.UnknownModelError):
        codecs.encode("acme-9000", {"battery_v": 3.0})


def test_base_names_are_reexported() -> None:
    assert (codecs.Codec, codecs.Decoded, codecs.DecodeError, codecs.EncodeError) == (
        base.Codec,
        base.Decoded,
        base.DecodeError,
        base.EncodeError,
    )
    assert issubclass(codecs.DecodeError, codecs.CodecError)
    assert issubclass(codecs.EncodeError, codecs.CodecError)


def test_every_reference_vector_model_is_registered() -> None:
    assert {v["model"] for v in vectors.load()} <= set(codecs.models())


@pytest.mark.parametrize("vector", vectors.params(*KINDS))
def test_every_reference_vector_through_the_registry(vector: dict[str, Any]) -> None:
    vectors.check(vector, [codecs.get(model) for model in codecs.models()])


def test_decode_error_carries_model_fport_and_reason() -> None:
    with pytest.raises(codecs.DecodeError) as caught:
        codecs.decode("dragino-lse01", 42, bytes.fromhex("CE2900F107A5099B6E2890"))
    error = caught.value
    assert (error.model, error.fport, error.reason) == ("dragino-lse01", 42, "unknown fPort")
    assert str(error) == "dragino-lse01 fPort 42: unknown fPort"


@pytest.mark.parametrize("model", sorted(SAMPLES))
def test_sample_readings_make_a_plausible_frame_on_the_default_fport(model: str) -> None:
    fport, payload = codecs.encode(model, SAMPLES[model])
    assert fport == codecs.get(model).default_fport
    decoded = codecs.decode(model, fport, payload)
    assert decoded.readings == SAMPLES[model]
    assert plausibility.check(decoded.readings) == []


def _json_safe(value: object) -> bool:
    if isinstance(value, dict):
        return all(isinstance(k, str) and isinstance(v, float) for k, v in value.items())
    return isinstance(value, bool | int | float | str)


@pytest.mark.parametrize("model", sorted(KINDS))
@given(
    fport=st.one_of(st.sampled_from([1, 2, 3, 85]), st.integers(-(2**31), 2**31)),
    payload=st.binary(max_size=64),
)
def test_arbitrary_bytes_give_readings_or_a_decode_error(
    model: str, fport: int, payload: bytes
) -> None:
    try:
        decoded = codecs.decode(model, fport, payload)
    except codecs.DecodeError as error:
        assert (error.model, error.fport) == (model, fport)
        assert error.reason
        return
    assert all(_json_safe(value) for value in decoded.readings.values())
    assert all(isinstance(warning, str) for warning in decoded.warnings)
    json.dumps(decoded.readings, allow_nan=False)  # what `bauhof decode` prints must be JSON


@st.composite
def damaged_frames(draw: st.DrawFn, model: str) -> bytes:
    """A real frame of `model` with some bytes overwritten, then cut short or extended."""
    frame = bytearray(codecs.encode(model, SAMPLES[model])[1])
    for _ in range(draw(st.integers(1, 4))):
        frame[draw(st.integers(0, len(frame) - 1))] = draw(st.integers(0, 255))
    return bytes(frame[: draw(st.integers(0, len(frame)))]) + draw(st.binary(max_size=12))


@pytest.mark.parametrize("model", sorted(SAMPLES))
@given(data=st.data())
def test_damaged_frames_give_readings_or_a_decode_error(model: str, data: st.DataObject) -> None:
    payload = data.draw(damaged_frames(model))
    try:
        decoded = codecs.decode(model, codecs.get(model).default_fport, payload)
    except codecs.DecodeError as error:
        assert error.reason
        return
    assert all(_json_safe(value) for value in decoded.readings.values())
    json.dumps(decoded.readings, allow_nan=False)
