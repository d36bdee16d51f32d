"""The gradient check in slices: the engine's comparison, within a measured budget."""

from __future__ import annotations

import numpy as np
import pytest

from bpviz.core.engine.gradcheck import gradient_check
from bpviz.core.engine.network import Network, NetworkSpec
from bpviz.core.experiment.gradcheck import GradCheckRun


def _net(**kw: object) -> tuple[Network, np.ndarray, np.ndarray]:
    spec = NetworkSpec(
        n_in=3,
        hidden=((4, "tanh"), (4, "relu"), (4, "sigmoid")),
        n_out=2,
        loss="softmax_ce",
        seed=3,
        **kw,  # type: ignore[arg-type]
    )
    rng = np.random.default_rng(0)
    X = rng.normal(size=(12, 3))
    Y = np.eye(2)[rng.integers(0, 2, 12)]
    return Network(spec), X, Y


def _finish(run: GradCheckRun) -> dict[str, object]:
    while not run.run(0.005):
        pass
    return run.result()


@pytest.mark.parametrize("options", [{}, {"batchnorm": True, "residual": True, "dropout": 0.2}])
def test_it_gives_the_engines_numbers_in_slices(options: dict[str, object]) -> None:
    net, X, Y = _net(**options)
    before = net.params.copy()
    ref = gradient_check(net, X, Y, l1=0.01, l2=0.02).to_dict()
    got = _finish(GradCheckRun(net, X, Y, l1=0.01, l2=0.02, budget_s=60))
    assert got["n_checked"] == ref["n_checked"] == net.n_params and got["n_examples"] == 12
    for a, b in zip(ref["entries"], got["entries"], strict=True):  # type: ignore[call-overload]
        assert (a["layer"], a["param"], a["index"]) == (b["layer"], b["param"], b["index"])
        assert a["analytic"] == b["analytic"]
        assert b["numeric"] == pytest.approx(a["numeric"], rel=1e-9, abs=1e-12)
    assert got["max_rel_error"] < 1e-6
    np.testing.assert_array_equal(net.params, before)  # the network is untouched


class Clock:
    """A clock that moves only when told to (each call: ``step`` seconds)."""

    def __init__(self, step: float) -> None:
        self.now = 0.0
        self.step = step

    def __call__(self) -> float:
        self.now += self.step
        return self.now


def test_the_budget_is_kept_by_measured_time() -> None:
    net, X, Y = _net()
    clock = Clock(0.01)  # every unit of work "takes" a few clock reads: tens of ms
    run = GradCheckRun(net, X, Y, budget_s=1.0, min_params=5, clock=clock)
    result = _finish(run)
    assert 0 < result["n_checked"] < net.n_params  # type: ignore[operator]
    assert run.spent < 1.0 + 0.2  # stopped once the budget was spent
    assert result["time_numeric_s"] == pytest.approx(run.spent)


def test_a_costly_objective_uses_fewer_examples_and_each_run_is_short() -> None:
    net, X, Y = _net()
    X, Y = np.repeat(X, 50, axis=0), np.repeat(Y, 50, axis=0)  # 600 examples
    run = GradCheckRun(net, X, Y, slice_s=1e-5, budget_s=60)
    assert run.progress() == (0, None)
    assert not run.run(0.0)  # one unit at a time
    result = _finish(run)
    assert result["n_examples"] == 1 and result["max_rel_error"] < 1e-6  # type: ignore[operator]
    done, total = run.progress()
    assert done == total == net.n_params
