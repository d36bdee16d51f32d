"""Config errors: each problem as ``FieldError(field, message, code)``, all of them at once.

pydantic reports a refused value with its location and an error type; here that
becomes a dotted ``field`` (``network.hidden.2.units``), an English ``message`` and one
of the stable ``code``s of docs/config.md, which the page and the CLI translate. The
value types of :mod:`.fields` and the cross-field rules raise those codes directly;
pydantic's own types are mapped in :func:`field_errors`.
"""

from __future__ import annotations

import typing
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from .fields import kind_of, show

__all__ = ["CODES", "ConfigError", "FieldError", "field_errors", "number_text"]

CODES: dict[str, tuple[str, str]] = {
    "type": ("wrong JSON type (or `null`)", "类型错误"),
    "not_integer": ("a whole number is required", "需要整数"),
    "not_finite": ("NaN or ±Infinity", "不是有限数"),
    "too_small": ("outside the range", "超出范围"),
    "too_large": ("outside the range (or too long a text)", "超出范围"),
    "choice": ("unknown name", "未知选项"),
    "unknown_key": ("key not in the table", "未知字段"),
    "missing": ("`data.name` is `csv` but `data.csv` is empty", "缺少 CSV 哈希"),
    "too_many_layers": ("more than `max_hidden_layers`", "隐藏层过多"),
    "too_many_parameters": ("more than `max_parameters`", "参数过多"),
    "incompatible": ("the loss does not fit the data set", "损失函数与数据集不匹配"),
    "unknown_csv": ("no CSV with that hash is loaded (send it first)", "未知的 CSV 文件"),
}
"""Every ``FieldError.code`` with its meaning in English and Chinese (docs/config.md)."""


@dataclass(frozen=True)
class FieldError:
    """One problem with one key. ``code`` is stable for translation (see :data:`CODES`)."""

    field: str
    message: str
    code: str

    def to_dict(self) -> dict[str, str]:
        return {"field": self.field, "message": self.message, "code": self.code}


class ConfigError(ValueError):
    """A config was rejected; ``errors`` lists every problem found."""

    def __init__(self, errors: Sequence[FieldError]) -> None:
        self.errors = list(errors)
        super().__init__("; ".join(f"{e.field or '(config)'}: {e.message}" for e in self.errors))


def number_text(x: float | None) -> str:
    """A bound as the messages and docs print it: ``10`` for 10.0, ``∞`` for None."""
    if x is None:
        return "∞"
    if isinstance(x, int) or (isinstance(x, float) and x.is_integer() and abs(x) < 1e15):
        return str(int(x))
    return repr(x)


_BOUNDS = {
    "greater_than": ("gt", "greater than", "too_small"),
    "greater_than_equal": ("ge", "at least", "too_small"),
    "less_than": ("lt", "less than", "too_large"),
    "less_than_equal": ("le", "at most", "too_large"),
}


def _known_keys(model: type[BaseModel] | None, loc: Sequence[int | str]) -> list[str]:
    """The keys of the object at ``loc`` inside ``model`` (empty when unknown)."""
    node: Any = model
    for part in loc:
        if isinstance(node, type) and issubclass(node, BaseModel) and isinstance(part, str):
            field = node.model_fields.get(part)
            node = field.annotation if field is not None else None
        elif typing.get_origin(node) is tuple and isinstance(part, int):
            node = typing.get_args(node)[0]
        else:
            return []
    if isinstance(node, type) and issubclass(node, BaseModel):
        return list(node.model_fields)
    return []


def _one(
    err: ErrorDetails, loc: Sequence[int | str], model: type[BaseModel] | None
) -> tuple[str, str]:
    """``(code, message)`` of one pydantic error at ``loc`` inside ``model``."""
    kind, ctx, value = err["type"], err.get("ctx") or {}, err.get("input")
    if kind in _BOUNDS:
        key, words, code = _BOUNDS[kind]
        return code, f"must be {words} {number_text(ctx[key])}, got {show(value)}"
    if kind == "extra_forbidden":
        name = loc[-1] if loc else ""
        known = _known_keys(model, loc[:-1])
        tail = f"; known keys: {', '.join(known)}" if known else ""
        return "unknown_key", f"unknown key {name!r}{tail}"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return "type", f"must be an object, got {kind_of(value)}"
    if kind in ("tuple_type", "list_type"):
        return "type", f"must be a list, got {kind_of(value)}"
    if kind == "invalid_key":
        return "type", f"keys must be strings, got {value!r}"
    return kind, err["msg"]  # our own codes (fields.py, the cross-field rules) pass through


def field_errors(
    exc: ValidationError, prefix: str = "", model: type[BaseModel] | None = None, skip: int = 0
) -> list[FieldError]:
    """Every error of ``exc`` as a :class:`FieldError` whose ``field`` is ``prefix`` and
    the error's location, dotted. ``model`` (the validated model) names the known keys
    when a key is unknown. ``skip`` drops the first parts of each location: a config
    inside a message, e.g. ``("configure", "config", "seed")`` with ``skip=2`` and
    ``model=Config``, gives field ``seed``."""
    out = []
    for err in exc.errors(include_url=False):
        loc = err["loc"][skip:]
        code, message = _one(err, loc, model)
        field = ".".join([prefix] * bool(prefix) + [str(p) for p in loc])
        out.append(FieldError(field, message, code))
    return out
