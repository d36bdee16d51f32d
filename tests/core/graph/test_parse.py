"""The expression parser: structure, every error code with its position, limits, fuzzing."""

import json
import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bpviz.core.graph.errors import EvalError, ParseError
from bpviz.core.graph.ops import Graph
from bpviz.core.graph.parse import MAX_DEPTH, MAX_LENGTH, MAX_NODES, parse
from bpviz.core.graph.rules import FUNCTIONS

FUZZ = settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)


def shape(g: Graph, i: int | None = None) -> str:
    """The graph as a fully parenthesized prefix string, e.g. ``add(x,mul(y,2))``."""
    n = g.nodes[g.output if i is None else i]
    if n.op == "leaf":
        return str(n.name)
    if n.op == "const":
        return f"{n.fixed:g}"
    return f"{n.op}({','.join(shape(g, j) for j in n.inputs)})"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("x", "x"),
        ("3", "3"),
        ("1e-3", "0.001"),
        (".5 + 2.", "add(0.5,2)"),
        ("a + b * c", "add(a,mul(b,c))"),
        ("a - b - c", "sub(sub(a,b),c)"),
        ("a / b / c", "div(div(a,b),c)"),
        ("a ^ b ^ c", "pow(a,pow(b,c))"),
        ("-x ^ 2", "neg(pow(x,2))"),
        ("-2 ^ 2", "neg(pow(2,2))"),
        ("x ^ -1", "pow(x,-1)"),
        ("-3 * x", "mul(-3,x)"),
        ("2 * -x", "mul(2,neg(x))"),
        ("--x", "neg(neg(x))"),
        ("(a + b) * c", "mul(add(a,b),c)"),
        ("exp(log(x))", "exp(log(x))"),
        ("sqrt(x) + relu(y) - leaky_relu(z)", "sub(add(sqrt(x),relu(y)),leaky_relu(z))"),
        (
            "L = (sigmoid(w1*x1 + w2*x2 + b) - y)^2 / 2",
            "div(pow(sub(sigmoid(add(add(mul(w1,x1),mul(w2,x2)),b)),y),2),2)",
        ),
    ],
)
def test_structure(text: str, expected: str) -> None:
    assert shape(parse(text)) == expected


def test_name_leaves_and_spans() -> None:
    text = "L = w*x + w"
    g = parse(text)
    assert g.output_name == "L" and g.leaves == ["w", "x"]
    assert len(g) == 4  # w, x, w*x, + : w is one node used twice
    assert [g.label(i) for i in range(len(g))] == ["w", "x", "w*x", "w*x + w"]
    assert g.nodes[g.output].span == (4, 11)
    assert g.source == text


def test_every_function_of_the_whitelist_parses() -> None:
    for name in sorted(FUNCTIONS):
        g = parse(f"{name}(x)")
        assert g.nodes[g.output].op == name


def test_textbook_and_full_width_symbols_read_as_ascii_keeping_positions() -> None:
    g = parse("Ｌ＝（ｗ×ｘ − ｙ）＾２÷２")
    assert shape(g) == "div(pow(sub(mul(w,x),y),2),2)" and g.output_name == "L"
    assert shape(parse("a·b\u3000÷ c")) == "div(mul(a,b),c)"
    with pytest.raises(ParseError) as e:
        parse("ｘ＋＄")
    assert e.value.code == "unexpected_character" and e.value.position == 2
    assert e.value.params == {"char": "＄"}


@pytest.mark.parametrize(
    ("text", "code", "position"),
    [
        ("", "empty", 0),
        ("   ", "empty", 0),
        ("x +", "unexpected_end", 3),
        ("L =", "unexpected_end", 3),
        ("2x", "missing_operator", 1),
        ("a b", "missing_operator", 2),
        ("(a)(b)", "missing_operator", 3),
        ("1e", "bad_number", 1),
        ("1e-", "bad_number", 1),
        ("x + .", "bad_number", 4),
        ("1e999", "number_too_large", 0),
        ("x ** 2", "double_star", 3),
        ("foo(x)", "unknown_function", 0),
        ("x + eval(y)", "unknown_function", 4),
        ("sigmoid + 1", "missing_call", 0),
        ("sigmoid(x, y)", "wrong_arity", 9),
        ("sigmoid()", "wrong_arity", 8),
        ("(x + 1", "unclosed_paren", 0),
        ("exp(x", "unclosed_paren", 3),
        ("x + 1)", "unmatched_paren", 5),
        ("x = y = z", "bad_assignment", 6),
        ("1 = x", "bad_assignment", 2),
        ("sigmoid = x", "reserved_name", 0),
        ("y = 2 * y", "name_is_leaf", 8),
        ("x + * y", "missing_operand", 4),
        ("+x", "missing_operand", 0),
        ("()", "missing_operand", 1),
        ("x, y", "unexpected_token", 1),
        ("(x, y)", "unexpected_token", 2),
        ("3 $ 4", "unexpected_character", 2),
        ("__import__('os')", "unexpected_character", 11),
        ("x = ŷ", "unexpected_character", 4),
    ],
)
def test_errors_point_at_the_offending_character(text: str, code: str, position: int) -> None:
    with pytest.raises(ParseError) as e:
        parse(text)
    err = e.value
    assert (err.code, err.position) == (code, position), err.message
    assert err.message and issubclass(ParseError, ValueError)
    d = err.to_dict()
    assert d["code"] == code and d["position"] == position
    json.dumps(d, allow_nan=False)


