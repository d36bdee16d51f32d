"""The experiment config: one JSON object for the CLI, the websocket and the page URL.

The pydantic models below are the one description of it: every key with its type,
default, range or choices and a description in English and Chinese. Everything else
derives from them: the defaults (:func:`default_config`), the validation
(:func:`validate`, :class:`TrainingPatch`), the JSON Schema and the reference page
docs/config.md (:mod:`.config_docs`). The choices come from the engine's registry; the
size limits that protect the server live in one dict, :data:`LIMITS`.

Rules (docs/config.md has the table):

- Every key is optional: a missing key takes its default. An unknown key is an error,
  and so is ``null`` for a key. What a number, a switch or a name accepts is in
  :mod:`.fields` (strict bools, integral floats for integers, no NaN or infinity).
- Cross-field rules: the loss must fit the data set's task, the network's parameter
  count must stay under ``LIMITS["max_parameters"]``, and a data set has only so many
  examples. A config that names no loss gets the one that fits its data set.
- An uploaded CSV's shape and task are known only once it is loaded: for
  ``data.name`` "csv" those checks (and the loss of ``data.task`` "auto") are made by
  ``build.build`` after loading it.
- A typed table (``data.name`` "table", :mod:`.exercise`) carries its shape: its task
  follows from the loss (``mse`` when the config names none), its targets must fit that
  loss, and given weights (``network.weights``) must fit the network's widths.

All errors are collected, not just the first: :class:`ConfigError` ``.errors`` is a list
of ``FieldError(field, message, code)`` where ``field`` is a dotted path such as
``network.hidden.2.units``.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise
from typing import Any

import numpy as np
from pydantic import ValidationError, model_validator

from ..engine import registry
from .errors import ConfigError, FieldError, field_errors
from .exercise import Problem, class_count, target_problems, weight_problems
from .fields import Int, Section, key
from .limits import LIMITS
from .sections import (
    TABLE_LOSS,
    TASK_LOSS,
    DataConfig,
    LayerConfig,
    NetworkConfig,
)
from .sections import raise_problems as _raise
from .training import TrainingConfig, TrainingPatch

__all__ = [
    "LIMITS",
    "Config",
    "ConfigError",
    "DataConfig",
    "FieldError",
    "LayerConfig",
    "NetworkConfig",
    "TrainingConfig",
    "TrainingPatch",
    "default_config",
    "fit_problems",
    "from_dict",
    "json_schema",
    "markdown_table",
    "n_params",
    "to_dict",
    "validate",
    "validate_training_patch",
]


class Config(Section):
    """A bpviz experiment. Every key is optional; missing keys take their defaults. Also
    checked beyond this schema: the loss must fit the data set, and the network must
    have at most `max_parameters` parameters."""

    seed: Int = key(
        1,
        "Seed of every random draw (data, initial weights, batches, dropout).",
        "随机种子（数据、初始权重、批次、丢弃）",
        ge=0,
        le=LIMITS["max_seed"],
    )
    data: DataConfig = DataConfig()
    network: NetworkConfig = NetworkConfig()
    training: TrainingConfig = TrainingConfig()

    @model_validator(mode="before")
    @classmethod
    def _loss_follows_data(cls, obj: Any) -> Any:
        """A config that names no loss gets the one that fits its data set's task."""
        if not isinstance(obj, dict):
            return obj
        data, network = obj.get("data", {}), obj.get("network", {})
        if not isinstance(data, dict) or not isinstance(network, dict) or "loss" in network:
            return obj
        if data.get("name") == "table":
            return {**obj, "network": {**network, "loss": TABLE_LOSS}}
        try:
            task = DataConfig.model_validate(data).known_task
        except ValidationError:
            return obj  # its errors are reported where they are
        if task is None:
            return obj  # a CSV whose task is detected when build() loads it
        return {**obj, "network": {**network, "loss": TASK_LOSS[task]}}

    @model_validator(mode="after")
    def _network_fits_data(self) -> Config:
        data = self.data
        problems: list[Problem] = precision_problems(self)
        if data.name in registry.DATASETS:
            info = registry.DATASETS[data.name]
            problems += fit_problems(self, data.n_features, info.n_out, info.task)
        elif data.name == "table":
            loss = self.network.loss
            targets: list[Problem] = [
                (("data", *loc), code, message, params)
                for loc, code, message, params in target_problems(data.y, loss)
            ]
            n_out = None if targets else self.shape()[1]
            problems += targets + fit_problems(self, data.n_features, n_out, registry.task_of(loss))
        elif (task := data.known_task) is not None:
            problems += fit_problems(self, None, None, task)
        _raise(self, problems)
        return self

    def shape(self) -> tuple[int | None, int | None]:
        """The network's inputs and outputs as far as the config tells them: a built-in
        set's (inputs: its input features' count, if any), a table's (outputs: the
        classes of softmax-CE targets); ``None`` for what only a CSV's file tells."""
        data = self.data
        if data.name in registry.DATASETS:
            return data.n_features, registry.DATASETS[data.name].n_out
        if data.name == "table" and data.y:
            loss = self.network.loss
            return data.n_features, class_count(data.y) if loss == "softmax_ce" else len(data.y[0])
        return data.n_features, None


def n_params(n_in: int, hidden: Sequence[LayerConfig], n_out: int, batchnorm: bool = False) -> int:
    """Weights plus biases of a dense network n_in → hidden… → n_out.

    With BatchNorm each hidden unit has a γ as well (β takes the place of the bias).
    """
    widths = [n_in, *(layer.units for layer in hidden), n_out]
    count = sum(a * b + b for a, b in pairwise(widths))
    if batchnorm:
        count += sum(layer.units for layer in hidden)
    return count


