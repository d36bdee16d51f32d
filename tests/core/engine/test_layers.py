"""Dense layers: forward and backward against plain NumPy, dropout, the skip, buffers."""

import numpy as np
import pytest

from bpviz.core.engine.activations import ACTIVATIONS
from bpviz.core.engine.layers import Dense
from bpviz.core.engine.network import Network, NetworkSpec
from bpviz.core.engine.stepper import Stepper


def _net(**kw: object) -> Network:
    args: dict[str, object] = dict(
        n_in=3, hidden=((5, "tanh"), (4, "relu")), n_out=2, loss="mse", seed=7
    )
    args.update(kw)
    return Network(NetworkSpec(**args))  # type: ignore[arg-type]


def test_training_forward_backward_buffers_match_inference() -> None:
    net = _net()
    X = np.random.default_rng(1).standard_normal((4, 3))
    net.prepare(4)
    a = X
    for layer in net.layers:
        a = layer.forward(a, True)
    np.testing.assert_allclose(a, net.predict(X), rtol=1e-14)


def test_dropout_mask_inverted_training_only() -> None:
    net = _net(dropout=0.5, hidden=((200, "tanh"),))
    X = np.random.default_rng(2).standard_normal((50, 3))
    net.prepare(50)
    layer = net.layers[0]
    layer.new_record()
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


def test_backward_matches_plain_numpy() -> None:
    """δ = upstream ⊙ f'(z), dW = δᵀ a_prev / B + penalties, db = mean δ, grad = δ W."""
    rng = np.random.default_rng(2)
    W, b = rng.standard_normal((4, 3)), rng.standard_normal(4)
    layer = Dense(2, W, b, ACTIVATIONS["tanh"])
    layer.l1, layer.l2 = 0.01, 0.1
    X, up = rng.standard_normal((6, 3)), rng.standard_normal((6, 4))
    layer.prepare(6)
    rec = layer.new_record()
    a = layer.forward(X, True)
    z = X @ W.T + b
    np.testing.assert_allclose(rec.z, z, rtol=1e-14)
    np.testing.assert_allclose(a, np.tanh(z), rtol=1e-14)
    grad = layer.backward(up)
    delta = up * (1 - np.tanh(z) ** 2)
    np.testing.assert_allclose(rec.delta, delta, rtol=1e-13)
    dW = delta.T @ X / 6 + 0.01 * np.sign(W) + 0.1 * W
    np.testing.assert_allclose(layer.dW, dW, rtol=1e-13)
    np.testing.assert_allclose(layer.db, delta.mean(axis=0), rtol=1e-13)
    np.testing.assert_allclose(grad, delta @ W, rtol=1e-13)
    assert rec.grad_a is up and rec.fprime is not None and rec.delta_z is None
    assert rec.dW_norm == pytest.approx(np.linalg.norm(dW), rel=1e-14)
    assert rec.W_norm == pytest.approx(np.linalg.norm(W), rel=1e-14)
    assert rec.dW_ratio == pytest.approx(rec.dW_norm / rec.W_norm, rel=1e-15)
    assert rec.delta_norm == pytest.approx(np.linalg.norm(delta) / np.sqrt(6), rel=1e-14)
    # f'(z), taken in the forward pass while z is in cache, is what backward used
    np.testing.assert_array_equal(rec.fprime, ACTIVATIONS["tanh"].der(rec.z, rec.a_raw))
    # layer 1 passes nothing down
    first = Dense(1, W, b, ACTIVATIONS["tanh"])
    first.prepare(6)
    first.forward(X, True)
    assert first.backward(up) is None


def test_output_layer_takes_the_loss_delta() -> None:
    rng = np.random.default_rng(3)
    out = Dense(2, rng.standard_normal((2, 3)), np.zeros(2), ACTIVATIONS["sigmoid"], is_output=True)
    out.prepare(5)
    rec = out.new_record()
    x = rng.standard_normal((5, 3))
    out.forward(x, True)
    d = out.delta_buffer
    d[...] = rng.standard_normal((5, 2))  # the loss writes δ⁽ᴸ⁾ here
    out.backward(d)
    assert rec.delta is d and rec.grad_a is None
    np.testing.assert_allclose(out.dW, d.T @ x / 5, rtol=1e-14)
    assert out.dropout == 0.0


def test_options_are_checked() -> None:
    relu = ACTIVATIONS["relu"]
    with pytest.raises(ValueError):
        Dense(2, np.zeros((2, 3)), np.zeros(2), relu, residual=True)  # skip needs n_in == n_out
    with pytest.raises(ValueError):
        Dense(3, np.zeros((2, 2)), np.zeros(2), relu, is_output=True, batchnorm=True)
    plain = Dense(1, np.ones((2, 3)), np.full(2, 0.5), relu)
    assert plain.bn is None and not plain.batchnorm and not plain.residual
    assert [n for n, _, _ in plain.param_shapes()] == ["W", "b"] and plain.n_params == 8
    with_bn = Dense(1, np.ones((2, 3)), np.full(2, 0.5), relu, batchnorm=True)
    assert with_bn.n_params == 6 + 2 + 2
    np.testing.assert_array_equal(with_bn.b, 0.0)  # β starts at 0, not at the bias draw


def test_one_buffer_cache_per_batch_size() -> None:
    layer = Dense(2, np.ones((3, 3)), np.zeros(3), ACTIVATIONS["tanh"], batchnorm=True)
    layer.prepare(4)
    buf4 = layer._buf
    layer.prepare(4)
    assert layer._buf is buf4  # same size: nothing to do
    layer.prepare(7)
    assert layer._buf is not buf4 and layer.delta_buffer.shape == (7, 3)
    layer.prepare(4)
    assert layer._buf is buf4  # cached
    assert buf4 is not None and buf4.bn is not None and buf4.delta_z is buf4.bn.delta_z
    for B in (1, 2, 3, 5, 6):
        layer.prepare(B)
    assert len(layer._cache) <= 4  # bounded


def test_residual_layer_backward_adds_the_skip() -> None:
    rng = np.random.default_rng(4)
    W = rng.standard_normal((3, 3))
    layer = Dense(2, W, np.zeros(3), ACTIVATIONS["linear"], residual=True)
    layer.prepare(2)
    rec = layer.new_record()
    x = rng.standard_normal((2, 3))
    np.testing.assert_allclose(layer.forward(x, True), x @ W.T + x, rtol=1e-14)
    up = rng.standard_normal((2, 3))
    grad = layer.backward(up)
    np.testing.assert_allclose(grad, up @ W + up, rtol=1e-14)
    assert rec.residual and rec.a is not rec.a_raw
