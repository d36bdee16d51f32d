"""The chain-rule graph's HTTP side: the /graph page and /api/graph/* (server/graph_api.py).

Every answer is checked as the browser reads it (strict JSON: no NaN tokens); every refusal
is a 422 naming the field, or a 413 for a body too large, never a 500.
"""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bpviz.core.engine.activations import ACTIVATIONS
from bpviz.core.graph import count_paths, evaluate_expression
from bpviz.server.graph_api import (
    DEFAULT_EXPRESSION,
    DEFAULT_VALUES,
    MAX_BODY_BYTES,
    MAX_NEURON_INPUTS,
    GraphReport,
    PathsOut,
)

from .conftest import strict_json

EXPR = "/api/graph/expression"
NEURON = "/api/graph/neuron"
PATHS = "/api/graph/paths"


@pytest.fixture
def http(client: TestClient) -> TestClient:
    return client


def post(http: TestClient, url: str, body: Any) -> tuple[int, Any]:
    text = body if isinstance(body, str) else json.dumps(body)
    r = http.post(url, content=text, headers={"Content-Type": "application/json"})
    return r.status_code, strict_json(r.text)


def report(http: TestClient, url: str, body: Any) -> dict[str, Any]:
    status, data = post(http, url, body)
    assert status == 200, data
    GraphReport.model_validate(data)
    return dict(data)


def refused(http: TestClient, url: str, body: Any) -> list[list[str | int]]:
    """The field paths of a 422."""
    status, data = post(http, url, body)
    assert status == 422, data
    assert all(set(d) == {"loc", "msg", "type"} for d in data["detail"]), data
    return [d["loc"] for d in data["detail"]]


def node(rep: dict[str, Any], name: str) -> dict[str, Any]:
    return next(n for n in rep["graph"]["nodes"] if n["name"] == name)


# ---------------------------------------------------------------------- the page
def test_page_is_served_with_its_assets(http: TestClient) -> None:
    r = http.get("/graph")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    assert "script-src 'self'" in r.headers["content-security-policy"]
    html = r.text
    assert '<script type="module" src="/static/js/graph/graph.js">' in html
    assert 'href="/"' in html and 'href="/lab"' in html and 'id="lang-toggle"' in html
    assert "<script>" not in html  # no inline script (the CSP would block it)
    for path in (
        "/static/js/graph/graph.js",
        "/static/css/graph.css",
        "/static/i18n/graph.en.json",
        "/static/i18n/graph.zh.json",
    ):
        assert http.get(path).status_code == 200, path


def test_both_dictionaries_have_the_same_keys_and_every_error_code() -> None:
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "frontend" / "static" / "i18n"
    en = json.loads((root / "graph.en.json").read_text(encoding="utf-8"))
    zh = json.loads((root / "graph.zh.json").read_text(encoding="utf-8"))
    assert set(en) == set(zh)
    docs = (Path(__file__).resolve().parents[2] / "docs" / "graph.md").read_text(encoding="utf-8")
    table = docs.split("## Errors", 1)[1].split("## A neuron", 1)[0]
    codes = {
        c for line in table.splitlines() for c in line.split("|")[1:2] for c in c.split("`")[1::2]
    }
    assert codes, "the error table of docs/graph.md"
    assert {f"graph.err.{c}" for c in codes} <= set(en)


def test_info_lists_ops_limits_and_the_default(http: TestClient) -> None:
    info = http.get("/api/graph/info").json()
    ops = {o["name"]: o for o in info["ops"]}
    assert ops["mul"]["symbol"] == "×" and ops["sigmoid"]["kind"] == "function"
    assert set(ACTIVATIONS) <= set(ops)
    assert info["limits"]["max_text"] == 500 and info["limits"]["max_leaf_values"] == 64
    assert info["limits"]["max_weight_layers"] == 17 and info["limits"]["max_width"] == 256
    assert info["default"] == {"text": DEFAULT_EXPRESSION, "values": DEFAULT_VALUES}


