"""Network: forward against plain NumPy, dropout, weights I/O, copies, dtype."""

import json

import numpy as np
import pytest

from bpviz.core.engine.activations import ACTIVATIONS
from bpviz.core.engine.network import (
    FPRIME_BINS,
    Dense,
    DenseBlock,
    LayerTrace,
    Network,
    NetworkSpec,
)
from bpviz.core.engine.stepper import Stepper, Trace
from bpviz.core.experiment.config import LayerConfig, n_params


def _net(**kw: object) -> Network:
    args: dict[str, object] = dict(
        n_in=3, hidden=((5, "tanh"), (4, "relu")), n_out=2, loss="mse", seed=7
    )
    args.update(kw)
    return Network(NetworkSpec(**args))  # type: ignore[arg-type]


def test_forward_matches_plain_numpy() -> None:
    net = _net()
    X = np.random.default_rng(0).standard_normal((6, 3))
    (W1, b1), (W2, b2), (W3, b3) = net.get_weights()
    a1 = np.tanh(X @ W1.T + b1)
    a2 = np.maximum(a1 @ W2.T + b2, 0)
    a3 = a2 @ W3.T + b3
    acts = net.forward_all(X)
    assert [a.shape for a in acts] == [(6, 3), (6, 5), (6, 4), (6, 2)]
    np.testing.assert_allclose(acts[1], a1, rtol=1e-14)
    np.testing.assert_allclose(acts[3], a3, rtol=1e-13)
    np.testing.assert_allclose(net.predict(X), a3, rtol=1e-13)
    assert net.sizes == [3, 5, 4, 2]
    assert net.n_params == 5 * 3 + 5 + 4 * 5 + 4 + 2 * 4 + 2
    assert net.layers[-1].activation.name == "linear"


def test_training_forward_backward_buffers_match_inference() -> None:
    net = _net()
    X = np.random.default_rng(1).standard_normal((4, 3))
    net.prepare(4)
    a = X
    for layer in net.layers:
        a = layer.forward(a, True)
    np.testing.assert_allclose(a, net.predict(X), rtol=1e-14)


def test_params_are_one_flat_vector() -> None:
    net = _net()
    net.params[:] = np.arange(net.n_params)
    assert net.layers[0].W[0, 0] == 0 and net.layers[0].b[0] == 15
    assert net.layers[1].W[0, 0] == 20
    assert net.decay_mask.sum() == 15 + 20 + 8


def test_same_seed_same_weights_and_reset() -> None:
    a, b = _net(), _net()
    np.testing.assert_array_equal(a.params, b.params)
    c = _net(seed=8)
    assert not np.array_equal(a.params, c.params)
    before = a.params.copy()
    a.params += 1.0
    a.reset()
    np.testing.assert_array_equal(a.params, before)


def test_set_weights_validates_and_copy_is_independent() -> None:
    net = _net()
    w = net.get_weights()
    w2 = [(W * 2, b + 1) for W, b in w]
    net.set_weights(w2)
    np.testing.assert_array_equal(net.layers[0].W, w2[0][0])
    with pytest.raises(ValueError):
        net.set_weights(w2[:1])
    with pytest.raises(ValueError):
        net.set_weights([(np.zeros((1, 1)), b) for _, b in w])
    bad = [(W.copy(), b) for W, b in w2]
    bad[0][0][0, 0] = np.nan
    with pytest.raises(ValueError):
        net.set_weights(bad)
    cp = net.copy()
    np.testing.assert_array_equal(cp.params, net.params)
    cp.params += 1
    assert not np.array_equal(cp.params, net.params)
    assert cp.layers[0].W.base is not None  # still views of the flat vector
    cp.layers[0].W[0, 0] = 123.0
    assert cp.params[0] == 123.0


def test_dropout_mask_inverted_training_only() -> None:
    net = _net(dropout=0.5, hidden=((200, "tanh"),))
    X = np.random.default_rng(2).standard_normal((50, 3))
    net.prepare(50)
    layer = net.layers[0]
    layer.rec = LayerTrace(1, "tanh")
    layer.forward(X, True)
    rec = layer.rec
    assert rec.mask is not None and rec.a is not None and rec.a_raw is not None
    assert set(np.unique(rec.mask)) <= {0.0, 2.0}
    assert 0.4 < (rec.mask == 0).mean() < 0.6
    np.testing.assert_allclose(rec.a, rec.a_raw * rec.mask)
    layer.forward(X, False)
    assert rec.mask is None
    np.testing.assert_allclose(rec.a, rec.a_raw)
    assert net.layers[-1].dropout == 0.0  # never on the output layer


