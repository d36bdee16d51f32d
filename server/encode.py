"""Compact JSON for frames: NumPy arrays as lists with trimmed precision.

The server's one NaN → null sanitiser. Starlette's ``send_json`` writes bare
``NaN``/``Infinity`` tokens that the browser's ``JSON.parse`` rejects; here every
non-finite number becomes ``null`` and the frame says ``"diverged": true`` instead.
Floats keep 6 significant digits: enough for every number the page prints, and a third
of the bytes of ``repr``.

Speed: arrays are rounded in NumPy (one vectorized pass), turned into lists with
``tolist`` and written by orjson (a third of the standard encoder's time; the same
numbers, parsed back); Python touches the dict structure only.
Rounding to 6 significant digits makes ``repr`` print at most 6 digits, since the
result is the double nearest to a 6-digit decimal.

:func:`pack` writes the same message as one binary websocket message (for clients that
asked with ``{"type": "options", "frames": "binary"}``): the message without its float
arrays as compact JSON, then every float array's values, rounded the same way, as
little-endian float32 — a 6-digit decimal survives float32 (~7 digits) exactly, and
the page reads it with one ``Float32Array``. No number is formatted as text, which is
most of the cost of a JSON frame. ``docs/protocol.md`` (Binary frames) has the layout;
``frontend/static/js/shared/wire.js`` decodes it.
"""

from __future__ import annotations

import json
import math
import struct
from collections.abc import Callable
from typing import Any

import numpy as np
import orjson
from pydantic import BaseModel

_DIGITS = 6
_encoder = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":"))


