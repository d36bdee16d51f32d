"""Network: forward against plain NumPy, the flat vectors, weights I/O, copies, dtype, specs."""

import numpy as np
import pytest

from bpviz.core.engine.network import Network, NetworkSpec
from bpviz.core.engine.stepper import Stepper
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


def test_set_weights_validates_and_keeps_the_views() -> None:
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
    net.set_weights(w)
    np.testing.assert_array_equal(net.layers[0].W, w[0][0])
    assert net.layers[0].W.base is not None  # still views of the flat vector
    net.layers[0].W[0, 0] = 123.0
    assert net.params[0] == 123.0


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


def test_batchnorm_keeps_the_same_initial_weights_and_counts_gamma() -> None:
    plain = _net(seed=3, init="naive")
    bn = _net(seed=3, init="naive", batchnorm=True)
    for a, b in zip(plain.layers, bn.layers, strict=True):
        np.testing.assert_array_equal(a.W, b.W)
    np.testing.assert_array_equal(plain.layers[-1].b, bn.layers[-1].b)  # output keeps its bias
    assert [layer.batchnorm for layer in bn.layers] == [True, True, False]
    assert [layer.bn is None for layer in plain.layers] == [True, True, True]
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
    assert [layer.residual for layer in net.layers] == [False, True, False, True, True, False]
    assert not any(layer.batchnorm for layer in net.layers)


def test_batchnorm_state_io() -> None:
    net = _net(batchnorm=True, residual=True, hidden=((4, "tanh"), (4, "relu")))
    rng = np.random.default_rng(2)
    X, Y = rng.standard_normal((20, 3)), rng.standard_normal((20, 2))
    st = Stepper(net, X, Y, batch_size=5)
    st.run_steps(4)
    bn = net.layers[0].bn
    assert bn is not None
    assert not np.allclose(bn.running_mean, 0.0)
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
    bn = net.layers[0].bn
    assert bn is not None
    np.testing.assert_array_equal(bn.running_mean, 0.0)
    np.testing.assert_array_equal(bn.running_var, 1.0)


def test_the_output_activation_is_the_spec_s_or_the_loss_s() -> None:
    from bpviz.core.engine.network import NetworkSpec

    assert Network.build(2, [(3, "tanh")], 1, loss="mse").layers[-1].activation.name == "linear"
    net = Network.build(2, [(3, "tanh")], 2, loss="mse", output_activation="sigmoid")
    assert net.layers[-1].activation.name == "sigmoid" and net.loss.activation.name == "sigmoid"
    net.reset(3)
    assert net.layers[-1].activation.name == "sigmoid"
    with pytest.raises(ValueError, match="does not allow the output activation"):
        NetworkSpec(2, (), 1, loss="bce", output_activation="tanh").validate()
    # the same weights whatever the output activation (the init draws do not depend on it)
    a = Network.build(2, [(3, "tanh")], 2, loss="mse", seed=4)
    b = Network.build(2, [(3, "tanh")], 2, loss="mse", seed=4, output_activation="tanh")
    assert np.array_equal(a.params, b.params)
