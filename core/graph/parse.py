"""A safe parser from a typed expression to an op graph (a tokenizer and recursive descent).

Nothing of the text is ever executed: no ``eval``, no Python ``ast``. The grammar
(``docs/graph.md``)::

    statement := [name "="] expr
    expr      := term (("+" | "-") term)*
    term      := unary (("*" | "/") unary)*
    unary     := "-" unary | power               -x^2 = -(x^2); 2*-x allowed
    power     := primary ["^" unary]             right-associative: a^b^c = a^(b^c)
    primary   := number | name | function "(" expr ")" | "(" expr ")"

Numbers are decimal (``3``, ``0.5``, ``.5``, ``1e-3``); names are ASCII letters, digits
and ``_``, not starting with a digit; each name is one leaf (``w*x + w`` uses ``w``
twice). Functions: :data:`.rules.FUNCTIONS`. The symbols a textbook or a Chinese input
method types are read as their ASCII twins, one character for one so positions stay
true: full-width forms (``（``, ``＋``, ``ｘ``, the ideographic space), ``×`` and ``·`` for
``*``, ``÷`` for ``/``, ``−`` for ``-``. A minus sign written directly before a number
(``-3``, ``x^-1``) makes a negative constant rather than a negation node.

Anything else raises :class:`~bpviz.core.graph.errors.ParseError` with a stable code and
the position of the offending character. Limits: :data:`MAX_LENGTH` characters,
:data:`MAX_NODES` nodes, :data:`MAX_DEPTH` nesting levels (each ``(``, function call,
unary minus and ``^`` opens one level until its operand ends).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import ParseError
from .ops import Graph
from .rules import FUNCTIONS

__all__ = ["MAX_DEPTH", "MAX_LENGTH", "MAX_NODES", "parse"]

MAX_LENGTH = 500
"""Longest accepted text, in characters."""

MAX_NODES = 200
"""Most nodes in a parsed graph (a name used twice is one node)."""

MAX_DEPTH = 50
"""Deepest nesting of parentheses, calls, unary minus and ``^``."""

_TWINS = {"×": "*", "·": "*", "÷": "/", "−": "-", "\u3000": " "}
_NUMBER = re.compile(r"(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_EXPONENT_START = re.compile(r"[eE][+-]?")
_SINGLE = "+-*/^(),="
_OPERAND_START = ("num", "name", "(")


@dataclass(frozen=True)
class _Tok:
    kind: str  # "num", "name", one of _SINGLE, or "end"
    text: str
    start: int
    end: int
    value: float = 0.0


def _ascii_twin(c: str) -> str:
    if "\uff01" <= c <= "\uff5e":  # full-width ASCII
        return chr(ord(c) - 0xFEE0)
    return _TWINS.get(c, c)


def _tokenize(text: str) -> list[_Tok]:
    s = "".join(_ascii_twin(c) for c in text)
    toks: list[_Tok] = []
    i, n = 0, len(s)
    while i < n:
        c = s[i]
        if c.isspace():
            i += 1
        elif c in "0123456789.":
            m = _NUMBER.match(s, i)
            if m is None:
                raise ParseError("bad_number", "'.' must be followed by digits", i, {"text": c})
            end = m.end()
            e = _EXPONENT_START.match(s, end)
            if e is not None:  # "2e", "1e-": an exponent without digits
                bad = s[i : e.end()]
                raise ParseError(
                    "bad_number", f"{bad!r} is not a number (write e.g. 1e-3)", end, {"text": bad}
                )
            value = float(m.group())
            if value == float("inf"):
                raise ParseError(
                    "number_too_large", "the number is too large", i, {"text": m.group()}
                )
            toks.append(_Tok("num", m.group(), i, end, value))
            i = end
        elif c.isascii() and (c.isalpha() or c == "_"):
            m = _NAME.match(s, i)
            assert m is not None
            toks.append(_Tok("name", m.group(), i, m.end()))
            i = m.end()
        elif c == "*" and i + 1 < n and s[i + 1] == "*":
            raise ParseError("double_star", "write powers with ^ (x^2), not **", i + 1)
        elif c in _SINGLE:
            toks.append(_Tok(c, c, i, i + 1))
            i += 1
        else:
            raise ParseError(
                "unexpected_character", f"unexpected character {text[i]!r}", i, {"char": text[i]}
            )
    toks.append(_Tok("end", "", n, n))
    return toks


class _Parser:
    """Recursive descent over the tokens; each method returns ``(node id, start, end)``."""

    def __init__(self, text: str, toks: list[_Tok]) -> None:
        self.toks = toks
        self.pos = 0
        self.depth = 0
        self.graph = Graph(source=text)

    def peek(self) -> _Tok:
        return self.toks[self.pos]

    def take(self) -> _Tok:
        tok = self.toks[self.pos]
        self.pos += 1
        return tok

    def _made(self, node: int, where: int) -> int:
        if len(self.graph) > MAX_NODES:
            raise ParseError(
                "too_many_nodes",
                f"the expression has more than {MAX_NODES} nodes",
                where,
                {"limit": MAX_NODES},
            )
        return node

    def _enter(self, where: int) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ParseError(
                "too_deep",
                f"the expression is nested more than {MAX_DEPTH} levels deep",
                where,
                {"limit": MAX_DEPTH},
            )

    def _after_operand(self, tok: _Tok) -> ParseError:
        """The error for ``tok`` standing where an operator or a closing token belongs."""
        if tok.kind in _OPERAND_START:
            return ParseError(
                "missing_operator",
                f"expected an operator before {tok.text!r} (write 2*x for a product)",
                tok.start,
                {"token": tok.text},
            )
        return ParseError(
            "unexpected_token", f"unexpected {tok.text!r}", tok.start, {"token": tok.text}
        )

    def statement(self) -> Graph:
        first = self.peek()
        if first.kind == "end":
            raise ParseError("empty", "the expression is empty", 0)
        name: _Tok | None = None
        if first.kind == "name" and self.toks[1].kind == "=":
            name = first
            if name.text in FUNCTIONS:
                raise ParseError(
                    "reserved_name",
                    f"{name.text!r} is a function and cannot name the result",
                    name.start,
                    {"name": name.text},
                )
            self.pos = 2
        self.expr()
        tok = self.peek()
        if tok.kind == ")":
            raise ParseError("unmatched_paren", "')' without a matching '('", tok.start)
        if tok.kind == "=":
            raise ParseError("bad_assignment", "only one name may stand before one '='", tok.start)
        if tok.kind != "end":
            raise self._after_operand(tok)
        g = self.graph
        if name is not None:
            if name.text in g.leaves:
                span = g.nodes[g.leaf_id(name.text)].span
                raise ParseError(
                    "name_is_leaf",
                    f"{name.text!r} names the result and cannot also be a leaf",
                    name.start if span is None else span[0],
                    {"name": name.text},
                )
            g.output_name = name.text
        return g

    def expr(self) -> tuple[int, int, int]:
        left, start, end = self.term()
        while self.peek().kind in "+-":
            op = "add" if self.take().kind == "+" else "sub"
            right, _, end = self.term()
            left = self._made(self.graph.apply(op, left, right, span=(start, end)), start)
        return left, start, end

    def term(self) -> tuple[int, int, int]:
        left, start, end = self.unary()
        while self.peek().kind in "*/":
            op = "mul" if self.take().kind == "*" else "div"
            right, _, end = self.unary()
            left = self._made(self.graph.apply(op, left, right, span=(start, end)), start)
        return left, start, end

    def unary(self) -> tuple[int, int, int]:
        tok = self.peek()
        if tok.kind != "-":
            return self.power()
        self.take()
        nxt = self.peek()
        if nxt.kind == "num" and self.toks[self.pos + 1].kind != "^":  # "-3": a constant
            self.take()
            node = self.graph.const(-nxt.value, span=(tok.start, nxt.end))
            return self._made(node, tok.start), tok.start, nxt.end
        self._enter(tok.start)
        inner, _, end = self.unary()
        self.depth -= 1
        node = self.graph.apply("neg", inner, span=(tok.start, end))
        return self._made(node, tok.start), tok.start, end

    def power(self) -> tuple[int, int, int]:
        base, start, end = self.primary()
        if self.peek().kind != "^":
            return base, start, end
        caret = self.take()
        self._enter(caret.start)
        exponent, _, end = self.unary()
        self.depth -= 1
        node = self.graph.apply("pow", base, exponent, span=(start, end))
        return self._made(node, start), start, end

    def primary(self) -> tuple[int, int, int]:
        tok = self.take()
        g = self.graph
        if tok.kind == "num":
            return (
                self._made(g.const(tok.value, span=(tok.start, tok.end)), tok.start),
                tok.start,
                tok.end,
            )
        if tok.kind == "name":
            if self.peek().kind == "(":
                return self.call(tok)
            if tok.text in FUNCTIONS:
                raise ParseError(
                    "missing_call",
                    f"{tok.text!r} is a function: write {tok.text}(x)",
                    tok.start,
                    {"name": tok.text},
                )
            new = tok.text not in g.leaves
            node = g.leaf(tok.text, span=(tok.start, tok.end))
            if new:
                self._made(node, tok.start)
            return node, tok.start, tok.end
        if tok.kind == "(":
            self._enter(tok.start)
            inner, _, _ = self.expr()
            close = self.closing(tok, call=None)
            self.depth -= 1
            return inner, tok.start, close.end
        if tok.kind == "end":
            raise ParseError("unexpected_end", "the expression ends too soon", tok.start)
        raise ParseError(
            "missing_operand",
            f"expected a number, a name or '(' before {tok.text!r}",
            tok.start,
            {"token": tok.text},
        )

    def call(self, name: _Tok) -> tuple[int, int, int]:
        if name.text not in FUNCTIONS:
            raise ParseError(
                "unknown_function",
                f"unknown function {name.text!r}",
                name.start,
                {"name": name.text},
            )
        paren = self.take()
        self._enter(name.start)
        if self.peek().kind == ")":
            raise ParseError(
                "wrong_arity",
                f"{name.text} takes one argument",
                self.peek().start,
                {"name": name.text, "expected": 1},
            )
        arg, _, _ = self.expr()
        close = self.closing(paren, call=name.text)
        self.depth -= 1
        node = self.graph.apply(name.text, arg, span=(name.start, close.end))
        return self._made(node, name.start), name.start, close.end

    def closing(self, paren: _Tok, call: str | None) -> _Tok:
        """Take the ``)`` that closes ``paren`` or raise the error for what stands there."""
        tok = self.peek()
        if tok.kind == ")":
            return self.take()
        if tok.kind == "end":
            raise ParseError("unclosed_paren", "'(' is never closed", paren.start)
        if tok.kind == "," and call is not None:
            raise ParseError(
                "wrong_arity",
                f"{call} takes one argument",
                tok.start,
                {"name": call, "expected": 1},
            )
        raise self._after_operand(tok)


def parse(text: str) -> Graph:
    """Parse ``text`` (e.g. ``"L = (sigmoid(w1*x1 + w2*x2 + b) - y)^2 / 2"``) to a graph.

    Args:
        text: the expression, at most :data:`MAX_LENGTH` characters.

    Returns:
        The graph, not yet evaluated; ``graph.output_name`` is the name before ``=``.

    Raises:
        ParseError: with a stable ``code`` (see ``docs/graph.md``) and the ``position`` of
            the offending character.
    """
    if not isinstance(text, str):
        raise ParseError("not_text", "the expression must be text", 0)
    if len(text) > MAX_LENGTH:
        raise ParseError(
            "too_long",
            f"the expression is longer than {MAX_LENGTH} characters",
            MAX_LENGTH,
            {"limit": MAX_LENGTH},
        )
    return _Parser(text, _tokenize(text)).statement()
