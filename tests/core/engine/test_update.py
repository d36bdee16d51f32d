"""The update phase: clipping, divergence, and plain SGD's chunked update with ΔW on demand."""

import numpy as np
import pytest

from bpviz.core.engine.network import Network
from bpviz.core.engine.stepper import Stepper
from bpviz.core.engine.update import CHUNK


def _stepper(width: int = 4, dtype: str = "float64", **kw: object) -> Stepper:
    rng = np.random.default_rng(1)
    X = rng.standard_normal((30, 3))
    Y = rng.standard_normal((30, 2))
    net = Network.build(3, [(width, "tanh"), (width, "relu")], 2, loss="mse", dtype=dtype)
    return Stepper(net, X, Y, batch_size=8, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("width", [4, 300])  # 300: more than one chunk of parameters
def test_sgd_update_is_minus_eta_times_the_gradient(width: int, dtype: str) -> None:
    st = _stepper(width, dtype)
    net = st.network
    assert (net.n_params > CHUNK) == (width == 300)
    st.hyper.learning_rate = 0.1
    st.run_backward()
    before = net.params.copy()
    grads = net.grads.copy()
    st.step()  # the update
    t = st.trace
    assert t is not None and t.complete
    delta = np.multiply(grads, -0.1)  # the same float32/float64 rounding as the engine
    np.testing.assert_array_equal(net.params, before + delta)
    got = np.concatenate(
        [u.ravel() for r in t.layers for u in (r.dW_update, r.db_update)]  # type: ignore[union-attr]
    )
    np.testing.assert_array_equal(got, delta)
    assert got.dtype == np.dtype(dtype)


def test_an_old_steps_unwritten_update_never_overwrites_a_newer_one() -> None:
    st = _stepper()
    st.step()
    old = st.trace  # plain SGD: ΔW not written out yet
    st.set_optimizer("momentum")  # the next update writes ΔW itself
    st.step()
    new = st.trace
    assert old is not None and new is not None and new is not old
    assert new.layers[0].dW_update is not None
    kept = new.layers[0].dW_update.copy()
    assert old.layers[0].dW_update is not None  # reading the old record writes nothing
    np.testing.assert_array_equal(new.layers[0].dW_update, kept)


def test_snapshot_writes_the_update_out() -> None:
    st = _stepper()
    st.step()
    t = st.trace
    assert t is not None
    snap = t.snapshot()
    st.step()
    grads_then = snap.layers[1].dW
    assert grads_then is not None and snap.layers[1].dW_update is not None
    np.testing.assert_array_equal(snap.layers[1].dW_update, np.multiply(grads_then, -0.03))


def test_huge_learning_rate_takes_the_checked_path() -> None:
    """When no bound on |ΔW| is known to be safe, ΔW is written and checked first."""
    st = _stepper()
    st.hyper.learning_rate = 1e306
    st.run_steps(5)
    assert np.isfinite(st.network.params).all()
    t = st.trace
    assert t is not None and (t.complete or t.diverged_reason in ("update", "gradient", "loss"))
