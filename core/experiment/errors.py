"""Config errors: each problem as ``FieldError(field, message, code, params)``, all at once.

pydantic reports a refused value with its location and an error type; here that
becomes a dotted ``field`` (``network.hidden.2.units``), an English ``message``, one
of the stable ``code``s of docs/config.md, which the page and the CLI translate, and
``params``: the JSON-ready values the message was made of (``{"field":
"training.learning_rate", "max": 10, "exclusive": false, "value": 12.0}``), so that the
page can word the message in Chinese. The value types of :mod:`.fields` and the
cross-field rules raise those codes directly; pydantic's own types are mapped in
:func:`field_errors`. A rule that knows its parameters raises :func:`coded_error`,
whose params reach the :class:`FieldError` as they are; for the others they are read
off the refused value and the model (bounds, choices, the expected type).
"""

from __future__ import annotations

import dataclasses
import math
import typing
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails, PydanticCustomError

from .fields import Choice, kind_of, show
from .limits import LIMITS

__all__ = [
    "CODES",
    "PARAMS",
    "ConfigError",
    "FieldError",
    "coded_error",
    "field_errors",
    "json_kind",
    "json_value",
    "number_text",
    "params_table",
]

CODES: dict[str, tuple[str, str]] = {
    "type": ("wrong JSON type (or `null`)", "类型错误"),
    "not_integer": ("a whole number is required", "需要整数"),
    "not_finite": ("NaN or ±Infinity (or, on a float32 network, beyond its range)", "不是有限数"),
    "too_small": ("outside the range", "超出范围"),
    "too_large": ("outside the range (or too long a text)", "超出范围"),
    "choice": ("unknown name", "未知选项"),
    "unknown_key": ("key not in the table", "未知字段"),
    "missing": (
        "a required key is absent or empty: `data.csv` with `data.name` `csv`, `W` or "
        "`b` of a layer's given weights",
        "缺少必需的字段（CSV 哈希，或给定权重的 W、b）",
    ),
    "too_many_layers": ("more than `max_hidden_layers`", "隐藏层过多"),
    "too_many_parameters": ("more than `max_parameters`", "参数过多"),
    "incompatible": (
        "the loss does not fit the data set (or a table's targets), or the output "
        "activation does not fit the loss",
        "损失函数与数据集（或数据表的目标值、输出激活函数）不匹配",
    ),
    "shape": (
        "a list has the wrong length: a table's rows, given weights, input features of "
        "data that is not 2-D",
        "列表长度不对（数据表的行、给定的权重、非二维数据的输入特征）",
    ),
    "unknown_csv": ("no CSV with that hash is loaded (send it first)", "未知的 CSV 文件"),
}
"""Every ``FieldError.code`` with its meaning in English and Chinese (docs/config.md)."""

PARAMS: dict[str, tuple[str, ...]] = {
    "type": ("expected", "got"),
    "not_integer": ("value",),
    "not_finite": ("value",),
    "too_small": ("min", "exclusive", "value"),
    "too_large": ("max", "exclusive", "value", "max_length", "dataset"),
    "choice": ("value", "allowed"),
    "unknown_key": ("key", "known"),
    "missing": (),
    "too_many_layers": ("count", "max"),
    "too_many_parameters": ("count", "max", "widths"),
    "incompatible": ("loss", "task", "dataset", "allowed"),
    "shape": ("expected", "got"),
    "unknown_csv": ("hash",),
}
"""The keys of each code's ``params`` besides ``field`` (present in every one); a key
that does not apply to a case is left out (``too_large``: ``max`` and ``exclusive`` for
a number, ``max_length`` for a text, ``dataset`` with ``max`` and ``value`` for the
examples of a data set; ``too_many_parameters`` and ``incompatible`` have theirs once
the rule raises :func:`coded_error`)."""

_JSON_KINDS = {
    "null": "null",
    "a boolean": "boolean",
    "a string": "string",
    "a number": "number",
    "a list": "array",
    "an object": "object",
}


def json_kind(value: object) -> str:
    """The JSON type of ``value``: "null", "boolean", "number", "string", "array", "object"."""
    return _JSON_KINDS.get(kind_of(value), "unknown")


