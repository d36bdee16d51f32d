"""The small REST API the page needs before a session exists."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel

from bpviz.core.data import builtin
from bpviz.core.engine import registry
from bpviz.core.experiment import config as core_config
from bpviz.core.experiment.config_docs import inline_refs
from bpviz.core.experiment.limits import LIMITS
from bpviz.core.experiment.runs import RunError, RunFile, import_run
from bpviz.server import owndata
from bpviz.server.budget import mib, run_estimate
from bpviz.server.pages import plotly_js_bytes
from bpviz.server.protocol import PROTOCOL_VERSION, schemas
from bpviz.server.report import render_report
from bpviz.server.settings import Settings
from bpviz.server.workspace import GRADCHECK_SECONDS, MAX_STEPS_PER_COMMAND

router = APIRouter(prefix="/api", tags=["api"])
T = TypeVar("T")


def limits(s: Settings) -> dict[str, Any]:
    """Every limit a client can run into, in one place (config limits + server limits)."""
    return {
        **core_config.LIMITS,
        "max_message_bytes": s.max_message_bytes,
        "max_upload_bytes": s.max_upload_bytes,
        "message_rate": s.message_rate,
        "message_burst": s.message_burst,
        "max_sessions": s.max_sessions,
        "max_followers": s.max_followers,
        "max_fps": s.max_fps,
        "rewind_bytes": s.rewind_bytes,
        "max_csv_bytes": owndata.max_bytes(s.max_upload_bytes),
        "max_csv_rows": owndata.MAX_ROWS,
        "max_csv_cols": owndata.MAX_COLS,
        # memory budgets (docs/reliability.md) and the largest `import` message
        "session_memory_bytes": s.session_memory_bytes,
        "total_memory_bytes": s.total_memory_bytes,
        "max_sessions_per_address": s.max_sessions_per_address,
        "outbox_max_bytes": s.outbox_max_bytes,
        "max_import_bytes": s.max_import_bytes,
        # a long command's work: a gradient check's budget (seconds), a step command's
        "gradcheck_seconds": GRADCHECK_SECONDS,
        "max_steps_per_command": MAX_STEPS_PER_COMMAND,
    }


@router.get("/limits")
async def get_limits(request: Request) -> dict[str, Any]:
    """Limits on network size, data, batch, messages and sessions."""
    return limits(request.app.state.settings)


@router.get("/datasets")
async def get_datasets() -> dict[str, Any]:
    """The built-in data sets: name, task, shape (``n_in``, ``n_out``, ``max_samples``),
    default loss, and title and description in English and Chinese."""
    return {
        "datasets": builtin.listing(),
        "pseudo": builtin.pseudo_listing(
            int(LIMITS["max_table_rows"]),
            int(LIMITS["max_table_inputs"]),
            int(LIMITS["max_table_outputs"]),
        ),
    }


@router.get("/config/default")
async def get_default_config() -> dict[str, Any]:
    """The default experiment config."""
    out: dict[str, Any] = core_config.to_dict(core_config.default_config())
    return out


@router.get("/schema")
async def get_schema() -> dict[str, Any]:
    """JSON Schema of the config and of every websocket message, both directions."""
    return {
        "config": core_config.json_schema(),
        "choices": registry.choices(),
        **schemas(),
        "protocol": PROTOCOL_VERSION,
    }


async def _read_limited(request: Request, limit: int) -> bytes:
    """The request body, refusing (413) anything over ``limit`` bytes before reading it all."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise HTTPException(413, f"a run file may be at most {limit:,} bytes")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise HTTPException(413, f"a run file may be at most {limit:,} bytes")
    return bytes(body)


class Problem(BaseModel):
    """One problem of a refused run: where (``["body", "state", "pos"]``), what, its
    code (``invalid_run``, or a config error's code for ``["body", "config", …]``) and
    the values the message was made of (``params``, as in the websocket's ``error``)."""

    loc: list[str | int]
    msg: str
    type: str
    params: dict[str, Any] | None = None


class Refused(BaseModel):
    """Why a run was refused: every problem found."""

    detail: list[Problem]


def _refuse(problems: Sequence[tuple[str, str, str, dict[str, Any] | None]]) -> HTTPException:
    """422 with each ``(field, message, code, params)``; ``field`` is dotted, relative to
    the run."""
    detail = [
        {"loc": ["body", *(f.split(".") if f else [])], "msg": message, "type": code}
        | ({"params": params} if params is not None else {})
        for f, message, code, params in problems
    ]
    return HTTPException(422, detail)


@router.post(
    "/report",
    response_class=HTMLResponse,
    responses={
        413: {"description": "too large"},
        422: {
            "description": "not a valid run, with the field paths",
            "content": {"application/json": {"schema": inline_refs(Refused.model_json_schema())}},
        },
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": inline_refs(RunFile.model_json_schema())}},
        }
    },
)
async def post_report(request: Request) -> HTMLResponse:
    """A standalone HTML report (opens offline) of an exported run posted as JSON.

    At most ``max_import_bytes``; one report is built at a time, in short jobs on the
    worker pool (parse, check, build, render), and a run whose experiment would need
    more than ``session_memory_bytes`` is refused (422 ``too_much_memory``)."""
    settings = request.app.state.settings
    body = await _read_limited(request, settings.max_import_bytes)
    runtime = request.app.state.runtime
    loop = asyncio.get_running_loop()

    async def job(fn: Callable[..., T], *args: Any) -> T:
        return await loop.run_in_executor(runtime.pool, fn, *args)

    async with runtime.reports:
        run = await job(_json, body)
        try:
            parsed, needed = await job(run_estimate, run, settings)
            if needed.total > settings.session_memory_bytes:
                message = (
                    f"this run needs about {mib(needed.total)} of memory; a report may use "
                    f"{mib(settings.session_memory_bytes)} (session_memory_bytes)"
                )
                params = {"needed": needed.total, "budget": settings.session_memory_bytes}
                raise _refuse([("config", message, "too_much_memory", params)])
            exp = await job(import_run, parsed)
            text = await job(render_report, exp, run, plotly_js_bytes().decode("utf-8"))
        except core_config.ConfigError as exc:
            problems = [
                (f"config.{e.field}".rstrip("."), e.message, e.code, e.params) for e in exc.errors
            ]
            raise _refuse(problems) from None
        except RunError as exc:
            problems = [
                (p.field.removeprefix("run").lstrip("."), p.message, p.code, p.params)
                for p in exc.problems
            ]
            raise _refuse(problems) from None
    return HTMLResponse(
        text, headers={"Content-Disposition": 'attachment; filename="bpviz-report.html"'}
    )


def _json(body: bytes) -> dict[str, Any]:
    """The posted run: a JSON object (parsed on the worker pool: it may be megabytes)."""
    try:
        run = json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise _refuse([("", f"not JSON: {exc}", "bad_json", None)]) from None
    if not isinstance(run, dict):
        raise _refuse([("", "a run must be a JSON object", "invalid_run", None)])
    return run
