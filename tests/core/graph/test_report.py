"""The page's one-call answers: every outcome JSON-ready, refusals as data, never raised."""

import json
from typing import Any

from bpviz.core.graph.neuron import hidden_neuron_graph
from bpviz.core.graph.report import evaluate_expression, graph_report


def _json(d: dict[str, Any]) -> None:
    json.dumps(d, allow_nan=False)


def test_parse_only_lists_the_leaves() -> None:
    r = evaluate_expression("L = (w*x - y)^2")
    assert r["ok"] and r["error"] is None and r["steps"] == [] and r["checks"] == []
    assert r["graph"]["leaves"] == ["w", "x", "y"] and r["graph"]["evaluated"] is False
    _json(r)


def test_full_answer() -> None:
    r = evaluate_expression("L = (w*x - y)^2", {"w": 0.5, "x": 2.0, "y": 3.0})
    assert r["ok"] and r["error"] is None
    grads = {n["label"]: n["grad"] for n in r["graph"]["nodes"]}
    assert grads["w"] == 2 * (0.5 * 2.0 - 3.0) * 2.0
    assert [s["phase"] for s in r["steps"]].count("forward") == 3
    assert [c["leaf"] for c in r["checks"]] == ["w", "x", "y"]
    assert all(c["rel_error"] < 1e-8 for c in r["checks"])
    _json(r)


def test_refusals_come_back_as_errors() -> None:
    r = evaluate_expression("L = foo(x)")
    assert not r["ok"] and r["graph"] is None
    assert r["error"]["code"] == "unknown_function" and r["error"]["position"] == 4
    r = evaluate_expression("log(x - 2) + x", {"x": 1.0})
    assert not r["ok"] and r["error"]["code"] == "log_domain" and r["error"]["node"] == 3
    assert r["graph"]["nodes"][2]["value"] == -1.0  # x - 2 was computed before the refusal
    r = evaluate_expression("x + y", {"x": 1.0})
    assert r["error"]["code"] == "missing_leaf" and r["error"]["params"] == {"name": "y"}
    _json(r)


def test_graph_report_of_a_neuron() -> None:
    r = graph_report(hidden_neuron_graph([0.5], [2.0], 0.0, "tanh", 0.1))
    assert r["ok"] and r["checks"][0]["leaf"] == "w1"
    _json(r)