def json_value(value: object) -> Any:
    """``value`` as a message parameter: numbers and short strings as they are, a
    non-finite float as ``"NaN"``/``"Infinity"``/``"-Infinity"``, an integer beyond
    2⁵³ and a long string as text cut to 40 characters (an integer of thousands of
    digits as ``"~1e<digits>"``), a list or object by its JSON kind."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        if abs(value) < 2**53:
            return value
        digits = int(value.bit_length() * math.log10(2))
        return _cut(str(value)) if digits < 4000 else f"~1e{digits}"
    if isinstance(value, float):
        if math.isfinite(value):
            return value
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, str):
        return _cut(value)
    return json_kind(value)


def _cut(s: str, n: int = 40) -> str:
    return s if len(s) <= n else s[: n - 1] + "…"


_CTX = "params"  # the context key that carries a coded_error's params


def coded_error(code: str, message: str, **params: Any) -> PydanticCustomError:
    """A pydantic error with one of our codes, its finished English ``message`` and the
    ``params`` it was made of (JSON-ready values), which :func:`field_errors` hands on.

    pydantic fills ``{key}`` placeholders of a message from its context, so the params
    travel under one key that the message does not hold as a placeholder (text from
    the input is never read as one)."""
    key = _CTX
    while "{" + key + "}" in message:
        key += "_"
    return PydanticCustomError(code, message, {key: params})


@dataclasses.dataclass(frozen=True)
class FieldError:
    """One problem with one key. ``code`` is stable for translation (see :data:`CODES`);
    ``params`` holds ``field`` and the values of :data:`PARAMS` ``[code]``."""

    field: str
    message: str
    code: str
    params: dict[str, Any] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "params", {"field": self.field, **self.params})

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready ``{"field", "message", "code", "params"}``, to send as it is."""
        return {
            "field": self.field,
            "message": self.message,
            "code": self.code,
            "params": dict(self.params),
        }


