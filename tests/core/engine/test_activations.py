"""Activations: values, derivatives against finite differences, stability."""

import numpy as np
import pytest

from bpviz.core.engine.activations import (
    ACTIVATIONS,
    OUTPUT_ACTIVATIONS,
    _row_max,
    get_activation,
)

Z = np.array([[-3.0, -1.2, -0.3, 0.2, 0.7, 2.5], [-6.0, -0.05, 0.05, 1.0, 4.0, 8.0]])


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_derivative_matches_finite_difference(name: str) -> None:
    act = ACTIVATIONS[name]
    a = act.f(Z)
    der = act.der(Z, a)
    h = 1e-6
    numeric = (act.f(Z + h) - act.f(Z - h)) / (2 * h)
    np.testing.assert_allclose(der, numeric, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_out_buffer_is_used_and_matches(name: str) -> None:
    act = ACTIVATIONS[name]
    out = np.empty_like(Z)
    res = act.f(Z, out=out)
    assert res is out
    np.testing.assert_array_equal(out, act.f(Z))
    dout = np.empty_like(Z)
    assert act.der(Z, out, out=dout) is dout
    assert act.name == name


def test_known_values() -> None:
    z = np.array([-2.0, 0.0, 3.0])
    np.testing.assert_allclose(ACTIVATIONS["sigmoid"].f(z), 1 / (1 + np.exp(-z)))
    np.testing.assert_allclose(ACTIVATIONS["relu"].f(z), [0.0, 0.0, 3.0])
    np.testing.assert_allclose(ACTIVATIONS["leaky_relu"].f(z), [-0.02, 0.0, 3.0])
    np.testing.assert_allclose(ACTIVATIONS["elu"].f(z), [np.exp(-2.0) - 1, 0.0, 3.0])
    np.testing.assert_allclose(ACTIVATIONS["softplus"].f(z), np.log1p(np.exp(z)))
    np.testing.assert_allclose(ACTIVATIONS["silu"].f(z), z / (1 + np.exp(-z)))
    np.testing.assert_allclose(ACTIVATIONS["linear"].f(z), z)
    np.testing.assert_allclose(ACTIVATIONS["relu"].der(z, z), [0.0, 0.0, 1.0])
    np.testing.assert_allclose(ACTIVATIONS["leaky_relu"].der(z, z), [0.01, 0.01, 1.0])
    # sigma' <= 1/4: the root of vanishing gradients
    zz = np.linspace(-10, 10, 101)
    s = ACTIVATIONS["sigmoid"]
    assert s.der(zz, s.f(zz)).max() == pytest.approx(0.25)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_extreme_inputs_are_finite_without_warnings(dtype: type) -> None:
    z = np.array([[-1e4, -800.0, -100.0, 0.0, 100.0, 800.0, 1e4]], dtype=dtype)
    for act in [*ACTIVATIONS.values(), OUTPUT_ACTIVATIONS["softmax"]]:
        a = act.f(z)
        d = act.der(z, a)
        assert a.dtype == dtype and d.dtype == dtype
        assert np.isfinite(a).all() and np.isfinite(d).all(), act.name
    s = ACTIVATIONS["sigmoid"].f(z)
    assert s[0, 0] == pytest.approx(0.0, abs=1e-30) and s[0, -1] == 1.0
    assert ACTIVATIONS["softplus"].f(z)[0, -1] == pytest.approx(1e4)


def test_softmax_rows() -> None:
    sm = OUTPUT_ACTIVATIONS["softmax"]
    z = np.array([[1000.0, 1001.0, 999.0], [0.0, 0.0, 0.0]])
    a = sm.f(z)
    np.testing.assert_allclose(a.sum(axis=1), 1.0)
    np.testing.assert_allclose(a[1], 1 / 3)
    e = np.exp(np.array([1.0, 2.0, 0.0]))
    np.testing.assert_allclose(a[0], e / e.sum())
    np.testing.assert_allclose(sm.der(z, a), a * (1 - a))
    assert not sm.elementwise


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_row_max_is_numpys_max(dtype: type) -> None:
    # the column-wise maximum of a few classes gives z.max(axis=-1) exactly, NaN included
    rng = np.random.default_rng(3)
    for shape in ((128, 10), (5, 2), (3, 16), (4, 17), (4, 1), (0, 10), (7,)):
        z = rng.standard_normal(shape).astype(dtype)
        if z.size > 3:
            z.flat[3] = np.nan
        m = _row_max(z)
        ref = z.max(axis=-1, keepdims=True)
        assert m.shape == ref.shape and m.dtype == ref.dtype
        np.testing.assert_array_equal(m, ref)


def test_get_activation() -> None:
    assert get_activation("softmax") is OUTPUT_ACTIVATIONS["softmax"]
    assert get_activation("tanh") is ACTIVATIONS["tanh"]
    with pytest.raises(KeyError):
        get_activation("nope")


def test_der_max_is_the_largest_derivative() -> None:
    z = np.linspace(-20, 20, 400001)
    for act in ACTIVATIONS.values():
        fp = act.der(z, act.f(z))
        assert fp.max() <= act.der_max + 1e-12, act.name
        assert fp.max() >= act.der_max - 1e-8, act.name
