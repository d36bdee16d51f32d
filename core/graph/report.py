"""One JSON-ready answer for the page: a graph with its steps and gradient checks.

The protocol layer calls these and never needs to catch anything: every refusal comes
back as ``"error"`` (``{"code", "message", "params", …}``, see ``docs/graph.md``), with as
much of the graph as was built and evaluated before it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .errors import EvalError, GraphError
from .ops import Graph
from .parse import parse

__all__ = ["evaluate_expression", "graph_report"]


def graph_report(graph: Graph, h: float | None = None) -> dict[str, Any]:
    """``{"ok", "graph", "steps", "checks", "error"}`` for a graph after ``forward``.

    Runs ``backward`` if needed, then the finite-difference check of every leaf (step
    ``h``, default ``1e-6 · max(1, |x|)``). ``steps`` and ``checks`` are empty on error.
    """
    try:
        graph.backward()
        steps = [s.to_dict() for s in graph.steps()]
        checks = [c.to_dict() for c in graph.check_gradients(h)]
    except EvalError as e:
        return {
            "ok": False,
            "graph": graph.to_dict(),
            "steps": [],
            "checks": [],
            "error": e.to_dict(),
        }
    return {"ok": True, "graph": graph.to_dict(), "steps": steps, "checks": checks, "error": None}


def evaluate_expression(
    text: str, values: Mapping[str, float] | None = None, h: float | None = None
) -> dict[str, Any]:
    """Parse ``text``; with ``values`` (one per leaf) evaluate, differentiate and check it.

    Returns:
        ``{"ok", "graph", "steps", "checks", "error"}``: ``graph`` is ``None`` when the
        text was refused (``error`` then has a ``position``); without ``values`` the
        graph is only parsed (its ``leaves`` tell the page which values to ask for).
    """
    try:
        graph = parse(text)
    except GraphError as e:
        return {"ok": False, "graph": None, "steps": [], "checks": [], "error": e.to_dict()}
    if values is None:
        return {"ok": True, "graph": graph.to_dict(), "steps": [], "checks": [], "error": None}
    try:
        graph.forward(values)
    except EvalError as e:
        return {
            "ok": False,
            "graph": graph.to_dict(),
            "steps": [],
            "checks": [],
            "error": e.to_dict(),
        }
    return graph_report(graph, h)
