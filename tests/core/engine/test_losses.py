"""Losses: values against naive formulas, output deltas against finite differences."""

import numpy as np
import pytest

from bpviz.core.engine.losses import LOSSES, make_loss

rng = np.random.default_rng(3)


def _data(name: str) -> tuple[np.ndarray, np.ndarray]:
    B = 6
    if name == "softmax_ce":
        return rng.standard_normal((B, 4)), np.eye(4)[rng.integers(0, 4, B)]
    if name == "bce":
        return rng.standard_normal((B, 2)), rng.integers(0, 2, (B, 2)).astype(float)
    return rng.standard_normal((B, 2)), rng.standard_normal((B, 2))


def _naive(name: str, z: np.ndarray, y: np.ndarray) -> float:
    if name == "mse":
        return float(np.mean(0.5 * np.sum((z - y) ** 2, axis=1)))
    if name == "bce":
        p = 1 / (1 + np.exp(-z))
        return float(np.mean(-np.sum(y * np.log(p) + (1 - y) * np.log(1 - p), axis=1)))
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    return float(np.mean(-np.sum(y * np.log(p), axis=1)))


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_value_matches_naive_formula(name: str) -> None:
    loss = LOSSES[name]
    z, y = _data(name)
    a = loss.activation.f(z)
    expected = _naive(name, z, y)
    assert loss.value(a, y, z) == pytest.approx(expected, rel=1e-12)
    assert float(np.mean(loss.per_example(a, y, z))) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_output_delta_is_gradient_of_per_example_loss(name: str) -> None:
    loss = LOSSES[name]
    z, y = _data(name)
    a = loss.activation.f(z)
    delta = loss.output_delta(z, a, y)
    h = 1e-6
    numeric = np.zeros_like(z)
    for idx in np.ndindex(z.shape):
        zp, zm = z.copy(), z.copy()
        zp[idx] += h
        zm[idx] -= h
        lp = loss.per_example(loss.activation.f(zp), y, zp)[idx[0]]
        lm = loss.per_example(loss.activation.f(zm), y, zm)[idx[0]]
        numeric[idx] = (lp - lm) / (2 * h)
    np.testing.assert_allclose(delta, numeric, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(delta, a - y)  # simplifies to yhat - y for all three
    out = np.empty_like(z)
    assert loss.output_delta(z, a, y, out=out) is out


def test_cross_entropy_from_logits_is_stable() -> None:
    z = np.array([[800.0], [-800.0]])
    y = np.array([[0.0], [1.0]])
    bce = LOSSES["bce"]
    assert bce.value(bce.activation.f(z), y, z) == pytest.approx(800.0)
    sm = LOSSES["softmax_ce"]
    z2 = np.array([[1000.0, 0.0, -1000.0]])
    y2 = np.array([[0.0, 0.0, 1.0]])
    assert sm.value(sm.activation.f(z2), y2, z2) == pytest.approx(2000.0)


def test_output_activations() -> None:
    assert LOSSES["mse"].output_activation == "linear"
    assert LOSSES["bce"].output_activation == "sigmoid"
    assert LOSSES["softmax_ce"].output_activation == "softmax"


def test_softmax_ce_reuses_the_forwards_row_statistics() -> None:
    """From the softmax's own buffers the loss takes its row max and sum: the same number."""
    sm = LOSSES["softmax_ce"]
    act = sm.activation
    z, y = _data("softmax_ce")
    out = np.empty_like(z)
    a = act.f(z, out)
    stats = act.row_stats(a, z)  # type: ignore[attr-defined]
    assert stats is not None
    np.testing.assert_array_equal(stats[0], z.max(axis=1, keepdims=True))
    fresh = sm.value(a.copy(), y, z.copy())  # other arrays: computed again
    assert sm.value(a, y, z) == fresh
    assert act.row_stats(a.copy(), z) is None  # type: ignore[attr-defined]
    act.f(z)  # a call without ``out`` forgets
    assert act.row_stats(a, z) is None  # type: ignore[attr-defined]


@pytest.mark.parametrize("out_act", ["sigmoid", "tanh"])
def test_mse_with_a_squashing_output_is_the_general_chain_rule(out_act: str) -> None:
    """MSE with a sigmoid or tanh output: δ⁽ᴸ⁾ = (ŷ − y) ⊙ f′(z), the textbook's, checked
    against finite differences of the per-example loss through the output activation."""
    loss = make_loss("mse", out_act)
    assert (loss.name, loss.output_activation, loss.activation.name) == ("mse", out_act, out_act)
    z, y = _data("mse")
    a = loss.activation.f(z)
    delta = loss.output_delta(z, a, y)
    fprime = a * (1 - a) if out_act == "sigmoid" else 1 - a * a
    np.testing.assert_allclose(delta, (a - y) * fprime, rtol=1e-14)
    h = 1e-6
    numeric = np.zeros_like(z)
    for idx in np.ndindex(z.shape):
        zp, zm = z.copy(), z.copy()
        zp[idx] += h
        zm[idx] -= h
        lp = loss.per_example(loss.activation.f(zp), y, zp)[idx[0]]
        lm = loss.per_example(loss.activation.f(zm), y, zm)[idx[0]]
        numeric[idx] = (lp - lm) / (2 * h)
    np.testing.assert_allclose(delta, numeric, rtol=1e-6, atol=1e-9)
    assert loss.value(a, y, z) == pytest.approx(float(np.mean(0.5 * ((a - y) ** 2).sum(axis=1))))
    assert repr(loss) == f"Loss('mse', '{out_act}')"


def test_make_loss_shares_the_default_and_refuses_what_a_loss_does_not_allow() -> None:
    assert make_loss("mse") is LOSSES["mse"] is make_loss("mse", "linear")
    assert make_loss("bce", "sigmoid") is LOSSES["bce"]
    for name, act in (("bce", "tanh"), ("softmax_ce", "sigmoid"), ("mse", "softmax")):
        with pytest.raises(ValueError, match="allows the output activations"):
            make_loss(name, act)
    with pytest.raises(KeyError):
        make_loss("hinge")
