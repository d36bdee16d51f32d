"""The op graph: scalar nodes, a forward pass, a backward pass and the steps between.

micrograd style: each node holds its forward ``value`` and, side by side, its ``local``
derivatives ``∂node/∂input_i`` (from :mod:`.rules`); ``backward`` is one loop over the
nodes in reverse topological order giving each its ``grad = ∂L/∂node`` by the chain rule

    ∂L/∂n = Σ over the consumers c of n:  ∂L/∂c · ∂c/∂n

(a leaf used twice, as in ``x*x``, collects one term per use). Nodes are appended after
their inputs, so the list order is a topological order and the output is the last node.

Node kinds: ``leaf`` (a named input whose gradient is wanted; one node per name),
``const`` (a number, possibly named like ``y``; no gradient is computed through it),
every op of :data:`.rules.OPS`, and ``upstream`` — the layers above a hidden neuron:
its input is the neuron's activation ``a``, its value the loss ``L`` when known (else
``None``), its local derivative the gradient sent down from above,
``∂L/∂a = Σ_k w_k δ_k``, and its gradient ``∂L/∂L = 1``.

Every refusal is an :class:`~bpviz.core.graph.errors.EvalError` with a stable code; no
other exception leaves :meth:`Graph.forward`, :meth:`Graph.backward` or the checks.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from numbers import Real
from typing import Any

from . import gradcheck
from .errors import EvalError
from .records import GradCheck, Step, Term
from .records import finite_or_none as _num
from .rules import OPS, DomainError

__all__ = ["GradCheck", "Graph", "Node", "Step", "Term"]


def _finite_number(v: object) -> bool:
    """A real number (not a bool) that converts to a finite float."""
    if isinstance(v, bool) or not isinstance(v, Real):
        return False
    try:
        return math.isfinite(float(v))
    except (OverflowError, ValueError):
        return False


@dataclass
class Node:
    """One scalar node.

    Attributes:
        id: index in :attr:`Graph.nodes` (inputs always have smaller ids).
        op: ``"leaf"``, ``"const"``, ``"upstream"`` or a key of :data:`.rules.OPS`.
        inputs: ids of the inputs, in order (``a - b``: ``(a, b)``).
        name: a leaf's name; a label like ``"z"``, ``"a"``, ``"L"`` or ``"y"`` otherwise.
        span: ``(start, end)`` of the node's text in the parsed expression, if any.
        fixed: a const's value; an upstream node's loss value (``None`` if unknown).
        upstream_grad: an upstream node's ``∂L/∂a`` from above.
        needs_grad: the node depends on a leaf (only those get gradients).
        value: forward value (``None`` before :meth:`Graph.forward`).
        local: ``∂value/∂input_i`` per input (``None`` entries where not needed).
        grad: ``∂L/∂node`` after :meth:`Graph.backward` (``None`` if not needed).
    """

    id: int
    op: str
    inputs: tuple[int, ...] = ()
    name: str | None = None
    span: tuple[int, int] | None = None
    fixed: float | None = None
    upstream_grad: float | None = None
    needs_grad: bool = False
    value: float | None = None
    local: tuple[float | None, ...] | None = None
    grad: float | None = None


class Graph:
    """A scalar computation built node by node, evaluated and differentiated.

    Build with :meth:`leaf`, :meth:`const`, :meth:`apply` and :meth:`upstream` (or
    :func:`bpviz.core.graph.parse.parse`), then :meth:`forward`, :meth:`backward`,
    :meth:`steps`, :meth:`check_gradients`, :meth:`to_dict`.

    Attributes:
        nodes: every node, inputs before consumers; the output is the last.
        source: the parsed text (``""`` for a built graph); node spans index into it.
        output_name: the name before ``=`` in the text (``None`` if there was none).
    """

    def __init__(self, source: str = "", output_name: str | None = None) -> None:
        self.nodes: list[Node] = []
        self.source = source
        self.output_name = output_name
        self._consumers: list[list[tuple[int, int]]] = []
        self._leaf_ids: dict[str, int] = {}
        self._state = 0  # 0: not evaluated, 1: forward done, 2: backward done

    # ------------------------------------------------------------------ building
    def _add(self, node: Node) -> int:
        self.nodes.append(node)
        self._consumers.append([])
        for slot, i in enumerate(node.inputs):
            self._consumers[i].append((node.id, slot))
        self._state = 0
        return node.id

    def _check_inputs(self, inputs: tuple[int, ...]) -> None:
        for i in inputs:
            if not 0 <= i < len(self.nodes):
                raise ValueError(f"no node {i}")
            if self.nodes[i].op == "upstream":
                raise ValueError("an upstream node must be the output")

    def leaf(self, name: str, span: tuple[int, int] | None = None) -> int:
        """The id of the leaf ``name`` (created on first use: one node per name)."""
        if name in self._leaf_ids:
            return self._leaf_ids[name]
        i = self._add(Node(len(self.nodes), "leaf", name=name, span=span, needs_grad=True))
        self._leaf_ids[name] = i
        return i

    def const(
        self, value: float, name: str | None = None, span: tuple[int, int] | None = None
    ) -> int:
        """A new constant node with ``value`` (a number of the text, or data like ``y``)."""
        return self._add(Node(len(self.nodes), "const", name=name, span=span, fixed=float(value)))

    def apply(
        self, op: str, *inputs: int, name: str | None = None, span: tuple[int, int] | None = None
    ) -> int:
        """A new node computing ``op`` (a key of :data:`.rules.OPS`) of ``inputs``."""
        rule = OPS[op]
        if len(inputs) != rule.arity:
            raise ValueError(f"{op} takes {rule.arity} inputs, got {len(inputs)}")
        self._check_inputs(inputs)
        needs = any(self.nodes[i].needs_grad for i in inputs)
        return self._add(Node(len(self.nodes), op, inputs, name, span, needs_grad=needs))

    def upstream(self, a: int, grad: float, loss: float | None = None, name: str = "L") -> int:
        """The output node standing for the layers above ``a``: ``∂L/∂a = grad`` from above."""
        self._check_inputs((a,))
        loss = None if loss is None else float(loss)
        node = Node(len(self.nodes), "upstream", (a,), name, fixed=loss, upstream_grad=float(grad))
        node.needs_grad = self.nodes[a].needs_grad
        return self._add(node)

    @property
    def output(self) -> int:
        """Id of the output node (the last one)."""
        if not self.nodes:
            raise ValueError("the graph is empty")
        return len(self.nodes) - 1

    def leaf_id(self, name: str) -> int:
        """The id of the leaf ``name`` (``KeyError`` if there is none)."""
        return self._leaf_ids[name]

    def leaf_values(self) -> dict[str, float]:
        """The leaves' values of the last :meth:`forward` (empty before one succeeded)."""
        if self._state < 1:
            return {}
        return {name: float(self.nodes[i].value or 0.0) for name, i in self._leaf_ids.items()}

    @property
    def differentiated(self) -> bool:
        """Whether :meth:`backward` has run since the last successful :meth:`forward`."""
        return self._state >= 2

    @property
    def leaves(self) -> list[str]:
        """Leaf names in order of first appearance."""
        return list(self._leaf_ids)

    def __len__(self) -> int:
        return len(self.nodes)

    def label(self, i: int) -> str:
        """A short text for node ``i``: its name, its source text, or its op's symbol."""
        node = self.nodes[i]
        if node.name is not None:
            return node.name
        if node.span is not None and self.source:
            return self.source[node.span[0] : node.span[1]]
        if node.op == "const":
            return f"{node.fixed:g}"
        return OPS[node.op].symbol if node.op in OPS else node.op

    # ------------------------------------------------------------------ evaluating
    def _leaf_values(self, leaves: Mapping[str, float]) -> dict[str, float]:
        if not isinstance(leaves, Mapping):
            raise EvalError("bad_leaf_value", "leaf values must map names to numbers")
        unknown = sorted(str(k) for k in set(leaves) - set(self._leaf_ids))
        if unknown:
            raise EvalError(
                "unknown_leaf",
                f"no leaf named {unknown[0]!r} in the expression",
                None,
                {"name": unknown[0]},
            )
        values: dict[str, float] = {}
        for name, i in self._leaf_ids.items():
            if name not in leaves:
                raise EvalError(
                    "missing_leaf", f"no value given for the leaf {name!r}", i, {"name": name}
                )
            v = leaves[name]
            if not _finite_number(v):
                raise EvalError(
                    "bad_leaf_value",
                    f"the value of {name!r} must be a finite number, got {v!r}",
                    i,
                    {"name": name},
                )
            values[name] = float(v)
        return values

    def _refuse(self, i: int, e: DomainError) -> EvalError:
        label = self.label(i)
        return EvalError(e.code, f"{label}: {e.message}", i, {**e.params, "label": label})

    def _compute(self, node: Node, leaves: Mapping[str, float], with_local: bool) -> None:
        """Value (and local derivatives) of one node from its inputs' values."""
        if node.op == "leaf":
            node.value, node.local = leaves[str(node.name)], ()
            return
        if node.op == "const":
            node.value, node.local = node.fixed, ()
            return
        if node.op == "upstream":
            g = node.upstream_grad
            node.value, node.local = node.fixed, (g if node.needs_grad else None,)
            return
        x = [float(self.nodes[i].value or 0.0) for i in node.inputs]  # inputs ran first
        rule = OPS[node.op]
        v = rule.value(x)
        if not math.isfinite(v):
            raise DomainError("overflow", "the value is too large for a float")
        node.value = v
        if with_local:
            need = [self.nodes[i].needs_grad for i in node.inputs]
            local = rule.local(x, v, need)
            if any(d is not None and not math.isfinite(d) for d in local):
                raise DomainError("overflow", "the local derivative is too large for a float")
            node.local = local

    def forward(self, leaves: Mapping[str, float]) -> float | None:
        """Compute every node's value and local derivatives; return the output's value.

        Args:
            leaves: a finite number for every leaf name (and no other name).

        Raises:
            EvalError: ``unknown_leaf``, ``missing_leaf``, ``bad_leaf_value``, or a domain
                code naming the node (``division_by_zero``, ``log_domain``, …). Nodes
                before the refused one keep their values (the page can show them).
        """
        for node in self.nodes:
            node.value = node.local = node.grad = None
        self._state = 0
        values = self._leaf_values(leaves)
        for node in self.nodes:
            try:
                self._compute(node, values, with_local=True)
            except DomainError as e:
                raise self._refuse(node.id, e) from None
        self._state = 1
        return self.nodes[self.output].value if self.nodes else None

    def backward(self) -> dict[str, float]:
        """Give every node that depends on a leaf ``grad = ∂L/∂node``; return the leaves'.

        One loop over the nodes in reverse: the output's gradient is 1, every other
        node's is the sum over its consumers of ``consumer.grad · local`` (see
        :meth:`steps` for those terms). Raises ``EvalError`` (``not_evaluated`` before a
        successful :meth:`forward`; ``overflow`` naming the node).
        """
        if self._state < 1:
            raise EvalError("not_evaluated", "run forward with values for every leaf first")
        out = self.output
        for node in reversed(self.nodes):
            node.grad = None
            if not node.needs_grad:
                continue
            if node.id == out:
                node.grad = 1.0
                continue
            g = 0.0
            for t in self._terms(node.id):
                g += t.product
            node.grad = g
            if not math.isfinite(g):
                raise self._refuse(node.id, DomainError("overflow", "the gradient overflowed"))
        self._state = 2
        return {name: float(self.nodes[i].grad or 0.0) for name, i in self._leaf_ids.items()}

    def _terms(self, i: int) -> list[Term]:
        terms: list[Term] = []
        for c, slot in self._consumers[i]:
            cn = self.nodes[c]
            d = None if cn.local is None else cn.local[slot]
            if cn.grad is None or d is None:
                continue
            terms.append(Term(c, slot, cn.grad, d, cn.grad * d))
        return terms

    def steps(self) -> list[Step]:
        """The animation: one forward step per computed node, then one backward step per node.

        Forward: every node except leaves and constants (known before the first step),
        in topological order. Backward: every node with a gradient, output first, each
        with the chain-rule terms that sum to its gradient. Needs :meth:`backward`.
        """
        if self._state < 2:
            raise EvalError("not_evaluated", "run forward and backward first")
        steps = [
            Step("forward", n.id, n.value, n.local or ())
            for n in self.nodes
            if n.op not in ("leaf", "const")
        ]
        for n in reversed(self.nodes):
            if n.grad is not None:
                terms = () if n.id == self.output else tuple(self._terms(n.id))
                steps.append(Step("backward", n.id, n.value, n.local or (), n.grad, terms))
        return steps

    # ------------------------------------------------------------------ checking
    def finite_difference(self, leaf: str, h: float | None = None) -> GradCheck:
        """Central difference of the output w.r.t. ``leaf`` beside its analytic gradient
        (:func:`.gradcheck.finite_difference`: step ``h``, default ``1e-6 · max(1, |x|)``)."""
        return gradcheck.finite_difference(self, leaf, h)

    def check_gradients(self, h: float | None = None) -> list[GradCheck]:
        """:meth:`finite_difference` for every leaf, in leaf order."""
        return [self.finite_difference(name, h) for name in self._leaf_ids]

    # ------------------------------------------------------------------ output
    def to_dict(self) -> dict[str, Any]:
        """JSON-ready graph: nodes with values, local derivatives, gradients (non-finite → None)."""
        return {
            "source": self.source,
            "output": self.output if self.nodes else None,
            "output_name": self.output_name,
            "leaves": self.leaves,
            "evaluated": self._state >= 1,
            "differentiated": self._state >= 2,
            "nodes": [
                {
                    "id": n.id,
                    "op": n.op,
                    "inputs": list(n.inputs),
                    "name": n.name,
                    "label": self.label(n.id),
                    "span": None if n.span is None else list(n.span),
                    "needs_grad": n.needs_grad,
                    "value": _num(n.value),
                    "local": None if n.local is None else [_num(d) for d in n.local],
                    "grad": _num(n.grad),
                }
                for n in self.nodes
            ],
        }
