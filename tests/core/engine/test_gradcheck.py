"""Gradient check: backprop agrees with finite differences for every combination."""

import itertools
import json
from dataclasses import replace

import numpy as np
import pytest

from bpviz.core.engine.activations import ACTIVATIONS
from bpviz.core.engine.batchnorm import BatchNorm
from bpviz.core.engine.gradcheck import Objective, float64_copy, gradient_check, rel_error
from bpviz.core.engine.initializers import INITIALIZERS
from bpviz.core.engine.layers import Dense
from bpviz.core.engine.losses import LOSSES
from bpviz.core.engine.network import Network

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


# ------------------------------------------------------------ BatchNorm and residual

BLOCKS = {"bn": (True, False), "residual": (False, True), "bn+residual": (True, True)}


def _block_problem(
    act: str, loss: str, batchnorm: bool, residual: bool, seed: int
) -> tuple[Network, np.ndarray, np.ndarray]:
    """A 3-4-4-4-k network (skips on layers 2, 3) and 6 examples; γ, β, b drawn away from
    their start values; redrawn until no ReLU input (after BatchNorm) is near its kink."""
    rng = np.random.default_rng(seed)
    k = 3 if loss == "softmax_ce" else 2
    for _ in range(100):
        X = rng.standard_normal((6, 3))
        if loss == "softmax_ce":
            Y = np.eye(3)[rng.integers(0, 3, 6)]
        elif loss == "bce":
            Y = rng.integers(0, 2, (6, k)).astype(float)
        else:
            Y = rng.standard_normal((6, k))
        net = Network.build(
            3, [(4, act)] * 3, k, loss=loss, seed=seed, batchnorm=batchnorm, residual=residual
        )
        for layer in net.layers:  # b is β on BatchNorm layers
            layer.b[:] = rng.uniform(0.1, 0.5, layer.b.shape) * rng.choice([-1, 1], layer.b.shape)
            if layer.bn is not None:
                layer.bn.gamma[:] = rng.uniform(0.5, 1.5, layer.bn.gamma.shape)
        assert net.skip_layers == ((2, 3) if residual else ())
        if act not in KINKED:
            return net, X, Y
        a, zmin = X, np.inf
        for layer in net.layers[:-1]:
            z = a @ layer.W.T
            if layer.bn is not None:
                z = layer.bn.gamma * (z - z.mean(0)) / np.sqrt(z.var(0) + 1e-5) + layer.b
            else:
                z = z + layer.b
            zmin = min(zmin, float(np.abs(z).min()))
            out = layer.activation.f(z)
            a = out + a if layer.residual else out
        if zmin > 1e-3:
            return net, X, Y
    raise AssertionError("no kink-free draw")


@pytest.mark.parametrize(
    ("act", "block"),
    [
        (act, block)
        for act in sorted(ACTIVATIONS)
        for block in sorted(BLOCKS)
        # linear → BatchNorm has exact zeros: test_linear_batchnorm_beta_is_irrelevant
        if (act, block) != ("linear", "bn")
    ],
)
def test_batchnorm_and_residual_every_activation(act: str, block: str) -> None:
    bn, res = BLOCKS[block]
    for i, loss in enumerate(sorted(LOSSES)):
        net, X, Y = _block_problem(act, loss, bn, res, seed=10 + i)
        res_ = gradient_check(net, X, Y)
        assert res_.n_checked == net.n_params
        assert res_.max_rel_error < 1e-6, (act, block, loss, res_.max_rel_error)
        names = {e.param for e in res_.entries}
        assert names == ({"W", "b", "gamma", "beta"} if bn else {"W", "b"})


def test_batchnorm_gradient_check_with_penalties_dropout_and_float32() -> None:
    net, X, Y = _block_problem("tanh", "bce", True, True, seed=3)
    spec = replace(net.spec, dropout=0.5, dtype="float32")
    n32 = Network(spec)
    np.copyto(n32.params, net.params.astype(np.float32))
    res = gradient_check(net, X, Y, l1=0.01, l2=0.05)
    assert res.max_rel_error < 1e-6
    res32 = gradient_check(n32, X, Y, l1=0.01, l2=0.05)
    assert res32.max_rel_error < 1e-6


def test_linear_batchnorm_beta_is_irrelevant() -> None:
    """Linear layer → BatchNorm: the next BatchNorm subtracts any shift β of the layer before,
    so ∂L/∂β is exactly 0 there (only rounding noise is left on both sides; a relative error
    of two noise values means nothing). Every other parameter agrees."""
    net, X, Y = _block_problem("linear", "mse", True, False, seed=1)
    res = gradient_check(net, X, Y)
    for e in res.entries:
        if e.param == "beta" and e.layer < 3:
            assert abs(e.analytic) < 1e-15 and abs(e.numeric) < 1e-12
        else:
            assert e.rel_error < 1e-6, e


def test_batchnorm_needs_the_batch_statistics() -> None:
    """Finite differences of the inference-mode objective (running averages, as predict()
    uses) are a different function: they disagree with backprop's training-mode gradient."""
    net, X, Y = _block_problem("tanh", "mse", True, False, seed=2)
    assert gradient_check(net, X, Y).max_rel_error < 1e-6
    analytic = gradient_check(net, X, Y, max_params=5, seed=0)
    eps = 1e-6
    worst = 0.0
    for e in analytic.entries:
        k = _flat_index(net, e.layer, e.param, e.index)
        old = net.params[k]
        net.params[k] = old + eps
        fp = net.objective(X, Y)
        net.params[k] = old - eps
        fm = net.objective(X, Y)
        net.params[k] = old
        worst = max(worst, rel_error(e.analytic, (fp - fm) / (2 * eps)))
    assert worst > 1e-2


