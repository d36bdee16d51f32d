"""A small table typed into the config (``data.name`` "table"): the board exercise's data.

The rows are used as typed — no scaling, no shuffling, no test split — so that the
numbers on the page are the ones a student computes by hand. The task follows from the
loss (``registry.LOSSES``): ``mse`` → regression (the targets as typed, any number of
columns), ``bce`` → binary (one column of 0/1), ``softmax_ce`` → multiclass (one-hot
rows, or one column of class numbers 0, 1, …). The config checks the shapes and values
with field paths (``data.x.3.1``) before this module is reached; :func:`make_table`
checks them again and raises ``ValueError``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..engine.registry import Task
from .dataset import Dataset, assemble

__all__ = ["make_table"]

DESCRIPTION = "A table typed into the config: every row a training example, used as typed."


def make_table(
    x: Sequence[Sequence[float]],
    y: Sequence[Sequence[float]],
    task: Task,
    n_classes: int = 2,
) -> Dataset:
    """The data set of a typed table: every row a training example, none for testing.

    Args:
        x: inputs, ``n`` rows of ``d`` numbers.
        y: targets, ``n`` rows: regression, any ``k`` numbers; binary, one 0/1;
            multiclass, one-hot rows of ``K`` or one class number.
        task: what the loss trains (``registry.task_of``).
        n_classes: classes of a multiclass table (the config's ``class_count``: the
            columns of one-hot rows, or the largest class number plus one).

    Returns:
        A :class:`Dataset` ``"table"`` with ``X_train (n, d)`` as typed, ``Y_train
        (n, k)`` (one-hot ``(n, K)`` for multiclass) and empty test arrays.

    Raises:
        ValueError: ragged or empty rows, non-finite numbers, targets that do not fit
            the task.
    """
    X = np.asarray(x, dtype=np.float64)
    T = np.asarray(y, dtype=np.float64)
    if X.ndim != 2 or T.ndim != 2 or X.shape[0] == 0 or X.shape[0] != T.shape[0]:
        raise ValueError(
            f"x and y must be non-empty tables of equal rows, got {X.shape}, {T.shape}"
        )
    if X.shape[1] == 0 or T.shape[1] == 0:
        raise ValueError("x and y need at least one column")
    if not (np.isfinite(X).all() and np.isfinite(T).all()):
        raise ValueError("a table holds finite numbers only")
    d, k = X.shape[1], T.shape[1]
    X_test = np.zeros((0, d))
    names = tuple(f"x{j + 1}" for j in range(d))
    t_mean = t_std = None
    t_train: NDArray[Any]
    t_test: NDArray[Any]
    if task == "regression":
        t_train, t_test = T, np.zeros((0, k))
        t_mean, t_std = np.zeros(k), np.ones(k)
        classes = ("y",) if k == 1 else tuple(f"y{j + 1}" for j in range(k))
    else:
        labels: NDArray[np.float64]
        if task == "binary":
            if k != 1 or not np.isin(T, (0.0, 1.0)).all():
                raise ValueError("binary targets are one column of 0 or 1")
            labels = T[:, 0]
            n_classes = 2
        elif k == 1:  # class numbers
            labels = T[:, 0]
            if not ((labels >= 0).all() and (labels == np.round(labels)).all()):
                raise ValueError("one-column multi-class targets are class numbers 0, 1, …")
        else:  # one-hot rows
            if not (np.isin(T, (0.0, 1.0)).all() and (T.sum(axis=1) == 1).all()):
                raise ValueError("multi-class targets are one-hot rows or one column of classes")
            labels = T.argmax(axis=1).astype(np.float64)
        if task == "multiclass" and ((k > 1 and n_classes != k) or labels.max() >= n_classes):
            raise ValueError(f"{n_classes} classes do not fit these targets")
        t_train = labels.astype(np.int64)
        t_test = np.zeros(0, np.int64)
        classes = tuple(str(c) for c in range(n_classes))
    return assemble(
        "table",
        task,
        X,
        X_test,
        t_train,
        t_test,
        t_mean,
        t_std,
        feature_names=names,
        class_names=classes,
        feature_mean=np.zeros(d),
        feature_std=np.ones(d),
        description=DESCRIPTION,
    )
