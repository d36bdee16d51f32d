"""The op graph: every op's derivative against finite differences, the article's example by
hand, the chain-rule terms and steps, every evaluation error, a broken derivative caught."""

import json
import math

import numpy as np
import pytest

from bpviz.core.engine.activations import ACTIVATIONS
from bpviz.core.graph.errors import EvalError
from bpviz.core.graph.ops import Graph
from bpviz.core.graph.parse import parse
from bpviz.core.graph.rules import OPS, OpRule, op_table

POINTS = {
    "unary": [-2.5, -0.7, 0.3, 1.9],
    "positive": [0.05, 0.3, 1.9, 7.0],
}


def _unary_points(op: str) -> list[float]:
    return POINTS["positive"] if op in ("log", "sqrt") else POINTS["unary"]


def _check_all(g: Graph, values: dict[str, float]) -> None:
    g.forward(values)
    g.backward()
    for c in g.check_gradients():
        assert c.error is None and c.numeric is not None
        assert c.rel_error is not None
        assert c.rel_error < 1e-8 or abs(c.analytic - c.numeric) < 1e-10, c


@pytest.mark.parametrize("op", sorted(n for n, r in OPS.items() if r.arity == 1))
def test_every_unary_op_derivative_matches_finite_differences(op: str) -> None:
    g = Graph()
    g.apply(op, g.leaf("x"))
    for x in _unary_points(op):
        _check_all(g, {"x": x})


@pytest.mark.parametrize("op", sorted(n for n, r in OPS.items() if r.arity == 2))
@pytest.mark.parametrize(("x", "y"), [(1.7, 2.3), (0.4, -1.3), (3.0, 0.5)])
def test_every_binary_op_derivative_matches_finite_differences(op: str, x: float, y: float) -> None:
    g = Graph()
    g.apply(op, g.leaf("x"), g.leaf("y"))
    _check_all(g, {"x": x, "y": y})


def test_activation_ops_are_the_engines_own() -> None:
    z = np.array([-2.5, -0.7, 0.0, 0.3, 1.9])
    for name, act in ACTIVATIONS.items():
        a, der = act.f(z), act.der(z, act.f(z))
        for i, zi in enumerate(z):
            g = Graph()
            g.apply(name, g.leaf("z"))
            assert g.forward({"z": float(zi)}) == a[i]
            assert g.backward()["z"] == der[i]  # ReLU' (0) = 0 as in the engine


def test_op_table_is_json_and_lists_every_op() -> None:
    table = op_table()
    assert {row["name"] for row in table} == set(OPS)
    assert {"add", "mul", "pow", "exp", "log", "sqrt", "sigmoid", "relu"} <= set(OPS)
    json.dumps(table)


def test_article_example_by_hand() -> None:
    """L = (σ(w1·x1 + w2·x2 + b) − y)² / 2 with the numbers of the worked article."""
    v = {"w1": 0.15, "x1": 0.05, "w2": 0.20, "x2": 0.10, "b": 0.35, "y": 0.01}
    z = v["w1"] * v["x1"] + v["w2"] * v["x2"] + v["b"]
    a = 1.0 / (1.0 + math.exp(-z))
    loss = (a - v["y"]) ** 2 / 2
    dz = (a - v["y"]) * a * (1.0 - a)
    expected = {
        "w1": dz * v["x1"],
        "x1": dz * v["w1"],
        "w2": dz * v["x2"],
        "x2": dz * v["w2"],
        "b": dz,
        "y": -(a - v["y"]),
    }
    g = parse("L = (sigmoid(w1*x1 + w2*x2 + b) - y)^2 / 2")
    assert g.forward(v) == pytest.approx(loss, rel=1e-15)
    assert z == pytest.approx(0.3775) and a == pytest.approx(0.593269992, abs=1e-9)
    grads = g.backward()
    assert grads == pytest.approx(expected, rel=1e-14)
    by_label = {g.label(n.id): n for n in g.nodes}
    assert by_label["w1*x1 + w2*x2 + b"].grad == pytest.approx(dz, rel=1e-14)
    assert by_label["sigmoid(w1*x1 + w2*x2 + b)"].local == pytest.approx((a * (1 - a),))
    for c in g.check_gradients():
        assert c.rel_error is not None and c.rel_error < 1e-8


