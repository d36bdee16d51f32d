"""The records a graph hands out: chain-rule terms, animation steps, gradient checks.

All are frozen dataclasses with a JSON-ready ``to_dict`` (non-finite numbers → ``None``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

__all__ = ["GradCheck", "Step", "Term", "finite_or_none"]


def finite_or_none(x: float | None) -> float | None:
    """``x`` for JSON: non-finite → ``None``."""
    return x if x is not None and math.isfinite(x) else None


@dataclass(frozen=True)
class Term:
    """One chain-rule term of a node's gradient: ``∂L/∂c · ∂c/∂n`` for a consumer ``c``."""

    consumer: int
    slot: int
    grad: float
    local: float
    product: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "consumer": self.consumer,
            "slot": self.slot,
            "grad": finite_or_none(self.grad),
            "local": finite_or_none(self.local),
            "product": finite_or_none(self.product),
        }


@dataclass(frozen=True)
class Step:
    """One animation step: a node computed (``forward``) or its gradient found (``backward``).

    A backward step's ``grad`` is the sum of its ``terms`` (empty for the output, whose
    gradient is 1).
    """

    phase: str
    node: int
    value: float | None
    local: tuple[float | None, ...]
    grad: float | None = None
    terms: tuple[Term, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "phase": self.phase,
            "node": self.node,
            "value": finite_or_none(self.value),
            "local": [finite_or_none(d) for d in self.local],
            "grad": finite_or_none(self.grad),
            "terms": [t.to_dict() for t in self.terms],
        }


@dataclass(frozen=True)
class GradCheck:
    """A leaf's analytic gradient beside its central finite difference.

    ``numeric = (L(x + h) − L(x − h)) / 2h``; ``rel_error = |a − n| / (|a| + |n|)`` (0
    when both are 0). ``error`` is set (and ``numeric`` is ``None``) when ``L`` could not
    be evaluated at ``x ± h`` (e.g. ``log`` of a number that became negative).
    """

    leaf: str
    node: int
    analytic: float
    numeric: float | None
    rel_error: float | None
    h: float
    error: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "leaf": self.leaf,
            "node": self.node,
            "analytic": finite_or_none(self.analytic),
            "numeric": finite_or_none(self.numeric),
            "rel_error": finite_or_none(self.rel_error),
            "h": self.h,
            "error": self.error,
        }