def test_float32() -> None:
    net = _net(dtype="float32")
    assert net.params.dtype == np.float32
    out = net.predict(np.ones((2, 3)))
    assert out.dtype == np.float32
    ref = _net().predict(np.ones((2, 3)))
    np.testing.assert_allclose(out, ref, rtol=1e-5, atol=1e-6)


def test_penalty() -> None:
    net = _net()
    w = np.concatenate([layer.W.ravel() for layer in net.layers])
    assert net.penalty(0.1, 0.0) == pytest.approx(0.1 * np.abs(w).sum())
    assert net.penalty(0.0, 0.2) == pytest.approx(0.1 * (w**2).sum())
    assert net.penalty(0, 0) == 0.0


@pytest.mark.parametrize(
    "kw",
    [
        {"n_in": 0},
        {"hidden": ((0, "tanh"),)},
        {"hidden": ((2, "bogus"),)},
        {"loss": "hinge"},
        {"init": "zeros"},
        {"dropout": 1.0},
        {"dtype": "float16"},
    ],
)
def test_invalid_specs(kw: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        _net(**kw)


def test_bad_input_shape() -> None:
    with pytest.raises(ValueError):
        _net().predict(np.ones((2, 4)))


def test_layer_trace_to_dict_is_json() -> None:
    rec = LayerTrace(1, "tanh")
    rec.z = np.array([[1.0, np.inf]])
    rec.dW_norm = float("nan")
    d = rec.to_dict()
    json.dumps(d, allow_nan=False)
    assert d["z"] == [[1.0, None]] and d["dW_norm"] is None


# ----------------------------------------------------------- BatchNorm, residual, stats


def _bn_net(**kw: object) -> Network:
    args: dict[str, object] = dict(
        n_in=2, hidden=((2, "linear"),), n_out=1, loss="mse", seed=0, batchnorm=True
    )
    args.update(kw)
    return Network(NetworkSpec(**args))  # type: ignore[arg-type]


def test_batchnorm_forward_on_a_hand_computed_batch() -> None:
    """z = W x, μ = [3, 4], σ² = [8/3, 32/3], ẑ, γ ẑ + β, running averages after one step."""
    net = _bn_net()
    bn = net.layers[0]
    assert isinstance(bn, DenseBlock) and bn.batchnorm and not bn.residual
    assert [name for name, _, _ in bn.param_shapes()] == ["W", "gamma", "beta"]
    np.testing.assert_array_equal(bn.gamma, [1.0, 1.0])  # γ = 1, β = 0 to start
    np.testing.assert_array_equal(bn.beta, [0.0, 0.0])
    np.testing.assert_array_equal(bn.running_mean, [0.0, 0.0])
    np.testing.assert_array_equal(bn.running_var, [1.0, 1.0])
    bn.W[...] = [[1.0, 0.0], [0.0, 2.0]]
    bn.gamma[...] = [2.0, 0.5]
    bn.b[...] = [0.1, -0.2]  # b is β
    X = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 0.0]])
    net.prepare(3)
    bn.rec = rec = LayerTrace(1, "linear")
    assert rec.batchnorm and not rec.residual
    a = bn.forward(X, True)
    z = np.array([[1.0, 4.0], [3.0, 8.0], [5.0, 0.0]])  # no bias: W x only
    np.testing.assert_array_equal(rec.z, z)
    np.testing.assert_allclose(rec.bn_mean, [3.0, 4.0], rtol=1e-15)
    np.testing.assert_allclose(rec.bn_var, [8 / 3, 32 / 3], rtol=1e-15)
    s0, s1 = np.sqrt(8 / 3 + 1e-5), np.sqrt(32 / 3 + 1e-5)
    z_hat = np.array([[-2 / s0, 0 / s1], [0 / s0, 4 / s1], [2 / s0, -4 / s1]])
    np.testing.assert_allclose(rec.z_hat, z_hat, rtol=1e-14)
    np.testing.assert_allclose(rec.z_bn, z_hat * [2.0, 0.5] + [0.1, -0.2], rtol=1e-14)
    np.testing.assert_allclose(a, rec.z_bn, rtol=0)  # linear activation
    # running ← 0.9 running + 0.1 batch value; the variance unbiased (× 3/2)
    np.testing.assert_allclose(bn.running_mean, [0.3, 0.4], rtol=1e-15)
    np.testing.assert_allclose(bn.running_var, [0.9 + 0.1 * 4.0, 0.9 + 0.1 * 16.0], rtol=1e-15)
    # inference normalizes with the running averages, not with the batch
    expect = (z - [0.3, 0.4]) / np.sqrt(np.array([1.3, 2.5]) + 1e-5) * [2.0, 0.5] + [0.1, -0.2]
    np.testing.assert_allclose(net.forward_all(X)[1], expect, rtol=1e-14)
    # training mode again: the batch's own statistics, running averages move on
    bn.forward(X, True)
    np.testing.assert_allclose(bn.running_mean, [0.3 * 0.9 + 0.3, 0.4 * 0.9 + 0.4], rtol=1e-14)
    # evaluation-mode forward: running averages used and left alone
    before = bn.running_mean.copy()
    out = bn.forward(X, False)
    np.testing.assert_array_equal(bn.running_mean, before)
    zi = (z - before) / np.sqrt(bn.running_var + 1e-5) * [2.0, 0.5] + [0.1, -0.2]
    np.testing.assert_allclose(out, zi, rtol=1e-14)