class ConfigError(ValueError):
    """A config was rejected; ``errors`` lists every problem found."""

    def __init__(self, errors: Sequence[FieldError]) -> None:
        self.errors = list(errors)
        super().__init__("; ".join(f"{e.field or '(config)'}: {e.message}" for e in self.errors))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready ``{"code": "invalid_config", "message", "field" (the first
        problem's), "errors": [FieldError.to_dict()]}``."""
        return {
            "code": "invalid_config",
            "message": str(self),
            "field": self.errors[0].field if self.errors else None,
            "errors": [e.to_dict() for e in self.errors],
        }


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


def _at(model: type[BaseModel] | None, loc: Sequence[int | str]) -> tuple[Any, Any]:
    """``(annotation, FieldInfo)`` of the value at ``loc`` inside ``model``: the type it
    must have and the model field that declares it (``None`` where unknown)."""
    node: Any = model
    info: Any = None
    for part in loc:
        origin = typing.get_origin(node)
        if isinstance(node, type) and issubclass(node, BaseModel) and isinstance(part, str):
            info = node.model_fields.get(part)
            node = info.annotation if info is not None else None
        elif origin in (tuple, list) and isinstance(part, int):
            node = typing.get_args(node)[0]
        elif origin is dict:
            node = typing.get_args(node)[1]
        else:
            return None, None
    if typing.get_origin(node) in (typing.Union, _UNION):  # X | None: the X
        args = [a for a in typing.get_args(node) if a is not type(None)]
        node = args[0] if len(args) == 1 else node
    return node, info


_UNION = type(int | None)
_TYPES = {int: "integer", float: "number", bool: "boolean", str: "string"}


def _expected(node: Any) -> str:
    """The JSON type an annotation asks for: "integer", "number", "object", "array", …"""
    if typing.get_origin(node) is typing.Annotated:  # Float, a Choice, …: the type inside
        node = typing.get_args(node)[0]
    origin = typing.get_origin(node)
    if node in _TYPES:
        return _TYPES[node]
    if origin in (tuple, list):
        return "array"
    if origin is dict or (isinstance(node, type) and issubclass(node, BaseModel)):
        return "object"
    if origin is typing.Literal:
        return "string"
    return "value"


def _allowed(node: Any, info: Any) -> list[Any]:
    """The values a choice or a ``Literal`` allows (empty when unknown)."""
    if typing.get_origin(node) is typing.Literal:
        return list(typing.get_args(node))
    inner = typing.get_args(node)[1:] if typing.get_origin(node) is typing.Annotated else ()
    for meta in (*inner, *getattr(info, "metadata", ())):  # a list's items' own, or the key's
        if isinstance(meta, Choice):
            return list(meta.names)
    return []


def _known_keys(model: type[BaseModel] | None, loc: Sequence[int | str]) -> list[str]:
    """The keys of the object at ``loc`` inside ``model`` (empty when unknown)."""
    node, _ = _at(model, loc)
    if isinstance(node, type) and issubclass(node, BaseModel):
        return list(node.model_fields)
    return []


def _bound(info: Any, code: str) -> dict[str, Any]:
    """The key's bound on the side ``code`` names (``min`` for ``too_small``, ``max`` for
    ``too_large``, and whether it is exclusive); empty for a key without one."""
    names = ("ge", "gt") if code == "too_small" else ("le", "lt")
    for meta in getattr(info, "metadata", ()):
        for name in names:
            bound = getattr(meta, name, None)
            if bound is not None:
                side = "min" if code == "too_small" else "max"
                return {side: json_value(bound), "exclusive": name in ("gt", "lt")}
    return {}


def _params(
    code: str, value: Any, loc: Sequence[int | str], model: type[BaseModel] | None
) -> dict[str, Any]:
    """The params of one of our codes raised without them, read off the refused
    ``value`` and the model."""
    node, info = _at(model, loc)
    if code == "type":
        return {"expected": _expected(node), "got": json_kind(value)}
    if code in ("too_small", "too_large") and value is not None:  # a number past any range
        return {**_bound(info, code), "value": json_value(value)}
    if code in ("not_integer", "not_finite") and value is not None:
        return {"value": json_value(value)}
    if code == "choice":
        return {"value": json_value(value), "allowed": _allowed(node, info)}
    if code == "too_many_layers" and isinstance(value, list | tuple):
        return {"count": len(value), "max": int(LIMITS["max_hidden_layers"])}
    return {}


def _one(
    err: ErrorDetails, loc: Sequence[int | str], model: type[BaseModel] | None
) -> tuple[str, str, dict[str, Any]]:
    """``(code, message, params)`` of one pydantic error at ``loc`` inside ``model``."""
    kind, ctx, value = err["type"], err.get("ctx") or {}, err.get("input")
    if kind in _BOUNDS:
        key, words, code = _BOUNDS[kind]
        bound = ctx[key]
        params = {
            "min" if code == "too_small" else "max": json_value(bound),
            "exclusive": key in ("gt", "lt"),
            "value": json_value(value),
        }
        return code, f"must be {words} {number_text(bound)}, got {show(value)}", params
    if kind == "extra_forbidden":
        name = loc[-1] if loc else ""
        known = _known_keys(model, loc[:-1])
        tail = f"; known keys: {', '.join(known)}" if known else ""
        return "unknown_key", f"unknown key {name!r}{tail}", {"key": str(name), "known": known}
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return "type", f"must be an object, got {kind_of(value)}", _typed("object", value)
    if kind in ("tuple_type", "list_type"):
        return "type", f"must be a list, got {kind_of(value)}", _typed("array", value)
    if kind == "invalid_key":
        return "type", f"keys must be strings, got {value!r}", _typed("string", value)
    carried = [v for k, v in ctx.items() if k.startswith(_CTX) and isinstance(v, dict)]
    if carried:  # a coded_error: its params as they are
        return kind, err["msg"], dict(carried[0])
    if kind in CODES or not kind.endswith(("_type", "_parsing", "_error")) or kind == "missing":
        # our own codes (fields.py, the cross-field rules), and pydantic's "missing"
        return kind, err["msg"], _params(kind, value, loc, model)
    # pydantic's other types pass through (a run file's literal_error, int_parsing, …)
    node, info = _at(model, loc)
    if kind == "literal_error":
        return kind, err["msg"], {"value": json_value(value), "allowed": _allowed(node, info)}
    return kind, err["msg"], _typed(_expected(node), value)


def _typed(expected: str, value: Any) -> dict[str, Any]:
    return {"expected": expected, "got": json_kind(value)}


def field_errors(
    exc: ValidationError, prefix: str = "", model: type[BaseModel] | None = None, skip: int = 0
) -> list[FieldError]:
    """Every error of ``exc`` as a :class:`FieldError` whose ``field`` is ``prefix`` and
    the error's location, dotted. ``model`` (the validated model) names the known keys
    when a key is unknown, and the bounds, choices and types of the params. ``skip``
    drops the first parts of each location: a config inside a message, e.g.
    ``("configure", "config", "seed")`` with ``skip=2`` and ``model=Config``, gives field
    ``seed``."""
    out = []
    for err in exc.errors(include_url=False):
        loc = err["loc"][skip:]
        code, message, params = _one(err, loc, model)
        field = ".".join([prefix] * bool(prefix) + [str(p) for p in loc])
        out.append(FieldError(field, message, code, params))
    return out


def params_table() -> str:
    """The table of each config error code's ``params`` in docs/config.md."""
    lines = ["| code | params (besides `field`) |", "|---|---|"]
    for code in CODES:
        keys = ", ".join(f"`{k}`" for k in PARAMS[code]) or "—"
        lines.append(f"| `{code}` | {keys} |")
    return "\n".join(lines) + "\n"
