"""The op graph of one neuron of a network, from plain numbers, evaluated and differentiated.

One dense neuron with ``n_in`` inputs (no dropout, BatchNorm or skip)::

    z = w1·a1 + w2·a2 + … + wn·an + b,    a = f(z)

followed by its path to the loss:

- an output neuron with MSE: ``L = (ŷ − y)^2 / 2`` (this neuron's term of ½Σ_k(ŷ_k − y_k)²;
  the other outputs' terms do not depend on it), any elementwise activation;
- an output neuron with BCE (sigmoid): ``L = −(y·log ŷ + (1−y)·log(1−ŷ))`` as on the
  board, or from the logits ``L = softplus(z) − y·z`` as the engine computes it (no
  ``log 0`` when ``ŷ`` rounds to 0 or 1);
- the ``k``-th output of a softmax with cross-entropy: ``L = log(e^{z_k} + S) − (y_k z_k + T)``
  where ``S = Σ_{j≠k} e^{z_j}`` and ``T = Σ_{j≠k} y_j z_j`` are constants for this neuron;
- a hidden neuron: an ``upstream`` node for the layers above, whose local derivative is
  the gradient they send down, ``∂L/∂a = Σ_k w_k δ_k``.

Leaves are the neuron's weights ``w1…wn``, its bias ``b`` and its inputs (``a1…an``, or
``x1…xn`` with ``input_name="x"``): ``∂L/∂a_i = w_i δ`` is what this neuron sends down.
Named nodes: ``z``, ``a`` (``ŷ`` on an output), ``L``; the target is a constant ``y``.
``grad`` of ``z`` is the engine's ``δ``; of ``w_i`` its ``∂L/∂W[j, i]`` (one example).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from bpviz.core.engine.activations import ACTIVATIONS

from .errors import EvalError
from .ops import Graph

__all__ = ["hidden_neuron_graph", "output_neuron_graph", "softmax_neuron_graph"]

BCE_FORMS = ("textbook", "logits")


def _floats(name: str, xs: Sequence[float]) -> list[float]:
    try:
        out = [float(x) for x in xs]
    except (TypeError, ValueError):
        out = [math.nan]
    if not all(math.isfinite(x) for x in out):
        raise EvalError("bad_neuron", f"{name} must be finite numbers", None, {"field": name})
    return out


def _z(
    g: Graph, a_prev: Sequence[float], w: Sequence[float], b: float, input_name: str
) -> tuple[int, dict[str, float]]:
    """Build ``z = Σ w_i a_i + b``; return its node and the leaf values."""
    xs, ws = _floats("a_prev", a_prev), _floats("w", w)
    if not xs or len(xs) != len(ws):
        raise EvalError(
            "bad_neuron",
            f"w and a_prev need the same length ≥ 1, got {len(ws)} and {len(xs)}",
            None,
            {"field": "w"},
        )
    bias = _floats("b", [b])[0]
    values: dict[str, float] = {}
    total: int | None = None
    for i, (wi, xi) in enumerate(zip(ws, xs, strict=True), start=1):
        wn, xn = f"w{i}", f"{input_name}{i}"
        values[wn], values[xn] = wi, xi
        p = g.apply("mul", g.leaf(wn), g.leaf(xn))
        total = p if total is None else g.apply("add", total, p)
    values["b"] = bias
    assert total is not None
    return g.apply("add", total, g.leaf("b"), name="z"), values


def _activation(name: str) -> str:
    if name not in ACTIVATIONS:
        raise EvalError("unknown_activation", f"unknown activation {name!r}", None, {"name": name})
    return name


def _evaluated(g: Graph, values: dict[str, float]) -> Graph:
    g.forward(values)
    g.backward()
    return g


def output_neuron_graph(
    a_prev: Sequence[float],
    w: Sequence[float],
    b: float,
    activation: str,
    loss: str,
    y: float,
    *,
    input_name: str = "a",
    bce_form: str = "textbook",
) -> Graph:
    """The graph of output neuron ``j`` and its loss term, evaluated and differentiated.

    Args:
        a_prev: the layer's input for one example, ``(n_in,)``.
        w: the neuron's row ``W[j]``, ``(n_in,)``; b: its bias ``b[j]``.
        activation: the output activation (a key of the engine's ``ACTIVATIONS``;
            ``"sigmoid"`` for ``bce``).
        loss: ``"mse"`` or ``"bce"`` (softmax-CE: :func:`softmax_neuron_graph`).
        y: the target ``y[j]``.
        input_name: leaf prefix of the inputs (``"x"`` for the first layer).
        bce_form: ``"textbook"`` (``−[y log ŷ + (1−y) log(1−ŷ)]``) or ``"logits"``.

    Raises:
        EvalError: ``bad_neuron``, ``unknown_activation``, ``unknown_loss``, or a domain
            error of a node (``log_domain`` when ``ŷ`` rounds to 0 or 1 in textbook form).
    """
    act = _activation(activation)
    target = _floats("y", [y])[0]
    g = Graph()
    z, values = _z(g, a_prev, w, b, input_name)
    if loss == "mse":
        a = g.apply(act, z, name="ŷ")
        d = g.apply("sub", a, g.const(target, name="y"), name="ŷ−y")
        sq = g.apply("pow", d, g.const(2.0))
        g.apply("div", sq, g.const(2.0), name="L")
    elif loss == "bce":
        if act != "sigmoid" or bce_form not in BCE_FORMS:
            raise EvalError(
                "bad_neuron",
                "bce needs the sigmoid activation and a form 'textbook' or 'logits'",
                None,
                {"field": "activation" if act != "sigmoid" else "bce_form"},
            )
        yc = g.const(target, name="y")
        if bce_form == "logits":
            sp = g.apply("softplus", z)
            g.apply("sub", sp, g.apply("mul", yc, z), name="L")
        else:
            a = g.apply("sigmoid", z, name="ŷ")
            t1 = g.apply("mul", yc, g.apply("log", a))
            one_minus = g.apply("sub", g.const(1.0), a, name="1−ŷ")
            t2 = g.apply("mul", g.const(1.0 - target, name="1−y"), g.apply("log", one_minus))
            g.apply("neg", g.apply("add", t1, t2), name="L")
    else:
        raise EvalError(
            "unknown_loss", f"no neuron graph for the loss {loss!r}", None, {"name": loss}
        )
    return _evaluated(g, values)


def softmax_neuron_graph(
    a_prev: Sequence[float],
    w: Sequence[float],
    b: float,
    k: int,
    z: Sequence[float],
    y: Sequence[float],
    *,
    input_name: str = "a",
) -> Graph:
    """Output neuron ``k`` of a softmax with cross-entropy, evaluated and differentiated.

    ``L = log(e^{z_k} + S) − (y_k z_k + T)``, ``S = Σ_{j≠k} e^{z_j}``, ``T = Σ_{j≠k} y_j z_j``
    (constants named ``"Σ e^z (others)"`` and ``"Σ y·z (others)"``); ``∂L/∂z_k = ŷ_k − y_k``.

    Args:
        a_prev, w, b: as in :func:`output_neuron_graph`.
        k: this neuron's index in the output layer (0-based).
        z: all output logits of the example, ``(K,)`` (only the others are used).
        y: the example's target vector, ``(K,)``.
    """
    zs, ys = _floats("z", z), _floats("y", y)
    if len(zs) != len(ys) or not 0 <= k < len(zs):
        raise EvalError(
            "bad_neuron", "z and y need the same length K and 0 ≤ k < K", None, {"field": "k"}
        )
    others = [j for j in range(len(zs)) if j != k]
    try:
        s_rest = math.fsum(math.exp(zs[j]) for j in others)
        t_rest = math.fsum(ys[j] * zs[j] for j in others)
    except (OverflowError, ValueError):
        raise EvalError("overflow", "the other outputs overflow a float", None, {}) from None
    g = Graph()
    zk, values = _z(g, a_prev, w, b, input_name)
    s = g.apply("add", g.apply("exp", zk), g.const(s_rest, name="Σ e^z (others)"), name="Σ e^z")
    lse = g.apply("log", s)
    yz = g.apply("mul", g.const(ys[k], name="y"), zk)
    t = g.apply("add", yz, g.const(t_rest, name="Σ y·z (others)"), name="Σ y·z")
    g.apply("sub", lse, t, name="L")
    return _evaluated(g, values)


def hidden_neuron_graph(
    a_prev: Sequence[float],
    w: Sequence[float],
    b: float,
    activation: str,
    upstream: float,
    *,
    loss: float | None = None,
    input_name: str = "a",
) -> Graph:
    """A hidden neuron, its activation and the layers above, evaluated and differentiated.

    Args:
        a_prev, w, b: as in :func:`output_neuron_graph`.
        activation: the layer's activation.
        upstream: ``∂L/∂a = Σ_k W⁽ˡ⁺¹⁾[k, j] δ_k`` sent down from the layer above (the
            engine's ``grad_a``).
        loss: the example's loss, shown as the upstream node's value (``None``: unknown).
    """
    act = _activation(activation)
    g_up = _floats("upstream", [upstream])[0]
    g = Graph()
    z, values = _z(g, a_prev, w, b, input_name)
    a = g.apply(act, z, name="a")
    g.upstream(a, g_up, loss=None if loss is None else _floats("loss", [loss])[0], name="L")
    return _evaluated(g, values)