def test_batchnorm_backward_structure() -> None:
    """δ_z = γ/σ (δ − dβ − ẑ dγ): zero mean over the batch and orthogonal to ẑ."""
    net = _bn_net(hidden=((4, "tanh"), (3, "sigmoid")), n_in=3, n_out=2)
    rng = np.random.default_rng(3)
    for layer in net.layers[:2]:
        assert isinstance(layer, DenseBlock)
        layer.gamma[...] = rng.uniform(0.5, 2.0, layer.gamma.shape)
        layer.b[...] = rng.uniform(-1, 1, layer.b.shape)
    st = Stepper(net, rng.standard_normal((7, 3)), rng.standard_normal((7, 2)), batch_size=7)
    st.run_backward()
    t = st.trace
    assert t is not None
    for rec, layer in zip(t.layers[:2], net.layers[:2], strict=True):
        assert isinstance(layer, DenseBlock)
        assert rec.delta is not None and rec.delta_z is not None and rec.z_hat is not None
        assert rec.grad_a is not None and rec.fprime is not None and rec.a_prev is not None
        np.testing.assert_allclose(rec.delta, rec.grad_a * rec.fprime, rtol=1e-14)
        np.testing.assert_allclose(rec.db, rec.delta.mean(axis=0), rtol=1e-13, atol=1e-17)
        np.testing.assert_allclose(rec.dgamma, (rec.delta * rec.z_hat).mean(axis=0), rtol=1e-13)
        np.testing.assert_allclose(rec.delta_z.mean(axis=0), 0.0, atol=1e-15)
        # orthogonal to ẑ up to ε: mean(δ_z ẑ) = γ/σ · dγ · (1 − mean ẑ²) = γ/σ · dγ · ε/(σ²+ε)
        assert rec.bn_var is not None and rec.dgamma is not None
        var_eps = rec.bn_var + 1e-5
        np.testing.assert_allclose(
            (rec.delta_z * rec.z_hat).mean(axis=0),
            layer.gamma / np.sqrt(var_eps) * rec.dgamma * 1e-5 / var_eps,
            rtol=1e-6,
            atol=1e-16,
        )
        expect = (
            layer.gamma / np.sqrt(rec.bn_var + 1e-5) * (rec.delta - rec.db - rec.z_hat * rec.dgamma)  # type: ignore[operator]
        )
        np.testing.assert_allclose(rec.delta_z, expect, rtol=1e-12, atol=1e-16)
        np.testing.assert_allclose(rec.dW, rec.delta_z.T @ rec.a_prev / 7, rtol=1e-13)
        assert rec.delta_mean_norm == pytest.approx(float(np.linalg.norm(rec.db)), rel=1e-14)
    # the gradient handed to layer 1 is δ_z⁽²⁾ W⁽²⁾
    rec2 = t.layers[1]
    assert rec2.delta_z is not None
    np.testing.assert_allclose(t.layers[0].grad_a, rec2.delta_z @ net.layers[1].W, rtol=1e-13)


def test_batchnorm_batch_of_one_gives_no_weight_gradient() -> None:
    net = _bn_net(hidden=((3, "tanh"),), n_in=2)
    st = Stepper(net, np.array([[0.3, -0.7]]), np.array([[1.0]]), batch_size=1)
    st.step()
    t = st.trace
    assert t is not None and t.complete and np.isfinite(net.params).all()
    rec = t.layers[0]
    np.testing.assert_array_equal(rec.z_hat, 0.0)
    np.testing.assert_array_equal(rec.dW, 0.0)
    np.testing.assert_array_equal(net.layers[0].running_var, 1.0)  # not updated for B = 1


