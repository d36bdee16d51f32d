"""The chain-rule graph's request and answer models, and its limits (``docs/graph.md``).

The requests (:class:`ExpressionIn`, :class:`NeuronIn`) validate a body, state the rules
between its fields (``problems()``, as ``(loc, message, code)``) and compute the answer
(``report()``); the answers are written down as models for the OpenAPI page only (the
routes send the engine's dicts). The routes are ``graph_api.py``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from bpviz.core.engine import registry
from bpviz.core.experiment.build import MAX_CSV_COLS
from bpviz.core.experiment.fields import Choice, Float
from bpviz.core.experiment.limits import LIMITS
from bpviz.core.graph import (
    EvalError,
    evaluate_expression,
    graph_report,
    hidden_neuron_graph,
    output_neuron_graph,
    softmax_neuron_graph,
)
from bpviz.core.graph.parse import MAX_LENGTH

__all__ = [
    "DEFAULT_EXPRESSION",
    "DEFAULT_VALUES",
    "MAX_BODY_BYTES",
    "OUTPUT_ACTIVATIONS",
    "ExpressionIn",
    "GraphReport",
    "NeuronIn",
    "PathsOut",
    "Problems",
]
MAX_BODY_BYTES = 64 * 1024  # a request body (a full neuron request is under 8 KiB)
MAX_LEAF_VALUES = 64  # leaf values in an expression request
MAX_NEURON_INPUTS = MAX_CSV_COLS  # a neuron graph's input: the widest data set (64)
MAX_WEIGHT_LAYERS = int(LIMITS["max_hidden_layers"]) + 1  # /paths: len(sizes) − 1, as a config
MAX_WIDTH = int(LIMITS["max_units"])  # /paths: a layer after the inputs; softmax outputs
MAX_INPUTS = MAX_CSV_COLS  # /paths: sizes[0]

DEFAULT_EXPRESSION = "L = (sigmoid(w1*x1 + w2*x2 + b) - y)^2 / 2"
"""The page's first expression: one sigmoid neuron with ½(ŷ − y)², as on the board."""
DEFAULT_VALUES = {"w1": 0.5, "x1": 1.0, "w2": -0.25, "x2": 2.0, "b": 0.0, "y": 1.0}
"""Its leaf values: z = 0, ŷ = ½, L = ⅛, and every gradient exact in binary (−⅛, −¼, ½…)."""

OUTPUT_ACTIVATIONS: dict[str, tuple[str, ...]] = {
    "mse": registry.ACTIVATIONS,  # one example's math: any elementwise activation
    "bce": ("sigmoid",),
    "softmax_ce": ("softmax",),
}
"""Activations a neuron graph accepts per loss (the config may allow fewer)."""

Problems = list[tuple[tuple[str | int, ...], str, str]]
"""Refusals as ``(loc, message, code)``; ``loc`` is relative to the body or the query."""

