"""Compact JSON for frames: NumPy arrays as lists with trimmed precision.

The server's one NaN → null sanitiser. Starlette's ``send_json`` writes bare
``NaN``/``Infinity`` tokens that the browser's ``JSON.parse`` rejects; here every
non-finite number becomes ``null`` and the frame says ``"diverged": true`` instead.
Floats keep 6 significant digits: enough for every number the page prints, and a third
of the bytes of ``repr``.

Speed: arrays are rounded in NumPy (one vectorized pass), turned into lists with
``tolist`` and written by the C JSON encoder; Python touches the dict structure only.
Rounding to 6 significant digits makes ``repr`` print at most 6 digits, since the
result is the double nearest to a 6-digit decimal.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

import numpy as np
from pydantic import BaseModel

_DIGITS = 6
_encoder = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":"))


def round_significant(a: np.ndarray) -> np.ndarray:
    """``a`` (float, any shape) rounded to 6 significant digits; non-finite kept as is."""
    a = np.asarray(a, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        mag = np.abs(a)
        exp10 = np.floor(np.log10(mag, where=mag > 0, out=np.zeros_like(a)))
        scale = np.power(10.0, (_DIGITS - 1) - exp10)
        out = np.round(a * scale) / scale
    # tiny or huge magnitudes, where the scale itself over- or underflows: keep as is
    bad = ~np.isfinite(out) | (mag < 1e-290) | (mag > 1e290)
    if bad.any():
        out = np.where(bad, a, out)
    result: np.ndarray = out
    return result


def _float(v: float) -> float | None:
    return float(f"{v:.6g}") if math.isfinite(v) else None


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


def _is_float_array(v: Any) -> bool:
    return type(v) is np.ndarray and v.ndim > 0 and v.dtype.kind == "f"


def _dict(items: Any, enc: _Encoding) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in items:
        key = k if type(k) is str else str(k)
        if _is_float_array(v):
            out[key] = None
            enc.place(out, key, v)
        else:
            out[key] = _value(v, enc)
    return out


def _list(values: Any, enc: _Encoding) -> list[Any]:
    out: list[Any] = []
    for i, v in enumerate(values):
        if _is_float_array(v):
            out.append(None)
            enc.place(out, i, v)
        else:
            out.append(_value(v, enc))
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


def dumps(obj: Any) -> str:
    """Encode ``obj`` as compact JSON (see :func:`jsonable`): never a ``NaN`` or
    ``Infinity`` token."""
    return _encoder.encode(jsonable(obj))
