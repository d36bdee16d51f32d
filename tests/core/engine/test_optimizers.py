"""Optimizers against hand-written reference updates."""

import math

import numpy as np
import pytest

from bpviz.core.engine.optimizers import OPTIMIZERS, Hyper, Optimizer, make_optimizer


def _apply(opt: Optimizer, p: np.ndarray, g: np.ndarray, out: np.ndarray, **kw: object) -> None:
    """What the engine's update phase does: ``ΔW`` into ``out``, then ``p += ΔW``."""
    opt.compute(0, p, g, out, **kw)  # type: ignore[arg-type]
    p += out


H = dict(learning_rate=0.1, momentum=0.8, rho=0.9, beta1=0.9, beta2=0.99, eps=1e-8)


def _reference(name: str, ps: list[float], gs: list[float], wd: float) -> list[float]:
    """Scalar reference: parameter after each step for gradient sequence ``gs``."""
    p = ps[0]
    v = m = s = 0.0
    out = []
    lr = H["learning_rate"]
    for t, g in enumerate(gs, start=1):
        if name == "sgd":
            d = -lr * g
        elif name == "momentum":
            v = H["momentum"] * v - lr * g
            d = v
        elif name == "rmsprop":
            s = H["rho"] * s + (1 - H["rho"]) * g * g
            d = -lr * g / (math.sqrt(s) + H["eps"])
        else:
            m = H["beta1"] * m + (1 - H["beta1"]) * g
            s = H["beta2"] * s + (1 - H["beta2"]) * g * g
            mh = m / (1 - H["beta1"] ** t)
            vh = s / (1 - H["beta2"] ** t)
            d = -lr * mh / (math.sqrt(vh) + H["eps"])
            if name == "adamw":
                d -= lr * wd * p
        p += d
        out.append(p)
    return out


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_matches_reference(name: str) -> None:
    wd = 0.05
    opt = make_optimizer(name, Hyper(**H, weight_decay=wd))
    p = np.array([0.5, -1.5])
    gs = [[0.3, -0.2], [0.1, 0.4], [-0.5, 0.05]]
    out = np.empty(2)
    got = []
    for g in gs:
        opt.begin_step()
        before = p.copy()
        _apply(opt, p, np.array(g), out)
        np.testing.assert_allclose(p - before, out, rtol=1e-15, atol=1e-15)
        got.append(p.copy())
    for k in range(2):
        ref = _reference(name, [[0.5, -1.5][k]], [g[k] for g in gs], wd)
        np.testing.assert_allclose([x[k] for x in got], ref, rtol=1e-12)


def test_scale_multiplies_gradient() -> None:
    for name in OPTIMIZERS:
        a, b = make_optimizer(name, Hyper(**H)), make_optimizer(name, Hyper(**H))
        pa, pb = np.ones(3), np.ones(3)
        out_a, out_b = np.empty(3), np.empty(3)
        g = np.array([0.2, -0.4, 1.0])
        for _ in range(2):
            a.begin_step()
            b.begin_step()
            _apply(a, pa, g, out_a, scale=0.5)
            _apply(b, pb, 0.5 * g, out_b)
        np.testing.assert_allclose(pa, pb, rtol=1e-14)


def test_live_learning_rate_change_keeps_state() -> None:
    hyper = Hyper(learning_rate=0.1, momentum=0.9)
    opt = make_optimizer("momentum", hyper)
    p, out = np.zeros(1), np.empty(1)
    _apply(opt, p, np.ones(1), out)  # v = -0.1
    hyper.learning_rate = 0.01
    _apply(opt, p, np.ones(1), out)  # v = 0.9 * -0.1 - 0.01
    assert out[0] == pytest.approx(-0.1 * 0.9 - 0.01)
    opt.reset()
    _apply(opt, p, np.ones(1), out)
    assert out[0] == pytest.approx(-0.01)


def test_adamw_decay_mask_spares_biases() -> None:
    opt = make_optimizer("adamw", Hyper(learning_rate=0.1, weight_decay=0.5))
    p = np.array([2.0, 2.0])
    out = np.empty(2)
    opt.begin_step()
    _apply(opt, p, np.zeros(2), out, decay=np.array([1.0, 0.0]))
    np.testing.assert_allclose(out, [-0.1 * 0.5 * 2.0, 0.0])


def test_unknown_optimizer() -> None:
    with pytest.raises(KeyError):
        make_optimizer("lbfgs")


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_state_round_trip_continues_exactly(name: str) -> None:
    rng = np.random.default_rng(0)
    p1 = rng.normal(size=6)
    p2 = p1.copy()
    a, b = make_optimizer(name), make_optimizer(name)
    for _ in range(3):
        g = rng.normal(size=6)
        a.begin_step()
        _apply(a, p1, g, np.empty(6))
    b.set_state(a.get_state())
    np.copyto(p2, p1)
    g = rng.normal(size=6)
    for opt, p in ((a, p1), (b, p2)):
        opt.begin_step()
        _apply(opt, p, g, np.empty(6))
    assert np.array_equal(p1, p2)
    with pytest.raises(ValueError):
        make_optimizer("sgd" if name != "sgd" else "adam").set_state(a.get_state())


def test_linear_factor_and_hyper_values() -> None:
    hyper = Hyper(learning_rate=0.5)
    assert make_optimizer("sgd", hyper).linear_factor(0.5) == -0.25  # ΔW = −η s g
    for name in ("momentum", "rmsprop", "adam", "adamw"):
        assert make_optimizer(name, hyper).linear_factor() is None
    assert hyper.values() == (0.5, 0.9, 0.9, 0.9, 0.999, 1e-8, 0.0)
