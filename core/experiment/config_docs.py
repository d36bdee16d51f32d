"""The config's JSON Schema and the tables of docs/config.md, generated from the models.

``bpviz config --schema`` prints :func:`json_schema` (also served in ``/api/schema``);
``bpviz config --markdown`` prints :func:`markdown_table`, which docs/config.md carries
between its markers (a test fails while the page is stale).
"""

from __future__ import annotations

import typing
from dataclasses import dataclass
from typing import Any

import annotated_types as at
from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from .config import Config, LayerConfig
from .errors import CODES, number_text
from .fields import Choice
from .limits import LIMIT_TEXTS, LIMITS

__all__ = ["Key", "codes_table", "inline_refs", "json_schema", "keys", "markdown_table"]


def inline_refs(schema: dict[str, Any]) -> dict[str, Any]:
    """A pydantic JSON Schema with its ``$defs`` inlined (it has no recursion) and its
    titles dropped, to embed anywhere (an OpenAPI request body, ``/api/schema``)."""
    schema = dict(schema)
    out: dict[str, Any] = _inline(schema, schema.pop("$defs", {}))
    return out


def _inline(node: Any, defs: dict[str, Any]) -> Any:
    """``node`` with every ``$ref`` replaced by its definition and pydantic's titles dropped."""
    if isinstance(node, list):
        return [_inline(item, defs) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        return _inline(defs[node["$ref"].rsplit("/", 1)[-1]], defs)
    out = {k: _inline(v, defs) for k, v in node.items() if k != "title"}
    if "description" in out and isinstance(out["description"], str):
        out["description"] = " ".join(out["description"].split())
    if out.get("type") == "object":  # a section: its keys have defaults, not the section
        out.pop("default", None)
    return out


def json_schema() -> dict[str, Any]:
    """JSON Schema (draft 2020-12) of the config, every object inline.

    It covers types, ranges and choices; the cross-field rules (loss vs data set,
    parameter count) are checked by ``config.validate`` and ``build.build``.
    """
    schema = inline_refs(Config.model_json_schema())
    schema["description"] = (
        "A bpviz experiment. Every key is optional; missing keys take their defaults. "
        "Also checked beyond this schema: the loss must fit the data set, and the "
        f"network must have at most {int(LIMITS['max_parameters']):,} parameters."
    )
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://bpviz.invalid/config.schema.json",
        "title": "bpviz config",
        **schema,
    }


@dataclass(frozen=True)
class Key:
    """One key of the config as the docs describe it, read off the models.

    ``path`` is dotted, ``*`` standing for the index of a hidden layer (or of a
    layer's given weights); ``kind`` is "int", "float", "str", "bool", "layers", or for
    the other lists "weights" (one ``{W, b}`` per layer), "table" (rows of numbers),
    "numbers" or "names" (its ``choices`` the names allowed). ``minimum`` and ``maximum``
    are inclusive unless ``exclusive_*``; for "layers" they bound the number of layers.
    """

    path: str
    kind: str
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
        if self.kind in ("str", *_LISTS):
            return ""
        lo = "(" if self.exclusive_minimum else "["
        hi = ")" if self.exclusive_maximum else "]"
        text = f"{lo}{number_text(self.minimum)}, {number_text(self.maximum)}{hi}"
        return text + (" layers" if self.kind == "layers" else "")

    def default_text(self) -> str:
        """The default, as written in docs/config.md."""
        value = self.default
        if value is PydanticUndefined:
            return "required"
        if self.kind == "layers":
            return "[" + ", ".join(f"{layer.units} {layer.activation}" for layer in value) + "]"
        if self.kind in _LISTS:
            return "`[" + ", ".join(str(v) for v in value) + "]`"
        if self.kind == "bool":
            return "`true`" if value else "`false`"
        if self.kind == "str":
            return f"`{value}`" if value else '`""`'
        return f"`{value!r}`" if isinstance(value, float) else f"`{value}`"


