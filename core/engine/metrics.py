"""Metrics on a data set: accuracy, confusion matrix, R²; the task a loss implies.

Tasks: ``"binary"`` (one sigmoid output, threshold 0.5), ``"multiclass"`` (softmax,
argmax) and ``"regression"`` (linear outputs).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from .activations import FloatArray
from .registry import task_of

__all__ = ["accuracy", "confusion_matrix", "predict_labels", "r2_score", "task_of"]


def predict_labels(yhat: FloatArray) -> npt.NDArray[np.intp]:
    """Class labels ``(N,)`` from outputs ``(N, K)``: ``ŷ ≥ 0.5`` when ``K = 1``, else argmax.

    Multi-output binary (``K > 1`` sigmoid outputs) is not a case the engine builds.
    """
    if yhat.shape[1] == 1:
        labels: npt.NDArray[np.intp] = (yhat[:, 0] >= 0.5).astype(np.intp)
    else:
        labels = np.argmax(yhat, axis=1).astype(np.intp)
    return labels


def accuracy(yhat: FloatArray, Y: FloatArray) -> float:
    """Fraction of correct labels; ``yhat`` and ``Y`` are ``(N, K)`` (targets 0/1 or one-hot)."""
    if yhat.shape[0] == 0:
        return float("nan")
    return float(np.mean(predict_labels(yhat) == predict_labels(Y)))


def confusion_matrix(yhat: FloatArray, Y: FloatArray) -> npt.NDArray[np.int64]:
    """``(K, K)`` counts, rows = true class, columns = predicted (``K = 2`` for binary)."""
    k = 2 if Y.shape[1] == 1 else Y.shape[1]
    true = predict_labels(Y)
    pred = predict_labels(yhat)
    cm = np.zeros((k, k), dtype=np.int64)
    np.add.at(cm, (true, pred), 1)
    return cm


def r2_score(yhat: FloatArray, Y: FloatArray) -> float:
    """Coefficient of determination ``1 − SS_res / SS_tot`` over all outputs ``(N, K)``.

    ``SS_tot`` is taken about each output's mean; returns ``nan`` when ``SS_tot = 0``.
    """
    res = float(np.sum((yhat - Y) ** 2))
    tot = float(np.sum((Y - Y.mean(axis=0)) ** 2))
    return 1.0 - res / tot if tot > 0.0 else float("nan")