# ---------------------------------------------------------------------- expressions
def test_the_default_expression_has_hand_checkable_numbers(http: TestClient) -> None:
    rep = report(http, EXPR, {"text": DEFAULT_EXPRESSION, "values": DEFAULT_VALUES})
    assert rep["ok"] and rep["error"] is None
    graph = rep["graph"]
    assert graph["nodes"][graph["output"]]["value"] == 0.125  # (σ(0) − 1)² / 2
    grads = {c["leaf"]: c["analytic"] for c in rep["checks"]}
    assert grads == {"w1": -0.125, "x1": -0.0625, "w2": -0.25, "x2": 0.03125, "b": -0.125, "y": 0.5}
    assert all(c["rel_error"] < 1e-6 for c in rep["checks"])
    phases = [s["phase"] for s in rep["steps"]]
    assert phases == sorted(phases, key=lambda p: p != "forward")  # forward first
    assert rep == json.loads(json.dumps(evaluate_expression(DEFAULT_EXPRESSION, DEFAULT_VALUES)))


def test_without_values_the_text_is_only_parsed(http: TestClient) -> None:
    rep = report(http, EXPR, {"text": "L = (w*x + b - y)^2 / 2"})
    assert rep["ok"] and rep["graph"]["leaves"] == ["w", "x", "b", "y"]
    assert not rep["graph"]["evaluated"] and rep["steps"] == [] and rep["checks"] == []
    assert report(http, EXPR, {"text": "x", "values": None})["graph"]["leaves"] == ["x"]


@pytest.mark.parametrize(
    ("text", "code", "position"),
    [
        ("x + $", "unexpected_character", 4),
        ("x**2", "double_star", 2),
        ("(x", "unclosed_paren", 0),
        ("foo(x)", "unknown_function", 0),
        ("x +", "unexpected_end", 3),
        ("", "empty", 0),
        ("（x＋１", "unclosed_paren", 0),
        ("-" * 60 + "x", "too_deep", 50),
        ("(" * 60 + "x" + ")" * 60, "too_deep", 50),
        ("x+" * 249 + "x", "too_many_nodes", None),
    ],
)
def test_a_parse_error_is_an_answer_with_code_and_position(
    http: TestClient, text: str, code: str, position: int | None
) -> None:
    rep = report(http, EXPR, {"text": text, "values": {}})
    assert not rep["ok"] and rep["graph"] is None
    assert rep["error"]["code"] == code
    assert position is None or rep["error"]["position"] == position


@pytest.mark.parametrize(
    ("text", "values", "code"),
    [
        ("log(x)", {"x": -1}, "log_domain"),
        ("a / b", {"a": 1, "b": 0}, "division_by_zero"),
        ("exp(x)", {"x": 1e300}, "overflow"),
        ("x * y", {"x": 1}, "missing_leaf"),
        ("x", {"x": 1, "z": 2}, "unknown_leaf"),
        ("x^y", {"x": -2.0, "y": 0.5}, "pow_domain"),
    ],
)
def test_an_evaluation_error_names_the_node(
    http: TestClient, text: str, values: dict[str, float], code: str
) -> None:
    rep = report(http, EXPR, {"text": text, "values": values})
    assert not rep["ok"] and rep["error"]["code"] == code
    assert rep["graph"] is not None and rep["steps"] == []


def test_huge_but_finite_numbers_give_an_answer(http: TestClient) -> None:
    rep = report(http, EXPR, {"text": "x * y", "values": {"x": 1.7e308, "y": 1.7e308}})
    assert rep["error"]["code"] == "overflow"
    rep = report(http, EXPR, {"text": "x * y", "values": {"x": 5e-324, "y": 1e308}})
    assert rep["ok"]


