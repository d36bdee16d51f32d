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

All errors are collected, not just the first: :class:`ConfigError` ``.errors`` is a list
of ``FieldError(field, message, code)`` where ``field`` is a dotted path such as
``network.hidden.2.units``.
"""

from __future__ import annotations

import typing
from collections.abc import Sequence
from itertools import pairwise
from typing import Annotated, Any, cast

from pydantic import BaseModel, BeforeValidator, ValidationError, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from ..engine import registry
from .errors import ConfigError, FieldError, coded_error, field_errors
from .fields import Choice, Flag, Float, Int, Section, Text, key, kind_of
from .limits import LIMITS
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

CSV_TASKS: tuple[str, ...] = ("auto", *typing.get_args(registry.Task))
"""What a CSV's ``data.task`` may be: detected on loading (auto), or one of the tasks."""
MAX_NAME = 200  # characters of a CSV hash or column name
TASK_LOSS: dict[str, str] = {info.task: name for name, info in registry.LOSSES.items()}
"""The loss a data set of each task gets when the config names none."""

Problem = tuple[tuple[str, ...], str, str, dict[str, Any]]
"""A cross-field problem: (location, code, message, params)."""


def _raise(model: BaseModel, problems: Sequence[Problem]) -> None:
    """Raise the problems as one ValidationError, each at its location in ``model``."""
    if problems:
        raise ValidationError.from_exception_data(
            type(model).__name__,
            [
                InitErrorDetails(type=coded_error(code, message, **params), loc=loc, input=None)
                for loc, code, message, params in problems
            ],
        )


