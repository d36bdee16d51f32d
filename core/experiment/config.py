"""The experiment config: one JSON object for the CLI, the websocket and the page URL.

Every key is listed once, in `FIELDS` (name, type, default, range or choices and a
description in English and Chinese). Everything else is derived from that list:
the defaults (`default_config`), the validation (`validate`,
`validate_training_patch`), the JSON Schema (`json_schema`) and the reference
page `docs/config.md` (`markdown_table`). The size limits that protect the
server live in one dict, `LIMITS`.

Validation rules (see docs/config.md for the table):

- The input is a parsed JSON object. Every key is optional: a missing key takes
  its default. An unknown key is an error, and so is `null` for a key.
- A bool is never a number, and only a bool is a bool: `batchnorm` and `residual`
  reject `0`, `1` and `"true"`. An integer field accepts an integral float (`10.0`,
  which is what JSON Schema's `"integer"` also accepts) and rejects `10.5`.
  A float field accepts an integer. NaN and infinities are rejected.
- Names (activation, loss, ...) must be one of the listed choices, exactly.
- Cross-field rules: the loss must fit the data set's task, and the network's
  parameter count must stay under `LIMITS["max_parameters"]`.

All errors are collected, not just the first: `ConfigError.errors` is a list of
`FieldError(field, message, code)` where `field` is a dotted path such as
`network.hidden.2.units`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields, replace
from itertools import pairwise
from typing import Any, Literal

__all__ = [
    "DATASETS",
    "FIELDS",
    "LIMITS",
    "Config",
    "ConfigError",
    "DataConfig",
    "DataShape",
    "DatasetInfo",
    "Field",
    "FieldError",
    "LayerConfig",
    "NetworkConfig",
    "TrainingConfig",
    "dataset_shape",
    "default_config",
    "from_dict",
    "json_schema",
    "markdown_table",
    "n_params",
    "to_dict",
    "validate",
    "validate_training_patch",
]

# --------------------------------------------------------------------------
# Limits: the sizes that keep one 2-core server responsive for a classroom.
# --------------------------------------------------------------------------

LIMITS: dict[str, int | float] = {
    "max_hidden_layers": 16,  # deep enough to watch gradients vanish
    "max_units": 256,  # per hidden layer
    "max_parameters": 300_000,  # weights + biases of the whole network
    "min_samples": 10,
    "max_samples": 5000,
    "max_batch_size": 1024,
    "max_learning_rate": 10.0,
    "max_test_fraction": 0.9,
    "max_dropout": 0.9,
    "max_clip_norm": 1e6,
    "max_seed": 2**32 - 1,
}

LIMIT_DESCRIPTIONS: dict[str, tuple[str, str]] = {
    "max_hidden_layers": ("hidden layers in the network", "隐藏层数上限"),
    "max_units": ("neurons in one hidden layer", "每个隐藏层的神经元数上限"),
    "max_parameters": ("weights and biases of the whole network", "网络参数（权重与偏置）总数上限"),
    "min_samples": ("fewest examples in a data set", "样本数下限"),
    "max_samples": ("most examples in a data set", "样本数上限"),
    "max_batch_size": ("largest mini-batch", "批大小上限"),
    "max_learning_rate": ("largest learning rate", "学习率上限"),
    "max_test_fraction": ("largest share held out for testing", "测试集比例上限"),
    "max_dropout": ("largest dropout rate", "丢弃率上限"),
    "max_clip_norm": ("largest clipping threshold", "梯度裁剪阈值上限"),
    "max_seed": ("largest random seed", "随机种子上限"),
}

# --------------------------------------------------------------------------
# Choices and data sets
# --------------------------------------------------------------------------

ACTIVATIONS = ("sigmoid", "tanh", "relu", "leaky_relu", "elu", "softplus", "silu", "linear")
LOSSES = ("mse", "bce", "softmax_ce")
INITS = (
    "naive",
    "uniform",
    "xavier_normal",
    "xavier_uniform",
    "he_normal",
    "he_uniform",
    "nielsen",
)
OPTIMIZERS = ("sgd", "momentum", "rmsprop", "adam", "adamw")
DTYPES = ("float64", "float32")

Task = Literal["binary", "multiclass", "regression"]
CSV_TASKS = ("auto", "binary", "multiclass", "regression")
MAX_NAME = 200  # characters of a CSV hash or column name


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

# Which tasks each loss can train.
LOSS_TASKS: dict[str, tuple[Task, ...]] = {
    "mse": ("binary", "regression"),
    "bce": ("binary",),
    "softmax_ce": ("multiclass",),
}


def dataset_shape(name: str) -> tuple[int, int, str]:
    """Return `(n_in, n_out, task)` of a built-in data set; task is binary/multiclass/regression.

    Raises KeyError for an unknown name.
    """
    info = DATASETS[name]
    return info.n_in, info.n_out, info.task


# --------------------------------------------------------------------------
# The config objects
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class LayerConfig:
    """One hidden layer: its width and activation function."""

    units: int
    activation: str


@dataclass(frozen=True)
class DataConfig:
    """Which data set, how many examples, how noisy, and the train/test split; for an
    uploaded CSV (`name` "csv") its content hash, target column and task."""

    name: str
    samples: int
    noise: float
    test_fraction: float
    csv: str = ""
    target: str = ""
    task: str = "auto"


@dataclass(frozen=True)
class NetworkConfig:
    """Hidden layers (the output layer follows from the data set and loss), loss, init,
    dropout, precision, BatchNorm and residual connections."""

    hidden: tuple[LayerConfig, ...]
    loss: str
    init: str
    dropout: float
    dtype: str
    batchnorm: bool = False
    residual: bool = False


@dataclass(frozen=True)
class TrainingConfig:
    """Optimizer and its hyper-parameters, penalties and gradient clipping."""

    optimizer: str
    learning_rate: float
    batch_size: int
    momentum: float
    rho: float
    beta1: float
    beta2: float
    eps: float
    weight_decay: float
    l1: float
    l2: float
    clip_norm: float


@dataclass(frozen=True)
class Config:
    """A whole experiment."""

    seed: int
    data: DataConfig
    network: NetworkConfig
    training: TrainingConfig


# --------------------------------------------------------------------------
# The field table: every key, once.
# --------------------------------------------------------------------------

Kind = Literal["int", "float", "str", "bool", "layers"]


@dataclass(frozen=True)
class Field:
    """One config key.

    `path` is dotted; `*` stands for the index of a hidden layer. `minimum` and
    `maximum` are inclusive unless `exclusive_minimum`/`exclusive_maximum`.
    For `kind == "layers"` they bound the number of layers.
    """

    path: str
    kind: Kind
    default: Any
    en: str
    zh: str
    minimum: float | None = None
    maximum: float | None = None
    exclusive_minimum: bool = False
    exclusive_maximum: bool = False
    choices: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return self.path.rsplit(".", 1)[-1]

    def range_text(self) -> str:
        """The range or choices, as written in docs/config.md."""
        if self.choices:
            return ", ".join(self.choices)
        if self.kind == "bool":
            return "true, false"
        if self.kind == "str":
            return ""
        lo = "(" if self.exclusive_minimum else "["
        hi = ")" if self.exclusive_maximum else "]"
        text = f"{lo}{_num(self.minimum)}, {_num(self.maximum)}{hi}"
        return text + (" layers" if self.kind == "layers" else "")


def _num(x: float | None) -> str:
    if x is None:
        return "∞"
    if isinstance(x, int) or (isinstance(x, float) and x.is_integer() and abs(x) < 1e15):
        return str(int(x))
    return repr(x)


_L = LIMITS

FIELDS: tuple[Field, ...] = (
    Field(
        "seed",
        "int",
        1,
        "Seed of every random draw (data, initial weights, batches, dropout).",
        "随机种子（数据、初始权重、批次、丢弃）",
        0,
        _L["max_seed"],
    ),
    # -- data ------------------------------------------------------------
    Field(
        "data.name",
        "str",
        "circle",
        "Built-in data set. circle, xor, gauss, spiral, moons: 2-D binary classification; "
        "plane, multigauss: 2-D regression; square: y = x²; house: price from area and "
        "rooms; digits: 8×8 images, 10 classes; csv: an uploaded CSV (see data.csv).",
        "数据集（csv：上传的 CSV 文件）",
        choices=(*DATASETS, "csv"),
    ),
    Field(
        "data.samples",
        "int",
        400,
        "Number of examples, train and test together (digits has at most 1797; a CSV "
        "uses all its rows).",
        "样本数（训练集与测试集合计）",
        _L["min_samples"],
        _L["max_samples"],
    ),
    Field(
        "data.noise",
        "float",
        0.1,
        "Noise level, 0 = clean; what it does depends on the data set (each set describes "
        "it on the page). TF Playground's slider covers 0-0.5.",
        "噪声强度（0 为无噪声，含义随数据集而定）",
        0.0,
        1.0,
    ),
    Field(
        "data.test_fraction",
        "float",
        0.3,
        "Share of the examples held out as the test set.",
        "测试集比例",
        0.0,
        _L["max_test_fraction"],
    ),
    Field(
        "data.csv",
        "str",
        "",
        "With data.name csv: the uploaded CSV's content hash (the first 16 hex digits of "
        "the SHA-256 of its UTF-8 text), as the server's csv_info names it.",
        "上传 CSV 的内容哈希（data.name 为 csv 时）",
    ),
    Field(
        "data.target",
        "str",
        "",
        "With data.name csv: the column to predict; empty = the last column. Every other "
        "column is a numeric feature.",
        "CSV 的目标列（空 = 最后一列）",
    ),
    Field(
        "data.task",
        "str",
        "auto",
        "With data.name csv: binary, multiclass or regression; auto detects it from the "
        "target column (text labels or a few repeated integers: classification).",
        "CSV 的任务类型（auto 为自动识别）",
        choices=CSV_TASKS,
    ),
    # -- network ---------------------------------------------------------
    Field(
        "network.hidden",
        "layers",
        ({"units": 4, "activation": "tanh"}, {"units": 2, "activation": "tanh"}),
        "Hidden layers, input side first; the output layer is added from the data set "
        "and the loss. An empty list is a network without hidden layer.",
        "隐藏层（从输入侧开始）",
        0,
        _L["max_hidden_layers"],
    ),
    Field(
        "network.hidden.*.units",
        "int",
        4,
        "Neurons in this hidden layer.",
        "该隐藏层的神经元数",
        1,
        _L["max_units"],
    ),
    Field(
        "network.hidden.*.activation",
        "str",
        "tanh",
        "Activation function of this hidden layer.",
        "该隐藏层的激活函数",
        choices=ACTIVATIONS,
    ),
    Field(
        "network.loss",
        "str",
        "bce",
        "Loss; it fixes the output activation. mse: linear output (regression or binary); "
        "bce: sigmoid output, binary sets; softmax_ce: softmax output, multi-class sets.",
        "损失函数",
        choices=LOSSES,
    ),
    Field(
        "network.init",
        "str",
        "xavier_normal",
        "Weight initialization: naive N(0,1) weights and biases, small uniform, "
        "Xavier/Glorot, He, or nielsen (Nielsen's default: weights N(0,1)/√n_in, "
        "biases N(0,1)).",
        "权重初始化",
        choices=INITS,
    ),
    Field(
        "network.dropout",
        "float",
        0.0,
        "Dropout rate of the hidden layers during training (0 = off).",
        "丢弃率（Dropout，0 为关闭）",
        0.0,
        _L["max_dropout"],
    ),
    Field(
        "network.dtype",
        "str",
        "float64",
        "Floating-point precision of the computation.",
        "浮点精度",
        choices=DTYPES,
    ),
    Field(
        "network.batchnorm",
        "bool",
        False,
        "BatchNorm on every hidden layer: z is normalized with the batch mean and variance "
        "(running averages at inference), then scaled by γ and shifted by β, which replaces "
        "the bias.",
        "BatchNorm 批归一化（每个隐藏层；γ 缩放、β 平移，β 取代偏置）",
    ),
    Field(
        "network.residual",
        "bool",
        False,
        "Residual connections: a = f(z) + a_prev on every hidden layer after the first "
        "whose width equals the previous hidden layer's.",
        "residual connections 残差连接（与前一隐藏层等宽的隐藏层，第一层除外）",
    ),
    # -- training --------------------------------------------------------
    Field("training.optimizer", "str", "sgd", "Optimizer.", "优化器", choices=OPTIMIZERS),
    Field(
        "training.learning_rate",
        "float",
        0.03,
        "Learning rate η.",
        "学习率",
        0.0,
        _L["max_learning_rate"],
        exclusive_minimum=True,
    ),
    Field(
        "training.batch_size",
        "int",
        10,
        "Examples per mini-batch (1 = one example per step); at most the whole training set "
        "is used.",
        "批大小",
        1,
        _L["max_batch_size"],
    ),
    Field(
        "training.momentum",
        "float",
        0.9,
        "Momentum coefficient (optimizer momentum).",
        "动量系数",
        0.0,
        1.0,
        exclusive_maximum=True,
    ),
    Field(
        "training.rho",
        "float",
        0.9,
        "Decay rate of the squared-gradient average (RMSprop).",
        "平方梯度衰减率（RMSprop）",
        0.0,
        1.0,
        exclusive_maximum=True,
    ),
    Field(
        "training.beta1",
        "float",
        0.9,
        "Decay rate of the first moment (Adam, AdamW).",
        "一阶矩衰减率（Adam）",
        0.0,
        1.0,
        exclusive_maximum=True,
    ),
    Field(
        "training.beta2",
        "float",
        0.999,
        "Decay rate of the second moment (Adam, AdamW).",
        "二阶矩衰减率（Adam）",
        0.0,
        1.0,
        exclusive_maximum=True,
    ),
    Field(
        "training.eps",
        "float",
        1e-8,
        "Small constant in the denominator (RMSprop, Adam, AdamW).",
        "数值稳定常数 ε",
        0.0,
        1.0,
        exclusive_minimum=True,
    ),
    Field(
        "training.weight_decay",
        "float",
        0.01,
        "Decoupled weight decay (AdamW only).",
        "权重衰减（AdamW）",
        0.0,
        1.0,
    ),
    Field(
        "training.l1",
        "float",
        0.0,
        "L1 penalty coefficient λ₁ (added to the loss, 0 = off).",
        "L1 正则化系数",
        0.0,
        1.0,
    ),
    Field(
        "training.l2",
        "float",
        0.0,
        "L2 penalty coefficient λ₂ (added to the loss, 0 = off).",
        "L2 正则化系数",
        0.0,
        1.0,
    ),
    Field(
        "training.clip_norm",
        "float",
        0.0,
        "Gradient clipping: largest global gradient norm (0 = off).",
        "梯度裁剪阈值（0 为关闭）",
        0.0,
        _L["max_clip_norm"],
    ),
)

FIELD_BY_PATH: dict[str, Field] = {f.path: f for f in FIELDS}

# The sections of the config object and the dataclass each one builds.
_SECTIONS: dict[str, type[Any]] = {
    "data": DataConfig,
    "network": NetworkConfig,
    "training": TrainingConfig,
}
_TOP_KEYS: tuple[str, ...] = ("seed", *_SECTIONS)


def _section_fields(section: str) -> list[Field]:
    return [f for f in FIELDS if f.path.count(".") == 1 and f.path.startswith(section + ".")]


_LAYER_FIELDS: list[Field] = [f for f in FIELDS if f.path.startswith("network.hidden.*.")]


# --------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldError:
    """One problem with one key. `code` is stable for translation (see docs/config.md)."""

    field: str
    message: str
    code: str

    def to_dict(self) -> dict[str, str]:
        return {"field": self.field, "message": self.message, "code": self.code}


class ConfigError(ValueError):
    """A config was rejected; `errors` lists every problem found."""

    def __init__(self, errors: list[FieldError]) -> None:
        self.errors = list(errors)
        super().__init__("; ".join(f"{e.field or '(config)'}: {e.message}" for e in self.errors))


# --------------------------------------------------------------------------
# Checking single values
# --------------------------------------------------------------------------


def _check_value(field: Field, path: str, value: object, errors: list[FieldError]) -> Any:
    """Check one leaf value; return the cleaned value or None after adding an error."""
    if field.kind == "bool":
        if not isinstance(value, bool):
            errors.append(
                FieldError(path, f"must be true or false, got {_type_name(value)}", "type")
            )
            return None
        return value
    if field.kind == "str":
        if not isinstance(value, str):
            errors.append(FieldError(path, f"must be a string, got {_type_name(value)}", "type"))
            return None
        if field.choices and value not in field.choices:
            errors.append(
                FieldError(
                    path,
                    f"unknown value {value!r}; choose one of: {', '.join(field.choices)}",
                    "choice",
                )
            )
            return None
        return value
    # numbers
    if isinstance(value, bool) or not isinstance(value, int | float):
        errors.append(FieldError(path, f"must be a number, got {_type_name(value)}", "type"))
        return None
    if isinstance(value, float) and not math.isfinite(value):
        errors.append(FieldError(path, f"must be a finite number, got {value}", "not_finite"))
        return None
    number: int | float
    if field.kind == "int":
        if isinstance(value, float):
            if not value.is_integer():
                errors.append(
                    FieldError(path, f"must be a whole number, got {value}", "not_integer")
                )
                return None
            number = int(value)
        else:
            number = value
    else:
        number = float(value)
    if not _in_range(field, number, path, errors):
        return None
    return number


def _in_range(field: Field, number: float, path: str, errors: list[FieldError]) -> bool:
    lo, hi = field.minimum, field.maximum
    if lo is not None and (number <= lo if field.exclusive_minimum else number < lo):
        rel = "greater than" if field.exclusive_minimum else "at least"
        errors.append(FieldError(path, f"must be {rel} {_num(lo)}, got {number}", "too_small"))
        return False
    if hi is not None and (number >= hi if field.exclusive_maximum else number > hi):
        rel = "less than" if field.exclusive_maximum else "at most"
        errors.append(FieldError(path, f"must be {rel} {_num(hi)}, got {number}", "too_large"))
        return False
    return True


def _type_name(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, Mapping):
        return "an object"
    return type(value).__name__


def _as_object(value: object, path: str, errors: list[FieldError]) -> Mapping[str, object] | None:
    if not isinstance(value, Mapping):
        errors.append(FieldError(path, f"must be an object, got {_type_name(value)}", "type"))
        return None
    bad = [k for k in value if not isinstance(k, str)]
    if bad:
        errors.append(FieldError(path, f"keys must be strings, got {bad[0]!r}", "type"))
        return None
    return value


def _unknown_keys(
    obj: Mapping[str, object], allowed: list[str], prefix: str, errors: list[FieldError]
) -> None:
    for key in obj:
        if key not in allowed:
            errors.append(
                FieldError(
                    prefix + key,
                    f"unknown key {key!r}; known keys: {', '.join(allowed)}",
                    "unknown_key",
                )
            )


# --------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------


def _section(
    obj: Mapping[str, object] | None,
    section: str,
    errors: list[FieldError],
    base: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Clean one section; missing keys come from `base` or the defaults."""
    flds = _section_fields(section)
    out: dict[str, Any] = {}
    if obj is not None:
        _unknown_keys(obj, [f.name for f in flds], section + ".", errors)
    for f in flds:
        if obj is not None and f.name in obj:
            raw = obj[f.name]
            if f.kind == "layers":
                out[f.name] = _layers(raw, f.path, errors)
            else:
                out[f.name] = _check_value(f, f.path, raw, errors)
        elif base is not None:
            out[f.name] = base[f.name]
        elif f.kind == "layers":
            out[f.name] = tuple(LayerConfig(**d) for d in f.default)
        else:
            out[f.name] = f.default
    return out