def test_batchnorm_keeps_the_same_initial_weights_and_counts_gamma() -> None:
    plain = _net(seed=3, init="naive")
    bn = _net(seed=3, init="naive", batchnorm=True)
    for a, b in zip(plain.layers, bn.layers, strict=True):
        np.testing.assert_array_equal(a.W, b.W)
    np.testing.assert_array_equal(plain.layers[-1].b, bn.layers[-1].b)  # output keeps its bias
    assert [type(layer) for layer in bn.layers] == [DenseBlock, DenseBlock, Dense]
    assert [type(layer) for layer in plain.layers] == [Dense, Dense, Dense]
    assert bn.n_params == plain.n_params + 5 + 4
    assert bn.n_params == n_params(3, [LayerConfig(5, "tanh"), LayerConfig(4, "relu")], 2, True)
    assert sum(layer.n_params for layer in bn.layers) == bn.n_params


def test_skip_layers_rule() -> None:
    spec = NetworkSpec(2, ((16, "relu"), (16, "relu"), (8, "relu"), (8, "relu"), (8, "relu")), 1)
    assert spec.skip_layers() == ()
    res = NetworkSpec(**{**spec.__dict__, "residual": True})
    assert res.skip_layers() == (2, 4, 5)
    # the first hidden layer never gets one, even when its width equals the input's
    assert NetworkSpec(3, ((3, "tanh"), (3, "tanh")), 3, residual=True).skip_layers() == (2,)
    net = Network(res)
    assert net.skip_layers == (2, 4, 5)
    kinds = [(type(layer).__name__, getattr(layer, "residual", False)) for layer in net.layers]
    assert kinds == [
        ("Dense", False),
        ("DenseBlock", True),
        ("Dense", False),
        ("DenseBlock", True),
        ("DenseBlock", True),
        ("Dense", False),
    ]
    with pytest.raises(ValueError):
        DenseBlock(1, np.zeros((2, 3)), np.zeros(2), ACTIVATIONS["relu"], residual=True)


def test_residual_forward_on_a_hand_computed_case() -> None:
    """a⁽²⁾ = ReLU(W⁽²⁾ a⁽¹⁾ + b⁽²⁾) + a⁽¹⁾, in training and in inference."""
    net = Network.build(2, [(2, "relu"), (2, "relu")], 1, loss="mse", residual=True)
    l1, l2, out = net.layers
    l1.W[...] = [[1.0, 0.0], [0.0, 1.0]]
    l1.b[...] = [0.0, 0.0]
    l2.W[...] = [[1.0, -1.0], [2.0, 1.0]]
    l2.b[...] = [0.5, -10.0]
    out.W[...] = [[1.0, 1.0]]
    out.b[...] = [0.0]
    X = np.array([[1.0, 2.0], [3.0, 0.5]])
    a1 = np.array([[1.0, 2.0], [3.0, 0.5]])
    # z⁽²⁾ = [[1−2+0.5, 2+2−10], [3−0.5+0.5, 6+0.5−10]] = [[−0.5, −6], [3, −3.5]]
    a2 = np.array([[0.0 + 1.0, 0.0 + 2.0], [3.0 + 3.0, 0.0 + 0.5]])
    acts = net.forward_all(X)
    np.testing.assert_array_equal(acts[2], a2)
    np.testing.assert_array_equal(acts[3], a2.sum(axis=1, keepdims=True))
    st = Stepper(net, X, np.zeros((2, 1)), batch_size=2, rng=np.random.default_rng(0))
    st.run_backward()
    t = st.trace
    assert t is not None and t.batch is not None
    rec = t.layers[1]
    assert rec.residual and not rec.batchnorm and not t.layers[0].residual
    order = t.batch
    np.testing.assert_array_equal(rec.a, a2[order])
    np.testing.assert_array_equal(rec.a_raw, (a2 - a1)[order])
    # backward: ∂ℓ/∂a⁽¹⁾ = δ⁽²⁾ W⁽²⁾ + ∂ℓ/∂a⁽²⁾ (the skip's share)
    assert rec.delta is not None and rec.grad_a is not None
    np.testing.assert_allclose(t.layers[0].grad_a, rec.delta @ l2.W + rec.grad_a, rtol=1e-15)
    assert rec.delta_z is None and rec.z_hat is None  # BatchNorm fields stay empty


