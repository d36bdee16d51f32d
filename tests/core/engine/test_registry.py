"""The registry names every choice once; the engine's tables hold exactly those names."""

import ast
from pathlib import Path

import numpy as np

from bpviz.core.engine import registry
from bpviz.core.engine.activations import ACTIVATIONS, OUTPUT_ACTIVATIONS
from bpviz.core.engine.initializers import INITIALIZERS
from bpviz.core.engine.losses import LOSSES
from bpviz.core.engine.metrics import task_of
from bpviz.core.engine.network import DTYPES
from bpviz.core.engine.optimizers import OPTIMIZERS


def test_engine_tables_equal_the_registry() -> None:
    # the same names in the same order (the page lists them in this order)
    assert list(ACTIVATIONS) == list(registry.ACTIVATIONS)
    assert list(LOSSES) == list(registry.LOSSES)
    assert list(INITIALIZERS) == list(registry.INITS)
    assert list(OPTIMIZERS) == list(registry.OPTIMIZERS)
    assert list(DTYPES) == list(registry.DTYPES)
    assert all(np.dtype(DTYPES[name]).name == name for name in registry.DTYPES)
    outputs = {a for info in registry.LOSSES.values() for a in info.output_activations}
    assert set(OUTPUT_ACTIVATIONS) == outputs


def test_names_on_the_objects_match_their_keys() -> None:
    assert all(act.name == name for name, act in ACTIVATIONS.items())
    assert all(act.name == name for name, act in OUTPUT_ACTIVATIONS.items())
    assert all(cls.name == name for name, cls in OPTIMIZERS.items())
    for name, loss in LOSSES.items():
        info = registry.LOSSES[name]
        assert loss.name == name and loss.info is info
        assert loss.output_activation == info.output_activation
        assert loss.activation is OUTPUT_ACTIVATIONS[info.output_activation]


def test_loss_tasks_come_from_the_registry() -> None:
    assert task_of is registry.task_of
    assert {name: task_of(name) for name in LOSSES} == {
        "mse": "regression",
        "bce": "binary",
        "softmax_ce": "multiclass",
    }


def test_choices_json_lists_every_name() -> None:
    c = registry.choices()
    assert c["activations"] == list(ACTIVATIONS)
    assert [entry["name"] for entry in c["losses"]] == list(LOSSES)
    assert c["inits"] == list(INITIALIZERS)
    assert [entry["name"] for entry in c["optimizers"]] == list(OPTIMIZERS)
    assert c["dtypes"] == list(DTYPES)


def test_registry_is_standard_library_only() -> None:
    """The CLI reads it without NumPy."""
    tree = ast.parse(Path(registry.__file__).read_text())
    roots = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            roots.add(node.module.split(".")[0])
    assert roots <= {"__future__", "dataclasses", "typing"}


def test_mse_allows_a_sigmoid_or_tanh_output_the_others_keep_theirs() -> None:
    outputs = {name: info.output_activations for name, info in registry.LOSSES.items()}
    assert outputs == {
        "mse": ("linear", "sigmoid", "tanh"),
        "bce": ("sigmoid",),
        "softmax_ce": ("softmax",),
    }
    assert {name: info.output_activation for name, info in registry.LOSSES.items()} == {
        "mse": "linear", "bce": "sigmoid", "softmax_ce": "softmax"
    }  # fmt: skip


def test_features_and_pseudo_data_sets_are_listed_once() -> None:
    from bpviz.core.data.features import FEATURE_MAPS

    assert list(FEATURE_MAPS) == list(registry.FEATURES)
    assert registry.DEFAULT_FEATURES == ("x1", "x2")
    c = registry.choices()
    assert [f["name"] for f in c["features"]] == list(registry.FEATURES)
    assert c["features"][2] == {"name": "x1sq", "label": "x₁²"}
    assert c["default_features"] == ["x1", "x2"]
    assert c["pseudo_datasets"] == ["csv", "table"]
    assert not set(c["pseudo_datasets"]) & set(c["datasets"])
