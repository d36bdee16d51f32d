"""The training section of the config: the optimizer and the values it reads, penalties
and clipping — the part of an experiment that may change while it runs.

:class:`TrainingConfig` is the section; :class:`TrainingPatch` is a live change of it
(the websocket ``set`` message): only the keys sent, each checked exactly as in the
section, applied over the current values.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    GetJsonSchemaHandler,
    ModelWrapValidatorHandler,
    model_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

from ..engine import registry
from .fields import Choice, Float, Int, Section, key
from .limits import LIMITS

__all__ = ["TrainingConfig", "TrainingPatch"]


def _rate(default: float, en: str, zh: str) -> Any:
    """A decay rate in [0, 1)."""
    return key(default, en, zh, ge=0.0, lt=1.0)


def _coefficient(default: float, en: str, zh: str) -> Any:
    """A penalty or decay coefficient in [0, 1]."""
    return key(default, en, zh, ge=0.0, le=1.0)


class TrainingConfig(Section):
    """Optimizer and its hyper-parameters, penalties and gradient clipping."""

    optimizer: Annotated[str, Choice(registry.OPTIMIZERS)] = key("sgd", "Optimizer.", "优化器")
    learning_rate: Float = key(
        0.03, "Learning rate η.", "学习率", gt=0.0, le=LIMITS["max_learning_rate"]
    )
    batch_size: Int = key(
        10,
        "Examples per mini-batch (1 = one example per step); at most the whole training "
        "set is used.",
        "批大小",
        ge=1,
        le=LIMITS["max_batch_size"],
    )
    momentum: Float = _rate(0.9, "Momentum coefficient (optimizer momentum).", "动量系数")
    rho: Float = _rate(
        0.9, "Decay rate of the squared-gradient average (RMSprop).", "平方梯度衰减率（RMSprop）"
    )
    beta1: Float = _rate(
        0.9, "Decay rate of the first moment (Adam, AdamW).", "一阶矩衰减率（Adam）"
    )
    beta2: Float = _rate(
        0.999, "Decay rate of the second moment (Adam, AdamW).", "二阶矩衰减率（Adam）"
    )
    eps: Float = key(
        1e-8,
        "Small constant in the denominator (RMSprop, Adam, AdamW).",
        "数值稳定常数 ε",
        gt=0.0,
        le=1.0,
    )
    weight_decay: Float = _coefficient(
        0.01, "Decoupled weight decay (AdamW only).", "权重衰减（AdamW）"
    )
    l1: Float = _coefficient(
        0.0, "L1 penalty coefficient λ₁ (added to the loss, 0 = off).", "L1 正则化系数"
    )
    l2: Float = _coefficient(
        0.0, "L2 penalty coefficient λ₂ (added to the loss, 0 = off).", "L2 正则化系数"
    )
    clip_norm: Float = key(
        0.0,
        "Gradient clipping: largest global gradient norm (0 = off).",
        "梯度裁剪阈值（0 为关闭）",
        ge=0.0,
        le=LIMITS["max_clip_norm"],
    )


class TrainingPatch(BaseModel):
    """A live change of the training section, e.g. ``{"learning_rate": 0.1}``: only the
    keys sent, each checked as in :class:`TrainingConfig` (errors at
    ``<key>``); :meth:`apply` keeps the current values of the others."""

    model_config = ConfigDict(frozen=True)

    changes: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="wrap")
    @classmethod
    def _check(cls, value: Any, handler: ModelWrapValidatorHandler[TrainingPatch]) -> TrainingPatch:
        if isinstance(value, TrainingPatch):
            return value
        checked = TrainingConfig.model_validate(value)  # a dict of known keys, or it raises
        return handler({"changes": checked.model_dump(include=set(value))})

    @classmethod
    def __get_pydantic_json_schema__(
        cls, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        out = TrainingConfig.model_json_schema()
        for prop in out["properties"].values():
            prop.pop("default", None)
        out["title"] = cls.__name__
        out["description"] = " ".join((cls.__doc__ or "").split())
        return out

    def apply(self, current: TrainingConfig) -> TrainingConfig:
        """``current`` with the changed keys."""
        return current.model_copy(update=self.changes)
