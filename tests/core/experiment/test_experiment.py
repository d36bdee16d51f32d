"""Experiment: built from a config and a data set, stepping, history, reset, live training."""

from typing import Any

import numpy as np

from bpviz.core.data.dataset import Dataset, assemble
from bpviz.core.experiment.build import build
from bpviz.core.experiment.config import Config, validate
from bpviz.core.experiment.experiment import Experiment

HIDDEN = [{"units": 6, "activation": "tanh"}, {"units": 4, "activation": "tanh"}]


def config(network: dict[str, Any] | None = None, **training: Any) -> Config:
    """A config on the xor set (the data itself comes from :func:`_xor_ds`)."""
    return validate(
        {
            "data": {"name": "xor", "samples": 200},
            "network": {"hidden": HIDDEN, **(network or {})},
            "training": {"learning_rate": 0.3, **training},
        }
    )


def dataset(X: np.ndarray, Y: np.ndarray, n_train: int, task: Any) -> Dataset:
    """A Dataset of these arrays (network space, no scaling); ``Y`` one-hot or a column."""
    t = Y.argmax(axis=1) if task == "multiclass" else Y
    if task == "binary":
        t = Y[:, 0].astype(np.int64)
    k = Y.shape[1] if task == "multiclass" else 2
    d = X.shape[1]
    return assemble(
        "test",
        task,
        X[:n_train],
        X[n_train:],
        t[:n_train],
        t[n_train:],
        None if task != "regression" else np.zeros(1),
        None if task != "regression" else np.ones(1),
        feature_names=tuple(f"x{j}" for j in range(d)),
        class_names=tuple(str(c) for c in range(k)) if task != "regression" else ("y",),
        feature_mean=np.zeros(d),
        feature_std=np.ones(d),
    )


def _xor_ds(n: int = 200, task: Any = "binary") -> Dataset:
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, (n, 2))
    Y = (X[:, :1] * X[:, 1:] > 0).astype(float)
    return dataset(X, Y, int(n * 0.7), task)


def test_build_train_and_evaluate() -> None:
    exp = Experiment(config(), _xor_ds())
    assert exp.network.sizes == [2, 6, 4, 1] and exp.task == "binary"
    ev0 = exp.evaluate()
    assert ev0.step == 0 and ev0.test_loss is not None and ev0.train_r2 is None
    exp.run_steps(1500)
    ev = exp.evaluate()
    assert ev.train_loss < ev0.train_loss
    assert ev.train_acc is not None and ev.train_acc > 0.9
    assert ev.test_acc is not None and ev.test_acc > 0.85
    assert exp.steps_done == 1500
    assert 0 < len(exp.history) <= exp.history.max_points
    assert exp.history.columns["step"][0] == 1
    assert len(exp.history.columns["grad_norm"][-1]) == 3
    assert isinstance(ev.to_dict(), dict)


def test_phase_methods_record_history_on_completion() -> None:
    exp = Experiment(config(), _xor_ds())
    n = len(exp.phases())
    assert n == 3 + 1 + 3 + 1
    for _ in range(n - 1):
        exp.step_phase()
    assert len(exp.history) == 0 and exp.cursor == n - 1
    exp.step_phase()
    assert len(exp.history) == 1 and exp.cursor == 0
    exp.run_forward()
    exp.run_backward()
    assert exp.trace is not None and exp.trace.layers[0].dW is not None
    exp.run_update()
    assert exp.steps_done == 2 and len(exp.history) == 2
    assert exp.epoch() == 12  # 140 train examples in batches of 10, 2 done
    assert exp.epoch() == 14


def test_reset_is_deterministic() -> None:
    exp = Experiment(config(), _xor_ds())
    p0 = exp.network.params.copy()
    exp.run_steps(30)
    p30 = exp.network.params.copy()
    exp.reset()
    assert len(exp.history) == 0 and exp.steps_done == 0
    np.testing.assert_array_equal(exp.network.params, p0)
    exp.run_steps(30)
    np.testing.assert_array_equal(exp.network.params, p30)


