"""What JSON each kind of config value accepts: numbers, switches, text and names.

pydantic's lax mode would take ``"10"`` for 10 and ``1`` for true; a config is
stricter, and says why in words a teacher can act on:

- A bool is never a number, and only a bool is a bool (``Flag`` refuses ``0``, ``1``
  and ``"true"``).
- An integer (``Int``) accepts an integral float (``10.0``, which JSON Schema's
  ``"integer"`` accepts too) and refuses ``10.5``; a float (``Float``) accepts an
  integer. NaN and infinities are refused, and so is an integer beyond the float range,
  cleanly.
- ``null`` is never a value.
- A name (``Choice``) must be one of the listed names, exactly.

Each refusal is a ``PydanticCustomError`` whose type is the stable code of
docs/config.md (``type``, ``not_finite``, ``not_integer``, ``choice``, ``too_large``).
The messages are formatted here, without pydantic's ``{}`` templates, so that text from
the input is never read as a placeholder.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, PydanticCustomError, core_schema

__all__ = ["Choice", "Flag", "Float", "Int", "Section", "Text", "key", "kind_of", "show", "to_int"]


def kind_of(value: object) -> str:
    """The JSON kind of ``value`` in words: "null", "a boolean", "a number", …"""
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
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def show(value: object) -> str:
    """A number as the messages print it (a huge integer by its size, not its digits)."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**18:
        return f"an integer of {int(value.bit_length() * math.log10(2)) + 1} digits"
    return repr(value) if isinstance(value, float) else str(value)


def _error(code: str, message: str) -> PydanticCustomError:
    return PydanticCustomError(code, message)


def _number(value: object) -> int | float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _error("type", f"must be a number, got {kind_of(value)}")
    if isinstance(value, float) and not math.isfinite(value):
        raise _error("not_finite", f"must be a finite number, got {value}")
    return value


def to_int(value: object) -> int:
    """``value`` as an integer (an integral float is one); else a ``type``,
    ``not_finite`` or ``not_integer`` error. For ``Annotated[int, Field(ge=…),
    BeforeValidator(to_int)]``: bounds listed before it show in the JSON Schema."""
    number = _number(value)
    if isinstance(number, float):
        if not number.is_integer():
            raise _error("not_integer", f"must be a whole number, got {number}")
        return int(number)
    return number


def _to_float(value: object) -> float:
    number = _number(value)
    try:
        return float(number)
    except OverflowError:  # an integer past the float range, on either side
        code = "too_small" if number < 0 else "too_large"
        raise _error(code, f"must be a finite number, got {show(number)}") from None


def _to_bool(value: object) -> bool:
    if not isinstance(value, bool):
        raise _error("type", f"must be true or false, got {kind_of(value)}")
    return value


def _to_str(value: object) -> str:
    if not isinstance(value, str):
        raise _error("type", f"must be a string, got {kind_of(value)}")
    return value


Int = Annotated[int, BeforeValidator(to_int)]
"""A whole number (an integral float such as ``10.0`` is taken as ``10``)."""
Float = Annotated[float, BeforeValidator(_to_float)]
"""A finite number (an integer is taken as a float)."""
Flag = Annotated[bool, BeforeValidator(_to_bool)]
"""``true`` or ``false``, nothing else."""
Text = Annotated[str, BeforeValidator(_to_str)]
"""A string."""


class Choice:
    """``Annotated[str, Choice(names)]``: one of ``names``, exactly (no case folding); the
    JSON Schema lists them as its ``enum``."""

    def __init__(self, names: Iterable[str]) -> None:
        self.names = tuple(names)

    def check(self, value: object) -> str:
        """``value`` if it is one of the names; else a ``type`` or ``choice`` error."""
        name = _to_str(value)
        if name not in self.names:
            raise _error(
                "choice", f"unknown value {name!r}; choose one of: {', '.join(self.names)}"
            )
        return name

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        return core_schema.no_info_before_validator_function(self.check, handler(source))

    def __get_pydantic_json_schema__(
        self, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        out = handler(schema)
        out["enum"] = list(self.names)
        return out


def key(default: Any, en: str, zh: str, **bounds: Any) -> Any:
    """A config key: ``pydantic.Field`` with its default, its bounds (``ge``, ``lt``…) and
    its description in English and Chinese (``x-description-zh`` in the JSON Schema)."""
    return Field(default, description=en, json_schema_extra={"x-description-zh": zh}, **bounds)


class Section(BaseModel):
    """A part of the config: frozen, and no unknown keys."""

    model_config = ConfigDict(extra="forbid", frozen=True)
