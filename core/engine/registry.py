"""Every name and fact about the choices, written once.

The config models (`bpviz.core.experiment.config`), the JSON Schema, `docs/config.md`,
`/api/schema`, `/api/datasets` and the page all derive their lists from here; the
engine's own tables (`ACTIVATIONS`, `LOSSES`, `INITIALIZERS`, `OPTIMIZERS`, `DTYPES`)
hold exactly these names (a test checks it). Standard library only, so that the CLI can
read it without NumPy.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

__all__ = [
    "ACTIVATIONS",
    "DATASETS",
    "DEFAULT_FEATURES",
    "DTYPES",
    "FEATURES",
    "INITS",
    "LOSSES",
    "OPTIMIZERS",
    "PSEUDO_DATASETS",
    "DatasetInfo",
    "LossInfo",
    "OptimizerInfo",
    "Task",
    "choices",
    "task_of",
]

Task = Literal["binary", "multiclass", "regression"]

ACTIVATIONS: tuple[str, ...] = (
    "sigmoid",
    "tanh",
    "relu",
    "leaky_relu",
    "elu",
    "softplus",
    "silu",
    "linear",
)
"""Activations a hidden layer may use, in the order the page lists them."""


@dataclass(frozen=True)
class LossInfo:
    """A loss: the task its metrics assume, the data tasks it can train, and the output
    activations it allows (the first is the default; only MSE allows a choice: with a
    sigmoid or tanh output its output error is ``(ŷ − y) ⊙ f′(z)``, the textbook set-up)."""

    name: str
    task: Task
    tasks: tuple[Task, ...]
    output_activations: tuple[str, ...]

    @property
    def output_activation(self) -> str:
        """The default output activation."""
        return self.output_activations[0]


LOSSES: dict[str, LossInfo] = {
    info.name: info
    for info in (
        LossInfo("mse", "regression", ("binary", "regression"), ("linear", "sigmoid", "tanh")),
        LossInfo("bce", "binary", ("binary",), ("sigmoid",)),
        LossInfo("softmax_ce", "multiclass", ("multiclass",), ("softmax",)),
    )
}

INITS: tuple[str, ...] = (
    "naive",
    "uniform",
    "xavier_normal",
    "xavier_uniform",
    "he_normal",
    "he_uniform",
    "nielsen",
)


@dataclass(frozen=True)
class OptimizerInfo:
    """An optimizer and the hyper-parameters (config `training` keys) it reads."""

    name: str
    hyper: tuple[str, ...]


OPTIMIZERS: dict[str, OptimizerInfo] = {
    info.name: info
    for info in (
        OptimizerInfo("sgd", ("learning_rate",)),
        OptimizerInfo("momentum", ("learning_rate", "momentum")),
        OptimizerInfo("rmsprop", ("learning_rate", "rho", "eps")),
        OptimizerInfo("adam", ("learning_rate", "beta1", "beta2", "eps")),
        OptimizerInfo("adamw", ("learning_rate", "beta1", "beta2", "eps", "weight_decay")),
    )
}

DTYPES: tuple[str, ...] = ("float64", "float32")


@dataclass(frozen=True)
class DatasetInfo:
    """Shape of a built-in data set: inputs, outputs, task and how many examples exist."""

    n_in: int
    n_out: int
    task: Task
    max_samples: int


DATASETS: dict[str, DatasetInfo] = {
    "circle": DatasetInfo(2, 1, "binary", 5000),
    "xor": DatasetInfo(2, 1, "binary", 5000),
    "gauss": DatasetInfo(2, 1, "binary", 5000),
    "spiral": DatasetInfo(2, 1, "binary", 5000),
    "moons": DatasetInfo(2, 1, "binary", 5000),
    "plane": DatasetInfo(2, 1, "regression", 5000),
    "multigauss": DatasetInfo(2, 1, "regression", 5000),
    "square": DatasetInfo(1, 1, "regression", 5000),
    "house": DatasetInfo(2, 1, "regression", 5000),
    "digits": DatasetInfo(64, 10, "multiclass", 1797),  # the 8×8 digits file has 1797 rows
}


PSEUDO_DATASETS: tuple[str, ...] = ("csv", "table")
"""Data a config names besides the built-in sets: an uploaded CSV (``data.csv``, its hash)
and a small table typed into the config (``data.x``, ``data.y``); their shapes are known
once the config (the table) or the file (the CSV) is read."""

FEATURES: dict[str, str] = {
    "x1": "x₁",
    "x2": "x₂",
    "x1sq": "x₁²",
    "x2sq": "x₂²",
    "x1x2": "x₁x₂",
    "sin_x1": "sin(x₁)",
    "sin_x2": "sin(x₂)",
}
"""The input features of 2-D data (TF Playground's toggles), by config name, with the
label the page shows; the network's inputs follow this order."""

DEFAULT_FEATURES: tuple[str, ...] = ("x1", "x2")
"""The features a config starts with: the two inputs as they are."""


def task_of(loss: str) -> Task:
    """The task a loss implies for its metrics: bce → binary, softmax_ce → multiclass,
    mse → regression. Raises KeyError for an unknown loss."""
    return LOSSES[loss].task


def choices() -> dict[str, Any]:
    """The choice lists as JSON for `/api/schema` (`choices`) and the page."""
    return {
        "activations": list(ACTIVATIONS),
        "losses": [
            {
                "name": info.name,
                "task": info.task,
                "tasks": list(info.tasks),
                "output_activations": list(info.output_activations),
            }
            for info in LOSSES.values()
        ],
        "inits": list(INITS),
        "optimizers": [{"name": o.name, "hyper": list(o.hyper)} for o in OPTIMIZERS.values()],
        "dtypes": list(DTYPES),
        "features": [{"name": name, "label": label} for name, label in FEATURES.items()],
        "default_features": list(DEFAULT_FEATURES),
        "pseudo_datasets": list(PSEUDO_DATASETS),
        "datasets": {
            name: {"n_in": d.n_in, "n_out": d.n_out, "task": d.task, "max_samples": d.max_samples}
            for name, d in DATASETS.items()
        },
    }