_KINDS: dict[Any, str] = {int: "int", float: "float", str: "str", bool: "bool"}
_LISTS = ("weights", "table", "numbers", "names")


def _list_kind(annotation: Any) -> tuple[str | None, tuple[str, ...]]:
    """The kind of a list-valued key (``None`` for a scalar) and, for names, the choices."""
    if typing.get_origin(annotation) is not tuple:
        return None, ()
    item = typing.get_args(annotation)[0]
    meta: tuple[Any, ...] = ()
    if typing.get_origin(item) is typing.Annotated:
        item, *rest = typing.get_args(item)
        meta = tuple(rest)
    if item is LayerConfig:
        return "layers", ()
    if isinstance(item, type) and issubclass(item, BaseModel):
        return "weights", ()
    if typing.get_origin(item) is tuple:
        return "table", ()
    names = next((m.names for m in meta if isinstance(m, Choice)), ())
    return ("names", names) if item is str else ("numbers", ())


def _key(path: str, info: FieldInfo) -> Key:
    kind, choices = _list_kind(info.annotation)
    extra = info.json_schema_extra
    bounds: dict[str, Any] = {}
    for meta in info.metadata:
        if isinstance(meta, Choice):
            choices = meta.names
        elif isinstance(meta, at.Ge | at.MinLen):
            bounds["minimum"] = meta.ge if isinstance(meta, at.Ge) else meta.min_length
        elif isinstance(meta, at.Gt):
            bounds.update(minimum=meta.gt, exclusive_minimum=True)
        elif isinstance(meta, at.Le | at.MaxLen):
            bounds["maximum"] = meta.le if isinstance(meta, at.Le) else meta.max_length
        elif isinstance(meta, at.Lt):
            bounds.update(maximum=meta.lt, exclusive_maximum=True)
    return Key(
        path,
        kind or _KINDS[info.annotation],
        info.get_default(call_default_factory=True),
        info.description or "",
        str(extra.get("x-description-zh", "")) if isinstance(extra, dict) else "",
        choices=choices,
        **bounds,
    )


def keys(model: type[BaseModel] = Config, prefix: str = "") -> list[Key]:
    """Every key of the config, in the documented order (a section's keys in its place,
    the hidden layers' keys after ``network.hidden``)."""
    out: list[Key] = []
    for name, info in model.model_fields.items():
        annotation = info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            out += keys(annotation, f"{prefix}{name}.")
            continue
        key = _key(prefix + name, info)
        out.append(key)
        if key.kind in ("layers", "weights"):
            item = typing.get_args(annotation)[0]
            out += keys(item, f"{prefix}{name}.*.")
    return out


def markdown_table() -> str:
    """The reference tables of docs/config.md: keys, then limits."""
    kinds = {
        "int": "integer",
        "float": "number",
        "str": "string",
        "bool": "boolean",
        "layers": "list of layers",
        "weights": "list of {W, b}",
        "table": "list of rows of numbers",
        "numbers": "list of numbers",
        "names": "list of names",
    }
    lines = [
        "| key | type | default | range / choices | meaning | 中文 |",
        "|---|---|---|---|---|---|",
    ]
    for k in keys():
        lines.append(
            f"| `{k.path}` | {kinds[k.kind]} | {k.default_text()} | {k.range_text()} "
            f"| {k.en} | {k.zh} |"
        )
    lines += ["", "| limit | value | what it bounds | 中文 |", "|---|---|---|---|"]
    for key, value in LIMITS.items():
        en, zh = LIMIT_TEXTS[key]
        lines.append(f"| `{key}` | {number_text(value)} | {en} | {zh} |")
    return "\n".join(lines) + "\n"


def codes_table() -> str:
    """The table of error codes in docs/config.md."""
    lines = ["| code | meaning | 中文 |", "|---|---|---|"]
    lines += [f"| `{code}` | {en} | {zh} |" for code, (en, zh) in CODES.items()]
    return "\n".join(lines) + "\n"