def _layers(raw: object, path: str, errors: list[FieldError]) -> tuple[LayerConfig, ...] | None:
    field = FIELD_BY_PATH[path]
    if not isinstance(raw, list | tuple):
        errors.append(FieldError(path, f"must be a list of layers, got {_type_name(raw)}", "type"))
        return None
    if field.maximum is not None and len(raw) > field.maximum:
        errors.append(
            FieldError(
                path,
                f"at most {_num(field.maximum)} hidden layers, got {len(raw)}",
                "too_many_layers",
            )
        )
        return None
    layers: list[LayerConfig] = []
    n_errors = len(errors)
    names = [f.name for f in _LAYER_FIELDS]
    for i, item in enumerate(raw):
        lpath = f"{path}.{i}"
        obj = _as_object(item, lpath, errors)
        if obj is None:
            continue
        _unknown_keys(obj, names, lpath + ".", errors)
        values: dict[str, Any] = {}
        for f in _LAYER_FIELDS:
            values[f.name] = (
                _check_value(f, f"{lpath}.{f.name}", obj[f.name], errors)
                if f.name in obj
                else f.default
            )
        layers.append(LayerConfig(**values))
    return tuple(layers) if len(errors) == n_errors else None


def n_params(
    n_in: int,
    hidden: tuple[LayerConfig, ...] | list[LayerConfig],
    n_out: int,
    batchnorm: bool = False,
) -> int:
    """Weights plus biases of a dense network n_in → hidden… → n_out.

    With BatchNorm each hidden unit has a γ as well (β takes the place of the bias).
    """
    widths = [n_in, *(layer.units for layer in hidden), n_out]
    count = sum(a * b + b for a, b in pairwise(widths))
    if batchnorm:
        count += sum(layer.units for layer in hidden)
    return count