def test_batchnorm_state_copy_and_io() -> None:
    net = _net(batchnorm=True, residual=True, hidden=((4, "tanh"), (4, "relu")))
    rng = np.random.default_rng(2)
    X, Y = rng.standard_normal((20, 3)), rng.standard_normal((20, 2))
    st = Stepper(net, X, Y, batch_size=5)
    st.run_steps(4)
    bn = net.layers[0]
    assert isinstance(bn, DenseBlock)
    assert not np.allclose(bn.running_mean, 0.0)
    twin = net.copy()
    np.testing.assert_array_equal(twin.predict(X), net.predict(X))
    state = net.get_bn_state()
    assert state[-1] is None and state[0] is not None
    fresh = _net(batchnorm=True, residual=True, hidden=((4, "tanh"), (4, "relu")))
    fresh.set_weights(net.get_weights())
    assert not np.array_equal(fresh.predict(X), net.predict(X))  # γ, running averages differ
    fresh.set_bn_state(state)
    np.testing.assert_array_equal(fresh.predict(X), net.predict(X))
    bad = [dict(s) if s is not None else None for s in state]
    assert bad[0] is not None
    bad[0]["running_var"] = -bad[0]["running_var"]
    with pytest.raises(ValueError):
        fresh.set_bn_state(bad)
    with pytest.raises(ValueError):
        fresh.set_bn_state([None, None, None])
    with pytest.raises(ValueError):
        _net().set_bn_state(state)
    net.reset()
    np.testing.assert_array_equal(net.layers[0].running_mean, 0.0)  # type: ignore[attr-defined]
    np.testing.assert_array_equal(net.layers[0].running_var, 1.0)  # type: ignore[attr-defined]


def test_predict_uses_running_averages_not_the_batch() -> None:
    net = _net(batchnorm=True)
    X = np.random.default_rng(4).standard_normal((6, 3)) * 3 + 1
    net.prepare(6)
    a = X
    for layer in net.layers:
        a = layer.forward(a, True)
    train_out = a.copy()
    # one training pass moved the averages only 10 % of the way: inference differs
    assert not np.allclose(net.predict(X), train_out)
    # a single example is predicted the same alone or in a batch (no batch statistics)
    np.testing.assert_allclose(net.predict(X[:1]), net.predict(X)[:1], rtol=1e-14)


# -------------------------------------------------------------------- statistics


def _trace_of(net: Network, X: np.ndarray) -> Trace:
    st = Stepper(net, X, np.zeros((X.shape[0], net.spec.n_out)), batch_size=X.shape[0])
    st.run_backward()
    assert st.trace is not None
    return st.trace


def test_fprime_histogram_bins_by_hand() -> None:
    rec = LayerTrace(1, "silu")
    assert rec.fprime_hist is None and rec.dead_fraction is None and rec.fprime_above is None
    rec.fprime = np.array([[0.0, 0.05, 0.999], [1.0, 0.0499, 0.5], [-0.05, 1.05, np.nan]])
    hist = rec.fprime_hist
    assert hist is not None and hist.shape == (FPRIME_BINS,) == (20,)
    expected = np.zeros(20, np.int64)
    expected[[0, 1, 19, 10]] = [2, 1, 2, 1]  # 0 and 0.0499; 0.05; 0.999 and 1.0; 0.5
    np.testing.assert_array_equal(hist, expected)
    assert rec.fprime_below == 1 and rec.fprime_above == 1  # NaN is in neither
    d = rec.to_dict()
    assert d["fprime_hist"] == expected.tolist() and d["fprime_above"] == 1


def test_sigmoid_histogram_and_saturated_unit() -> None:
    """σ'(0) = 0.25 → bin 5; σ'(2) = 0.105 → bin 2; σ'(−10) = 4.5e-5 → bin 0, saturated."""
    net = Network.build(2, [(3, "sigmoid")], 1, loss="mse")
    net.layers[0].W[...] = 0.0
    net.layers[0].b[...] = [0.0, 2.0, -10.0]
    X = np.random.default_rng(0).standard_normal((8, 2))
    rec = _trace_of(net, X).layers[0]
    expected = np.zeros(20, np.int64)
    expected[[5, 2, 0]] = 8
    np.testing.assert_array_equal(rec.fprime_hist, expected)
    np.testing.assert_array_equal(rec.dead_mask, [False, False, True])
    assert rec.dead_fraction == pytest.approx(1 / 3)
    assert rec.fprime_below == 0 and rec.fprime_above == 0