def _flat_index(net: Network, layer: int, param: str, index: tuple[int, ...]) -> int:
    off = 0
    for lay in net.layers:
        for name, shape, _ in lay.param_shapes():
            if lay.index == layer and name == param:
                return off + int(np.ravel_multi_index(index, shape))
            off += int(np.prod(shape))
    raise KeyError(param)


def test_broken_batchnorm_backward_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    net, X, Y = _block_problem("sigmoid", "softmax_ce", True, False, seed=4)
    real = BatchNorm.backward

    def no_gamma_term(self, delta, dbeta, buf, u):  # type: ignore[no-untyped-def]
        out = real(self, delta, dbeta, buf, u)
        self.dgamma *= 1.01  # a wrong dγ (δ_z is already formed: only γ's entries are off)
        return out

    monkeypatch.setattr(BatchNorm, "backward", no_gamma_term)
    res = gradient_check(net, X, Y)
    bad = {e.param for e in res.entries if e.rel_error > 1e-3}
    assert bad == {"gamma"}


def test_missing_skip_gradient_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    net, X, Y = _block_problem("tanh", "mse", False, True, seed=5)
    real = Dense.backward

    def no_skip(self, upstream):  # type: ignore[no-untyped-def]
        out = real(self, upstream)
        if out is not None and self.residual:
            out -= upstream  # forget the skip's share of the gradient
        return out

    monkeypatch.setattr(Dense, "backward", no_skip)
    res = gradient_check(net, X, Y)
    bad = {(e.layer, e.param) for e in res.entries if e.rel_error > 1e-3}
    assert bad and all(layer < 3 for layer, _ in bad)  # layers below the last skip


def test_cost_scaling_backprop_grows_slower_than_finite_differences() -> None:
    from bpviz.core.engine.gradcheck import cost_scaling
    from bpviz.core.engine.network import NetworkSpec

    spec = NetworkSpec(2, ((4, "tanh"), (2, "relu")), 1, "bce", "xavier_normal", 1)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(16, 2))
    Y = (X[:, :1] > 0).astype(float)
    points = cost_scaling(spec, X, Y, budget_s=1.0)
    sizes = [p["n_params"] for p in points]
    assert sizes == sorted(sizes) and sizes[0] <= 15 and sizes[-1] >= 2000
    ratio = [p["time_numeric_s"] / p["time_backprop_s"] for p in points]
    assert ratio[-1] > 20 * ratio[0]


@pytest.mark.parametrize(
    ("act", "out_act"),
    list(itertools.product(sorted(ACTIVATIONS), ["sigmoid", "tanh"])),
)
def test_mse_with_a_sigmoid_or_tanh_output(act: str, out_act: str) -> None:
    """The pairings MSE allows besides its linear output: every hidden activation."""
    for i, init in enumerate(("xavier_normal", "he_uniform")):
        net, X, Y = _problem(act, "mse", init, seed=20 + i)
        spec = replace(net.spec, output_activation=out_act)
        out = Network(spec)
        np.copyto(out.params, net.params)
        assert out.layers[-1].activation.name == out_act
        Y = 0.8 / (1 + np.exp(-Y))  # targets inside the output's range
        res = gradient_check(out, X, Y)
        assert res.n_checked == out.n_params
        assert res.max_rel_error < 1e-6, (act, out_act, init, res.max_rel_error)


def test_the_textbook_pairing_with_batchnorm_and_penalties() -> None:
    net = Network.build(
        3, [(4, "sigmoid"), (4, "sigmoid")], 2, loss="mse", batchnorm=True, residual=True,
        output_activation="sigmoid", seed=5,
    )  # fmt: skip
    rng = np.random.default_rng(5)
    X, Y = rng.standard_normal((6, 3)), rng.uniform(0.1, 0.9, (6, 2))
    assert gradient_check(net, X, Y, l1=0.01, l2=0.02).max_rel_error < 1e-6


@pytest.mark.parametrize("dtype", [np.longdouble, np.float64])
def test_objective_from_a_layer_up_is_the_whole_objective(dtype: type) -> None:
    """Starting at the perturbed parameter's layer (the layers below cached) changes no bit."""
    net = Network.build(3, [(4, "tanh"), (4, "elu")], 2, loss="bce", batchnorm=True, residual=True)
    rng = np.random.default_rng(1)
    X, Y = rng.standard_normal((6, 3)), rng.integers(0, 2, (6, 2)).astype(float)
    obj = Objective(float64_copy(net.spec, net.params, net.get_bn_state()), X, Y, 0.01, 0.02, dtype)
    assert obj(0) == obj(int(obj.layer_of[-1]))  # nothing perturbed: the same J
    for k in (0, 20, obj.params.shape[0] - 1):
        first, old = int(obj.layer_of[k]), obj.params[k]
        obj.params[k] = old + 1e-6
        assert obj(first) == obj(0)
        obj.params[k] = old