def _cross_checks(
    data: dict[str, Any], network: dict[str, Any], info: DatasetInfo, errors: list[FieldError]
) -> None:
    name, samples = data.get("name"), data.get("samples")
    if isinstance(samples, int) and samples > info.max_samples:
        errors.append(
            FieldError(
                "data.samples",
                f"the {name} data set has only {info.max_samples} examples, got {samples}",
                "too_large",
            )
        )
    loss = network.get("loss")
    if isinstance(loss, str) and loss in LOSS_TASKS and info.task not in LOSS_TASKS[loss]:
        fits = [k for k, tasks in LOSS_TASKS.items() if info.task in tasks]
        errors.append(
            FieldError(
                "network.loss",
                f"loss {loss!r} does not fit the {info.task} data set {name!r}; "
                f"use {' or '.join(fits)}",
                "incompatible",
            )
        )
    hidden = network.get("hidden")
    if isinstance(hidden, tuple):
        count = n_params(info.n_in, hidden, info.n_out, network.get("batchnorm") is True)
        limit = LIMITS["max_parameters"]
        if count > limit:
            errors.append(
                FieldError(
                    "network.hidden",
                    f"the network {info.n_in}-"
                    + "".join(f"{layer.units}-" for layer in hidden)
                    + f"{info.n_out} has {count:,} parameters; the limit is {int(limit):,}",
                    "too_many_parameters",
                )
            )