def test_set_training_live() -> None:
    cfg = config()
    exp = Experiment(cfg, _xor_ds())
    exp.run_steps(3)
    change = {"optimizer": "adam", "learning_rate": 0.01, "batch_size": 7}
    exp.set_training(cfg.training.model_copy(update=change))
    assert exp.stepper.optimizer.name == "adam" and exp.stepper.hyper.learning_rate == 0.01
    assert exp.training.learning_rate == 0.01 and exp.config.training is exp.training
    assert exp.config.network == cfg.network and cfg.training.learning_rate == 0.3
    change = {"optimizer": "adam", "learning_rate": 0.02, "l2": 0.1}
    exp.set_training(cfg.training.model_copy(update=change))
    exp.run_steps(2)
    assert exp.stepper.optimizer.t == 2  # state kept across a hyper-parameter change
    assert exp.network.layers[0].l2 == 0.1
    assert exp.trace is not None and exp.trace.x is not None and exp.trace.x.shape[0] == 10


def test_divergence_is_reported_not_raised() -> None:
    cfg = config({"loss": "mse", "hidden": [{"units": 8, "activation": "relu"}]}, learning_rate=10)
    ds = _xor_ds(task="regression")
    ds.Y_train = ds.Y_train * 1e6
    exp = Experiment(cfg, ds)
    exp.run_steps(500)
    assert exp.diverged and exp.task == "regression"
    assert np.isfinite(exp.network.params).all()
    ev = exp.evaluate()
    assert ev.train_r2 is not None and ev.train_acc is None
    exp.reset()
    assert not exp.diverged


def test_regression_and_multiclass_tasks() -> None:
    rng = np.random.default_rng(1)
    X = rng.standard_normal((60, 3))
    Y = np.eye(4)[rng.integers(0, 4, 60)]
    cfg = validate({"data": {"name": "digits"}, "network": {"hidden": HIDDEN}})
    assert cfg.network.loss == "softmax_ce"
    exp = Experiment(cfg, dataset(X[:50], Y[:50], 50, "multiclass"))
    exp.run_steps(5)
    ev = exp.evaluate()
    assert exp.task == "multiclass" and ev.test_loss is None and ev.train_acc is not None


def test_built_from_the_default_config() -> None:
    exp = build(validate({}))
    exp.run_steps(20)
    assert exp.steps_done == 20 and exp.evaluate().train_loss > 0
    assert exp.dataset.name == "circle" and exp.config == validate({})


# The history's evaluation budget and what each point records: test_history.py.


def test_config_passes_batchnorm_and_residual() -> None:
    hidden = [{"units": u, "activation": "sigmoid"} for u in (6, 6, 4)]
    for bn, res in ((False, False), (True, False), (False, True), (True, True)):
        cfg = config({"hidden": hidden, "batchnorm": bn, "residual": res})
        exp = Experiment(cfg, _xor_ds())
        spec = exp.network.spec
        assert (spec.batchnorm, spec.residual) == (bn, res)
        assert exp.network.skip_layers == ((2,) if res else ())
        exp.run_steps(20)
        t = exp.trace
        assert t is not None and t.complete
        assert [r.batchnorm for r in t.layers] == [bn, bn, bn, False]
        assert [r.residual for r in t.layers] == [False, res, False, False]
        ev = exp.evaluate()  # inference mode: BatchNorm's running averages
        assert ev.train_acc is not None and np.isfinite(ev.train_loss)
    # a config without the two keys means both off
    exp = Experiment(config(), _xor_ds())
    assert not exp.network.spec.batchnorm and not exp.network.spec.residual


def test_from_real_config_with_batchnorm() -> None:
    cfg = validate(
        {
            "data": {"name": "digits", "samples": 300},
            "network": {
                "hidden": [{"units": 16, "activation": "sigmoid"}] * 3,
                "loss": "softmax_ce",
                "init": "nielsen",
                "batchnorm": True,
                "residual": True,
            },
        }
    )
    exp = build(cfg)
    assert exp.network.skip_layers == (2, 3)
    assert exp.network.n_params == 64 * 16 + 2 * 16 * 16 + 16 * 10 + 10 + 3 * 2 * 16
    exp.run_steps(5)
    assert exp.steps_done == 5
