"""The keys that write a lesson by hand: a typed table, given weights, input features.

A lecturer's board exercise is one config: its data typed in (``data.name`` "table",
``data.x``, ``data.y``), the initial weights given (``network.weights``), the output
activation chosen (``network.output_activation``; :mod:`.config`), and for 2-D data the
input features (``data.features``). The value types and the checks of those keys are
here; :mod:`.config` puts them in its sections and calls the checks from its model
validators, and ``build`` calls :func:`weight_problems` once a CSV's columns are known.
Every problem is a :data:`Problem` at its own path (``data.x.3.1``,
``network.weights.0.W.1``), code ``shape`` when a list has the wrong length.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

from pydantic import BeforeValidator, Field
from pydantic_core import PydanticCustomError

from ..engine import registry
from .errors import coded_error
from .fields import Choice, Float, Section, kind_of
from .limits import LIMITS

__all__ = [
    "FeatureList",
    "LayerWeights",
    "Problem",
    "TableRows",
    "WeightList",
    "canonical_features",
    "class_count",
    "feature_problems",
    "table_problems",
    "target_problems",
    "weight_problems",
]

Problem = tuple[tuple[str | int, ...], str, str, dict[str, Any]]
"""A cross-field problem: (location, code, message, params)."""

MAX_ROWS = int(LIMITS["max_table_rows"])
MAX_INPUTS = int(LIMITS["max_table_inputs"])
MAX_OUTPUTS = int(LIMITS["max_table_outputs"])


def _list_of_lists(value: object, what: str, most: int) -> object:
    """A list of at most ``most`` lists, checked for length before its numbers are read."""
    if not isinstance(value, list | tuple):
        raise PydanticCustomError("type", f"must be a list of {what}, got {kind_of(value)}")
    if len(value) > most:
        message = f"at most {most} {what}, got {len(value)}"
        raise coded_error("too_large", message, max=most, value=len(value))
    return value


def _rows(value: object) -> object:
    return _list_of_lists(value, "rows", MAX_ROWS)


def _matrix(value: object) -> object:
    return _list_of_lists(value, "rows", int(LIMITS["max_units"]))


def _layers(value: object) -> object:
    return _list_of_lists(value, "layers", int(LIMITS["max_hidden_layers"]) + 1)


def _features(value: object) -> object:
    """A list of feature names; kept in the registry's order, each once."""
    if not isinstance(value, list | tuple):
        raise PydanticCustomError("type", f"must be a list of features, got {kind_of(value)}")
    if not value:
        raise coded_error("too_small", "at least one feature is needed", min=1, value=0)
    if len(value) > (most := len(registry.FEATURES)):
        message = f"at most {most} features, got {len(value)}"
        raise coded_error("too_large", message, max=most, value=len(value))
    return value


TableRows = Annotated[tuple[tuple[Float, ...], ...], BeforeValidator(_rows)]
"""Rows of numbers: a typed table's ``x`` or ``y``."""

FeatureList = Annotated[
    tuple[Annotated[str, Choice(registry.FEATURES)], ...],
    BeforeValidator(_features),
]
"""Input features by name (the registry's ``FEATURES``); :func:`canonical_features`
orders them."""


class LayerWeights(Section):
    """One layer's given initial parameters: ``W`` (n_l, n_{l-1}), ``b`` (n_l,)."""

    W: Annotated[tuple[tuple[Float, ...], ...], BeforeValidator(_matrix)] = Field(
        description="Weights, one row per neuron of this layer, one column per unit of "
        "the layer before: W[i][j] connects unit j to neuron i.",
        json_schema_extra={"x-description-zh": "权重矩阵（每行对应本层一个神经元）"},
    )
    b: tuple[Float, ...] = Field(
        description="Biases, one per neuron of this layer (β with BatchNorm).",
        json_schema_extra={"x-description-zh": "偏置（批归一化时为 β）"},
    )


WeightList = Annotated[tuple[LayerWeights, ...], BeforeValidator(_layers)]
"""The initial weights of every layer, input side first (output layer last)."""


def class_count(y: Sequence[Sequence[float]]) -> int:
    """Classes of softmax-CE targets: the columns of one-hot rows, or for one column of
    class numbers the largest plus one (at least 2)."""
    if y and len(y[0]) == 1:
        return max(2, int(max(row[0] for row in y)) + 1)
    return len(y[0]) if y else 0


def canonical_features(value: Sequence[str]) -> tuple[str, ...]:
    """``value`` in the registry's order, each name once."""
    return tuple(name for name in registry.FEATURES if name in value)


def _numbers(n: int) -> str:
    return f"{n} number" if n == 1 else f"{n} numbers"


def _shape(loc: tuple[str | int, ...], expected: int, got: int, message: str) -> Problem:
    return (loc, "shape", message, {"expected": expected, "got": got})


