"""Gradient check: backprop agrees with finite differences for every combination."""

import itertools
import json

import numpy as np
import pytest

from bpviz.core.activations import ACTIVATIONS
from bpviz.core.gradcheck import gradient_check, rel_error
from bpviz.core.initializers import INITIALIZERS
from bpviz.core.losses import LOSSES
from bpviz.core.network import Network

KINKED = {"relu", "leaky_relu"}


def _problem(act: str, loss: str, init: str, seed: int) -> tuple[Network, np.ndarray, np.ndarray]:
    """A random 3-4-3-k network and 5 examples, redrawn until no ReLU input is near 0."""
    rng = np.random.default_rng(seed)
    k = 3 if loss == "softmax_ce" else 2
    for _ in range(50):
        X = rng.standard_normal((5, 3))
        if loss == "softmax_ce":
            Y = np.eye(3)[rng.integers(0, 3, 5)]
        elif loss == "bce":
            Y = rng.integers(0, 2, (5, k)).astype(float)
        else:
            Y = rng.standard_normal((5, k))
        net = Network.build(3, [(4, act), (3, act)], k, loss=loss, init=init, seed=seed)
        for layer in net.layers:  # nonzero biases: no unit sits exactly on a kink
            layer.b[:] = rng.uniform(0.1, 0.5, layer.b.shape) * rng.choice([-1, 1], layer.b.shape)
        if act not in KINKED:
            return net, X, Y
        a = X
        zmin = np.inf
        for layer in net.layers[:-1]:
            z = a @ layer.W.T + layer.b
            zmin = min(zmin, float(np.abs(z).min()))
            a = layer.activation.f(z)
        if zmin > 1e-3:
            return net, X, Y
    raise AssertionError("no kink-free draw")


@pytest.mark.parametrize(
    ("act", "loss"), list(itertools.product(sorted(ACTIVATIONS), sorted(LOSSES)))
)
def test_every_activation_loss_init(act: str, loss: str) -> None:
    for i, init in enumerate(sorted(INITIALIZERS)):
        net, X, Y = _problem(act, loss, init, seed=i)
        res = gradient_check(net, X, Y)
        assert res.n_checked == res.n_params == net.n_params
        assert res.max_rel_error < 1e-6, (act, loss, init, res.max_rel_error)


def test_with_penalties_and_dropout_network() -> None:
    net, X, Y = _problem("tanh", "bce", "xavier_normal", seed=11)
    net2 = Network.build(3, [(4, "tanh"), (3, "tanh")], 2, loss="bce", dropout=0.5)
    np.copyto(net2.params, net.params)
    res = gradient_check(net2, X, Y, l1=0.01, l2=0.05)
    assert res.max_rel_error < 1e-6
    before = net2.params.copy()
    assert np.array_equal(net2.params, before)  # untouched


def test_float32_network_checked_in_float64() -> None:
    net, X, Y = _problem("sigmoid", "mse", "he_normal", seed=2)
    n32 = Network.build(3, [(4, "sigmoid"), (3, "sigmoid")], 2, loss="mse", dtype="float32")
    np.copyto(n32.params, net.params.astype(np.float32))
    assert gradient_check(n32, X, Y).max_rel_error < 1e-6


def test_float64_precision_option_and_entries() -> None:
    net, X, Y = _problem("tanh", "softmax_ce", "xavier_uniform", seed=4)
    res = gradient_check(net, X, Y, precision="float64")
    assert res.max_rel_error < 1e-4  # plain float64 differences are noisier
    e = res.entries[0]
    assert (e.layer, e.param, e.index) == (1, "W", (0, 0))
    last = res.entries[-1]
    assert (last.layer, last.param, last.index) == (3, "b", (2,))
    assert [x.param for x in res.entries].count("b") == 4 + 3 + 3
    assert res.time_backprop_s > 0 and res.time_numeric_s > 0
    d = res.to_dict()
    json.dumps(d, allow_nan=False)
    assert len(d["entries"]) == net.n_params


def test_subset_and_rel_error() -> None:
    net, X, Y = _problem("elu", "mse", "naive", seed=5)
    res = gradient_check(net, X, Y, max_params=7, seed=1)
    assert res.n_checked == 7 and res.n_params == net.n_params
    assert rel_error(0.0, 0.0) == 0.0
    assert rel_error(1.0, -1.0) == 1.0
    assert rel_error(1.0, 1.0 + 2e-9) == pytest.approx(1e-9, rel=1e-3)


def test_wrong_gradient_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    """The check has teeth: a deliberately broken derivative is reported."""
    net, X, Y = _problem("tanh", "mse", "xavier_normal", seed=6)
    tanh_cls = type(ACTIVATIONS["tanh"])
    real_der = tanh_cls.der

    def broken(self, z, a, out=None):  # type: ignore[no-untyped-def]
        res = real_der(self, z, a, out)
        res *= 1.01
        return res

    monkeypatch.setattr(tanh_cls, "der", broken)
    res = gradient_check(net, X, Y)
    assert res.max_rel_error > 1e-3
