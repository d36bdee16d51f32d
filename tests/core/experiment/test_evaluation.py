"""Evaluator: scores on an even-stride subset of each set, the confusion matrix, metrics."""

from bpviz.core.experiment.build import build
from bpviz.core.experiment.config import validate
from bpviz.core.experiment.evaluation import Evaluator


def test_scores_a_strided_subset_and_names_the_classes() -> None:
    exp = build(validate({"data": {"name": "circle", "samples": 400, "test_fraction": 0.3}}))
    ev = Evaluator(exp.network, exp.dataset, exp.task, max_n=100)
    assert ev.train[0].shape[0] <= 100 and ev.test is not None
    assert ev.train[0].dtype == exp.network.dtype
    e = ev.evaluate(step=3, l1=0.0, l2=0.5)
    assert e.step == 3 and e.train_acc is not None and e.train_r2 is None
    assert e.penalty > 0 and e.total_loss == e.train_loss + e.penalty
    metrics = ev.metrics(e, trace=None)
    assert "step" not in metrics and metrics["batch_data_loss"] is None
    confusion = metrics["confusion"]
    assert confusion["labels"] == list(exp.dataset.class_names)
    assert sum(map(sum, confusion["matrix"])) == 60  # the 120 test examples, every other one


def test_regression_has_r2_and_no_confusion() -> None:
    exp = build(validate({"data": {"name": "plane", "samples": 200, "test_fraction": 0.0}}))
    ev = Evaluator(exp.network, exp.dataset, exp.task, max_n=1000)
    e = ev.evaluate(0, 0.0, 0.0)
    assert ev.test is None and e.test_loss is None and e.train_r2 is not None
    assert ev.confusion() is None