# ---------------------------------------------------------------------- refusals
@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"text": "x" * 501}, ["body", "text"]),
        ({"values": {"x": 1}}, ["body", "text"]),
        ({"text": 5}, ["body", "text"]),
        ({"text": "x", "values": {"x": "NaN"}}, ["body", "values", "x"]),
        ({"text": "x", "values": {"x": True}}, ["body", "values", "x"]),
        ({"text": "x", "values": {"x": [1]}}, ["body", "values", "x"]),
        ({"text": "x", "values": {"x": None}}, ["body", "values", "x"]),
        ({"text": "x", "values": [1, 2]}, ["body", "values"]),
        ({"text": "x", "values": {f"v{i}": 1 for i in range(65)}}, ["body", "values"]),
        ({"text": "x", "values": {"x" * 65: 1}}, ["body", "values", "x" * 65]),
        ({"text": "x", "extra": 1}, ["body", "extra"]),
        ('{"text": "x", "values": {"x": NaN}}', ["body", "values", "x"]),
        ('{"text": "x", "values": {"x": -Infinity}}', ["body", "values", "x"]),
        ('{"text": "x", "values": {"x": 1e999}}', ["body", "values", "x"]),
        ('{"text": "x", "values": {"x": 1' + "0" * 400 + "}}", ["body", "values", "x"]),
        ("[" * 5000 + "]" * 5000, ["body"]),
        ('{"text": "x"', ["body"]),
        ("not json", ["body"]),
        ("", ["body"]),
        ([1, 2, 3], ["body"]),
    ],
)
def test_hostile_expression_requests_are_422_with_the_path(
    http: TestClient, body: Any, loc: list[str]
) -> None:
    assert loc in refused(http, EXPR, body)


def test_a_huge_body_is_413(http: TestClient) -> None:
    body = json.dumps({"text": "x", "values": {"x": 1}, "pad": "y" * MAX_BODY_BYTES})
    status, data = post(http, EXPR, body)
    assert status == 413 and "at most" in data["detail"]
    chunks = (b"x" * 4096 for _ in range(40))  # no Content-Length: counted while read
    r = http.post(NEURON, content=chunks, headers={"Content-Type": "application/json"})
    assert r.status_code == 413


# ---------------------------------------------------------------------- neurons
def sigmoid(z: float) -> float:
    return 1 / (1 + math.exp(-z))


def test_an_output_neuron_gives_the_engine_numbers(http: TestClient) -> None:
    # The classic worked example: neuron o1 of a 2-2-2 sigmoid net, ½(ŷ − y)².
    body = {
        "a_prev": [0.593269992, 0.596884378],
        "w": [0.4, 0.45],
        "b": 0.6,
        "activation": "sigmoid",
        "loss": "mse",
        "y": 0.01,
        "layer": 2,
        "neuron": 0,
    }
    rep = report(http, NEURON, body)
    z = 0.4 * 0.593269992 + 0.45 * 0.596884378 + 0.6
    out = sigmoid(z)
    delta = (out - 0.01) * out * (1 - out)
    assert math.isclose(node(rep, "ŷ")["value"], out, rel_tol=1e-12)
    assert math.isclose(node(rep, "L")["value"], (out - 0.01) ** 2 / 2, rel_tol=1e-12)
    assert math.isclose(node(rep, "z")["grad"], delta, rel_tol=1e-12)
    checks = {c["leaf"]: c for c in rep["checks"]}
    assert math.isclose(checks["w1"]["analytic"], delta * 0.593269992, rel_tol=1e-12)
    assert math.isclose(checks["w1"]["analytic"], 0.082167041, rel_tol=1e-6)  # as on the board
    assert math.isclose(checks["b"]["analytic"], delta, rel_tol=1e-12)
    assert all(c["rel_error"] < 1e-6 for c in rep["checks"])


