"""Compact JSON for frames: NumPy arrays as lists with trimmed precision.

Starlette's ``send_json`` writes bare ``NaN``/``Infinity`` tokens that the browser's
``JSON.parse`` rejects; here every non-finite number becomes ``null`` and the frame
says ``"diverged": true`` instead. Floats keep 6 significant digits: enough for every
number the page prints, and a third of the bytes of ``repr``.

Speed: arrays are rounded in NumPy (one vectorized pass), turned into lists with
``tolist`` and written by the C JSON encoder; Python touches the dict structure only.
Rounding to 6 significant digits makes ``repr`` print at most 6 digits, since the
result is the double nearest to a 6-digit decimal.
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np

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


class _Slot:
    """Where a float array goes once all arrays have been rounded together."""

    __slots__ = ("shape", "start", "stop")

    def __init__(self, shape: tuple[int, ...], start: int, stop: int) -> None:
        self.shape, self.start, self.stop = shape, start, stop


def _collect(obj: Any, arrays: list[np.ndarray], offset: list[int]) -> Any:
    if isinstance(obj, np.ndarray):
        if obj.dtype.kind in "biu":
            return obj.tolist()
        if obj.ndim == 0:
            return _float(float(obj))
        start = offset[0]
        offset[0] += obj.size
        arrays.append(obj.ravel())
        return _Slot(obj.shape, start, offset[0])
    if isinstance(obj, dict):
        return {str(k): _collect(v, arrays, offset) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_collect(v, arrays, offset) for v in obj]
    if isinstance(obj, bool) or obj is None or isinstance(obj, str):
        return obj
    if isinstance(obj, int | np.integer):
        return int(obj)
    if isinstance(obj, float | np.floating):
        return _float(float(obj))
    raise TypeError(f"cannot encode {type(obj).__name__}")


def _nest(flat: list[Any], shape: tuple[int, ...]) -> list[Any]:
    if len(shape) == 1:
        return flat
    step = len(flat) // shape[0] if shape[0] else 0
    return [_nest(flat[i * step : (i + 1) * step], shape[1:]) for i in range(shape[0])]


def _fill(obj: Any, flat: list[Any]) -> Any:
    if isinstance(obj, _Slot):
        return _nest(flat[obj.start : obj.stop], obj.shape)
    if isinstance(obj, dict):
        return {k: _fill(v, flat) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_fill(v, flat) for v in obj]
    return obj


def dumps(obj: Any) -> str:
    """Encode ``obj`` (dicts, lists, numbers, strings, NumPy arrays) as compact JSON.

    Non-finite floats become ``null``; the result never contains ``NaN`` or ``Infinity``.
    All float arrays are rounded in one NumPy pass.
    """
    arrays: list[np.ndarray] = []
    skeleton = _collect(obj, arrays, [0])
    if not arrays:
        return _encoder.encode(skeleton)
    r = round_significant(np.concatenate(arrays))
    finite = np.isfinite(r)
    if finite.all():
        flat: list[Any] = r.tolist()
    else:
        values = r.astype(object)
        values[~finite] = None
        flat = values.tolist()
    return _encoder.encode(_fill(skeleton, flat))