TASK_DEFAULT_LOSS = {"binary": "bce", "multiclass": "softmax_ce", "regression": "mse"}


def _default_loss_for_data(
    top: Mapping[str, object], parts: dict[str, dict[str, Any]], info: DatasetInfo
) -> None:
    """A config that names no loss gets the one that fits its data set."""
    network = top.get("network")
    if isinstance(network, Mapping) and "loss" in network:
        return
    if "loss" in parts["network"]:
        parts["network"]["loss"] = TASK_DEFAULT_LOSS[info.task]


DataShape = Callable[[DataConfig], DatasetInfo | None]
"""Tells `validate` the shape of data it cannot know by itself (an uploaded CSV): given
the checked `data` section, the `DatasetInfo` (n_in, n_out, task) or None when that
CSV is unknown. It may raise (e.g. a `datasets.DataError` of the file); `validate` lets
that through."""


def _data_info(
    data: dict[str, Any], data_shape: DataShape | None, errors: list[FieldError]
) -> DatasetInfo | None:
    """The shape of the configured data: a built-in set's, or the CSV's via `data_shape`."""
    name = data.get("name")
    if name != "csv":
        return DATASETS.get(name) if isinstance(name, str) else None
    for key in ("csv", "target"):
        if len(data[key]) > MAX_NAME:
            errors.append(FieldError(f"data.{key}", f"at most {MAX_NAME} characters", "too_large"))
            return None
    if not data["csv"]:
        errors.append(
            FieldError("data.csv", "data.name csv needs data.csv, the CSV's hash", "missing")
        )
        return None
    info = data_shape(DataConfig(**data)) if data_shape is not None else None
    if info is None:
        errors.append(
            FieldError(
                "data.csv",
                f"no CSV with hash {data['csv']!r} is loaded; send it first (csv_inspect)",
                "unknown_csv",
            )
        )
    return info