def test_bce_softmax_and_hidden_neurons(http: TestClient) -> None:
    base = {"a_prev": [0.5, -1.0], "w": [0.3, 0.2], "b": 0.1}
    z = 0.3 * 0.5 + 0.2 * -1.0 + 0.1
    rep = report(http, NEURON, {**base, "activation": "sigmoid", "loss": "bce", "y": 1})
    assert math.isclose(node(rep, "z")["grad"], sigmoid(z) - 1, rel_tol=1e-12)
    # ŷ rounds to 1: the textbook form refuses log(0) by name, the logit form does not.
    far = {"a_prev": [1.0], "w": [40.0], "b": 0.0, "activation": "sigmoid", "loss": "bce", "y": 1}
    assert report(http, NEURON, far)["error"]["code"] == "log_domain"
    assert report(http, NEURON, {**far, "bce_form": "logits"})["ok"]

    zs, ys = [z, 0.4, -0.3], [0.0, 1.0, 0.0]
    soft = {**base, "activation": "softmax", "loss": "softmax_ce", "k": 0, "z": zs, "y": ys}
    rep = report(http, NEURON, soft)
    total = sum(math.exp(v) for v in zs)
    assert math.isclose(node(rep, "z")["grad"], math.exp(z) / total - 0.0, rel_tol=1e-12)

    hidden = {**base, "activation": "tanh", "upstream": 0.7, "loss_value": 0.25, "input_name": "x"}
    rep = report(http, NEURON, hidden)
    assert math.isclose(node(rep, "z")["grad"], 0.7 * (1 - math.tanh(z) ** 2), rel_tol=1e-12)
    assert node(rep, "L")["op"] == "upstream" and node(rep, "L")["value"] == 0.25
    assert {"x1", "x2"} <= set(rep["graph"]["leaves"])


NEURON_OK: dict[str, Any] = {
    "a_prev": [1.0, 2.0],
    "w": [0.5, -0.5],
    "b": 0.0,
    "activation": "sigmoid",
    "loss": "mse",
    "y": 1.0,
}


@pytest.mark.parametrize(
    ("change", "loc"),
    [
        ({"w": [1.0]}, ["body", "w"]),
        ({"loss": None}, ["body", "loss"]),
        ({"upstream": 0.5}, ["body", "upstream"]),
        ({"loss": "bce", "activation": "relu"}, ["body", "activation"]),
        ({"activation": "softmax"}, ["body", "activation"]),
        ({"activation": "gelu"}, ["body", "activation"]),
        ({"loss": "hinge"}, ["body", "loss"]),
        ({"y": [1.0, 0.0]}, ["body", "y"]),
        ({"y": None}, ["body", "y"]),
        ({"y": "1"}, ["body", "y"]),
        ({"b": "NaN"}, ["body", "b"]),
        ({"b": True}, ["body", "b"]),
        ({"a_prev": [1.0] * (MAX_NEURON_INPUTS + 1)}, ["body", "a_prev"]),
        ({"a_prev": []}, ["body", "a_prev"]),
        ({"a_prev": [1.0, [2.0]]}, ["body", "a_prev", 1]),
        ({"k": 0}, ["body", "k"]),
        ({"loss_value": 1.0}, ["body", "loss_value"]),
        ({"layer": 0}, ["body", "layer"]),
        ({"neuron": 1.5}, ["body", "neuron"]),
        ({"input_name": "q"}, ["body", "input_name"]),
        ({"bce_form": "other"}, ["body", "bce_form"]),
        ({"secret": 1}, ["body", "secret"]),
        ({"activation": "softmax", "loss": "softmax_ce", "y": [0.0, 1.0]}, ["body", "z"]),
        (
            {"activation": "softmax", "loss": "softmax_ce", "y": [0.0, 1.0], "z": [1.0, 2.0]},
            ["body", "k"],
        ),
        (
            {"activation": "softmax", "loss": "softmax_ce", "y": [0.0, 1.0], "z": [1.0], "k": 0},
            ["body", "z"],
        ),
        (
            {"activation": "softmax", "loss": "softmax_ce", "y": [0.0, 1.0], "z": [1, 2], "k": 2},
            ["body", "k"],
        ),
        (
            {"activation": "softmax", "loss": "softmax_ce", "y": 1.0, "z": [1, 2], "k": 0},
            ["body", "y"],
        ),
        ({"loss": None, "upstream": 0.1, "activation": "softmax"}, ["body", "activation"]),
        ({"loss": None, "upstream": 0.1}, ["body", "y"]),
    ],
)
def test_hostile_neuron_requests_are_422_with_the_path(
    http: TestClient, change: dict[str, Any], loc: list[str | int]
) -> None:
    assert loc in refused(http, NEURON, {**NEURON_OK, **change})