def round_significant(a: np.ndarray) -> np.ndarray:
    """``a`` (float, any shape) rounded to 6 significant digits; non-finite kept as is."""
    a = np.asarray(a, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        mag = np.abs(a)
        scale = np.log10(mag)  # (a zero: −∞, then a scale of ∞; it is kept below)
        np.floor(scale, out=scale)
        np.subtract(_DIGITS - 1, scale, out=scale)
        np.power(10.0, scale, out=scale)
        out = a * scale
        np.round(out, out=out)
        np.divide(out, scale, out=out)
    # Zeros, non-finite values and tiny magnitudes, where the scale overflows, are kept
    # as they are. From 10⁶ on, the scale (10⁻¹, 10⁻², …) is not exact in binary and the
    # division can land one bit off the 6-digit number (26279000000.000004): those few
    # are rounded through their decimal text, like the scalars. (Few NumPy calls: the
    # arrays of a frame are small, and each call costs more than its elements.)
    ok = mag >= 1e-290
    ok &= mag < 1e6
    if not ok.all():
        out = np.where(ok, out, a)
        if np.fmax.reduce(mag, axis=None) >= 1e6:  # (NaN ignored)
            big = np.flatnonzero(np.isfinite(mag) & (mag >= 1e6))
            out.flat[big] = [float(f"{v:.6g}") for v in a.flat[big].tolist()]
    result: np.ndarray = out
    return result


_ROUNDED: dict[float, float | None] = {}  # memo of _float: a frame repeats most scalars
_ROUNDED_MAX = 1 << 12  # (the repeated ones come back right after a clear)


def _float(v: float) -> float | None:
    """``v`` to 6 significant digits (``None`` if not finite), remembered: the
    hyper-parameters, metrics and counters of a frame are mostly those of the last one."""
    r = _ROUNDED.get(v, _float)
    if r is not _float:
        return r  # type: ignore[return-value]
    r = float(f"{v:.6g}") if math.isfinite(v) else None
    if v:  # (0.0 == -0.0 would share an entry; NaN never hits one)
        if len(_ROUNDED) >= _ROUNDED_MAX:
            _ROUNDED.clear()
        _ROUNDED[v] = r
    return r


float6 = _float  # for the packers of known layouts (``framepack``)


def _exact(v: float) -> float | None:
    return v if math.isfinite(v) else None


class _Encoding:
    """One call of :func:`jsonable`: the float arrays met, and where each one goes."""

    __slots__ = ("arrays", "num", "places", "size")

    def __init__(self, num: Callable[[float], float | None]) -> None:
        self.num = num
        self.arrays: list[np.ndarray] = []
        # (container, key or index, shape, start, stop) of each float array
        self.places: list[tuple[Any, Any, tuple[int, ...], int, int]] = []
        self.size = 0

    def place(self, container: Any, key: Any, a: np.ndarray) -> None:
        """``a`` goes to ``container[key]`` once all arrays are rounded together."""
        start = self.size
        self.size += a.size
        self.arrays.append(a.ravel())
        self.places.append((container, key, a.shape, start, self.size))


# The walks below test the common cases inline (a float, a plain scalar, a float array)
# before calling :func:`_value`: a frame is mostly such leaves, and a call per leaf was
# most of the cost of encoding it. The result is the same as ``_value`` on each.


def _dict(items: Any, enc: _Encoding) -> dict[str, Any]:
    out: dict[str, Any] = {}
    num = enc.num
    for k, v in items:
        key = k if type(k) is str else str(k)
        t = type(v)
        if t is float:
            out[key] = num(v)
        elif v is None or t is str or t is bool or t is int:
            out[key] = v
        elif t is np.ndarray and v.ndim > 0 and v.dtype.kind == "f":
            out[key] = None
            enc.place(out, key, v)
        else:
            out[key] = _value(v, enc)
    return out


def _list(values: Any, enc: _Encoding) -> list[Any]:
    out: list[Any] = []
    append = out.append
    num = enc.num
    for i, v in enumerate(values):
        t = type(v)
        if t is float:
            append(num(v))
        elif v is None or t is str or t is bool or t is int:
            append(v)
        elif t is np.ndarray and v.ndim > 0 and v.dtype.kind == "f":
            append(None)
            enc.place(out, i, v)
        else:
            append(_value(v, enc))
    return out


def _value(v: Any, enc: _Encoding) -> Any:
    """``v`` as a JSON value; float arrays inside it are left to :meth:`_Encoding.place`."""
    t = type(v)
    if t is float:
        return enc.num(v)
    if v is None or t is str or t is bool or t is int:
        return v
    if t is dict:
        return _dict(v.items(), enc)
    if t is list or t is tuple:
        return _list(v, enc)
    if isinstance(v, BaseModel):
        # a message (built with ``model_construct``): the fields it was given, in order
        given = v.model_fields_set
        return _dict(((k, x) for k, x in v.__dict__.items() if k in given), enc)
    if isinstance(v, np.ndarray):
        if v.dtype.kind in "biu":
            return v.tolist()
        if v.ndim == 0:
            return enc.num(float(v))
        raise TypeError(f"cannot encode an array of {v.dtype}")
    if isinstance(v, str):  # a subclass of str
        return v
    if isinstance(v, int | np.integer):
        return int(v)
    if isinstance(v, float | np.floating):
        return enc.num(float(v))
    if isinstance(v, dict):
        return _dict(v.items(), enc)
    if isinstance(v, list | tuple):
        return _list(v, enc)
    raise TypeError(f"cannot encode {t.__name__}")


def _nest(flat: list[Any], shape: tuple[int, ...]) -> list[Any]:
    if len(shape) == 1:
        return flat
    step = len(flat) // shape[0] if shape[0] else 0
    return [_nest(flat[i * step : (i + 1) * step], shape[1:]) for i in range(shape[0])]


def jsonable(obj: Any, rounded: bool = True) -> Any:
    """``obj`` (dicts, lists, pydantic messages, numbers, strings, NumPy arrays) as plain
    JSON values: arrays as (nested) lists, every non-finite float as ``None``, floats
    rounded to 6 significant digits (``rounded=False``: kept exact). All float arrays
    are rounded in one NumPy pass."""
    enc = _Encoding(_float if rounded else _exact)
    root = [obj]
    out = _list(root, enc)
    if enc.arrays:
        r = np.concatenate(enc.arrays).astype(np.float64, copy=False)
        if rounded:
            r = round_significant(r)
        finite = np.isfinite(r)
        if finite.all():
            flat: list[Any] = r.tolist()
        else:
            values = r.astype(object)
            values[~finite] = None
            flat = values.tolist()
        for container, key, shape, start, stop in enc.places:
            container[key] = _nest(flat[start:stop], shape)
    return out[0]


def _json(value: Any) -> bytes:
    """Plain JSON values as UTF-8 JSON: orjson, or the standard encoder for what orjson
    refuses (an integer beyond 64 bits, e.g. a client's ``ping`` id)."""
    try:
        return orjson.dumps(value)
    except orjson.JSONEncodeError:
        return _encoder.encode(value).encode()


def dumps(obj: Any, rounded: bool = True) -> str:
    """Encode ``obj`` as compact JSON (see :func:`jsonable`): never a ``NaN`` or
    ``Infinity`` token."""
    return _json(jsonable(obj, rounded)).decode()


# ---------------------------------------------------------------- binary messages

BINARY_VERSION = 1  # byte 0 of a binary message
FLOAT32, FLOAT64 = 1, 2  # byte 1: the type of the numbers
_HEADER = struct.Struct("<BBHI")  # version, number type, reserved (0), JSON length
_F32_MAX = float(np.finfo(np.float32).max)
_F32_TINY = float(np.finfo(np.float32).tiny)  # the smallest normal float32
_FLOATISH = frozenset((float, type(None)))
_SCALARS = _Encoding(_float)  # for scalars only: nothing is ever placed in them
_EXACT_SCALARS = _Encoding(_exact)


class _Packing:
    """One call of :func:`pack`: the float arrays met, in order, and where each goes."""

    __slots__ = ("arrays", "index", "num", "path", "scalars")

    def __init__(self, rounded: bool = True) -> None:
        self.num = _float if rounded else _exact
        self.scalars = _SCALARS if rounded else _EXACT_SCALARS
        self.arrays: list[np.ndarray] = []
        self.index: list[list[Any]] = []  # [path, shape] of each array
        self.path: list[str | int] = []

    def take(self, key: str | int, a: np.ndarray) -> None:
        self.arrays.append(a)
        self.index.append([[*self.path, key], list(a.shape)])


def _float_list(x: list[Any]) -> np.ndarray | None:
    """A list of floats (``None`` as NaN), or of equal-length such lists, as an array."""
    first = x[0]
    if type(first) is list:
        n = len(first)
        if not n or not all(type(r) is list and len(r) == n for r in x):
            return None
        if not all(set(map(type, r)) <= _FLOATISH for r in x):
            return None
    elif not set(map(type, x)) <= _FLOATISH:
        return None
    return np.array(x, dtype=np.float64)


def _pack_dict(items: Any, p: _Packing) -> dict[str, Any]:
    out: dict[str, Any] = {}
    path = p.path
    for k, v in items:
        key = k if type(k) is str else str(k)
        t = type(v)
        if t is float:
            out[key] = p.num(v)
        elif v is None or t is str or t is bool or t is int:
            out[key] = v
        elif t is np.ndarray and v.ndim > 0 and v.dtype.kind == "f":
            out[key] = None
            p.take(key, v)
        elif t is list and len(v) > 1 and (a := _float_list(v)) is not None:
            out[key] = None
            p.take(key, a)
        else:
            path.append(key)
            out[key] = _pack_value(v, p)
            path.pop()
    return out


def _pack_list(values: Any, p: _Packing) -> list[Any]:
    out: list[Any] = []
    path = p.path
    for i, v in enumerate(values):
        t = type(v)
        if t is float:
            out.append(p.num(v))
        elif v is None or t is str or t is bool or t is int:
            out.append(v)
        elif t is np.ndarray and v.ndim > 0 and v.dtype.kind == "f":
            out.append(None)
            p.take(i, v)
        else:
            path.append(i)
            out.append(_pack_value(v, p))
            path.pop()
    return out


def _pack_value(v: Any, p: _Packing) -> Any:
    """``v`` as a JSON value, its float arrays (and lists of floats) left to ``p``."""
    t = type(v)
    if t is dict:
        return _pack_dict(v.items(), p)
    if t is list or t is tuple:
        return _pack_list(v, p)
    if isinstance(v, BaseModel):
        given = v.model_fields_set
        return _pack_dict(((k, x) for k, x in v.__dict__.items() if k in given), p)
    if isinstance(v, dict):
        return _pack_dict(v.items(), p)
    if isinstance(v, list | tuple):
        return _pack_list(v, p)
    return _value(v, p.scalars)  # a scalar, or an array of integers


def message(obj: Any, binary: bool = False, rounded: bool = True) -> str | bytes:
    """``obj`` as the client asked for it (``options``): JSON text (:func:`dumps`), or a
    binary message (:func:`pack`); numbers to 6 significant digits, or exact."""
    return pack(obj, rounded) if binary else dumps(obj, rounded)


def pack(obj: Any, rounded: bool = True) -> bytes:
    """``obj`` as one binary message: what :func:`dumps` writes, with the float arrays
    (and lists of floats) moved out of the JSON into one block of numbers.

    Layout (all little-endian; ``docs/protocol.md``, Binary frames):

    - bytes 0–7: ``uint8`` format version (1), ``uint8`` number type (1 = float32,
      2 = float64), ``uint16`` 0, ``uint32`` J = length of the JSON text;
    - bytes 8 … 8+J−1: UTF-8 JSON ``{"message": …, "arrays": [[path, shape], …]}``:
      the message with ``null`` where each array goes, and for each array, in order,
      its place (keys and list indices from the message's root) and shape;
    - spaces up to the next multiple of 8 bytes, then the numbers: each array's values
      in order, row-major, rounded to 6 significant digits; NaN or ±∞ stand for
      ``null``. float64 when a finite value is beyond float32's normal range, and for
      exact numbers (``rounded=False``: every digit, the ``options`` ``exact``).
    """
    p = _Packing(rounded)
    skeleton = _pack_value(obj, p)
    kind, data = float_block(p.arrays, rounded) if p.arrays else (FLOAT32, b"")
    return binary(_json({"message": skeleton, "arrays": p.index}), kind, data)


def float_block(arrays: list[np.ndarray], rounded: bool) -> tuple[int, bytes]:
    """The numbers of a binary message: ``arrays`` (float, any shapes) one after the
    other, row-major, rounded to 6 significant digits (``rounded``) — float32, or
    float64 when a value lies beyond float32's normal range or when exact — and the
    number type that says which."""
    r = np.concatenate(arrays, axis=None).astype(np.float64, copy=False)
    if rounded:
        r = round_significant(r)
    mag = np.abs(r)  # NaN compares False: a non-finite value fits either type
    if not rounded or (((mag > 0) & (mag < _F32_TINY)) | ((mag > _F32_MAX) & (mag < np.inf))).any():
        return FLOAT64, r.astype("<f8").tobytes()
    return FLOAT32, r.astype("<f4").tobytes()


def binary(head: bytes, kind: int, data: bytes) -> bytes:
    """A binary message from its JSON part and its numbers (:func:`float_block`)."""
    pad = b" " * (-(_HEADER.size + len(head)) % 8)
    return _HEADER.pack(BINARY_VERSION, kind, 0, len(head)) + head + pad + data


def unpack(data: bytes) -> Any:
    """The message a binary message holds, as :func:`dumps` would have written it
    (float32 numbers rounded to 6 significant digits, ``None`` for a non-finite one):
    for tests and tools; the page has its own decoder (``frontend/static/js/shared/wire.js``)."""
    version, kind, _, n = _HEADER.unpack_from(data)
    if version != BINARY_VERSION or kind not in (FLOAT32, FLOAT64):
        raise ValueError(f"not a bpviz binary message (version {version}, type {kind})")
    head = json.loads(data[_HEADER.size : _HEADER.size + n])
    start = _HEADER.size + n + (-(_HEADER.size + n) % 8)
    numbers = np.frombuffer(data, dtype="<f4" if kind == FLOAT32 else "<f8", offset=start)
    num = _float if kind == FLOAT32 else _exact
    values = [num(v) for v in numbers.tolist()]
    msg = head["message"]
    at = 0
    for path, shape in head["arrays"]:
        size = math.prod(shape)
        flat = values[at : at + size]
        at += size
        target = msg
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = _nest(flat, tuple(shape)) if shape else flat[0]
    if at != len(values):
        raise ValueError(f"{len(values)} numbers for arrays of {at}")
    return msg