def table_problems(x: Sequence[Sequence[float]], y: Sequence[Sequence[float]]) -> list[Problem]:
    """Shape problems of a typed table (locations inside ``data``): 1..max rows, ``y``
    as many rows as ``x``, every row as long as the first, 1..max columns."""
    problems: list[Problem] = []
    for key, rows, most in (("x", x, MAX_INPUTS), ("y", y, MAX_OUTPUTS)):
        if not rows:
            message = f"data.name table needs data.{key}: at least one row"
            problems.append(((key,), "too_small", message, {"min": 1, "value": 0}))
            continue
        width = len(rows[0])
        if not 1 <= width <= most:
            code = "too_small" if width < 1 else "too_large"
            bound = {"min": 1} if width < 1 else {"max": most}
            message = f"a row needs 1 to {_numbers(most)}, got {width}"
            problems.append(((key, 0), code, message, {**bound, "value": width}))
            continue
        for i, row in enumerate(rows[1:], start=1):
            if len(row) != width:
                message = f"must have {_numbers(width)} like row 0, got {len(row)}"
                problems.append(_shape((key, i), width, len(row), message))
    if x and y and len(y) != len(x):
        message = f"must have {len(x)} rows like data.x, got {len(y)}"
        problems.append(_shape(("y",), len(x), len(y), message))
    return problems


def target_problems(y: Sequence[Sequence[float]], loss: str) -> list[Problem]:
    """What keeps the targets from fitting the loss (locations inside ``data``): BCE
    needs one column of 0 or 1; softmax-CE one-hot rows of at least 2 columns, or one
    column of class numbers 0, 1, … (at most ``max_table_outputs`` classes)."""
    if loss == "mse" or not y:
        return []
    params = {"loss": loss, "dataset": "table", "allowed": ["mse"]}
    problems: list[Problem] = []

    def bad(loc: tuple[str | int, ...], message: str) -> None:
        problems.append((("y", *loc), "incompatible", message, params))

    width = len(y[0])
    if loss == "bce":
        if width != 1:
            bad((), f"with loss 'bce' a target is one column of 0 or 1, got {width} columns")
            return problems
        for i, row in enumerate(y):
            if row[0] not in (0.0, 1.0):
                bad((i, 0), f"with loss 'bce' a target is 0 or 1, got {row[0]!r}")
        return problems
    if width == 1:
        for i, row in enumerate(y):
            v = row[0]
            if not (v >= 0 and float(v).is_integer() and v < MAX_OUTPUTS):
                bad(
                    (i, 0),
                    f"with loss 'softmax_ce' a one-column target is a class number 0 to "
                    f"{MAX_OUTPUTS - 1}, got {v!r}",
                )
        return problems
    for i, row in enumerate(y):
        if sorted(row) != [0.0] * (width - 1) + [1.0]:
            bad((i,), "with loss 'softmax_ce' a target row is one-hot: a single 1, the rest 0")
    return problems


def feature_problems(features: Sequence[str], n_inputs: int, name: str) -> list[Problem]:
    """Features other than the default need 2-D data (location inside ``data``)."""
    if tuple(features) == registry.DEFAULT_FEATURES or n_inputs == 2:
        return []
    message = f"input features need 2-D data; the {name} data has {n_inputs} inputs"
    return [_shape(("features",), 2, n_inputs, message)]


def weight_problems(weights: Sequence[LayerWeights], widths: Sequence[int]) -> list[Problem]:
    """Given weights that do not fit the network ``widths`` ``[n_in, n_1, …, n_out]``
    (locations inside ``network``): one entry per layer, ``W`` of ``n_l`` rows of
    ``n_{l-1}`` numbers, ``b`` of ``n_l``. None without given weights."""
    if not weights:
        return []
    L = len(widths) - 1
    if len(weights) != L:
        message = (
            f"must have one entry per layer ({L}: the hidden layers and the output), "
            f"got {len(weights)}"
        )
        return [_shape(("weights",), L, len(weights), message)]
    problems: list[Problem] = []
    for i, (layer, n_in, n_out) in enumerate(zip(weights, widths, widths[1:], strict=False)):
        where = f"layer {i + 1} is {n_in} → {n_out}"
        if len(layer.W) != n_out:
            rows = "1 row" if n_out == 1 else f"{n_out} rows"
            message = f"{where}: W needs {rows}, got {len(layer.W)}"
            problems.append(_shape(("weights", i, "W"), n_out, len(layer.W), message))
        else:
            for r, row in enumerate(layer.W):
                if len(row) != n_in:
                    message = f"{where}: a row of W needs {_numbers(n_in)}, got {len(row)}"
                    problems.append(_shape(("weights", i, "W", r), n_in, len(row), message))
        if len(layer.b) != n_out:
            message = f"{where}: b needs {_numbers(n_out)}, got {len(layer.b)}"
            problems.append(_shape(("weights", i, "b"), n_out, len(layer.b), message))
    return problems