def test_backward_sums_one_term_per_use() -> None:
    g = parse("x * x + 3 * x")
    g.forward({"x": 2.0})
    assert g.backward() == {"x": 2.0 * 2.0 + 3.0}
    steps = g.steps()
    leaf = next(s for s in steps if s.phase == "backward" and s.node == g.leaf_id("x"))
    assert sorted((t.slot, t.product) for t in leaf.terms) == [(0, 2.0), (1, 2.0), (1, 3.0)]
    assert sum(t.product for t in leaf.terms) == leaf.grad


def test_steps_forward_then_backward_in_reverse_topological_order() -> None:
    g = parse("L = (w*x - y)^2")
    g.forward({"w": 0.5, "x": 2.0, "y": 3.0})
    g.backward()
    steps = g.steps()
    fwd = [s for s in steps if s.phase == "forward"]
    bwd = [s for s in steps if s.phase == "backward"]
    assert steps == fwd + bwd
    assert [g.nodes[s.node].op for s in fwd] == ["mul", "sub", "pow"]  # not leaves/consts
    order = [s.node for s in bwd]
    assert order[0] == g.output and bwd[0].grad == 1.0 and bwd[0].terms == ()
    assert order == sorted(order, reverse=True)
    # every node appears after all of its consumers; its grad is the sum of its terms
    for s in bwd[1:]:
        assert s.grad == sum(t.product for t in s.terms)
        assert all(order.index(t.consumer) < order.index(s.node) for t in s.terms)
    # the constant exponent 2 gets no gradient and no local derivative is computed for it
    pow_node = g.nodes[g.output]
    assert pow_node.local is not None and pow_node.local[1] is None
    assert g.nodes[pow_node.inputs[1]].grad is None
    json.dumps([s.to_dict() for s in steps], allow_nan=False)


def test_constant_exponent_of_a_negative_base_needs_no_logarithm() -> None:
    g = parse("(x - 3)^2")
    g.forward({"x": 1.0})
    assert g.backward() == {"x": -4.0}
    g = parse("x^3")
    g.forward({"x": -1.5})
    assert g.backward()["x"] == pytest.approx(3 * 1.5**2)


@pytest.mark.parametrize(
    ("text", "values", "code", "culprit"),
    [
        ("x / (y - 1)", {"x": 1.0, "y": 1.0}, "division_by_zero", "x / (y - 1)"),
        ("log(x - 2)", {"x": 1.0}, "log_domain", "log(x - 2)"),
        ("sqrt(x)", {"x": -1.0}, "sqrt_domain", "sqrt(x)"),
        ("sqrt(x)", {"x": 0.0}, "not_differentiable", "sqrt(x)"),
        ("x^0.5", {"x": 0.0}, "not_differentiable", "x^0.5"),
        ("x^0.5", {"x": -4.0}, "pow_domain", "x^0.5"),
        ("2^x + (-2)^x", {"x": 2.0}, "pow_domain", "(-2)^x"),
        ("x^-1", {"x": 0.0}, "division_by_zero", "x^-1"),
        ("exp(x)", {"x": 1000.0}, "overflow", "exp(x)"),
        ("x * x * x", {"x": 1e120}, "overflow", "x * x * x"),
        ("x^400", {"x": 10.0}, "overflow", "x^400"),
    ],
)
def test_domain_errors_name_the_node(
    text: str, values: dict[str, float], code: str, culprit: str
) -> None:
    g = parse(text)
    with pytest.raises(EvalError) as e:
        g.forward(values)
    err = e.value
    assert err.code == code and err.node is not None
    assert g.label(err.node) == culprit and culprit in err.message
    assert err.params["label"] == culprit
    d = g.to_dict()  # nodes before the refused one keep their values, later ones have none
    assert d["evaluated"] is False and d["nodes"][0]["value"] is not None
    assert all(n["value"] is None for n in d["nodes"][err.node + 1 :])
    json.dumps(d, allow_nan=False)
    json.dumps(err.to_dict(), allow_nan=False)
    with pytest.raises(EvalError) as e2:
        g.backward()
    assert e2.value.code == "not_evaluated"


def test_gradient_overflow_names_the_node() -> None:
    g = parse("1e10 * (y / x)")  # values and local derivatives finite: ∂/∂x = -1e300
    assert g.forward({"x": 1e-300, "y": 1e-300}) == 1e10
    with pytest.raises(EvalError) as e:
        g.backward()  # ∂L/∂x = 1e10 · (−1e300)
    assert e.value.code == "overflow" and e.value.node == g.leaf_id("x")


