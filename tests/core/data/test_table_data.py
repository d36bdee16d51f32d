"""A table typed into the config: used as typed, its task from the loss."""

from __future__ import annotations

import numpy as np
import pytest

from bpviz.core.data.table_data import make_table


def test_regression_rows_as_typed() -> None:
    ds = make_table([[0.05, 0.1], [1, 2]], [[0.01, 0.99], [3, 4]], "regression")
    assert ds.name == "table" and ds.task == "regression"
    np.testing.assert_array_equal(ds.X_train, [[0.05, 0.1], [1, 2]])
    np.testing.assert_array_equal(ds.Y_train, [[0.01, 0.99], [3, 4]])
    assert (ds.n_train, ds.n_test, ds.n_features, ds.n_outputs) == (2, 0, 2, 2)
    assert ds.X_test.shape == (0, 2) and ds.Y_test.shape == (0, 2)
    assert ds.feature_names == ("x1", "x2") and ds.class_names == ("y1", "y2")
    assert ds.labels_train is None
    np.testing.assert_array_equal(ds.feature_std, [1, 1])
    assert ds.domain is not None and len(ds.domain) == 2
    d = ds.to_dict()
    assert d["train"]["X"] == [[0.05, 0.1], [1.0, 2.0]] and d["test"]["X"] == []


def test_binary_and_multiclass() -> None:
    ds = make_table([[0], [1], [2]], [[0], [1], [1]], "binary")
    np.testing.assert_array_equal(ds.Y_train, [[0], [1], [1]])
    assert ds.labels_train is not None and ds.labels_train.tolist() == [0, 1, 1]
    assert ds.class_names == ("0", "1") and ds.domain is not None and len(ds.domain) == 1
    one_hot = make_table([[0], [1]], [[0, 0, 1], [1, 0, 0]], "multiclass", 3)
    np.testing.assert_array_equal(one_hot.Y_train, [[0, 0, 1], [1, 0, 0]])
    classes = make_table([[0], [1]], [[2], [0]], "multiclass", 3)
    np.testing.assert_array_equal(classes.Y_train, one_hot.Y_train)
    assert classes.class_names == ("0", "1", "2")
    wide = make_table([[0] * 5], [[1]], "regression")
    assert wide.domain is None and "train" not in wide.to_dict()


@pytest.mark.parametrize(
    ("x", "y", "task", "n"),
    [
        ([], [], "regression", 2),
        ([[1, 2], [3]], [[1], [2]], "regression", 2),
        ([[1]], [[1], [2]], "regression", 2),
        ([[np.nan]], [[1]], "regression", 2),
        ([[1]], [[0.5]], "binary", 2),
        ([[1]], [[0, 1]], "binary", 2),
        ([[1]], [[0.5, 0.5]], "multiclass", 2),
        ([[1]], [[1.5]], "multiclass", 2),
        ([[1]], [[3]], "multiclass", 3),
        ([[1]], [[0, 1]], "multiclass", 3),
    ],
)
def test_what_does_not_fit_is_refused(x: list, y: list, task: str, n: int) -> None:  # type: ignore[type-arg]
    with pytest.raises(ValueError):
        make_table(x, y, task, n)  # type: ignore[arg-type]
