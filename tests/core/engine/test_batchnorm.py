"""BatchNorm: a hand-computed batch, the backward's structure, batch of one, inference."""

import numpy as np
import pytest

from bpviz.core.engine.batchnorm import BN_EPS, BN_MOMENTUM
from bpviz.core.engine.network import Network, NetworkSpec
from bpviz.core.engine.stepper import Stepper


def _bn_net(**kw: object) -> Network:
    args: dict[str, object] = dict(
        n_in=2, hidden=((2, "linear"),), n_out=1, loss="mse", seed=0, batchnorm=True
    )
    args.update(kw)
    return Network(NetworkSpec(**args))  # type: ignore[arg-type]


def test_batchnorm_forward_on_a_hand_computed_batch() -> None:
    """z = W x, μ = [3, 4], σ² = [8/3, 32/3], ẑ, γ ẑ + β, running averages after one step."""
    net = _bn_net()
    layer = net.layers[0]
    bn = layer.bn
    assert bn is not None and layer.batchnorm and not layer.residual
    assert (bn.eps, bn.momentum) == (BN_EPS, BN_MOMENTUM) == (1e-5, 0.9)
    assert [name for name, _, _ in layer.param_shapes()] == ["W", "gamma", "beta"]
    assert layer.param_arrays()[1] is bn.gamma and layer.param_arrays()[2] is layer.b
    np.testing.assert_array_equal(bn.gamma, [1.0, 1.0])  # γ = 1, β = 0 to start
    np.testing.assert_array_equal(layer.b, [0.0, 0.0])
    np.testing.assert_array_equal(bn.running_mean, [0.0, 0.0])
    np.testing.assert_array_equal(bn.running_var, [1.0, 1.0])
    layer.W[...] = [[1.0, 0.0], [0.0, 2.0]]
    bn.gamma[...] = [2.0, 0.5]
    layer.b[...] = [0.1, -0.2]  # b is β
    X = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 0.0]])
    net.prepare(3)
    rec = layer.new_record()
    assert rec.batchnorm and not rec.residual
    a = layer.forward(X, True)
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
    layer.forward(X, True)
    np.testing.assert_allclose(bn.running_mean, [0.3 * 0.9 + 0.3, 0.4 * 0.9 + 0.4], rtol=1e-14)
    # evaluation-mode forward: running averages used and left alone
    before = bn.running_mean.copy()
    out = layer.forward(X, False)
    np.testing.assert_array_equal(bn.running_mean, before)
    zi = (z - before) / np.sqrt(bn.running_var + 1e-5) * [2.0, 0.5] + [0.1, -0.2]
    np.testing.assert_allclose(out, zi, rtol=1e-14)


def test_batchnorm_backward_structure() -> None:
    """δ_z = γ/σ (δ − dβ − ẑ dγ): zero mean over the batch and orthogonal to ẑ."""
    net = _bn_net(hidden=((4, "tanh"), (3, "sigmoid")), n_in=3, n_out=2)
    rng = np.random.default_rng(3)
    for layer in net.layers[:2]:
        assert layer.bn is not None
        layer.bn.gamma[...] = rng.uniform(0.5, 2.0, layer.bn.gamma.shape)
        layer.b[...] = rng.uniform(-1, 1, layer.b.shape)
    st = Stepper(net, rng.standard_normal((7, 3)), rng.standard_normal((7, 2)), batch_size=7)
    st.run_backward()
    t = st.trace
    assert t is not None
    for rec, layer in zip(t.layers[:2], net.layers[:2], strict=True):
        assert layer.bn is not None
        gamma = layer.bn.gamma
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
            gamma / np.sqrt(var_eps) * rec.dgamma * 1e-5 / var_eps,
            rtol=1e-6,
            atol=1e-16,
        )
        expect = (
            gamma / np.sqrt(rec.bn_var + 1e-5) * (rec.delta - rec.db - rec.z_hat * rec.dgamma)  # type: ignore[operator]
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
    bn = net.layers[0].bn
    assert bn is not None
    np.testing.assert_array_equal(bn.running_var, 1.0)  # not updated for B = 1


def test_predict_uses_running_averages_not_the_batch() -> None:
    net = _bn_net(n_in=3, hidden=((5, "tanh"), (4, "relu")), n_out=2)
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


def test_batchnorm_learns_and_matches_its_running_averages() -> None:
    """BatchNorm + residual train (loss goes down) and predict in inference mode.

    (Checked against PyTorch's BatchNorm1d(eps=1e-5, momentum=0.1) + Adam on the same
    batches while writing this: losses, running variances and predictions agree to 1e-14.)
    """
    rng = np.random.default_rng(5)
    X = rng.standard_normal((23, 2))
    Y = (X[:, :1] * X[:, 1:] > 0).astype(float)
    net = Network.build(
        2, [(5, "sigmoid"), (5, "relu"), (5, "tanh")], 1, loss="bce", batchnorm=True, residual=True
    )
    st = Stepper(net, X, Y, batch_size=23, optimizer="adam")  # one batch: averages converge
    st.hyper.learning_rate = 0.02
    before = net.objective(X, Y)
    st.run_steps(400)
    assert net.objective(X, Y) < 0.01 * before
    assert ((net.predict(X) >= 0.5) == (Y == 1)).all()
