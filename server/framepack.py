"""Binary frames by their layout: the server's most frequent message, without the walk.

:func:`encode.pack` writes any message: it walks it leaf by leaf in Python, and for a
default network's ``frame`` (~17 dicts, ~30 arrays, ~45 scalars) that walk is most of
the frame's cost, paid 20–60 times a second by every playing client. A frame's layout
is known (``messages.Frame``, ``FrameLayer``, ``HistoryIncrement``): :func:`pack_frame`
takes its float arrays out by that layout, rounds its few float scalars, and leaves the
rest — plain dicts and lists of integers and strings — to orjson, which writes them
natively. The bytes have the same layout (``docs/protocol.md``, Binary frames) and
decode to the same message as ``encode.pack``'s; a frame holding anything else than
the layout says (a value of another type, a key it does not know) is left to
``encode.pack``.
"""

from __future__ import annotations

from itertools import chain
from typing import Any

import numpy as np
import orjson

from . import encode
from .messages import Frame, FrameLayer

# keys of a frame's layer that are not float arrays (or ``None``): every other key is
_LAYER_OTHERS = frozenset(("index", "large", "dead_fraction", "norms", "fprime_hist"))
_LAYER_KEYS = frozenset(FrameLayer.__annotations__)
_LAYER_ARRAYS = tuple(k for k in FrameLayer.__annotations__ if k not in _LAYER_OTHERS)
_FLOATS = ("epoch", "loss", "grad_norm", "steps_per_second")  # a frame's float scalars
_FIELDS = tuple(Frame.model_fields)
_NDARRAY = np.ndarray


class _LayoutError(Exception):
    """The frame holds something its layout does not say: ``encode.pack`` writes it."""


def pack_frame(frame: Frame) -> bytes:
    """``frame`` as one binary message, numbers rounded to 6 significant digits: the
    same message as ``encode.pack(frame)``, built by the frame's layout."""
    try:
        return _pack(frame)
    except (_LayoutError, orjson.JSONEncodeError, ValueError, TypeError):
        return encode.pack(frame)


def _pack(frame: Frame) -> bytes:
    fields = frame.__dict__
    if len(frame.model_fields_set) != len(_FIELDS):
        raise _LayoutError  # a frame built with some fields left out: the walk knows how
    arrays: list[np.ndarray] = []  # the numbers, in the order of ``index``
    index: list[list[Any]] = []  # [path, shape] of each array
    num = encode.float6
    out = dict(fields)
    for key in _FLOATS:
        v = out[key]
        if v is not None:
            out[key] = num(_float(v))
    for key in ("x", "y"):
        v = out[key]
        if v is not None:
            _take(arrays, index, [key], v)
            out[key] = None
    batch = out["batch"]
    if type(batch) is _NDARRAY:
        out["batch"] = batch.tolist()
    out["layers"] = [_layer(i, layer, arrays, index) for i, layer in enumerate(fields["layers"])]
    history = fields["history"]
    if history is not None:
        out["history"] = _history(history, arrays, index)
    metrics = fields["metrics"]
    if metrics is not None:
        out["metrics"] = _metrics(metrics)
    out["hyper"] = _hyper(fields["hyper"])
    numbers = encode.float_block(arrays, rounded=True) if arrays else (encode.FLOAT32, b"")
    return encode.binary(orjson.dumps({"message": out, "arrays": index}), *numbers)


def _float(v: Any) -> float:
    if type(v) is float:
        return v
    if isinstance(v, float | np.floating):
        return float(v)
    raise _LayoutError


def _take(arrays: list[np.ndarray], index: list[list[Any]], path: list[Any], a: Any) -> None:
    if type(a) is not _NDARRAY or a.dtype.kind != "f" or not a.ndim:
        raise _LayoutError
    arrays.append(a)
    index.append([path, list(a.shape)])