def validate(obj: object, data_shape: DataShape | None = None) -> Config:
    """Check a parsed JSON object and build a `Config`.

    Missing keys take their defaults; every problem is reported at once in a
    `ConfigError`. `data_shape` gives the shape of an uploaded CSV (see `DataShape`);
    without it a config with data.name "csv" fails with code `unknown_csv`.
    """
    errors: list[FieldError] = []
    top = _as_object(obj, "", errors)
    if top is None:
        raise ConfigError(errors)
    _unknown_keys(top, list(_TOP_KEYS), "", errors)

    seed_field = FIELD_BY_PATH["seed"]
    seed = (
        _check_value(seed_field, "seed", top["seed"], errors)
        if "seed" in top
        else seed_field.default
    )

    parts: dict[str, dict[str, Any]] = {}
    for section in _SECTIONS:
        sub = _as_object(top[section], section, errors) if section in top else None
        if section in top and sub is None:
            parts[section] = {}
            continue
        parts[section] = _section(sub, section, errors)

    info = None
    if not errors or not any(e.field.startswith("data") for e in errors):
        info = _data_info(parts["data"], data_shape, errors)
    if info is not None:
        _default_loss_for_data(top, parts, info)
        if not errors:
            _cross_checks(parts["data"], parts["network"], info, errors)
    if errors:
        raise ConfigError(errors)
    return Config(
        seed=seed,
        data=DataConfig(**parts["data"]),
        network=NetworkConfig(**parts["network"]),
        training=TrainingConfig(**parts["training"]),
    )