def test_the_widest_neuron_is_drawn(http: TestClient) -> None:
    n = MAX_NEURON_INPUTS
    body = {**NEURON_OK, "a_prev": [0.01 * i for i in range(n)], "w": [0.02] * n}
    rep = report(http, NEURON, body)
    assert len(rep["checks"]) == 2 * n + 1 and all(c["rel_error"] < 1e-6 for c in rep["checks"])


# ---------------------------------------------------------------------- path counts
def test_paths_are_the_engine_counts(http: TestClient) -> None:
    r = http.get(PATHS, params={"sizes": "2,4,4,1"})
    assert r.status_code == 200
    data = strict_json(r.text)
    PathsOut.model_validate(data)
    assert data == json.loads(json.dumps(count_paths([2, 4, 4, 1]).to_dict()))
    assert data["paths"]["exact"] == "32" and data["backprop_mults"] == 57
    widest = ",".join(["64"] + ["256"] * 17)
    data = http.get(PATHS, params={"sizes": widest}).json()
    assert data["paths"]["exact"] == str(64 * 256**17)
    assert http.get(PATHS, params={"sizes": " 2, 3 ,1"}).json()["sizes"] == [2, 3, 1]


@pytest.mark.parametrize(
    ("sizes", "loc"),
    [
        ("2", ["query", "sizes"]),
        ("", ["query", "sizes"]),
        ("2,x,1", ["query", "sizes", 1]),
        ("2,0,1", ["query", "sizes", 1]),
        ("2,-1,1", ["query", "sizes", 1]),
        ("2,1.5,1", ["query", "sizes", 1]),
        ("65,4,1", ["query", "sizes", 0]),
        ("2,257,1", ["query", "sizes", 1]),
        ("2,99999999999999999999,1", ["query", "sizes", 1]),
        (",".join(["2"] * 19), ["query", "sizes"]),
        ("2,٣,1", ["query", "sizes", 1]),
        ("9" * 300, ["query", "sizes"]),
    ],
)
def test_bad_sizes_are_422_with_the_path(http: TestClient, sizes: str, loc: list[Any]) -> None:
    r = http.get(PATHS, params={"sizes": sizes})
    assert r.status_code == 422
    assert loc in [d["loc"] for d in strict_json(r.text)["detail"]]
    assert len(sizes) < 5 or sizes not in r.text  # never echoed (FastAPI's 422 did, in "input")


def test_missing_sizes_is_422(http: TestClient) -> None:
    r = http.get(PATHS)
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["query", "sizes"]
    assert set(r.json()["detail"][0]) == {"loc", "msg", "type"}


def test_the_openapi_pages_that_need_a_cdn_are_not_served(http: TestClient) -> None:
    """Swagger UI and ReDoc fetch their scripts from a CDN, which the page's policy refuses:
    they drew a blank page. The schema itself is served."""
    assert http.get("/docs").status_code == http.get("/redoc").status_code == 404
    assert http.get("/openapi.json").json()["info"]["title"] == "bpviz"


# ---------------------------------------------------------------------- fuzz
json_values = st.recursive(
    st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
neuron_like = st.fixed_dictionaries(
    {},
    optional={
        k: json_values | st.sampled_from([0.5, [0.5, 1.0], "sigmoid", "mse", "softmax_ce", 1])
        for k in ("a_prev", "w", "b", "activation", "loss", "y", "k", "z", "upstream")
    },
)


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=neuron_like | json_values)
def test_any_json_body_gets_an_answer_or_a_422(http: TestClient, body: Any) -> None:
    for url in (NEURON, EXPR):
        text = json.dumps(body, allow_nan=True)
        r = http.post(url, content=text, headers={"Content-Type": "application/json"})
        assert r.status_code in (200, 422), r.text
        data = strict_json(r.text)
        if r.status_code == 200:
            GraphReport.model_validate(data)
