"""The operations of a chain-rule graph: each op's value and local derivatives side by side.

Like micrograd's ``Value`` methods, every rule computes the forward value ``v`` of one
node from its inputs and, next to it, the local derivatives ``∂v/∂input_i`` that the
backward pass multiplies with the gradient arriving from above. Scalars are Python
floats (IEEE double, the engine's float64).

| op    | value      | local derivatives                                   |
|-------|------------|-----------------------------------------------------|
| add   | a + b      | 1, 1                                                |
| sub   | a − b      | 1, −1                                               |
| mul   | a · b      | b, a                                                |
| div   | a / b      | 1/b, −a/b²  (b = 0 refused)                         |
| neg   | −a         | −1                                                  |
| pow   | a ^ p      | p·a^(p−1), a^p·ln a (the latter only if p varies)   |
| exp   | e^a        | e^a                                                 |
| log   | ln a       | 1/a  (a ≤ 0 refused)                                |
| sqrt  | √a         | 1/(2√a)  (a < 0 refused; a = 0 not differentiable)  |
| f     | f(a)       | f′(a), for every activation of the engine           |

The activations (sigmoid, tanh, relu, …) are the engine's own objects, so the graph and
the network can never disagree on a value or a derivative (ReLU's derivative at 0 is 0
there, and therefore here).

A rule that cannot compute raises :class:`DomainError`; the graph turns it into an
:class:`~bpviz.core.graph.errors.EvalError` naming the node.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from bpviz.core.engine.activations import ACTIVATIONS

__all__ = ["FUNCTIONS", "OPERATORS", "OPS", "DomainError", "OpRule", "op_table"]

Values = Sequence[float]
Needs = Sequence[bool]
Locals = tuple[float | None, ...]


class DomainError(Exception):
    """A value or derivative outside the op's domain (internal; see ``EvalError``)."""

    def __init__(self, code: str, message: str, params: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.params: dict[str, Any] = dict(params or {})


@dataclass(frozen=True)
class OpRule:
    """One operation.

    Attributes:
        name: the op's key (``"mul"``, ``"sigmoid"``, …).
        arity: number of inputs.
        symbol: what the page may draw in the node (``"×"``; a function: its name).
        kind: ``"operator"`` (written between or before operands) or ``"function"``
            (written ``name(x)``).
        value: inputs → the node's value.
        local: ``(inputs, value, needs)`` → ``∂value/∂input_i`` for each input; ``None``
            where ``needs[i]`` is false (the input depends on no leaf, so its derivative
            is never used and is not computed: ``(x − 3)^2`` needs no ``ln(−2)``).
    """

    name: str
    arity: int
    symbol: str
    kind: str
    value: Callable[[Values], float]
    local: Callable[[Values, float, Needs], Locals]


def _div_value(x: Values) -> float:
    a, b = x
    if b == 0.0:
        raise DomainError("division_by_zero", "division by zero")
    return a / b


def _is_integer(p: float) -> bool:
    return math.isfinite(p) and p == math.floor(p)


def _pow(a: float, p: float) -> float:
    try:
        return math.pow(a, p)
    except OverflowError:
        raise DomainError("overflow", "the power is too large for a float") from None


def _pow_value(x: Values) -> float:
    a, p = x
    if a < 0.0 and not _is_integer(p):
        raise DomainError(
            "pow_domain",
            f"a negative base ({a:g}) needs a whole-number exponent, got {p:g}",
            {"base": a, "exponent": p},
        )
    if a == 0.0 and p < 0.0:
        raise DomainError("division_by_zero", f"0 to a negative power ({p:g}) divides by zero")
    return _pow(a, p)


def _pow_local(x: Values, v: float, need: Needs) -> Locals:
    a, p = x
    d_base: float | None = None
    d_exp: float | None = None
    if need[0]:
        if p == 0.0:
            d_base = 0.0
        elif a == 0.0 and p < 1.0:
            raise DomainError(
                "not_differentiable",
                f"x^{p:g} has no finite derivative at x = 0",
                {"exponent": p},
            )
        else:
            d_base = p * _pow(a, p - 1.0)
    if need[1]:
        if a > 0.0:
            d_exp = v * math.log(a)
        elif a == 0.0 and p > 0.0:
            d_exp = 0.0
        else:
            raise DomainError(
                "pow_domain",
                f"the exponent depends on a leaf, so the base must be positive, got {a:g}",
                {"base": a},
            )
    return (d_base, d_exp)


def _exp_value(x: Values) -> float:
    try:
        return math.exp(x[0])
    except OverflowError:
        raise DomainError("overflow", f"e^{x[0]:g} is too large for a float") from None


def _log_value(x: Values) -> float:
    if x[0] <= 0.0:
        raise DomainError(
            "log_domain", f"the logarithm needs a positive input, got {x[0]:g}", {"x": x[0]}
        )
    return math.log(x[0])


def _sqrt_value(x: Values) -> float:
    if x[0] < 0.0:
        raise DomainError(
            "sqrt_domain", f"the square root needs an input ≥ 0, got {x[0]:g}", {"x": x[0]}
        )
    return math.sqrt(x[0])


def _sqrt_local(x: Values, v: float, need: Needs) -> Locals:
    if not need[0]:
        return (None,)
    if v == 0.0:
        raise DomainError("not_differentiable", "√x has no finite derivative at x = 0", {})
    return (0.5 / v,)


def _activation_rule(name: str) -> OpRule:
    act = ACTIVATIONS[name]

    def value(x: Values) -> float:
        with np.errstate(all="ignore"):
            return float(act.f(np.array([x[0]], dtype=np.float64))[0])

    def local(x: Values, v: float, need: Needs) -> Locals:
        if not need[0]:
            return (None,)
        z = np.array([x[0]], dtype=np.float64)
        a = np.array([v], dtype=np.float64)
        with np.errstate(all="ignore"):
            return (float(act.der(z, a)[0]),)

    return OpRule(name, 1, name, "function", value, local)


def _rule(
    name: str,
    arity: int,
    symbol: str,
    value: Callable[[Values], float],
    local: Callable[[Values, float, Needs], Locals],
    kind: str = "operator",
) -> OpRule:
    return OpRule(name, arity, symbol, kind, value, local)


def _keep(need: Needs, *d: float) -> Locals:
    """The local derivatives ``d``, with ``None`` where no derivative is needed."""
    return tuple(di if n else None for di, n in zip(d, need, strict=True))


_BUILTIN = (
    _rule("add", 2, "+", lambda x: x[0] + x[1], lambda x, v, n: _keep(n, 1.0, 1.0)),
    _rule("sub", 2, "−", lambda x: x[0] - x[1], lambda x, v, n: _keep(n, 1.0, -1.0)),
    _rule("mul", 2, "×", lambda x: x[0] * x[1], lambda x, v, n: _keep(n, x[1], x[0])),
    _rule("div", 2, "÷", _div_value, lambda x, v, n: _keep(n, 1.0 / x[1], -v / x[1])),
    _rule("neg", 1, "−", lambda x: -x[0], lambda x, v, n: _keep(n, -1.0)),
    _rule("pow", 2, "^", _pow_value, _pow_local),
    _rule("exp", 1, "exp", _exp_value, lambda x, v, n: _keep(n, v), "function"),
    _rule("log", 1, "log", _log_value, lambda x, v, n: _keep(n, 1.0 / x[0]), "function"),
    _rule("sqrt", 1, "sqrt", _sqrt_value, _sqrt_local, "function"),
)

OPS: dict[str, OpRule] = {r.name: r for r in _BUILTIN}
OPS.update({name: _activation_rule(name) for name in ACTIVATIONS})
"""Every computed op by name (the graph's ``leaf``, ``const`` and ``upstream`` are not ops)."""

FUNCTIONS: frozenset[str] = frozenset(n for n, r in OPS.items() if r.kind == "function")
"""Names an expression may call: ``exp``, ``log``, ``sqrt`` and every engine activation."""

OPERATORS: frozenset[str] = frozenset(n for n, r in OPS.items() if r.kind == "operator")
"""``add``, ``sub``, ``mul``, ``div``, ``neg``, ``pow``."""


def op_table() -> list[dict[str, Any]]:
    """JSON-ready ``[{"name", "arity", "symbol", "kind"}]`` of :data:`OPS`, sorted by name."""
    return [
        {"name": r.name, "arity": r.arity, "symbol": r.symbol, "kind": r.kind}
        for r in sorted(OPS.values(), key=lambda r: r.name)
    ]
