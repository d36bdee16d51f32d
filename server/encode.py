"""Compact JSON for frames: NumPy arrays as lists with trimmed precision.

Starlette's ``send_json`` writes bare ``NaN``/``Infinity`` tokens that the browser's
``JSON.parse`` rejects; here every non-finite number becomes ``null`` and the frame
says ``"diverged": true`` instead. Floats keep 6 significant digits: enough for every
number the page prints, and a third of the bytes of ``repr``.
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np

_FMT = "{:.6g}".format


def _float(v: float) -> str:
    return _FMT(v) if math.isfinite(v) else "null"


def _array(a: np.ndarray) -> str:
    if a.ndim == 0:
        return _float(float(a))
    if a.dtype.kind == "b":
        return json.dumps(a.tolist())
    if a.dtype.kind in "iu":
        return json.dumps(a.tolist(), separators=(",", ":"))
    if a.ndim == 1:
        if np.isfinite(a).all():
            return "[" + ",".join(map(_FMT, a.tolist())) + "]"
        return "[" + ",".join(map(_float, a.tolist())) + "]"
    return "[" + ",".join(_array(row) for row in a) + "]"


def _encode(obj: Any, out: list[str]) -> None:
    if isinstance(obj, np.ndarray):
        out.append(_array(obj))
    elif isinstance(obj, dict):
        out.append("{")
        first = True
        for k, v in obj.items():
            if not first:
                out.append(",")
            first = False
            out.append(json.dumps(str(k)))
            out.append(":")
            _encode(v, out)
        out.append("}")
    elif isinstance(obj, list | tuple):
        out.append("[")
        for i, v in enumerate(obj):
            if i:
                out.append(",")
            _encode(v, out)
        out.append("]")
    elif isinstance(obj, bool) or obj is None:
        out.append("true" if obj is True else "false" if obj is False else "null")
    elif isinstance(obj, int | np.integer):
        out.append(str(int(obj)))
    elif isinstance(obj, float | np.floating):
        out.append(_float(float(obj)))
    elif isinstance(obj, str):
        out.append(json.dumps(obj, ensure_ascii=False))
    else:
        raise TypeError(f"cannot encode {type(obj).__name__}")


def dumps(obj: Any) -> str:
    """Encode ``obj`` (dicts, lists, numbers, strings, NumPy arrays) as compact JSON.

    Non-finite floats become ``null``; the result never contains ``NaN`` or ``Infinity``.
    """
    out: list[str] = []
    _encode(obj, out)
    return "".join(out)
