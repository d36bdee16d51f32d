"""The chain-rule graph: the /graph page and its JSON endpoints (``docs/graph.md``).

``GET /api/graph/info`` (ops, limits, the default expression), ``POST /api/graph/expression``
(:func:`~bpviz.core.graph.evaluate_expression`), ``POST /api/graph/neuron`` (one neuron with
live numbers, to the loss or to the layers above), ``GET /api/graph/paths?sizes=2,4,4,1``
(:func:`~bpviz.core.graph.count_paths`). A refused request is a 422 listing every problem
with its path (``{"loc": ["body", "values", "w1"], "msg", "type"}``, the input never echoed)
or a 413 over :data:`MAX_BODY_BYTES`; what the *engine* refuses (a parse error, ``log`` of a
negative number) is a normal answer with ``ok: false`` and a coded ``error`` for the page.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel, ValidationError
from starlette.concurrency import run_in_threadpool

from bpviz.core.graph import count_paths
from bpviz.core.graph.parse import MAX_DEPTH, MAX_LENGTH, MAX_NODES
from bpviz.core.graph.rules import op_table
from bpviz.server.api import Refused
from bpviz.server.encode import jsonable
from bpviz.server.graph_models import (
    DEFAULT_EXPRESSION,
    DEFAULT_VALUES,
    MAX_BODY_BYTES,
    MAX_INPUTS,
    MAX_LEAF_VALUES,
    MAX_NEURON_INPUTS,
    MAX_WEIGHT_LAYERS,
    MAX_WIDTH,
    OUTPUT_ACTIVATIONS,
    ExpressionIn,
    GraphReport,
    NeuronIn,
    PathsOut,
    Problems,
)
from bpviz.server.pages import templates
from bpviz.server.protocol import PROTOCOL_VERSION

# the models and limits are graph_models.py's; named here too, where the routes are
__all__ = [
    "DEFAULT_EXPRESSION",
    "DEFAULT_VALUES",
    "MAX_BODY_BYTES",
    "MAX_NEURON_INPUTS",
    "ExpressionIn",
    "GraphReport",
    "NeuronIn",
    "PathsOut",
    "router",
]

M = TypeVar("M", bound=BaseModel)

router = APIRouter()

# ---------------------------------------------------------------------- plumbing


def _refuse(where: str, problems: Problems) -> JSONResponse:
    """422 with each problem's path under ``where`` (``body`` or ``query``), never its input."""
    detail = [{"loc": [where, *loc], "msg": msg, "type": code} for loc, msg, code in problems]
    return JSONResponse({"detail": detail}, status_code=422)


def _clean_loc(loc: tuple[str | int, ...]) -> tuple[str | int, ...]:
    """A pydantic error location without its union-branch tags (``function-before[…]``)."""
    return tuple(p for p in loc if isinstance(p, int) or "[" not in p)


async def _body(request: Request) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise HTTPException(413, f"a request may be at most {MAX_BODY_BYTES:,} bytes")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            raise HTTPException(413, f"a request may be at most {MAX_BODY_BYTES:,} bytes")
    return bytes(body)


async def _answer(
    request: Request, model: type[M], problems: Callable[[M], Problems], work: Callable[[M], Any]
) -> JSONResponse:
    """Validate the body as ``model``, then run ``work`` off the event loop."""
    try:
        parsed = model.model_validate_json(await _body(request))
    except ValidationError as e:
        seen: Problems = []
        for err in e.errors(include_url=False, include_input=False):
            item = (_clean_loc(err["loc"]), err["msg"], err["type"])
            if item not in seen:
                seen.append(item)
        return _refuse("body", seen)
    found = problems(parsed)
    if found:
        return _refuse("body", found)
    result = await run_in_threadpool(work, parsed)
    return JSONResponse(jsonable(result, rounded=False))


def _schema(model: type[BaseModel]) -> dict[str, Any]:
    body = {"application/json": {"schema": model.model_json_schema()}}
    return {"requestBody": {"required": True, "content": body}}


