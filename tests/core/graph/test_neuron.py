"""A neuron's op graph gives the engine's δ, ∂L/∂W, ∂L/∂b and the gradient sent down."""

import json
from typing import Any

import numpy as np
import pytest

from bpviz.core.engine.network import Network, NetworkSpec
from bpviz.core.engine.stepper import Stepper
from bpviz.core.graph.errors import EvalError
from bpviz.core.graph.neuron import (
    hidden_neuron_graph,
    output_neuron_graph,
    softmax_neuron_graph,
)
from bpviz.core.graph.ops import Graph


def close(x: Any) -> Any:
    """``pytest.approx`` at float64 round-off: the graph and the engine sum in other orders."""
    return pytest.approx(x, rel=1e-12, abs=1e-15)


def _node(g: Graph, name: str) -> Any:
    return next(n for n in g.nodes if n.name == name)


def _one_step(spec: NetworkSpec, x: list[float], y: list[float]) -> tuple[list[Any], Any]:
    """Weights before the step and the trace of one SGD step on one example."""
    net = Network(spec)
    weights = net.get_weights()
    st = Stepper(net, [x], [y], batch_size=1)
    st.step()
    assert st.trace is not None and st.trace.complete
    return weights, st.trace


def _check_neuron(g: Graph, rec: Any, j: int, input_name: str = "a") -> None:
    """z, its δ, ∂L/∂w, ∂L/∂b of neuron j equal the engine's layer record."""
    n_in = rec.a_prev.shape[1]
    assert _node(g, "z").value == close(rec.z[0, j])
    assert _node(g, "z").grad == close(rec.delta[0, j])
    grads = {name: g.nodes[g.leaf_id(name)].grad for name in g.leaves}
    assert [grads[f"w{i + 1}"] for i in range(n_in)] == close(rec.dW[j])
    assert grads["b"] == close(rec.db[j])
    for c in g.check_gradients():
        assert c.rel_error is not None
        assert c.rel_error < 1e-6 or abs(c.analytic - c.numeric) < 1e-9, c
    json.dumps(g.to_dict(), allow_nan=False)
    json.dumps([s.to_dict() for s in g.steps()], allow_nan=False)


def _check_hidden_layers(weights: list[Any], trace: Any, acts: list[str]) -> None:
    """Every hidden neuron's graph, fed the engine's grad_a from above."""
    for k, act in enumerate(acts):
        rec, above = trace.layers[k], trace.layers[k + 1]
        W, b = weights[k]
        W_above = weights[k + 1][0]
        name = "x" if k == 0 else "a"
        for i in range(W.shape[0]):
            upstream = float(rec.grad_a[0, i])
            assert upstream == close(float(W_above[:, i] @ above.delta[0]))
            g = hidden_neuron_graph(
                rec.a_prev[0], W[i], float(b[i]), act, upstream, input_name=name
            )
            assert _node(g, "a").value == close(rec.a[0, i])
            assert _node(g, "a").grad == upstream
            assert g.nodes[g.output].op == "upstream" and g.nodes[g.output].value is None
            _check_neuron(g, rec, i, name)
            # what this neuron sends down: ∂L/∂a_prev_k = W[i, k] · δ_i
            sent = [g.nodes[g.leaf_id(f"{name}{k + 1}")].grad for k in range(W.shape[1])]
            assert sent == close(W[i] * rec.delta[0, i])


def test_mse_network_matches_the_engine() -> None:
    acts = ["tanh", "sigmoid", "relu"]
    spec = NetworkSpec(3, ((4, acts[0]), (3, acts[1]), (3, acts[2])), 2, loss="mse", seed=3)
    x, y = [0.3, -1.2, 0.8], [0.5, -0.25]
    weights, trace = _one_step(spec, x, y)
    out = trace.layers[-1]
    W, b = weights[-1]
    total = 0.0
    sent_down = np.zeros(W.shape[1])
    for j in range(W.shape[0]):
        g = output_neuron_graph(out.a_prev[0], W[j], float(b[j]), "linear", "mse", y[j])
        assert _node(g, "ŷ").value == close(out.a[0, j])
        _check_neuron(g, out, j)
        total += float(g.nodes[g.output].value)
        sent_down += [g.nodes[g.leaf_id(f"a{i + 1}")].grad for i in range(W.shape[1])]
    assert total == close(trace.loss)  # ½ Σ_k (ŷ_k − y_k)², one example
    assert sent_down == close(trace.layers[-2].grad_a[0])  # Σ over outputs
    _check_hidden_layers(weights, trace, acts)


