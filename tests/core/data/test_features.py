"""Input features of 2-D data: the training and test sets and the grid, mapped alike."""

from __future__ import annotations

import numpy as np
import pytest

from bpviz.core.data.builtin import make_dataset
from bpviz.core.data.features import FEATURE_MAPS, feature_names, is_identity, transform
from bpviz.core.engine.registry import FEATURES


def test_every_feature_is_its_formula() -> None:
    X = np.array([[0.5, -2.0], [3.0, 1.5]])
    out = transform(X, tuple(FEATURES))
    x1, x2 = X[:, 0], X[:, 1]
    expected = [x1, x2, x1**2, x2**2, x1 * x2, np.sin(x1), np.sin(x2)]
    np.testing.assert_array_equal(out, np.column_stack(expected))
    assert list(FEATURE_MAPS) == list(FEATURES)


def test_the_default_is_the_inputs_as_they_are() -> None:
    X = np.ones((3, 2))
    assert is_identity(("x1", "x2")) and transform(X, ("x1", "x2")) is X
    ds = make_dataset("xor", samples=40)
    assert ds.with_features(("x1", "x2")) is ds
    assert ds.n_inputs == 2 and ds.to_dict()["features"] == []


def test_names() -> None:
    assert feature_names(("x1", "x1sq", "x1x2", "sin_x2"), ("x1", "x2")) == (
        "x₁", "x₁²", "x₁x₂", "sin(x₂)"
    )  # fmt: skip
    assert feature_names(("x2sq", "x1x2"), ("area", "rooms")) == ("rooms²", "area·rooms")


def test_a_data_set_with_features() -> None:
    ds = make_dataset("circle", samples=60, seed=3)
    feats = ("x1", "x2", "x1sq", "x2sq")
    f = ds.with_features(feats)
    assert (f.n_features, f.n_inputs, f.features) == (4, 2, feats)
    np.testing.assert_array_equal(f.X_train, transform(ds.X_train, feats))
    np.testing.assert_array_equal(f.X_test, transform(ds.X_test, feats))
    assert f.inputs_train is ds.X_train and f.domain == ds.domain
    grid = np.array([[1.0, 2.0]])
    np.testing.assert_array_equal(f.inputs_of(grid), [[1.0, 2.0, 1.0, 4.0]])
    assert ds.inputs_of(grid) is grid
    d = f.to_dict()
    assert (d["n_features"], d["n_inputs"]) == (4, 2)
    assert d["features"] == list(feats) and d["feature_names"] == ["x₁", "x₂", "x₁²", "x₂²"]
    assert d["input_names"] == ["x1", "x2"]
    assert d["train"] == ds.to_dict()["train"]  # the points of the plane, not the features
    with pytest.raises(ValueError, match="2-D data"):
        make_dataset("square", samples=20).with_features(feats)
    with pytest.raises(ValueError, match="2-D data"):
        f.with_features(("x1",))
