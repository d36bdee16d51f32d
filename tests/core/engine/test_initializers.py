"""Initializers: shapes, dtypes, scales, biases, determinism."""

import numpy as np
import pytest

from bpviz.core.engine.initializers import INITIALIZERS, init_weights


@pytest.mark.parametrize("scheme", sorted(INITIALIZERS))
def test_shapes_dtype_and_determinism(scheme: str) -> None:
    W, b = init_weights(scheme, 3, 5, np.random.default_rng(1), np.float32)
    assert W.shape == (5, 3) and b.shape == (5,)
    assert W.dtype == np.float32 and b.dtype == np.float32
    W2, b2 = init_weights(scheme, 3, 5, np.random.default_rng(1))
    np.testing.assert_array_equal(W, W2.astype(np.float32))
    np.testing.assert_array_equal(b, b2.astype(np.float32))
    if scheme in ("naive", "nielsen"):
        assert np.all(b2 != 0)
    else:
        assert np.all(b2 == 0)


@pytest.mark.parametrize(
    ("scheme", "std"),
    [
        ("naive", 1.0),
        ("uniform", 1 / np.sqrt(12)),
        ("xavier_normal", np.sqrt(2 / (200 + 100))),
        ("xavier_uniform", np.sqrt(2 / (200 + 100))),
        ("he_normal", np.sqrt(2 / 200)),
        ("he_uniform", np.sqrt(2 / 200)),
        ("nielsen", 1 / np.sqrt(200)),
    ],
)
def test_scale(scheme: str, std: float) -> None:
    W, _ = init_weights(scheme, 200, 100, np.random.default_rng(0))
    assert W.std() == pytest.approx(std, rel=0.03)
    assert abs(W.mean()) < 0.05 * std + 0.01


def test_nielsen_is_the_books_default_initializer() -> None:
    """network2.py: ``np.random.randn(y, x) / np.sqrt(x)`` weights, ``randn(y, 1)`` biases."""
    rng = np.random.default_rng(7)
    W, b = init_weights("nielsen", 30, 20, rng)
    ref = np.random.default_rng(7)
    np.testing.assert_array_equal(W, ref.standard_normal((20, 30)) / np.sqrt(30))
    np.testing.assert_array_equal(b, ref.standard_normal(20))
    _, b_big = init_weights("nielsen", 30, 4000, np.random.default_rng(0))
    assert b_big.std() == pytest.approx(1.0, rel=0.05)


def test_unknown_scheme() -> None:
    with pytest.raises(KeyError):
        init_weights("bogus", 2, 2, np.random.default_rng(0))