def _layer(i: int, layer: dict[str, Any], arrays: list[np.ndarray], index: list[Any]) -> Any:
    if not layer.keys() <= _LAYER_KEYS:
        raise _LayoutError
    out = dict(layer)
    for key in _LAYER_ARRAYS:
        a = layer.get(key)
        if a is not None:
            _take(arrays, index, ["layers", i, key], a)
            out[key] = None
    num = encode.float6
    dead = layer.get("dead_fraction")
    if dead is not None:
        out["dead_fraction"] = num(_float(dead))
    norms = layer["norms"]
    out["norms"] = {k: None if v is None else num(_float(v)) for k, v in norms.items()}
    hist = layer.get("fprime_hist")
    if hist is not None:
        counts = hist["counts"]
        out["fprime_hist"] = {
            "edges": None,
            "counts": counts.tolist() if type(counts) is _NDARRAY else counts,
            "below": hist["below"],
            "above": hist["above"],
        }
        _take(arrays, index, ["layers", i, "fprime_hist", "edges"], hist["edges"])
    return out


def _history(history: dict[str, Any], arrays: list[np.ndarray], index: list[Any]) -> Any:
    """The history increment: its columns of floats (``None`` as NaN) and of per-layer
    rows go to the numbers, all of them through one array; ``step`` and the flags stay
    JSON."""
    out = dict(history)
    values: list[Any] = []
    for key, v in history.items():
        if type(v) is not list or not v:
            continue
        first = v[0]
        if type(first) is int:
            if not all(type(x) is int for x in v):
                raise _LayoutError
            continue
        if type(first) is list:  # one row per point, one number per layer
            if len(set(map(len, v))) != 1:
                raise _LayoutError
            values.extend(chain.from_iterable(v))
            shape = [len(v), len(first)]
        else:
            values.extend(v)
            shape = [len(v)]
        index.append([["history", key], shape])
        out[key] = None
    if values:
        arrays.append(np.array(values, dtype=np.float64))  # None as NaN; a string: ValueError
    return out


# The rounded metrics and hyper-parameters of recent frames: a session's metrics stay
# the same dict for several frames (``MetricsFeed``), and its hyper-parameters are mostly
# those of its last step (and of the other sessions').
_METRICS: dict[int, tuple[dict[str, Any], dict[str, Any]]] = {}
_HYPER: dict[tuple[Any, ...], dict[str, Any]] = {}
_MEMO_MAX = 512


def _metrics(d: dict[str, Any]) -> dict[str, Any]:
    hit = _METRICS.get(id(d))
    if hit is not None and hit[0] is d:
        return hit[1]
    if len(_METRICS) >= _MEMO_MAX:
        _METRICS.clear()
    out = _scalars(d)
    _METRICS[id(d)] = (d, out)  # (``d`` is held: its ``id`` is not reused meanwhile)
    return out


def _hyper(d: dict[str, Any]) -> dict[str, Any]:
    key = tuple(d.items())
    out = _HYPER.get(key)
    if out is None:
        if len(_HYPER) >= _MEMO_MAX:
            _HYPER.clear()
        out = _HYPER[key] = _scalars(d)
    return out


def _scalars(d: dict[str, Any]) -> dict[str, Any]:
    """A dict of scalars (floats rounded) and small dicts of them (the confusion matrix's
    labels and counts, integers)."""
    out: dict[str, Any] = {}
    num = encode.float6
    for k, v in d.items():
        t = type(v)
        if t is float:
            v = num(v)
        elif t is dict:
            v = {kk: _plain(vv) for kk, vv in v.items()}
        elif not (v is None or t is str or t is int or t is bool):
            raise _LayoutError
        out[k] = v
    return out


def _plain(v: Any) -> Any:
    """A list of integers and strings, or of lists of integers (a confusion matrix's
    labels, its counts) as it is; a NumPy integer array as such a list."""
    if type(v) is _NDARRAY and v.dtype.kind in "iu":
        return v.tolist()
    if type(v) is list and all(
        type(x) in (int, str) or (type(x) is list and all(type(y) is int for y in x)) for x in v
    ):
        return v
    raise _LayoutError