def precision_problems(config: Config) -> list[Problem]:
    """Given numbers (a table's cells, given weights) beyond the range of the network's
    float type: in float32 they would be infinite (``not_finite``, at the cell)."""
    dtype = config.network.dtype
    if dtype == "float64":
        return []  # a Float is already finite in float64
    top = float(np.finfo(dtype).max)
    data, weights = config.data, config.network.weights
    grids: list[tuple[tuple[str | int, ...], Sequence[Sequence[float]]]] = []
    if data.name == "table":
        grids += [(("data", "x"), data.x), (("data", "y"), data.y)]
    for i, layer in enumerate(weights):
        grids += [
            (("network", "weights", i, "W"), layer.W),
            (("network", "weights", i, "b"), [layer.b]),
        ]
    problems: list[Problem] = []
    for loc, rows in grids:
        for r, c in _beyond(rows, top):
            value = rows[r][c]
            where = (*loc, c) if loc[-1] == "b" else (*loc, r, c)
            message = f"{value!r} is beyond {dtype}'s range (±{top:.4g}): infinite there"
            problems.append((where, "not_finite", message, {"value": value}))
    return problems


def _beyond(rows: Sequence[Sequence[float]], top: float) -> list[tuple[int, int]]:
    """The cells ``(row, column)`` of ``rows`` whose size passes ``top``, in order: one
    NumPy pass over a grid (up to 300,000 given weights), row by row if it is ragged."""
    try:
        grid = np.asarray(rows, dtype=np.float64)
    except ValueError:  # ragged: the shape check reports that; look at each row
        return [
            (r, int(c))
            for r, row in enumerate(rows)
            for c in np.flatnonzero(np.abs(np.asarray(row, dtype=np.float64)) > top)
        ]
    if grid.ndim != 2:
        return []  # no cells (an empty grid)
    return [(int(r), int(c)) for r, c in np.argwhere(np.abs(grid) > top)]


def fit_problems(
    config: Config, n_in: int | None, n_out: int | None, task: registry.Task
) -> list[Problem]:
    """What keeps the network from fitting data of this shape and task: a loss for
    another task (``incompatible``), too many parameters (``too_many_parameters``) or
    given weights of other shapes (``shape``; both only checked when ``n_in``, the
    network's inputs, and ``n_out`` are known)."""
    problems: list[Problem] = []
    loss, name = config.network.loss, config.data.name
    if task not in registry.LOSSES[loss].tasks:
        fits = [k for k, info in registry.LOSSES.items() if task in info.tasks]
        message = (
            f"loss {loss!r} does not fit the {task} data set {name!r}; use {' or '.join(fits)}"
        )
        params: dict[str, Any] = {"loss": loss, "task": task, "dataset": name, "allowed": fits}
        problems.append((("network", "loss"), "incompatible", message, params))
    if n_in is not None and n_out is not None:
        hidden = config.network.hidden
        count = n_params(n_in, hidden, n_out, config.network.batchnorm)
        limit = int(LIMITS["max_parameters"])
        if count > limit:
            widths = "-".join(str(w) for w in (n_in, *(h.units for h in hidden), n_out))
            message = f"the network {widths} has {count:,} parameters; the limit is {limit:,}"
            size = {"count": count, "max": limit, "widths": widths}
            problems.append((("network", "hidden"), "too_many_parameters", message, size))
        sizes = [n_in, *(h.units for h in hidden), n_out]
        for loc, code, message, params in weight_problems(config.network.weights, sizes):
            problems.append((("network", *loc), code, message, params))
    return problems


def validate(obj: object) -> Config:
    """Check a parsed JSON object and build a :class:`Config`.

    Missing keys take their defaults; every problem is reported at once in a
    :class:`ConfigError`.
    """
    try:
        return Config.model_validate(obj)
    except ValidationError as exc:
        raise ConfigError(field_errors(exc, model=Config)) from None


def from_dict(obj: object) -> Config:
    """The inverse of :func:`to_dict` (with full validation); same as :func:`validate`."""
    return validate(obj)


def validate_training_patch(obj: object, current: TrainingConfig) -> TrainingConfig:
    """Apply a live change of the training section, e.g. ``{"learning_rate": 0.1}``.

    Keys not in ``obj`` keep their ``current`` values. Field paths in errors are
    ``training.<key>``.
    """
    try:
        patch = TrainingPatch.model_validate(obj)
    except ValidationError as exc:
        raise ConfigError(field_errors(exc, "training", TrainingConfig)) from None
    return patch.apply(current)


def default_config() -> Config:
    """The config with every key at its default."""
    return Config()


def to_dict(config: Config) -> dict[str, Any]:
    """The JSON-ready dict of a config (all keys, in the documented order; the CSV keys
    only for a CSV data set)."""
    out = config.model_dump(mode="json")
    data, network = out["data"], out["network"]
    if config.data.name != "csv":
        for key in ("csv", "target", "task"):  # a built-in set's config stays as it was
            del data[key]
    if config.data.name != "table":
        del data["x"], data["y"]
    if tuple(config.data.features) == registry.DEFAULT_FEATURES:
        del data["features"]
    if config.network.output_activation == "auto":
        del network["output_activation"]
    if not config.network.weights:
        del network["weights"]
    return out


def json_schema() -> dict[str, Any]:
    """JSON Schema (draft 2020-12) of the config, generated from the models."""
    from .config_docs import json_schema as generate

    return generate()


def markdown_table() -> str:
    """The reference tables of docs/config.md, generated from the models and LIMITS."""
    from .config_docs import markdown_table as generate

    return generate()
