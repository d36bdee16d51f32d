"""Scoring a network on its data: losses, accuracy or R², the penalty, the confusion matrix.

:class:`Evaluator` holds the (at most ``max_n`` examples, an even stride) train and test
sets an :class:`~.experiment.Experiment` is scored on, and makes an :class:`Evaluation`
or the ``metrics`` dict the server sends. It reads the network; it never changes it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..data.dataset import Dataset
from ..engine.activations import FloatArray
from ..engine.metrics import accuracy, confusion_matrix, r2_score
from ..engine.network import Network
from ..engine.trace import Trace

__all__ = ["Evaluation", "Evaluator"]


@dataclass(frozen=True)
class Evaluation:
    """Losses and scores on the train and test sets (``None`` where not applicable).

    ``train_loss`` and ``test_loss`` are data losses (the loss function alone, mean over
    the examples). ``penalty`` is the L1/L2 term of the weights at that step,
    ``λ₁ Σ|W| + ½ λ₂ Σ W²`` (0 when both are off); ``total_loss`` = ``train_loss`` +
    ``penalty`` is what training minimizes, and ``data_loss`` names ``train_loss`` again
    beside them. ``*_acc`` for classification, ``*_r2`` for regression; test numbers are
    ``None`` when there is no test set.
    """

    step: int
    train_loss: float
    test_loss: float | None
    train_acc: float | None
    test_acc: float | None
    train_r2: float | None
    test_r2: float | None
    penalty: float = 0.0

    @property
    def data_loss(self) -> float:
        """The training set's data loss (= ``train_loss``)."""
        return self.train_loss

    @property
    def total_loss(self) -> float:
        """``train_loss + penalty``: the training objective."""
        return self.train_loss + self.penalty

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict: the fields plus ``data_loss`` and ``total_loss``."""
        return self.__dict__ | {"data_loss": self.data_loss, "total_loss": self.total_loss}


def _subset(X: FloatArray, Y: FloatArray, max_n: int) -> tuple[FloatArray, FloatArray]:
    n = X.shape[0]
    if n <= max_n:
        return X, Y
    stride = -(-n // max_n)
    return X[::stride], Y[::stride]


class Evaluator:
    """Scores ``network`` on at most ``max_n`` examples of each set of ``dataset`` (an
    even stride), in the network's dtype; ``task`` picks accuracy or R²."""

    def __init__(self, network: Network, dataset: Dataset, task: str, max_n: int) -> None:
        self.network, self.dataset, self.task = network, dataset, task
        dt = network.dtype
        X_train, Y_train = np.asarray(dataset.X_train, dt), np.asarray(dataset.Y_train, dt)
        self.train = _subset(X_train, Y_train, max_n)
        X_test, Y_test = np.asarray(dataset.X_test, dt), np.asarray(dataset.Y_test, dt)
        self.test = _subset(X_test, Y_test, max_n) if X_test.shape[0] > 0 else None

    def evaluate(self, step: int, l1: float, l2: float) -> Evaluation:
        """Train/test data loss and accuracy (or R²), and the L1/L2 penalty of the
        weights, labelled ``step``."""
        tr_loss, tr_acc, tr_r2 = self._scores(*self.train)
        te_loss = te_acc = te_r2 = None
        if self.test is not None:
            te_loss, te_acc, te_r2 = self._scores(*self.test)
        penalty = self.network.penalty(float(l1), float(l2))
        return Evaluation(step, tr_loss, te_loss, tr_acc, te_acc, tr_r2, te_r2, penalty)

    def _scores(self, X: FloatArray, Y: FloatArray) -> tuple[float, float | None, float | None]:
        net = self.network
        z, a = net.output_z(X)
        with np.errstate(all="ignore"):
            loss = net.loss.value(a, Y, z)
            if self.task == "regression":
                return loss, None, r2_score(a, Y)
            return loss, accuracy(a, Y), None

    def confusion(self) -> dict[str, Any] | None:
        """For classification, the confusion matrix of the test set (the training set
        when there is none): ``{"labels", "matrix"}``, ``matrix[true][predicted]``
        counts; ``None`` for regression."""
        if self.task == "regression":
            return None
        X, Y = self.test if self.test is not None else self.train
        with np.errstate(all="ignore"):
            cm = confusion_matrix(self.network.predict(X), Y)
        names = self.dataset.class_names
        k = cm.shape[0]
        labels = [str(n) for n in names] if names and len(names) == k else list(range(k))
        return {"labels": labels, "matrix": cm.tolist()}

    def metrics(self, ev: Evaluation, trace: Trace | None) -> dict[str, Any]:
        """``ev`` as the server's ``metrics`` (without ``step``), with the last step's
        mini-batch losses before its update (``batch_data_loss``, ``batch_penalty``,
        ``batch_total_loss``: the trace's ``loss``, ``penalty``, ``objective``; ``None``
        before a loss phase) and the :meth:`confusion` matrix."""
        out = ev.to_dict()
        out.pop("step", None)
        batch = (None,) * 3 if trace is None else (trace.loss, trace.penalty, trace.objective)
        for key, value in zip(("data_loss", "penalty", "total_loss"), batch, strict=True):
            out[f"batch_{key}"] = None if value is None else float(value)
        out["confusion"] = self.confusion()
        return out