LeafName = Annotated[str, StringConstraints(min_length=1, max_length=64)]
Inputs = Annotated[list[Float], Field(min_length=1, max_length=MAX_NEURON_INPUTS)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ExpressionIn(_In):
    """``POST /api/graph/expression``: the text, and a value for each leaf to evaluate it."""

    text: str = Field(max_length=MAX_LENGTH, description="e.g. `L = (w*x + b - y)^2 / 2`")
    values: Annotated[dict[LeafName, Float], Field(max_length=MAX_LEAF_VALUES)] | None = Field(
        None,
        description="A finite number for every leaf; without it the text is only parsed "
        "(the answer's `graph.leaves` lists the leaves to ask for).",
    )

    def problems(self) -> Problems:
        return []  # the engine words unknown or missing leaves itself

    def report(self) -> dict[str, Any]:
        out: dict[str, Any] = evaluate_expression(self.text, self.values)
        return out


class NeuronIn(_In):
    """``POST /api/graph/neuron``: neuron ``j`` of layer ``l`` for one example.

    An output neuron gives ``loss`` and ``y`` (softmax-CE: also ``k`` and the logits
    ``z``); a hidden one gives ``upstream``, the gradient ``∂L/∂a`` sent down to it.
    """

    a_prev: Inputs = Field(description="The layer's input a⁽ˡ⁻¹⁾ (x in the first layer).")
    w: Inputs = Field(description="The neuron's weights W⁽ˡ⁾[j, :], as long as `a_prev`.")
    b: Float = Field(description="Its bias b⁽ˡ⁾[j].")
    activation: Annotated[str, Choice((*registry.ACTIVATIONS, "softmax"))]
    loss: Annotated[str, Choice(registry.LOSSES)] | None = Field(
        None, description="Output neuron: the loss (`softmax_ce` needs `activation: softmax`)."
    )
    y: Float | Annotated[list[Float], Field(min_length=2, max_length=MAX_WIDTH)] | None = Field(
        None, description="Output neuron: its target y[j]; softmax-CE: the target vector."
    )
    k: Annotated[int, Field(strict=True, ge=0)] | None = Field(
        None, description="Softmax-CE: its index."
    )
    z: Annotated[list[Float], Field(min_length=2, max_length=MAX_WIDTH)] | None = Field(
        None, description="Softmax-CE: every output logit of the example."
    )
    bce_form: Literal["textbook", "logits"] = Field(
        "textbook", description="BCE drawn as −[y log ŷ + (1−y) log(1−ŷ)] or softplus(z) − y·z."
    )
    upstream: Float | None = Field(
        None, description="Hidden neuron: ∂L/∂a = Σ_k W⁽ˡ⁺¹⁾[k, j] δ_k from the layer above."
    )
    loss_value: Float | None = Field(
        None, description="Hidden neuron: the example's loss, shown on the node from above."
    )
    input_name: Literal["a", "x"] = Field("a", description="Leaf names a1… or x1….")
    layer: Annotated[int, Field(strict=True, ge=1, le=MAX_WEIGHT_LAYERS)] | None = Field(
        None, description="For the page's title: the layer l (1 = first hidden layer)."
    )
    neuron: Annotated[int, Field(strict=True, ge=0, lt=MAX_WIDTH)] | None = Field(
        None, description="For the page's title: the neuron j (0-based)."
    )

    def problems(self) -> Problems:
        """The rules between fields, as ``(loc, message, code)``."""
        out: Problems = []
        if len(self.w) != len(self.a_prev):
            out.append((("w",), f"must have {len(self.a_prev)} entries like a_prev", "shape"))
        hidden = self.upstream is not None
        if hidden == (self.loss is not None):
            where = "upstream" if hidden else "loss"
            out.append(((where,), "give either loss (output) or upstream (hidden)", "choice"))
            return out
        allowed = registry.ACTIVATIONS if hidden else OUTPUT_ACTIVATIONS[str(self.loss)]
        if self.activation not in allowed:
            out.append((("activation",), f"must be one of: {', '.join(allowed)}", "choice"))
        multi = self.loss == "softmax_ce"
        unused = {"y": hidden, "k": not multi, "z": not multi, "loss_value": not hidden}
        for name, refused in unused.items():
            if refused and getattr(self, name) is not None:
                out.append(((name,), "not used by this kind of neuron", "extra_forbidden"))
        if hidden:
            return out
        if multi:
            y = self.y if isinstance(self.y, list) else None
            if y is None:
                out.append((("y",), "softmax_ce needs the target vector", "missing"))
            if self.z is None or self.k is None:
                out.append(
                    (("z" if self.z is None else "k",), "softmax_ce needs k and z", "missing")
                )
            elif y is not None and len(y) != len(self.z):
                out.append((("z",), "must be as long as y", "shape"))
            elif self.k >= len(self.z):
                out.append((("k",), f"must be below {len(self.z)}", "too_large"))
        elif not isinstance(self.y, float):
            out.append((("y",), "an output neuron needs its target y, a number", "missing"))
        return out

    def report(self) -> dict[str, Any]:
        """The neuron's graph report (``ok: false`` if the engine refuses the numbers)."""
        a, w, b, f, name = self.a_prev, self.w, self.b, self.activation, self.input_name
        try:
            if self.upstream is not None:
                up, lv = self.upstream, self.loss_value
                g = hidden_neuron_graph(a, w, b, f, up, loss=lv, input_name=name)
            elif isinstance(self.y, list):  # softmax_ce (checked by problems())
                assert self.z is not None and self.k is not None
                g = softmax_neuron_graph(a, w, b, self.k, self.z, self.y, input_name=name)
            else:
                y, loss, form = float(self.y or 0.0), str(self.loss), self.bce_form
                g = output_neuron_graph(a, w, b, f, loss, y, input_name=name, bce_form=form)
        except EvalError as e:
            return {"ok": False, "graph": None, "steps": [], "checks": [], "error": e.to_dict()}
        out: dict[str, Any] = graph_report(g)
        return out


# ---------------------------------------------------------------------- answers (docs only)
class GraphNode(BaseModel):
    id: int
    op: str  # "leaf", "const", "upstream" or an op of /api/graph/info
    inputs: list[int]
    name: str | None
    label: str
    span: list[int] | None  # [start, end) of its text in the expression
    needs_grad: bool
    value: float | None
    local: list[float | None] | None  # ∂node/∂input, per input
    grad: float | None  # ∂L/∂node


class GraphOut(BaseModel):
    source: str
    output: int | None
    output_name: str | None
    leaves: list[str]
    evaluated: bool
    differentiated: bool
    nodes: list[GraphNode]


class TermOut(BaseModel):
    consumer: int
    slot: int
    grad: float | None
    local: float | None
    product: float | None


class StepOut(BaseModel):
    phase: Literal["forward", "backward"]
    node: int
    value: float | None
    local: list[float | None]
    grad: float | None
    terms: list[TermOut]


class CheckOut(BaseModel):
    leaf: str
    node: int
    analytic: float | None
    numeric: float | None
    rel_error: float | None
    h: float
    error: dict[str, Any] | None


class ErrorOut(BaseModel):
    code: str  # stable: docs/graph.md lists every code
    message: str
    params: dict[str, Any]
    position: int | None = None  # parse errors: the offending character
    node: int | None = None  # evaluation errors: the node to blame


class GraphReport(BaseModel):
    """``{"ok", "graph", "steps", "checks", "error"}`` (docs/graph.md)."""

    ok: bool
    graph: GraphOut | None
    steps: list[StepOut]
    checks: list[CheckOut]
    error: ErrorOut | None


class BigCount(BaseModel):
    exact: str  # the exact count in decimal
    log10: float | None


class PathsOut(BaseModel):
    sizes: list[int]
    paths: BigCount
    paths_per_weight: list[BigCount]
    naive_terms: BigCount
    naive_mults: BigCount
    backprop_mults: int
    weights: int
    params: int
    forward_mults: int
    finite_difference_mults: BigCount
