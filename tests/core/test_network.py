"""Network: forward against plain NumPy, dropout, weights I/O, copies, dtype."""

import json

import numpy as np
import pytest

from bpviz.core.network import LayerTrace, Network, NetworkSpec


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
