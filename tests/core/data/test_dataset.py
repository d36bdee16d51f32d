"""Tests of bpviz.core.data.dataset: the record, its JSON view and the split size."""

from __future__ import annotations

import json

import numpy as np

from bpviz.core.data.builtin import make_dataset
from bpviz.core.data.csv import load_csv
from bpviz.core.data.dataset import DEFAULT_LOSS, assemble
from bpviz.core.engine.registry import LOSSES

GOOD_ROWS = "1,2,0\n3,4,1\n5,6,0\n7,8,1\n"


def test_default_loss_of_each_task_is_the_registry_s() -> None:
    assert DEFAULT_LOSS == {"binary": "bce", "multiclass": "softmax_ce", "regression": "mse"}
    for task, loss in DEFAULT_LOSS.items():
        assert LOSSES[loss].task == task


def test_assemble_one_hot_and_domain() -> None:
    X = np.array([[0.0, 1.0], [2.0, -1.0], [1.0, 0.0]])
    ds = assemble(
        "t",
        "multiclass",
        X[:2],
        X[2:],
        np.array([0, 2]),
        np.array([1]),
        None,
        None,
        feature_names=("a", "b"),
        class_names=("x", "y", "z"),
        feature_mean=np.zeros(2),
        feature_std=np.ones(2),
    )
    np.testing.assert_array_equal(ds.Y_train, [[1, 0, 0], [0, 0, 1]])
    assert ds.n_classes == 3 and ds.default_loss == "softmax_ce"
    assert ds.domain == ((-0.1, 2.1), (-1.1, 1.1))


def test_to_dict_is_json_ready_and_holds_points_for_2d() -> None:
    ds = make_dataset("circle", samples=50)
    d = json.loads(json.dumps(ds.to_dict()))
    assert d["name"] == "circle" and d["task"] == "binary" and d["default_loss"] == "bce"
    assert d["n_train"] == 35 and d["n_test"] == 15
    assert len(d["train"]["X"]) == 35 and len(d["train"]["X"][0]) == 2
    assert ds.labels_train is not None
    assert d["train"]["y"] == ds.labels_train.tolist()
    x0 = d["train"]["X"][0][0]
    assert x0 == round(x0, 4)
    reg = make_dataset("square", samples=20).to_dict()
    assert isinstance(reg["train"]["y"][0], float)
    digits = make_dataset("digits", samples=50).to_dict()
    assert "train" not in digits and digits["input_shape"] == [8, 8]
    json.dumps(digits)


def test_test_size_is_rounded_and_leaves_a_training_example() -> None:
    assert make_dataset("circle", samples=100, test_fraction=0.279).n_test == 28
    tiny = make_dataset("circle", samples=4, test_fraction=0.9)
    assert (tiny.n_train, tiny.n_test) == (1, 3)
    assert load_csv("a,b,c\n" + GOOD_ROWS, test_fraction=0.9).n_train == 1
