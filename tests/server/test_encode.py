"""The frame encoder: compact, valid JSON, never a bare NaN/Infinity token."""

import json
import math

import numpy as np
import pytest

from bpviz.server.encode import dumps


def test_arrays_round_trip_with_six_significant_digits() -> None:
    a = np.array([[0.123456789, -2.5e-7], [1e12, 3.0]])
    out = json.loads(dumps({"W": a}))
    assert out["W"][0][0] == pytest.approx(0.123457, rel=1e-6)
    assert out["W"][0][1] == pytest.approx(-2.5e-7)
    assert out["W"][1] == [1e12, 3.0]


def test_large_numbers_have_six_digits_not_one_bit_off() -> None:
    """From 10⁶ on, rounding by a scale of 10⁻ᵏ (inexact in binary) can land a bit off
    the 6-digit number: the text must be that number's shortest form, as for scalars."""
    values = [26279000000.00001, -5.48746e31, 1234567.8, 999999.5, 1.7e308, 123456.7]
    text = dumps({"v": np.array(values), "s": values})
    assert text == (
        '{"v":[26279000000.0,-5.48746e+31,1234570.0,1000000.0,1.7e+308,123457.0],'
        '"s":[26279000000.0,-5.48746e+31,1234570.0,1000000.0,1.7e+308,123457.0]}'
    )


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_non_finite_numbers_become_null(bad: float) -> None:
    text = dumps({"loss": bad, "v": np.array([1.0, bad]), "m": np.array([[bad]])})
    assert "NaN" not in text and "Infinity" not in text and "nan" not in text
    assert json.loads(text) == {"loss": None, "v": [1.0, None], "m": [[None]]}


def test_scalars_strings_and_nesting() -> None:
    obj = {
        "a": True,
        "b": None,
        "c": np.int64(3),
        "d": np.float32(0.5),
        "e": '误差项 δ "q"',
        "f": [1, (2, 3)],
        "g": np.array([1, 2], dtype=np.int32),
        "h": np.array(2.0),
        "i": np.array([True, False]),
    }
    assert json.loads(dumps(obj)) == {
        "a": True,
        "b": None,
        "c": 3,
        "d": 0.5,
        "e": '误差项 δ "q"',
        "f": [1, [2, 3]],
        "g": [1, 2],
        "h": 2.0,
        "i": [True, False],
    }


def test_unknown_types_are_refused() -> None:
    with pytest.raises(TypeError):
        dumps({"x": object()})


def test_json_is_smaller_than_repr() -> None:
    a = np.random.default_rng(0).normal(size=(16, 16))
    assert len(dumps(a)) < 0.6 * len(json.dumps(a.tolist()))


def test_integers_beyond_64_bits_are_still_written() -> None:
    """orjson writes up to 64-bit integers; a bigger one (a client's ping id) falls back to
    the standard encoder, with the same result."""
    big = {"type": "pong", "id": 10**30, "v": np.array([0.5])}
    assert json.loads(dumps(big)) == {"type": "pong", "id": 10**30, "v": [0.5]}


def test_exact_numbers_keep_every_digit() -> None:
    obj = {"W": np.array([0.1234567891234]), "s": 1 / 3, "bad": np.array([math.nan])}
    assert json.loads(dumps(obj, rounded=False)) == {
        "W": [0.1234567891234],
        "s": 1 / 3,
        "bad": [None],
    }
    assert json.loads(dumps(obj)) == {"W": [0.123457], "s": 0.333333, "bad": [None]}