def from_dict(obj: object) -> Config:
    """The inverse of `to_dict` (with full validation); same as `validate`."""
    return validate(obj)


def validate_training_patch(obj: object, current: TrainingConfig) -> TrainingConfig:
    """Apply a live change of the training section, e.g. `{"learning_rate": 0.1}`.

    Keys not in `obj` keep their `current` values. Field paths in errors are
    `training.<key>`.
    """
    errors: list[FieldError] = []
    sub = _as_object(obj, "training", errors)
    if sub is None:
        raise ConfigError(errors)
    base = {f.name: getattr(current, f.name) for f in fields(TrainingConfig)}
    values = _section(sub, "training", errors, base=base)
    if errors:
        raise ConfigError(errors)
    return replace(current, **values)


def default_config() -> Config:
    """The config with every key at its default."""
    return validate({})


_CSV_KEYS = ("data.csv", "data.target", "data.task")


def to_dict(config: Config) -> dict[str, Any]:
    """The JSON-ready dict of a config (all keys, in the documented order; the CSV keys
    only for a CSV data set)."""
    out: dict[str, Any] = {"seed": config.seed}
    for section in _SECTIONS:
        part = getattr(config, section)
        values: dict[str, Any] = {}
        for f in _section_fields(section):
            if f.path in _CSV_KEYS and config.data.name != "csv":
                continue  # a built-in set's config stays as it always was
            value = getattr(part, f.name)
            if f.kind == "layers":
                value = [{"units": layer.units, "activation": layer.activation} for layer in value]
            values[f.name] = value
        out[section] = values
    return out


