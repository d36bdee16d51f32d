"""Stepper: a hand-computed step, phases and cursor, determinism, learning, divergence."""

import math

import numpy as np
import pytest

from bpviz.core.engine.metrics import accuracy
from bpviz.core.engine.network import Network
from bpviz.core.engine.stepper import Stepper
from bpviz.core.engine.trace import LayerTrace, Trace


def _sig(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def test_worked_2_2_1_sigmoid_example_by_hand() -> None:
    """One example through a 2-2-1 sigmoid net (BCE), every number computed by hand."""
    x0, x1, y, lr = 0.05, 0.10, 1.0, 0.5
    w = [[0.15, 0.20], [0.25, 0.30]]
    b = [0.35, 0.35]
    v = [0.40, 0.45]
    c = 0.60
    # forward
    z1 = [w[j][0] * x0 + w[j][1] * x1 + b[j] for j in range(2)]
    a1 = [_sig(z) for z in z1]
    z2 = v[0] * a1[0] + v[1] * a1[1] + c
    yhat = _sig(z2)
    loss = -(y * math.log(yhat) + (1 - y) * math.log(1 - yhat))
    # backward
    d2 = yhat - y
    dv = [d2 * a1[0], d2 * a1[1]]
    dc = d2
    d1 = [v[j] * d2 * a1[j] * (1 - a1[j]) for j in range(2)]
    dw = [[d1[j] * x0, d1[j] * x1] for j in range(2)]
    db = d1
    # update (SGD)
    w_new = [[w[j][i] - lr * dw[j][i] for i in range(2)] for j in range(2)]
    v_new = [v[j] - lr * dv[j] for j in range(2)]

    net = Network.build(2, [(2, "sigmoid")], 1, loss="bce")
    net.set_weights([(np.array(w), np.array(b)), (np.array([v]), np.array([c]))])
    st = Stepper(net, [[x0, x1]], [[y]], batch_size=1)
    st.hyper.learning_rate = lr
    st.step()
    t = st.trace
    assert t is not None and t.complete and not t.diverged
    h, o = t.layers
    tol = dict(rel=1e-14, abs=1e-16)
    assert h.z[0] == pytest.approx(z1, **tol)
    assert h.a[0] == pytest.approx(a1, **tol)
    assert o.z[0, 0] == pytest.approx(z2, **tol)
    assert o.a[0, 0] == pytest.approx(yhat, **tol)
    assert t.loss == pytest.approx(loss, **tol)
    assert o.delta[0, 0] == pytest.approx(d2, **tol)
    assert o.dW[0] == pytest.approx(dv, **tol)
    assert o.db[0] == pytest.approx(dc, **tol)
    assert h.fprime[0] == pytest.approx([a * (1 - a) for a in a1], **tol)
    assert h.grad_a[0] == pytest.approx([v[0] * d2, v[1] * d2], **tol)
    assert h.delta[0] == pytest.approx(d1, **tol)
    assert h.dW[0] == pytest.approx(dw[0], **tol) and h.dW[1] == pytest.approx(dw[1], **tol)
    assert h.db == pytest.approx(db, **tol)
    assert net.layers[0].W[0] == pytest.approx(w_new[0], **tol)
    assert net.layers[0].W[1] == pytest.approx(w_new[1], **tol)
    assert net.layers[1].W[0] == pytest.approx(v_new, **tol)
    assert net.layers[1].b[0] == pytest.approx(c - lr * dc, **tol)
    assert o.dW_update[0] == pytest.approx([-lr * g for g in dv], **tol)
    assert h.delta_mean_norm == pytest.approx(math.hypot(*d1), **tol)
    assert t.grad_norm == pytest.approx(
        math.sqrt(sum(g * g for g in [*dv, dc, *d1, *dw[0], *dw[1]])), **tol
    )


def _assert_same_trace(ta: Trace, tb: Trace) -> None:
    """Every number of two traces is equal."""
    for name in ("step", "epoch", "hyper", "loss", "penalty", "grad_norm", "clip_scale"):
        assert getattr(ta, name) == getattr(tb, name), name
    for ra, rb in zip(ta.layers, tb.layers, strict=True):
        for name in (*LayerTrace._ARRAYS, "fprime_hist", "dead_mask"):
            x, y = getattr(ra, name), getattr(rb, name)
            assert (x is None) == (y is None), name
            if x is not None:
                np.testing.assert_array_equal(x, y)
        for name in LayerTrace._FLOATS:
            assert getattr(ra, name) == getattr(rb, name), name


def _xor() -> tuple[np.ndarray, np.ndarray]:
    return np.array([[0, 0], [0, 1], [1, 0], [1, 1]], float), np.array([[0], [1], [1], [0]], float)


def _stepper(seed: int = 0, **kw: object) -> Stepper:
    rng = np.random.default_rng(5)
    X = rng.standard_normal((23, 2))
    Y = (X[:, :1] * X[:, 1:] > 0).astype(float)
    net = Network.build(2, [(5, "tanh"), (3, "relu")], 1, loss="bce", seed=seed, **kw)  # type: ignore[arg-type]
    return Stepper(net, X, Y, batch_size=5, rng=np.random.default_rng(seed))


def test_phases_and_cursor() -> None:
    st = _stepper()
    assert st.phases() == [
        ("forward", 1),
        ("forward", 2),
        ("forward", 3),
        ("loss", None),
        ("backward", 3),
        ("backward", 2),
        ("backward", 1),
        ("update", None),
    ]
    assert st.cursor == 0 and st.trace is None
    seen = []
    for i in range(8):
        assert st.cursor == i
        seen.append(st.step_phase())
        t = st.trace
        assert t is not None and t.phases_done == i + 1
    assert seen == st.phases() and st.cursor == 0 and st.steps_done == 1
    # fields appear phase by phase
    st.step_phase()
    t = st.trace
    assert t is not None and t.step == 2
    assert t.layers[0].z is not None and t.layers[1].z is None and t.loss is None
    st.run_forward()
    assert st.cursor == 3 and t.layers[2].a is not None and t.loss is None
    st.run_forward()  # nothing left to do
    assert st.cursor == 3
    st.run_backward()
    assert st.cursor == 7 and t.loss is not None and t.layers[0].dW is not None
    assert t.layers[0].dW_update is None and not t.complete
    st.run_forward()  # finishes this step, then runs the next forward
    assert st.steps_done == 2 and st.cursor == 3 and st.trace is not t
    st.step()  # finishes the step that was midway
    assert st.cursor == 0 and st.steps_done == 3
    st.step()  # a whole new one
    assert st.cursor == 0 and st.steps_done == 4


def test_step_equals_phase_by_phase() -> None:
    a, b = _stepper(), _stepper()
    for _ in range(7):
        a.step()
        for _ in range(len(b.phases())):
            b.step_phase()
        ta, tb = a.trace, b.trace
        assert ta is not None and tb is not None
        assert ta.loss == tb.loss and ta.grad_norm == tb.grad_norm
        for ra, rb in zip(ta.layers, tb.layers, strict=True):
            np.testing.assert_array_equal(ra.delta, rb.delta)
            np.testing.assert_array_equal(ra.dW, rb.dW)
            np.testing.assert_array_equal(ra.dW_update, rb.dW_update)
    np.testing.assert_array_equal(a.network.params, b.network.params)


def test_determinism_same_seed_same_trace() -> None:
    a, b = _stepper(seed=3, dropout=0.3), _stepper(seed=3, dropout=0.3)
    a.run_steps(9)
    b.run_steps(9)
    np.testing.assert_array_equal(a.network.params, b.network.params)
    ta, tb = a.trace, b.trace
    assert ta is not None and tb is not None
    np.testing.assert_array_equal(ta.batch, tb.batch)
    np.testing.assert_array_equal(ta.layers[0].mask, tb.layers[0].mask)
    _assert_same_trace(ta, tb)
    c = _stepper(seed=4, dropout=0.3)
    c.run_steps(9)
    assert not np.array_equal(a.network.params, c.network.params)


def test_batches_cover_each_epoch_once() -> None:
    st = _stepper()
    seen: list[int] = []
    sizes = []
    n = st.epoch()
    assert n == 5  # 23 examples in batches of 5: 5,5,5,5,3
    # replay the same order with a fresh stepper, recording batches
    st2 = _stepper()
    for _ in range(5):
        st2.step()
        t = st2.trace
        assert t is not None and t.batch is not None
        seen.extend(t.batch.tolist())
        sizes.append(len(t.batch))
    assert sorted(seen) == list(range(23)) and sizes == [5, 5, 5, 5, 3]
    np.testing.assert_array_equal(st.network.params, st2.network.params)
    assert st.batches.epoch == 1 and st.epoch_progress == 1.0
    st.step()
    assert st.batches.epoch == 2 and st.trace is not None and st.trace.epoch == 2
    st.set_batch_size(1)
    st.step()
    assert st.trace is not None and st.trace.x is not None and st.trace.x.shape == (1, 2)
    st.set_batch_size(10**6)
    assert st.batch_size == 23


def test_snapshot_survives_next_step() -> None:
    st = _stepper(dropout=0.2)
    st.step()
    t = st.trace
    assert t is not None
    snap = t.snapshot()
    z_before = t.layers[0].z.copy()  # type: ignore[union-attr]
    st.step()
    np.testing.assert_array_equal(snap.layers[0].z, z_before)
    assert not np.array_equal(t.layers[0].z, z_before)  # the live trace points at buffers
    assert snap.output_delta is snap.layers[-1].delta
    assert snap.hyper == t.hyper and snap.step == 1


def test_clipping_by_global_norm() -> None:
    a, b = _stepper(), _stepper()
    b.clip_norm = 1e-3
    a.step()
    b.step()
    ta, tb = a.trace, b.trace
    assert ta is not None and tb is not None
    assert tb.clipped and not ta.clipped and ta.grad_norm == tb.grad_norm
    assert tb.clip_scale == pytest.approx(1e-3 / tb.grad_norm)
    upd = np.concatenate([u.ravel() for r in tb.layers for u in (r.dW_update, r.db_update)])  # type: ignore[union-attr]
    assert math.sqrt(float(upd @ upd)) == pytest.approx(b.hyper.learning_rate * 1e-3)
    np.testing.assert_array_equal(ta.layers[0].dW, tb.layers[0].dW)  # dW recorded unclipped


def test_penalties_added_to_dw() -> None:
    a, b = _stepper(), _stepper()
    b.set_penalties(0.01, 0.1)
    w0 = b.network.layers[0].W.copy()
    a.step()
    b.step()
    ta, tb = a.trace, b.trace
    assert ta is not None and tb is not None
    np.testing.assert_allclose(
        tb.layers[0].dW, ta.layers[0].dW + 0.01 * np.sign(w0) + 0.1 * w0, rtol=1e-13
    )
    np.testing.assert_allclose(ta.layers[0].db, tb.layers[0].db)
    assert tb.penalty == pytest.approx(b.network.penalty(0.01, 0.1), rel=0.05)
    assert tb.objective == tb.loss + tb.penalty  # type: ignore[operator]


def test_xor_learned_by_small_tanh_network() -> None:
    X, Y = _xor()
    net = Network.build(2, [(4, "tanh")], 1, loss="bce", seed=0)
    st = Stepper(net, X, Y, batch_size=4, rng=np.random.default_rng(0))
    st.hyper.learning_rate = 0.5
    st.run_steps(600)
    assert accuracy(net.predict(X), Y) == 1.0
    assert st.trace is not None and st.trace.loss is not None and st.trace.loss < 0.05


def test_x_squared_fitted_by_relu_network() -> None:
    x = np.linspace(-1, 1, 41)[:, None]
    net = Network.build(1, [(16, "relu")], 1, loss="mse", init="he_normal", seed=0)
    st = Stepper(net, x, x**2, batch_size=10, rng=np.random.default_rng(0), optimizer="adam")
    st.hyper.learning_rate = 0.02
    st.run_steps(2000)
    assert net.objective(x, x**2) < 1e-3


@pytest.mark.parametrize("how", ["lr", "init"])
def test_divergence_stops_training_and_keeps_weights_finite(how: str) -> None:
    x = np.linspace(-1, 1, 41)[:, None]
    if how == "lr":
        net = Network.build(1, [(8, "relu")], 1, loss="mse", init="he_normal", seed=0)
        st = Stepper(net, x, 100 * x**2, batch_size=10)
        st.hyper.learning_rate = 10.0
    else:
        net = Network.build(1, [(8, "relu")] * 3, 1, loss="mse", init="naive", seed=0)
        net.params *= 1e80
        st = Stepper(net, x, x**2, batch_size=10)
    n = st.run_steps(1000)
    assert st.diverged and n < 1000
    t = st.trace
    assert t is not None and t.diverged and t.diverged_reason in ("loss", "gradient", "update")
    assert not t.complete
    assert np.isfinite(net.params).all()
    frozen = net.params.copy()
    assert st.step_phase() is None
    st.step()
    st.run_forward()
    st.epoch()
    np.testing.assert_array_equal(net.params, frozen)
    net.reset()
    st.reset()
    assert not st.diverged and st.cursor == 0 and st.trace is None
    st.step()
    assert st.steps_done == 1


def test_sigmoid_with_huge_learning_rate_never_raises() -> None:
    X, Y = _xor()
    net = Network.build(2, [(4, "sigmoid")] * 3, 1, loss="bce", init="naive", seed=1)
    st = Stepper(net, X, Y, batch_size=2)
    st.hyper.learning_rate = 1e300
    st.run_steps(50)
    assert np.isfinite(net.params).all()
    if st.diverged:
        assert st.trace is not None and st.trace.diverged


def test_switch_optimizer_and_live_hyper() -> None:
    st = _stepper()
    st.set_optimizer("momentum")
    st.step()
    opt = st.optimizer
    st.hyper.learning_rate = 0.001
    st.set_optimizer("momentum")
    assert st.optimizer is opt and st.hyper.learning_rate == 0.001
    st.set_optimizer("adam")
    assert st.optimizer is not opt and st.optimizer.t == 0
    assert st.hyper.learning_rate == 0.001


def test_float32_training_runs() -> None:
    st = _stepper(dtype="float32")
    st.run_steps(5)
    t = st.trace
    assert t is not None and t.layers[0].dW is not None
    assert t.layers[0].dW.dtype == np.float32 and st.network.params.dtype == np.float32


def test_bad_data_rejected() -> None:
    net = Network.build(2, [(3, "tanh")], 1)
    with pytest.raises(ValueError):
        Stepper(net, np.ones((3, 2)), np.ones((2, 1)))
    with pytest.raises(ValueError):
        Stepper(net, np.ones((3, 3)), np.ones((3, 1)))


def test_epochs_counts_passes_from_zero() -> None:
    st = _stepper()
    assert st.epochs == 0.0
    st.step()
    assert st.epochs == pytest.approx(5 / 23)
    st.epoch()
    assert st.epochs == pytest.approx(1.0)
    st.step()
    assert st.epochs == pytest.approx(1 + 5 / 23)


@pytest.mark.parametrize("count", [1, 2, 3])
def test_steps_to_epoch_end_predicts_epoch(count: int) -> None:
    st = _stepper()
    for warmup in range(7):
        predicted = st.steps_to_epoch_end(count)
        done = sum(st.epoch() for _ in range(count))
        assert done == predicted, (warmup, done, predicted)
        st.step_phase()  # leave a step in progress half the time
        if warmup % 2:
            st.step()


# ------------------------------------------------------------ BatchNorm and residual


def _block_stepper(seed: int = 0, **kw: object) -> Stepper:
    rng = np.random.default_rng(5)
    X = rng.standard_normal((23, 2))
    Y = (X[:, :1] * X[:, 1:] > 0).astype(float)
    net = Network.build(
        2,
        [(5, "sigmoid"), (5, "relu"), (5, "tanh")],
        1,
        loss="bce",
        seed=seed,
        **kw,  # type: ignore[arg-type]
    )
    return Stepper(net, X, Y, batch_size=5, rng=np.random.default_rng(seed))


BLOCK_OPTIONS = [
    {"batchnorm": True},
    {"residual": True},
    {"batchnorm": True, "residual": True},
    {"batchnorm": True, "residual": True, "dropout": 0.3},
]


@pytest.mark.parametrize("kw", BLOCK_OPTIONS, ids=lambda kw: "+".join(sorted(kw)))
def test_blocks_keep_the_phases(kw: dict[str, object]) -> None:
    st = _block_stepper(**kw)
    assert st.phases() == [
        ("forward", 1),
        ("forward", 2),
        ("forward", 3),
        ("forward", 4),
        ("loss", None),
        ("backward", 4),
        ("backward", 3),
        ("backward", 2),
        ("backward", 1),
        ("update", None),
    ]
    # BatchNorm's numbers appear in the forward phase of their layer
    st.step_phase()
    t = st.trace
    assert t is not None
    if kw.get("batchnorm"):
        assert t.layers[0].z_hat is not None and t.layers[1].z_hat is None
        assert t.layers[1].batchnorm  # the record knows its kind before its phase
    st.step_phase()
    st.step_phase()
    st.step_phase()
    assert t.layers[-1].batchnorm is False and t.layers[-1].z_hat is None
    st.step_phase()  # loss
    st.step_phase()  # backward 4
    assert t.layers[2].delta is None
    st.step_phase()  # backward 3
    assert t.layers[2].delta is not None and t.layers[1].delta is None
    if kw.get("batchnorm"):
        assert t.layers[2].delta_z is not None and t.layers[2].dgamma is not None
    assert t.layers[1].residual == bool(kw.get("residual"))


@pytest.mark.parametrize("kw", BLOCK_OPTIONS, ids=lambda kw: "+".join(sorted(kw)))
def test_blocks_step_equals_phase_by_phase(kw: dict[str, object]) -> None:
    a, b = _block_stepper(**kw), _block_stepper(**kw)
    a.hyper.learning_rate = b.hyper.learning_rate = 0.5
    for _ in range(7):
        a.step()
        for _ in range(len(b.phases())):
            b.step_phase()
        ta, tb = a.trace, b.trace
        assert ta is not None and tb is not None
        assert ta.loss == tb.loss and ta.grad_norm == tb.grad_norm
        for ra, rb in zip(ta.layers, tb.layers, strict=True):
            for name in ("z", "z_hat", "bn_mean", "bn_var", "z_bn", "a", "delta", "delta_z"):
                x, y = getattr(ra, name), getattr(rb, name)
                assert (x is None) == (y is None), name
                if x is not None:
                    np.testing.assert_array_equal(x, y)
            np.testing.assert_array_equal(ra.dW, rb.dW)
            np.testing.assert_array_equal(ra.dgamma, rb.dgamma)
            np.testing.assert_array_equal(ra.dW_update, rb.dW_update)
            np.testing.assert_array_equal(ra.dgamma_update, rb.dgamma_update)
            np.testing.assert_array_equal(ra.fprime_hist, rb.fprime_hist)  # type: ignore[arg-type]
            assert ra.dead_fraction == rb.dead_fraction
    np.testing.assert_array_equal(a.network.params, b.network.params)
    for sa, sb in zip(a.network.get_bn_state(), b.network.get_bn_state(), strict=True):
        assert (sa is None) == (sb is None)
        if sa is not None and sb is not None:
            for key in sa:
                np.testing.assert_array_equal(sa[key], sb[key])


@pytest.mark.parametrize("kw", BLOCK_OPTIONS, ids=lambda kw: "+".join(sorted(kw)))
def test_blocks_determinism(kw: dict[str, object]) -> None:
    a, b = _block_stepper(seed=3, **kw), _block_stepper(seed=3, **kw)
    a.run_steps(9)
    b.run_steps(9)
    np.testing.assert_array_equal(a.network.params, b.network.params)
    assert a.network.get_bn_state().__repr__() == b.network.get_bn_state().__repr__()
    ta, tb = a.trace, b.trace
    assert ta is not None and tb is not None
    _assert_same_trace(ta, tb)
    c = _block_stepper(seed=4, **kw)
    c.run_steps(9)
    assert not np.array_equal(a.network.params, c.network.params)


def test_plain_network_has_no_block_layers() -> None:
    """Without BatchNorm or skips no layer has either part."""
    st = _stepper()
    assert all(layer.bn is None and not layer.residual for layer in st.network.layers)
    st.step()
    t = st.trace
    assert t is not None and not any(r.batchnorm or r.residual for r in t.layers)
    assert all(r.z_hat is None and r.delta_z is None for r in t.layers)


# ------------------------------------------------------------ the settings of a step


def test_trace_records_the_settings_its_step_used() -> None:
    st = _stepper()
    st.set_optimizer("momentum")
    st.hyper.learning_rate = 0.1
    st.set_penalties(0.001, 0.002)
    st.clip_norm = 5.0
    st.step()
    t = st.trace
    assert t is not None and t.hyper is not None
    assert t.hyper.to_dict() == {
        "optimizer": "momentum",
        "learning_rate": 0.1,
        "momentum": 0.9,
        "rho": 0.9,
        "beta1": 0.9,
        "beta2": 0.999,
        "eps": 1e-8,
        "weight_decay": 0.0,
        "l1": 0.001,
        "l2": 0.002,
        "clip_norm": 5.0,
        "batch_size": 5,
    }
    # a new step takes the settings in force when it begins
    st.hyper.learning_rate = 0.05
    st.set_batch_size(4)
    st.step_phase()
    t2 = st.trace
    assert t2 is not t and t2 is not None and t2.hyper is not None
    assert (t2.hyper.learning_rate, t2.hyper.batch_size) == (0.05, 4)
    assert t.hyper.learning_rate == 0.1  # the old record is untouched (immutable)


def test_a_setting_changed_between_phases_shows_what_the_update_applied() -> None:
    a, b = _stepper(), _stepper()
    b.run_backward()
    b.hyper.learning_rate = 0.5  # set between the backward and the update phases
    b.set_batch_size(3)  # applies from the next step: this batch was drawn with 5
    t = b.trace
    assert t is not None and t.hyper is not None and t.hyper.learning_rate == 0.03
    b.step_phase()  # the update
    assert t.complete and t.hyper.learning_rate == 0.5 and t.hyper.batch_size == 5
    a.run_backward()
    ta = a.trace
    assert ta is not None and ta.layers[0].dW is not None and t.layers[0].dW_update is not None
    np.testing.assert_allclose(t.layers[0].dW_update, -0.5 * ta.layers[0].dW, rtol=1e-15)


def test_replayed_step_shows_its_own_learning_rate() -> None:
    """After a rewind (state loaded, the step replayed with its settings) the trace shows the
    η that step used, not today's."""
    st = _stepper()
    st.run_steps(3)
    state = st.get_state()
    st.hyper.learning_rate = 0.2
    st.step()
    new_t = st.trace
    assert new_t is not None and new_t.hyper is not None and new_t.hyper.learning_rate == 0.2
    st.set_state(state)
    st.hyper.learning_rate = 0.03  # the rewind restores the settings of that time
    st.step()
    t = st.trace
    assert t is not None and t.hyper is not None
    assert t.step == 4 and t.hyper.learning_rate == 0.03