def test_error_params_name_the_culprit() -> None:
    with pytest.raises(ParseError) as e:
        parse("2 * foo(x)")
    assert e.value.params == {"name": "foo"} and "foo" in e.value.message


def test_limits() -> None:
    parse("x" + " " * (MAX_LENGTH - 1))
    with pytest.raises(ParseError) as e:
        parse("x" + " " * MAX_LENGTH)
    assert (e.value.code, e.value.position) == ("too_long", MAX_LENGTH)
    assert e.value.params == {"limit": MAX_LENGTH}

    at_limit = "+".join(["x"] * (MAX_NODES // 2))  # 1 leaf + 99 adds
    assert len(parse(at_limit)) == MAX_NODES // 2
    too_many = "+".join(["1"] * (MAX_NODES // 2 + 1))  # 101 consts + 100 adds
    with pytest.raises(ParseError) as e:
        parse(too_many)
    assert e.value.code == "too_many_nodes" and e.value.params == {"limit": MAX_NODES}
    assert too_many[e.value.position] in "1"

    parse("(" * MAX_DEPTH + "x" + ")" * MAX_DEPTH)
    deep = "(" * (MAX_DEPTH + 1) + "x" + ")" * (MAX_DEPTH + 1)
    with pytest.raises(ParseError) as e:
        parse(deep)
    assert (e.value.code, e.value.position) == ("too_deep", MAX_DEPTH)
    for text in ("-" * (MAX_DEPTH + 1) + "x", "x" + "^x" * (MAX_DEPTH + 1)):
        with pytest.raises(ParseError) as e:
            parse(text)
        assert e.value.code == "too_deep"


def test_not_text() -> None:
    with pytest.raises(ParseError) as e:
        parse(123)
    assert e.value.code == "not_text"


# --------------------------------------------------------------------- fuzzing
_names = st.sampled_from(["x", "y", "w1", "b", "_t", "x2"])
_numbers = st.sampled_from(["0", "1", "2", "0.5", "1e-3", "3.25", ".5", "1e2"])
_functions = st.sampled_from([*sorted(FUNCTIONS), "foo"])


def _expressions() -> st.SearchStrategy[str]:
    leaf = st.one_of(_names, _numbers)
    return st.recursive(
        leaf,
        lambda inner: st.one_of(
            st.tuples(inner, st.sampled_from(["+", "-", "*", "/", "^", " ", "**"]), inner).map(
                "".join
            ),
            inner.map(lambda s: f"-{s}"),
            inner.map(lambda s: f"({s})"),
            st.tuples(_functions, inner).map(lambda t: f"{t[0]}({t[1]})"),
        ),
        max_leaves=40,
    )


@st.composite
def _mutated(draw: st.DrawFn) -> str:
    """A grammar-made expression, sometimes with ``name =``, with a few random edits."""
    text = draw(_expressions())
    if draw(st.booleans()):
        text = f"{draw(_names)} = {text}"
    for _ in range(draw(st.integers(0, 3))):
        i = draw(st.integers(0, len(text)))
        edit = draw(st.sampled_from(["insert", "delete"]))
        if edit == "insert":
            text = text[:i] + draw(st.sampled_from(list("()+-*/^=,. e1x$（−"))) + text[i:]
        else:
            text = text[:i] + text[i + 1 :]
    return text


def _is_graph_or_parse_error(text: str) -> Graph | None:
    try:
        g = parse(text)
    except ParseError as e:
        assert 0 <= e.position <= len(text) and e.code and e.message
        json.dumps(e.to_dict(), allow_nan=False)
        return None
    assert isinstance(g, Graph) and 1 <= len(g) <= MAX_NODES
    json.dumps(g.to_dict(), allow_nan=False)
    return g


@FUZZ
@given(st.text(max_size=120))
def test_any_text_is_a_graph_or_a_parse_error(text: str) -> None:
    _is_graph_or_parse_error(text)


@FUZZ
@given(_mutated(), st.lists(st.floats(-5, 5), min_size=6, max_size=6))
def test_grammar_made_text_is_a_graph_or_a_parse_error_and_evaluates_cleanly(
    text: str, numbers: list[float]
) -> None:
    """Valid expressions evaluate to numbers or an EvalError, never another exception."""
    g = _is_graph_or_parse_error(text)
    if g is None:
        return
    values = dict(zip(g.leaves, numbers, strict=False))
    try:
        out = g.forward(values)
        g.backward()
    except EvalError as e:
        assert e.code and (e.node is None or 0 <= e.node < len(g))
        json.dumps(g.to_dict(), allow_nan=False)
        return
    assert out is not None and math.isfinite(out)
    g.steps()
    for check in g.check_gradients():
        json.dumps(check.to_dict(), allow_nan=False)
    json.dumps(g.to_dict(), allow_nan=False)