# --------------------------------------------------------------------------
# JSON Schema and docs
# --------------------------------------------------------------------------


def _leaf_schema(f: Field) -> dict[str, Any]:
    schema: dict[str, Any] = {
        "type": {"int": "integer", "float": "number", "str": "string", "bool": "boolean"}[f.kind],
        "description": f.en,
        "x-description-zh": f.zh,
        "default": f.default,
    }
    if f.choices:
        schema["enum"] = list(f.choices)
    if f.minimum is not None:
        schema["exclusiveMinimum" if f.exclusive_minimum else "minimum"] = f.minimum
    if f.maximum is not None:
        schema["exclusiveMaximum" if f.exclusive_maximum else "maximum"] = f.maximum
    return schema


def _object_schema(flds: list[Field], description: str) -> dict[str, Any]:
    props: dict[str, Any] = {}
    for f in flds:
        if f.kind == "layers":
            layer = _object_schema(_LAYER_FIELDS, "One hidden layer.")
            props[f.name] = {
                "type": "array",
                "description": f.en,
                "x-description-zh": f.zh,
                "default": [dict(d) for d in f.default],
                "minItems": f.minimum,
                "maxItems": f.maximum,
                "items": layer,
            }
        else:
            props[f.name] = _leaf_schema(f)
    return {
        "type": "object",
        "description": description,
        "properties": props,
        "additionalProperties": False,
    }


