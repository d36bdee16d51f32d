"""Metrics: accuracy, confusion matrix, R², tasks."""

import numpy as np
import pytest

from bpviz.core.engine.metrics import accuracy, confusion_matrix, predict_labels, r2_score, task_of


def test_binary_accuracy_and_confusion() -> None:
    yhat = np.array([[0.9], [0.4], [0.5], [0.1]])
    y = np.array([[1.0], [1.0], [0.0], [0.0]])
    assert predict_labels(yhat).tolist() == [1, 0, 1, 0]
    assert accuracy(yhat, y) == 0.5
    np.testing.assert_array_equal(confusion_matrix(yhat, y), [[1, 1], [1, 1]])


def test_multiclass() -> None:
    yhat = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8], [0.3, 0.4, 0.3]])
    y = np.eye(3)[[0, 2, 0]]
    assert accuracy(yhat, y) == pytest.approx(2 / 3)
    cm = confusion_matrix(yhat, y)
    assert cm.tolist() == [[1, 1, 0], [0, 0, 0], [0, 0, 1]]


def test_r2_and_tasks() -> None:
    y = np.array([[1.0], [2.0], [3.0]])
    assert r2_score(y, y) == 1.0
    assert r2_score(np.full_like(y, 2.0), y) == 0.0
    assert np.isnan(r2_score(y, np.ones_like(y)))
    assert task_of("bce") == "binary" and task_of("mse") == "regression"
    assert task_of("softmax_ce") == "multiclass"