_REFUSED: dict[int | str, dict[str, Any]] = {
    413: {"description": "the body is too large"},
    422: {"description": "the request, refused with each field's path", "model": Refused},
}


# ---------------------------------------------------------------------- routes
@router.get("/graph", response_class=HTMLResponse, include_in_schema=False)
async def graph_page(request: Request) -> HTMLResponse:
    """The chain-rule graph page."""
    page: HTMLResponse = templates.TemplateResponse(
        request, "graph.html", {"protocol": PROTOCOL_VERSION, "page": "graph"}
    )
    return page


@router.get("/api/graph/info", tags=["graph"])
async def graph_info() -> dict[str, Any]:
    """The ops a graph may hold (name, arity, symbol, kind), the limits and the default
    expression with its leaf values."""
    return {
        "ops": op_table(),
        "output_activations": {k: list(v) for k, v in OUTPUT_ACTIVATIONS.items()},
        "limits": {
            "max_text": MAX_LENGTH,
            "max_nodes": MAX_NODES,
            "max_depth": MAX_DEPTH,
            "max_leaf_values": MAX_LEAF_VALUES,
            "max_neuron_inputs": MAX_NEURON_INPUTS,
            "max_weight_layers": MAX_WEIGHT_LAYERS,
            "max_width": MAX_WIDTH,
            "max_inputs": MAX_INPUTS,
            "max_body_bytes": MAX_BODY_BYTES,
        },
        "default": {"text": DEFAULT_EXPRESSION, "values": DEFAULT_VALUES},
    }


@router.post(
    "/api/graph/expression",
    tags=["graph"],
    response_model=GraphReport,
    responses=_REFUSED,
    openapi_extra=_schema(ExpressionIn),
)
async def graph_expression(request: Request) -> JSONResponse:
    """Parse an expression; with ``values``, evaluate, differentiate and check it."""
    return await _answer(request, ExpressionIn, ExpressionIn.problems, ExpressionIn.report)


@router.post(
    "/api/graph/neuron",
    tags=["graph"],
    response_model=GraphReport,
    responses=_REFUSED,
    openapi_extra=_schema(NeuronIn),
)
async def graph_neuron(request: Request) -> JSONResponse:
    """One neuron's op graph with the live numbers, to the loss or to the layers above."""
    return await _answer(request, NeuronIn, NeuronIn.problems, NeuronIn.report)


def parse_sizes(text: str) -> tuple[list[int], Problems]:
    """``"2,4,4,1"`` → ``[2, 4, 4, 1]``, or the problems with their place in the list."""
    parts = [p.strip() for p in text.split(",")]
    problems: Problems = []
    sizes: list[int] = []
    for i, p in enumerate(parts):
        if not (p.isascii() and p.isdigit()):
            problems.append(((i,), "must be a whole number", "not_integer"))
            continue
        # a whole number of many digits is too large, not "not a whole number" (read by
        # its length: int() of thousands of digits is slow)
        n = int(p) if len(p.lstrip("0")) <= 6 else 10**6
        most = MAX_INPUTS if i == 0 else MAX_WIDTH
        if not 1 <= n <= most:
            problems.append(((i,), f"must be from 1 to {most}", "too_large" if n else "too_small"))
        sizes.append(n)
    if not 2 <= len(parts) <= MAX_WEIGHT_LAYERS + 1:
        problems.insert(0, ((), f"give 2 to {MAX_WEIGHT_LAYERS + 1} layer sizes", "length"))
    return sizes, problems


@router.get("/api/graph/paths", tags=["graph"], response_model=PathsOut)
async def graph_paths(
    sizes: Annotated[
        str, Query(max_length=200, description="layer sizes, inputs first: `2,4,4,1`")
    ],
) -> JSONResponse:
    """How many input-to-output paths a naive chain-rule expansion sums, against the
    multiplications backprop does (exact counts; huge ones as decimal strings)."""
    numbers, problems = parse_sizes(sizes)
    if problems:
        return _refuse("query", [(("sizes", *loc), msg, code) for loc, msg, code in problems])
    return JSONResponse(jsonable(count_paths(numbers).to_dict(), rounded=False))
