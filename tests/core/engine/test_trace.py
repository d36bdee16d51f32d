"""Trace records: the f′ statistics of the vanishing-gradient lab, snapshots, StepHyper."""

import json

import numpy as np
import pytest

from bpviz.core.engine.activations import ACTIVATIONS
from bpviz.core.engine.network import Network, NetworkSpec
from bpviz.core.engine.stepper import Stepper
from bpviz.core.engine.trace import FPRIME_BINS, LayerTrace, StepHyper, Trace


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


def test_record_knows_its_kind() -> None:
    assert (LayerTrace(2, "tanh").batchnorm, LayerTrace(2, "tanh").residual) == (False, False)
    rec = LayerTrace(2, "tanh", batchnorm=True, residual=True)
    assert rec.batchnorm and rec.residual and rec.z is None and rec.dW_norm is None


def test_statistics_and_kinds_survive_snapshot() -> None:
    spec = NetworkSpec(3, ((4, "sigmoid"), (4, "sigmoid")), 2, "mse", batchnorm=True, residual=True)
    t = _trace_of(Network(spec), np.random.default_rng(5).standard_normal((6, 3)))
    snap = t.snapshot()
    assert [(r.batchnorm, r.residual) for r in snap.layers] == [
        (True, False),
        (True, True),
        (False, False),
    ]
    for live, kept in zip(t.layers, snap.layers, strict=True):
        np.testing.assert_array_equal(live.fprime_hist, kept.fprime_hist)  # type: ignore[arg-type]
        assert live.dead_fraction == kept.dead_fraction
        assert live.dW_norm == kept.dW_norm and live.W_norm == kept.W_norm
        for name in LayerTrace._ARRAYS:
            got, want = getattr(kept, name), getattr(live, name)
            assert (got is None) == (want is None), name
            if want is not None:
                np.testing.assert_array_equal(got, want)
                assert got is not want
    assert sum(snap.layers[0].fprime_hist) == 6 * 4  # type: ignore[arg-type]
    assert snap.hyper is t.hyper  # immutable: shared
    assert snap.output_delta is snap.layers[-1].delta


def test_step_hyper_is_a_frozen_json_record() -> None:
    h = StepHyper("adam", 0.01, 0.9, 0.9, 0.9, 0.999, 1e-8, 0.0, 0.0, 0.001, 1.0, 32)
    with pytest.raises(AttributeError):
        h.learning_rate = 0.1  # type: ignore[misc]
    d = h.to_dict()
    assert list(d) == [
        "optimizer",
        "learning_rate",
        "momentum",
        "rho",
        "beta1",
        "beta2",
        "eps",
        "weight_decay",
        "l1",
        "l2",
        "clip_norm",
        "batch_size",
    ]
    assert d["optimizer"] == "adam" and d["learning_rate"] == 0.01 and d["batch_size"] == 32
    assert json.loads(json.dumps(d, allow_nan=False)) == d
    h2 = StepHyper("sgd", np.float32(0.5), 0.9, 0.9, 0.9, 0.999, 1e-8, 0, 0, 0, 0, np.int64(3))  # type: ignore[arg-type]
    d2 = h2.to_dict()
    assert type(d2["learning_rate"]) is float and type(d2["batch_size"]) is int
    assert type(d2["weight_decay"]) is float