def json_schema() -> dict[str, Any]:
    """JSON Schema (draft 2020-12) of the config.

    It covers types, ranges and choices; the cross-field rules (loss vs data set,
    parameter count) are checked only by `validate`.
    """
    schema = _object_schema(
        [FIELD_BY_PATH["seed"]],
        "A bpviz experiment. Every key is optional; missing keys take their defaults. "
        "Also checked beyond this schema: the loss must fit the data set, and the "
        f"network must have at most {int(LIMITS['max_parameters']):,} parameters.",
    )
    for section, cls in _SECTIONS.items():
        schema["properties"][section] = _object_schema(
            _section_fields(section), (cls.__doc__ or "").strip()
        )
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://bpviz.invalid/config.schema.json",
        "title": "bpviz config",
        **schema,
    }


def _default_text(f: Field) -> str:
    if f.kind == "layers":
        return "[" + ", ".join(f"{d['units']} {d['activation']}" for d in f.default) + "]"
    if f.kind == "str":
        return f"`{f.default}`" if f.default else '`""`'
    if f.kind == "bool":
        return "`true`" if f.default else "`false`"
    return f"`{f.default!r}`" if isinstance(f.default, float) else f"`{f.default}`"


def markdown_table() -> str:
    """The reference tables of docs/config.md: fields, then limits."""
    type_names = {
        "int": "integer",
        "float": "number",
        "str": "string",
        "bool": "boolean",
        "layers": "list of layers",
    }
    lines = [
        "| key | type | default | range / choices | meaning | 中文 |",
        "|---|---|---|---|---|---|",
    ]
    for f in FIELDS:
        lines.append(
            f"| `{f.path}` | {type_names[f.kind]} | {_default_text(f)} | {f.range_text()} "
            f"| {f.en} | {f.zh} |"
        )
    lines += [
        "",
        "| limit | value | what it bounds | 中文 |",
        "|---|---|---|---|",
    ]
    for key, value in LIMITS.items():
        en, zh = LIMIT_DESCRIPTIONS[key]
        lines.append(f"| `{key}` | {_num(value)} | {en} | {zh} |")
    return "\n".join(lines) + "\n"
