"""The gradient check of an op graph: a central finite difference beside backprop's.

The difference is taken of the graph's output recomputed from the rules' values alone
(:func:`objective`: no local derivative, no node's state touched), so it checks the
local derivatives and the chain rule of :meth:`~.ops.Graph.backward` from the outside.
A domain error or an overflow at ``x ± h`` is reported in the
:class:`~.records.GradCheck`, not raised.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING

from .errors import EvalError
from .records import GradCheck
from .rules import OPS, DomainError

if TYPE_CHECKING:
    from .ops import Graph

__all__ = ["finite_difference", "objective"]


def objective(graph: Graph, leaves: Mapping[str, float]) -> float:
    """The output's value at ``leaves`` (a value per leaf name) without touching the
    nodes' state; raises ``DomainError`` (``overflow``, or the op's domain code).

    With an ``upstream`` output the objective is its first-order part ``∂L/∂a · a``
    (the layers above are known only through their gradient).
    """
    vals: list[float] = []
    for node in graph.nodes:
        if node.op == "leaf":
            v = leaves[str(node.name)]
        elif node.op == "const":
            v = float(node.fixed or 0.0)
        elif node.op == "upstream":
            v = float(node.upstream_grad or 0.0) * vals[node.inputs[0]]
        else:
            v = OPS[node.op].value([vals[i] for i in node.inputs])
        if not math.isfinite(v):
            raise DomainError("overflow", "the value is too large for a float")
        vals.append(v)
    return vals[-1]


def finite_difference(graph: Graph, leaf: str, h: float | None = None) -> GradCheck:
    """Central difference of the output w.r.t. ``leaf`` beside its analytic gradient
    (runs ``graph.backward()`` first when it has not run since the last ``forward``).

    Args:
        graph: a graph after a successful ``forward``.
        leaf: a leaf name (``EvalError`` ``unknown_leaf`` if there is none).
        h: the step (default ``1e-6 · max(1, |x|)``).
    """
    try:
        i = graph.leaf_id(leaf)
    except KeyError:
        raise EvalError("unknown_leaf", f"no leaf named {leaf!r}", None, {"name": leaf}) from None
    if not graph.differentiated:
        graph.backward()
    values = graph.leaf_values()
    x = values[leaf]
    step = 1e-6 * max(1.0, abs(x)) if h is None else float(h)
    analytic = float(graph.nodes[i].grad or 0.0)
    try:
        up = objective(graph, {**values, leaf: x + step})
        down = objective(graph, {**values, leaf: x - step})
    except DomainError as e:
        return GradCheck(
            leaf, i, analytic, None, None, step, {"code": e.code, "message": e.message}
        )
    numeric = (up - down) / (2.0 * step)
    if not math.isfinite(numeric):
        err = {"code": "overflow", "message": "the finite difference overflowed"}
        return GradCheck(leaf, i, analytic, None, None, step, err)
    denom = abs(analytic) + abs(numeric)
    rel = 0.0 if denom == 0.0 else abs(analytic - numeric) / denom
    return GradCheck(leaf, i, analytic, numeric, rel, step)