def test_relu_dead_unit_fraction() -> None:
    """Unit 2 has z < 0 for every example: f' = 0 throughout → dead_fraction = 1/4."""
    net = Network.build(2, [(4, "relu")], 1, loss="mse")
    layer = net.layers[0]
    layer.W[...] = [[1.0, 0.0], [0.0, 1.0], [0.1, 0.1], [-1.0, 0.0]]
    layer.b[...] = [0.0, 0.0, -100.0, 0.0]
    X = np.array([[1.0, -1.0], [-1.0, 1.0], [0.5, 0.5], [2.0, -3.0]])
    rec = _trace_of(net, X).layers[0]
    np.testing.assert_array_equal(rec.dead_mask, [False, False, True, False])
    assert rec.dead_fraction == 0.25
    hist = rec.fprime_hist
    assert hist is not None and hist[0] + hist[19] == 16 and hist.sum() == 16
    # one more example that wakes unit 1 does not revive unit 2
    layer.b[2] = -1.0  # now z = 0.1 (x₁ + x₂) − 1 > 0 for x = (6, 6)
    X2 = np.vstack([X, [[6.0, 6.0]]])
    rec = _trace_of(net, X2).layers[0]
    assert rec.dead_fraction == 0.0


@pytest.mark.parametrize(
    ("act", "z", "dead"),
    [
        ("relu", -0.1, True),  # f' = 0
        ("relu", 0.1, False),
        ("leaky_relu", -50.0, False),  # f' = 0.01 never counts as dead
        ("sigmoid", 8.0, False),  # σ'(8) = 3.4e-4 ≥ 1e-3 · 0.25
        ("sigmoid", 9.0, True),  # σ'(9) = 1.2e-4
        ("tanh", 3.0, False),  # 1 − tanh² 3 = 9.9e-3
        ("tanh", 4.5, True),  # 4.9e-4
        ("elu", -8.0, True),  # e^-8 = 3.4e-4
        ("softplus", -8.0, True),  # σ(−8) = 3.4e-4
        ("linear", -8.0, False),
        ("silu", -12.0, True),  # |f'| = 7e-5
        ("silu", -2.4, False),  # f' = −0.0998: |f'| counts
    ],
)
def test_dead_rule_per_activation(act: str, z: float, dead: bool) -> None:
    fn = ACTIVATIONS[act]
    zz = np.full((5, 1), z)
    rec = LayerTrace(1, act)
    rec.fprime = fn.der(zz, fn.f(zz))
    assert rec.dead_mask is not None and bool(rec.dead_mask[0]) is dead
    assert rec.dead_fraction == (1.0 if dead else 0.0)


def test_der_max_is_the_largest_derivative() -> None:
    z = np.linspace(-20, 20, 400001)
    for act in ACTIVATIONS.values():
        fp = act.der(z, act.f(z))
        assert fp.max() <= act.der_max + 1e-12, act.name
        assert fp.max() >= act.der_max - 1e-8, act.name


def test_statistics_survive_snapshot_and_json() -> None:
    net = _net(batchnorm=True, residual=True, hidden=((4, "sigmoid"), (4, "sigmoid")))
    t = _trace_of(net, np.random.default_rng(5).standard_normal((6, 3)))
    snap = t.snapshot()
    for live, kept in zip(t.layers, snap.layers, strict=True):
        np.testing.assert_array_equal(live.fprime_hist, kept.fprime_hist)  # type: ignore[arg-type]
        assert live.dead_fraction == kept.dead_fraction
        assert (live.batchnorm, live.residual) == (kept.batchnorm, kept.residual)
        for name in ("z_hat", "bn_mean", "bn_var", "z_bn", "delta_z", "dgamma"):
            got, want = getattr(kept, name), getattr(live, name)
            assert (got is None) == (want is None), name
            if want is not None:
                np.testing.assert_array_equal(got, want)
                assert got is not want
    d = snap.to_dict()
    json.dumps(d, allow_nan=False)
    assert d["layers"][1]["batchnorm"] and d["layers"][1]["residual"]
    assert not d["layers"][0]["residual"] and not d["layers"][2]["batchnorm"]
    assert len(d["layers"][0]["z_hat"]) == 6 and len(d["layers"][0]["bn_mean"]) == 4
    assert sum(d["layers"][0]["fprime_hist"]) == 6 * 4
