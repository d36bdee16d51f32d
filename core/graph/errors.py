"""The errors of the chain-rule graph: one English message plus a stable code and params.

The page words an error in its own language from ``code`` and ``params`` (e.g.
``{"code": "unknown_function", "params": {"name": "foo"}}``); ``message`` is the English
text for logs, the CLI and tests. Every code is listed in ``docs/graph.md``.

- :class:`ParseError`: the text of an expression is refused; ``position`` is the index
  of the offending character in the text (``len(text)`` when the text ended too soon).
- :class:`EvalError`: numbers are refused (a missing leaf value, the log of a negative
  number, a division by zero, an overflow, …); ``node`` names the node (its id) when one
  node is to blame.
"""

from __future__ import annotations

from typing import Any

__all__ = ["EvalError", "GraphError", "ParseError"]


class GraphError(ValueError):
    """Base class: ``code`` (stable, snake_case), English ``message`` and ``params``."""

    def __init__(self, code: str, message: str, params: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.params: dict[str, Any] = dict(params or {})

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready ``{"code", "message", "params"}`` (subclasses add their location)."""
        return {"code": self.code, "message": self.message, "params": dict(self.params)}


class ParseError(GraphError):
    """An expression that cannot be parsed; ``position`` indexes the offending character."""

    def __init__(
        self, code: str, message: str, position: int, params: dict[str, Any] | None = None
    ) -> None:
        super().__init__(code, message, params)
        self.position = position

    def to_dict(self) -> dict[str, Any]:
        """``{"code", "message", "params", "position"}``."""
        d = super().to_dict()
        d["position"] = self.position
        return d

    def __str__(self) -> str:
        return f"{self.message} (at character {self.position})"


class EvalError(GraphError):
    """Numbers a graph cannot be evaluated with; ``node`` is the id of the node to blame."""

    def __init__(
        self,
        code: str,
        message: str,
        node: int | None = None,
        params: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(code, message, params)
        self.node = node

    def to_dict(self) -> dict[str, Any]:
        """``{"code", "message", "params", "node"}``."""
        d = super().to_dict()
        d["node"] = self.node
        return d