@pytest.mark.parametrize(
    ("values", "code", "name"),
    [
        ({"x": 1.0}, "missing_leaf", "y"),
        ({"x": 1.0, "y": 2.0, "z": 3.0}, "unknown_leaf", "z"),
        ({"x": 1.0, "y": math.nan}, "bad_leaf_value", "y"),
        ({"x": 1.0, "y": math.inf}, "bad_leaf_value", "y"),
        ({"x": 1.0, "y": "2"}, "bad_leaf_value", "y"),
        ({"x": 1.0, "y": True}, "bad_leaf_value", "y"),
        ({"x": 1.0, "y": 10**400}, "bad_leaf_value", "y"),
    ],
)
def test_leaf_value_errors_name_the_leaf(values: dict[str, float], code: str, name: str) -> None:
    g = parse("x + y")
    with pytest.raises(EvalError) as e:
        g.forward(values)
    assert e.value.code == code and e.value.params["name"] == name and name in e.value.message


def test_leaf_values_accept_ints_and_numpy_floats() -> None:
    g = parse("x * y")
    assert g.forward({"x": 2, "y": np.float32(1.5)}) == 3.0


def test_not_evaluated_and_unknown_leaf_in_checks() -> None:
    g = parse("x")
    with pytest.raises(EvalError) as e:
        g.steps()
    assert e.value.code == "not_evaluated"
    g.forward({"x": 1.0})
    with pytest.raises(EvalError) as e:
        g.finite_difference("nope")
    assert e.value.code == "unknown_leaf"
    check = g.finite_difference("x")  # runs backward itself
    assert check.analytic == 1.0 and check.rel_error is not None and check.rel_error < 1e-9


def test_finite_difference_reports_a_domain_error_instead_of_raising() -> None:
    g = parse("log(x)")
    g.forward({"x": 1e-9})
    c = g.finite_difference("x", h=1e-6)  # x − h < 0
    assert c.numeric is None and c.error is not None and c.error["code"] == "log_domain"
    assert c.analytic == pytest.approx(1e9)
    json.dumps(c.to_dict(), allow_nan=False)


def test_a_broken_derivative_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    mul = OPS["mul"]
    broken = OpRule("mul", 2, "×", "operator", mul.value, lambda x, v, n: (x[1], 2 * x[0]))
    monkeypatch.setitem(OPS, "mul", broken)
    g = parse("w * x")
    g.forward({"w": 0.5, "x": 3.0})
    checks = {c.leaf: c for c in g.check_gradients()}
    assert checks["w"].rel_error is not None and checks["w"].rel_error < 1e-8
    assert checks["x"].rel_error is not None and checks["x"].rel_error > 0.3


def test_upstream_node_feeds_the_gradient_from_above() -> None:
    g = Graph()
    z = g.apply("mul", g.leaf("w"), g.leaf("x"), name="z")
    a = g.apply("tanh", z, name="a")
    g.upstream(a, 0.25, loss=1.5)
    assert g.forward({"w": 0.5, "x": 2.0}) == 1.5
    grads = g.backward()
    t = math.tanh(1.0)
    assert g.nodes[a].grad == 0.25
    assert grads["w"] == pytest.approx(0.25 * (1 - t * t) * 2.0, rel=1e-15)
    for c in g.check_gradients():
        assert c.rel_error is not None and c.rel_error < 1e-8
    g2 = Graph()
    g2.upstream(g2.leaf("a"), 3.0)
    assert g2.forward({"a": 1.0}) is None and g2.backward() == {"a": 3.0}
    assert g2.to_dict()["nodes"][1]["value"] is None
    with pytest.raises(ValueError):
        g2.apply("neg", 1)  # an upstream node must stay the output


def test_builder_refuses_wrong_arity_and_unknown_inputs() -> None:
    g = Graph()
    x = g.leaf("x")
    with pytest.raises(ValueError):
        g.apply("add", x)
    with pytest.raises(ValueError):
        g.apply("neg", 5)
    with pytest.raises(KeyError):
        g.apply("nope", x)


def test_to_dict_is_json_ready() -> None:
    g = parse("y = 2 * x")
    d0 = g.to_dict()
    assert d0["evaluated"] is False and d0["output_name"] == "y" and d0["leaves"] == ["x"]
    g.forward({"x": 1.5})
    g.backward()
    d = g.to_dict()
    assert d["differentiated"] is True and d["output"] == 2
    assert d["nodes"][2] == {
        "id": 2,
        "op": "mul",
        "inputs": [0, 1],
        "name": None,
        "label": "2 * x",
        "span": [4, 9],
        "needs_grad": True,
        "value": 3.0,
        "local": [None, 2.0],
        "grad": 1.0,
    }
    json.dumps(d, allow_nan=False)
