"""The sections of the config: the data, the network and its hidden layers.

:mod:`.config` puts them together in :class:`~.config.Config` (with the training section
of :mod:`.training`) and checks what needs more than one section; the keys that write a
lesson by hand (a typed table, given weights, input features) take their types and
checks from :mod:`.exercise`. Import them from :mod:`.config`.
"""

from __future__ import annotations

import typing
from collections.abc import Sequence
from typing import Annotated, Any, cast

from pydantic import BaseModel, BeforeValidator, ValidationError, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from ..engine import registry
from .errors import coded_error
from .exercise import (
    FeatureList,
    Problem,
    TableRows,
    WeightList,
    canonical_features,
    feature_problems,
    table_problems,
)
from .fields import Choice, Flag, Float, Int, Section, Text, key, kind_of
from .limits import LIMITS

__all__ = [
    "CSV_TASKS",
    "OUTPUT_ACTIVATIONS",
    "TABLE_LOSS",
    "TASK_LOSS",
    "DataConfig",
    "LayerConfig",
    "NetworkConfig",
    "raise_problems",
]

CSV_TASKS: tuple[str, ...] = ("auto", *typing.get_args(registry.Task))
"""What a CSV's ``data.task`` may be: detected on loading (auto), or one of the tasks."""
MAX_NAME = 200  # characters of a CSV hash or column name
TASK_LOSS: dict[str, str] = {info.task: name for name, info in registry.LOSSES.items()}
"""The loss a data set of each task gets when the config names none."""
TABLE_LOSS = "mse"
"""The loss of a typed table when the config names none (it fits any targets)."""
OUTPUT_ACTIVATIONS: tuple[str, ...] = (
    "auto",
    *dict.fromkeys(a for info in registry.LOSSES.values() for a in info.output_activations),
)
"""What ``network.output_activation`` may be: auto (the loss's own) or one a loss allows."""


def raise_problems(model: BaseModel, problems: Sequence[Problem]) -> None:
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

    name: Annotated[str, Choice((*registry.DATASETS, *registry.PSEUDO_DATASETS))] = key(
        "circle",
        "Built-in data set. circle, xor, gauss, spiral, moons: 2-D binary classification; "
        "plane, multigauss: 2-D regression; square: y = x²; house: price from area and "
        "rooms; digits: 8×8 images, 10 classes; csv: an uploaded CSV (see data.csv); "
        "table: rows typed into the config (see data.x).",
        "数据集（csv：上传的 CSV 文件；table：手写数据表）",
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
    x: TableRows = key(
        (),
        "With data.name table: the inputs, one row of numbers per example (1 to "
        f"{LIMITS['max_table_rows']} rows, 1 to {LIMITS['max_table_inputs']} columns), used "
        "as typed: no scaling, no test set.",
        "手写数据表的输入（每行一个样本，原样使用）",
    )
    y: TableRows = key(
        (),
        "With data.name table: the targets, one row per row of data.x. mse: any numbers "
        f"(1 to {LIMITS['max_table_outputs']} columns); bce: one column of 0 or 1; "
        "softmax_ce: one-hot rows, or one column of class numbers 0, 1, ….",
        "手写数据表的目标值（与输入逐行对应）",
    )
    features: FeatureList = key(
        registry.DEFAULT_FEATURES,
        "Input features of 2-D data, as TF Playground's toggles: the network's inputs are "
        "these functions of the two inputs x1, x2 (in this order: "
        f"{', '.join(registry.FEATURES)}; x1sq = x1², x1x2 = x1·x2, sin_x1 = sin x1). "
        "The default is the two inputs as they are.",
        "二维数据的输入特征（如 x1²、x1·x2、sin x1）",
    )

    @model_validator(mode="after")
    def _fits_the_data(self) -> DataConfig:
        problems: list[Problem] = []
        features = canonical_features(self.features)
        if features != self.features:
            object.__setattr__(self, "features", features)  # the registry's order, once each
        if self.name == "table":
            problems += table_problems(self.x, self.y)
        elif self.name == "csv":
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
        if self.n_inputs is not None:
            problems += feature_problems(self.features, self.n_inputs, self.name)
        raise_problems(self, problems)
        return self

    @property
    def n_inputs(self) -> int | None:
        """Inputs of a point before the features: a built-in set's, a table's columns;
        None for a CSV (known once loaded)."""
        if self.name in registry.DATASETS:
            return registry.DATASETS[self.name].n_in
        if self.name == "table" and self.x:
            return len(self.x[0])
        return None

    @property
    def n_features(self) -> int | None:
        """The network's inputs: the features' count, or the data's inputs without them
        (None for a CSV, known once loaded)."""
        if tuple(self.features) != registry.DEFAULT_FEATURES:
            return len(self.features)
        return self.n_inputs

    @property
    def known_task(self) -> registry.Task | None:
        """The task of the data before loading it: a built-in set's, or a CSV's given
        ``task``; None for a CSV whose task is detected when it is loaded."""
        if self.name in registry.DATASETS:
            return registry.DATASETS[self.name].task
        if self.name == "table":
            return None  # the loss's
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
        "Loss. mse: linear output by default (regression or binary); bce: sigmoid output, "
        "binary sets; softmax_ce: softmax output, multi-class sets.",
        "损失函数",
    )
    output_activation: Annotated[str, Choice(OUTPUT_ACTIVATIONS)] = key(
        "auto",
        "Activation of the output layer: auto is the loss's own (mse: linear, bce: "
        "sigmoid, softmax_ce: softmax). With mse also sigmoid or tanh (the textbook "
        "exercise: sigmoid everywhere and ½Σ(ŷ − y)²); bce and softmax_ce keep theirs.",
        "输出层激活函数（auto：由损失函数决定；mse 可选 sigmoid、tanh）",
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
    weights: WeightList = key(
        (),
        'Given initial weights, one {"W", "b"} per layer, input side first, the '
        "output layer last: W has one row per neuron and one column per unit of the "
        "layer before (n_l × n_l−1), b one number per neuron (β with BatchNorm, γ starts "
        "at 1). They replace the init; empty = drawn by network.init from the seed.",
        "给定的初始权重（每层一个 W、b；覆盖随机初始化）",
    )

    @model_validator(mode="after")
    def _output_fits_the_loss(self) -> NetworkConfig:
        allowed = registry.LOSSES[self.loss].output_activations
        problems: list[Problem] = []
        if self.output_activation != "auto" and self.output_activation not in allowed:
            message = (
                f"loss {self.loss!r} allows the output activation {' or '.join(allowed)}, "
                f"got {self.output_activation!r}"
            )
            params = {"loss": self.loss, "allowed": ["auto", *allowed]}
            problems.append((("output_activation",), "incompatible", message, params))
        count = sum(len(w.b) + sum(len(row) for row in w.W) for w in self.weights)
        if count > (limit := int(LIMITS["max_parameters"])):
            message = f"the given weights hold {count:,} numbers; the limit is {limit:,}"
            size = {"count": count, "max": limit}
            problems.append((("weights",), "too_many_parameters", message, size))
        raise_problems(self, problems)
        return self

    @property
    def output(self) -> str:
        """The output layer's activation: ``output_activation``, or the loss's own."""
        if self.output_activation == "auto":
            return registry.LOSSES[self.loss].output_activation
        return self.output_activation
