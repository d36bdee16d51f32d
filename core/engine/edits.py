"""Edit one weight or bias by hand, between two steps (TF Playground lets you click one).

An edit changes the parameters only at a step boundary: in the middle of a step, the
forward pass already used the old value and the update would mix the two, so it is
refused (:class:`ParamError` ``mid_step``). The value is stored in the network's dtype
(a float32 network rounds it) and used from the next step on; the trace of the last
step keeps the numbers it was computed with, and the weights its update left
(:func:`keep_updated`). Keeping edits exact across a rewind and an
export is the experiment floor's job (a checkpoint at the step of the edit holds it).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from .stepper import Stepper

__all__ = ["PARAMS", "ParamError", "keep_updated", "set_param"]

PARAMS = ("W", "b")
"""What :func:`set_param` edits: a weight ``W[i, j]`` (row ``i``: the neuron of layer
``l``, column ``j``: the unit of layer ``l − 1``) or a bias ``b[i]`` (β with BatchNorm)."""


class ParamError(ValueError):
    """An edit that cannot be made; nothing was changed.

    Attributes:
        code: ``"mid_step"`` (a step is in progress: finish it first) or ``"bad_param"``
            (no such layer or index, or a value that is not finite in the network's dtype).
        field: the offending field of the edit: ``"layer"``, ``"param"``, ``"index"`` or
            ``"value"`` (``None`` for ``mid_step``).
        params: JSON-ready values the message was made of.
    """

    def __init__(self, message: str, code: str, field: str | None = None, **params: object) -> None:
        super().__init__(message)
        self.code = code
        self.field = field
        self.params = dict(params)

    @property
    def message(self) -> str:
        return str(self)


def set_param(
    stepper: Stepper, layer: int, param: str, index: Sequence[int], value: float
) -> float:
    """Set ``W[i, j]`` or ``b[i]`` of layer ``layer`` (1..L) of the stepper's network.

    Args:
        stepper: the stepper; it must be at a step boundary (``cursor == 0``).
        layer: ``1..L``.
        param: ``"W"`` (``index = (i, j)``, shape ``(n_l, n_{l-1})``) or ``"b"``
            (``index = (i,)``, shape ``(n_l,)``).
        value: the new value; finite, and finite in the network's dtype.

    Returns:
        The value stored (rounded to the network's dtype).

    Raises:
        ParamError: ``mid_step``, or ``bad_param`` naming the field.
    """
    if stepper.cursor != 0:
        raise ParamError(
            "a step is in progress: finish it (step unit update) before editing a weight",
            "mid_step",
        )
    layers = stepper.network.layers
    if not 1 <= layer <= len(layers):
        raise ParamError(
            f"no layer {layer}; the layers are 1..{len(layers)}", "bad_param", "layer",
            layer=layer, max=len(layers),
        )  # fmt: skip
    if param not in PARAMS:
        raise ParamError(
            f"param must be one of {', '.join(PARAMS)}, got {param!r}", "bad_param", "param",
            value=param, allowed=list(PARAMS),
        )  # fmt: skip
    target = layers[layer - 1].W if param == "W" else layers[layer - 1].b
    shape = target.shape
    idx = tuple(int(i) for i in index)
    if len(idx) != len(shape) or not all(0 <= i < n for i, n in zip(idx, shape, strict=False)):
        dims = "×".join(str(n) for n in shape)
        raise ParamError(
            f"layer {layer} {param} is {dims}: no index {list(idx)}", "bad_param", "index",
            index=list(idx), shape=list(shape),
        )  # fmt: skip
    with np.errstate(over="ignore"):
        stored = target.dtype.type(value) if math.isfinite(value) else None
    if stored is None or not np.isfinite(stored):
        raise ParamError(
            f"value must be a finite number in {target.dtype.name}, got {value!r}",
            "bad_param", "value", dtype=target.dtype.name,
        )  # fmt: skip
    keep_updated(stepper, layer)
    target[idx] = stored
    return float(stored)


def keep_updated(stepper: Stepper, layer: int) -> None:
    """Before layer ``layer`` (1..L) is edited: its trace keeps the weights as the
    step's update left them (``W_updated``, ``b_updated``; once, at the first edit), so
    the weights the step used stay known (``W_updated − dW_update``)."""
    trace = stepper.trace
    if trace is None or not trace.complete:
        return
    lt = trace.layers[layer - 1]
    if lt.W_updated is None:
        net_layer = stepper.network.layers[layer - 1]
        lt.W_updated = net_layer.W.copy()
        lt.b_updated = net_layer.b.copy()