class LayerConfig(Section):
    """One hidden layer."""

    units: Int = key(
        4, "Neurons in this hidden layer.", "该隐藏层的神经元数", ge=1, le=LIMITS["max_units"]
    )
    activation: Annotated[str, Choice(registry.ACTIVATIONS)] = key(
        "tanh", "Activation function of this hidden layer.", "该隐藏层的激活函数"
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """Also ``LayerConfig(units, activation)``, as the dataclass it replaced did (pydantic
        then calls this for each layer it validates; ``_layer_list`` checks the keys first)."""
        super().__init__(**dict(zip(type(self).model_fields, args, strict=False)), **kwargs)


class DataConfig(Section):
    """Which data set, how many examples, how noisy, and the train/test split; for an
    uploaded CSV (`name` "csv") its content hash, target column and task."""

    name: Annotated[str, Choice((*registry.DATASETS, "csv"))] = key(
        "circle",
        "Built-in data set. circle, xor, gauss, spiral, moons: 2-D binary classification; "
        "plane, multigauss: 2-D regression; square: y = x²; house: price from area and "
        "rooms; digits: 8×8 images, 10 classes; csv: an uploaded CSV (see data.csv).",
        "数据集（csv：上传的 CSV 文件）",
    )
    samples: Int = key(
        400,
        "Number of examples, train and test together (digits has at most "
        f"{registry.DATASETS['digits'].max_samples}; a CSV uses all its rows).",
        "样本数（训练集与测试集合计）",
        ge=LIMITS["min_samples"],
        le=LIMITS["max_samples"],
    )
    noise: Float = key(
        0.1,
        "Noise level, 0 = clean; what it does depends on the data set (docs/datasets.md "
        "says it for each). TF Playground's slider covers 0-0.5.",
        "噪声强度（0 为无噪声，含义随数据集而定）",
        ge=0.0,
        le=1.0,
    )
    test_fraction: Float = key(
        0.3,
        "Share of the examples held out as the test set.",
        "测试集比例",
        ge=0.0,
        le=LIMITS["max_test_fraction"],
    )
    csv: Text = key(
        "",
        "With data.name csv: the uploaded CSV's content hash (the first 16 hex digits of "
        "the SHA-256 of its UTF-8 text), as the server's csv_info names it.",
        "上传 CSV 的内容哈希（data.name 为 csv 时）",
    )
    target: Text = key(
        "",
        "With data.name csv: the column to predict; empty = the last column. Every other "
        "column is a numeric feature.",
        "CSV 的目标列（空 = 最后一列）",
    )
    task: Annotated[str, Choice(CSV_TASKS)] = key(
        "auto",
        "With data.name csv: binary, multiclass or regression; auto detects it from the "
        "target column (text labels or a few repeated integers: classification).",
        "CSV 的任务类型（auto 为自动识别）",
    )

    @model_validator(mode="after")
    def _fits_the_data(self) -> DataConfig:
        problems: list[Problem] = []
        if self.name == "csv":
            length = {"max_length": MAX_NAME}
            if len(self.csv) > MAX_NAME:
                problems.append((("csv",), "too_large", f"at most {MAX_NAME} characters", length))
            elif len(self.target) > MAX_NAME:
                message = f"at most {MAX_NAME} characters"
                problems.append((("target",), "too_large", message, length))
            elif not self.csv:
                message = "data.name csv needs data.csv, the CSV's hash"
                problems.append((("csv",), "missing", message, {}))
        elif self.samples > (most := registry.DATASETS[self.name].max_samples):
            message = f"the {self.name} data set has only {most} examples, got {self.samples}"
            params: dict[str, Any] = {"max": most, "value": self.samples, "dataset": self.name}
            problems.append((("samples",), "too_large", message, params))
        _raise(self, problems)
        return self

    @property
    def known_task(self) -> registry.Task | None:
        """The task of the data before loading it: a built-in set's, or a CSV's given
        ``task``; None for a CSV whose task is detected when it is loaded."""
        if self.name in registry.DATASETS:
            return registry.DATASETS[self.name].task
        return None if self.task == "auto" else cast(registry.Task, self.task)


def _layer_list(value: object) -> object:
    """The hidden layers must be a list, checked for length before its items."""
    if not isinstance(value, list | tuple):
        raise PydanticCustomError("type", f"must be a list of layers, got {kind_of(value)}")
    most = int(LIMITS["max_hidden_layers"])
    if len(value) > most:
        raise PydanticCustomError(
            "too_many_layers", f"at most {most} hidden layers, got {len(value)}"
        )
    for layer in value:
        if isinstance(layer, dict) and not all(isinstance(key, str) for key in layer):
            raise PydanticCustomError("type", "the keys of a layer must be strings")
    return value


class NetworkConfig(Section):
    """Hidden layers (the output layer follows from the data set and loss), loss, init,
    dropout, precision, BatchNorm and residual connections."""

    hidden: Annotated[tuple[LayerConfig, ...], BeforeValidator(_layer_list)] = key(
        (LayerConfig(4, "tanh"), LayerConfig(2, "tanh")),
        "Hidden layers, input side first; the output layer is added from the data set "
        "and the loss. An empty list is a network without hidden layer.",
        "隐藏层（从输入侧开始）",
        min_length=0,
        max_length=int(LIMITS["max_hidden_layers"]),
    )
    loss: Annotated[str, Choice(registry.LOSSES)] = key(
        "bce",
        "Loss; it fixes the output activation. mse: linear output (regression or binary); "
        "bce: sigmoid output, binary sets; softmax_ce: softmax output, multi-class sets.",
        "损失函数",
    )
    init: Annotated[str, Choice(registry.INITS)] = key(
        "xavier_normal",
        "Weight initialization: naive N(0,1) weights and biases, small uniform, "
        "Xavier/Glorot, He, or nielsen (Nielsen's default: weights N(0,1)/√n_in, "
        "biases N(0,1)).",
        "权重初始化",
    )
    dropout: Float = key(
        0.0,
        "Dropout rate of the hidden layers during training (0 = off).",
        "丢弃率（Dropout，0 为关闭）",
        ge=0.0,
        le=LIMITS["max_dropout"],
    )
    dtype: Annotated[str, Choice(registry.DTYPES)] = key(
        "float64", "Floating-point precision of the computation.", "浮点精度"
    )
    batchnorm: Flag = key(
        False,
        "BatchNorm on every hidden layer: z is normalized with the batch mean and "
        "variance (running averages at inference), then scaled by γ and shifted by β, "
        "which replaces the bias.",
        "BatchNorm 批归一化（每个隐藏层；γ 缩放、β 平移，β 取代偏置）",
    )
    residual: Flag = key(
        False,
        "Residual connections: a = f(z) + a_prev on every hidden layer after the first "
        "whose width equals the previous hidden layer's.",
        "residual connections 残差连接（与前一隐藏层等宽的隐藏层，第一层除外）",
    )


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
        if data.name in registry.DATASETS:
            info = registry.DATASETS[data.name]
            _raise(self, fit_problems(self, info.n_in, info.n_out, info.task))
        elif (task := data.known_task) is not None:
            _raise(self, fit_problems(self, None, None, task))
        return self


def n_params(n_in: int, hidden: Sequence[LayerConfig], n_out: int, batchnorm: bool = False) -> int:
    """Weights plus biases of a dense network n_in → hidden… → n_out.

    With BatchNorm each hidden unit has a γ as well (β takes the place of the bias).
    """
    widths = [n_in, *(layer.units for layer in hidden), n_out]
    count = sum(a * b + b for a, b in pairwise(widths))
    if batchnorm:
        count += sum(layer.units for layer in hidden)
    return count


def fit_problems(
    config: Config, n_in: int | None, n_out: int | None, task: registry.Task
) -> list[Problem]:
    """What keeps the network from fitting data of this shape and task: a loss for
    another task (``incompatible``) or too many parameters (``too_many_parameters``;
    only checked when ``n_in`` and ``n_out`` are known)."""
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
    if config.data.name != "csv":
        for key in ("csv", "target", "task"):  # a built-in set's config stays as it was
            del out["data"][key]
    return out


def json_schema() -> dict[str, Any]:
    """JSON Schema (draft 2020-12) of the config, generated from the models."""
    from .config_docs import json_schema as generate

    return generate()


def markdown_table() -> str:
    """The reference tables of docs/config.md, generated from the models and LIMITS."""
    from .config_docs import markdown_table as generate

    return generate()