@pytest.mark.parametrize("form", ["textbook", "logits"])
def test_bce_network_matches_the_engine(form: str) -> None:
    acts = ["elu", "silu"]
    spec = NetworkSpec(2, ((3, acts[0]), (2, acts[1])), 2, loss="bce", seed=5)
    x, y = [0.7, -0.4], [1.0, 0.0]
    weights, trace = _one_step(spec, x, y)
    out = trace.layers[-1]
    W, b = weights[-1]
    total = 0.0
    for j in range(W.shape[0]):
        g = output_neuron_graph(
            out.a_prev[0], W[j], float(b[j]), "sigmoid", "bce", y[j], bce_form=form
        )
        _check_neuron(g, out, j)
        total += float(g.nodes[g.output].value)
    assert total == close(trace.loss)
    _check_hidden_layers(weights, trace, acts)


def test_softmax_ce_network_matches_the_engine() -> None:
    acts = ["leaky_relu"]
    spec = NetworkSpec(2, ((4, acts[0]),), 3, loss="softmax_ce", seed=7)
    x, y = [1.5, -0.5], [0.0, 1.0, 0.0]
    weights, trace = _one_step(spec, x, y)
    out = trace.layers[-1]
    W, b = weights[-1]
    for k in range(W.shape[0]):
        g = softmax_neuron_graph(out.a_prev[0], W[k], float(b[k]), k, out.z[0], y)
        _check_neuron(g, out, k)
        assert g.nodes[g.output].value == close(trace.loss)  # the whole loss
    _check_hidden_layers(weights, trace, acts)


def test_first_layer_neuron_names_its_inputs_x() -> None:
    g = hidden_neuron_graph([1.0, 2.0], [0.5, -0.5], 0.1, "relu", 2.0, loss=0.7, input_name="x")
    assert g.leaves == ["w1", "x1", "w2", "x2", "b"]
    assert g.nodes[g.output].value == 0.7
    assert [n.name for n in g.nodes if n.name and n.op != "leaf"] == ["z", "a", "L"]


def test_sigmoid_mse_output_neuron_by_hand() -> None:
    """The articles' output: sigmoid with ½(ŷ − y)², δ = (ŷ − y) σ′(z)."""
    g = output_neuron_graph([0.593269992, 0.596884378], [0.40, 0.45], 0.60, "sigmoid", "mse", 0.01)
    z = 0.40 * 0.593269992 + 0.45 * 0.596884378 + 0.60
    a = 1 / (1 + np.exp(-z))
    assert _node(g, "ŷ").value == pytest.approx(a, rel=1e-15)
    assert a == pytest.approx(0.75136507, abs=1e-8)
    assert g.nodes[g.output].value == pytest.approx(0.5 * (a - 0.01) ** 2, rel=1e-15)
    assert _node(g, "z").grad == pytest.approx((a - 0.01) * a * (1 - a), rel=1e-14)
    assert g.nodes[g.leaf_id("w1")].grad == pytest.approx(0.082167041, abs=1e-9)


@pytest.mark.parametrize(
    ("call", "code"),
    [
        (lambda: output_neuron_graph([1.0], [1.0, 2.0], 0.0, "linear", "mse", 0.0), "bad_neuron"),
        (lambda: output_neuron_graph([], [], 0.0, "linear", "mse", 0.0), "bad_neuron"),
        (
            lambda: output_neuron_graph([1.0], [float("nan")], 0.0, "linear", "mse", 0.0),
            "bad_neuron",
        ),
        (lambda: output_neuron_graph([1.0], ["a"], 0.0, "linear", "mse", 0.0), "bad_neuron"),
        (
            lambda: output_neuron_graph([1.0], [1.0], 0.0, "swish9", "mse", 0.0),
            "unknown_activation",
        ),
        (lambda: output_neuron_graph([1.0], [1.0], 0.0, "linear", "hinge", 0.0), "unknown_loss"),
        (lambda: output_neuron_graph([1.0], [1.0], 0.0, "tanh", "bce", 1.0), "bad_neuron"),
        (
            lambda: output_neuron_graph([1.0], [1.0], 0.0, "sigmoid", "bce", 1.0, bce_form="x"),
            "bad_neuron",
        ),
        (lambda: output_neuron_graph([1.0], [50.0], 0.0, "sigmoid", "bce", 1.0), "log_domain"),
        (lambda: softmax_neuron_graph([1.0], [1.0], 0.0, 3, [0.0, 1.0], [1.0, 0.0]), "bad_neuron"),
        (lambda: softmax_neuron_graph([1.0], [1.0], 0.0, 0, [0.0, 1e3], [1.0, 0.0]), "overflow"),
        (lambda: hidden_neuron_graph([1.0], [1.0], 0.0, "tanh", float("inf")), "bad_neuron"),
    ],
)
def test_refusals_are_eval_errors(call: Any, code: str) -> None:
    with pytest.raises(EvalError) as e:
        call()
    assert e.value.code == code and e.value.message


def test_saturated_bce_works_from_the_logits() -> None:
    g = output_neuron_graph([1.0], [50.0], 0.0, "sigmoid", "bce", 1.0, bce_form="logits")
    assert _node(g, "z").grad == pytest.approx(1 / (1 + np.exp(-50.0)) - 1.0, abs=1e-20)
