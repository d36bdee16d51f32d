"""The small REST API the page needs before a session exists."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse

from bpviz.core.data import datasets
from bpviz.core.engine import registry
from bpviz.core.experiment import config as core_config
from bpviz.server import owndata
from bpviz.server.pages import plotly_js_bytes
from bpviz.server.protocol import PROTOCOL_VERSION, schemas
from bpviz.server.report import build_report
from bpviz.server.runs import RunError
from bpviz.server.settings import Settings

router = APIRouter(prefix="/api", tags=["api"])


def limits(s: Settings) -> dict[str, Any]:
    """Every limit a client can run into, in one place (config limits + server limits)."""
    return {
        **core_config.LIMITS,
        "max_message_bytes": s.max_message_bytes,
        "max_upload_bytes": s.max_upload_bytes,
        "message_rate": s.message_rate,
        "message_burst": s.message_burst,
        "max_sessions": s.max_sessions,
        "max_fps": s.max_fps,
        "rewind_bytes": s.rewind_bytes,
        "max_csv_bytes": owndata.max_bytes(s.max_upload_bytes),
        "max_csv_rows": owndata.MAX_ROWS,
        "max_csv_cols": owndata.MAX_COLS,
    }


@router.get("/limits")
async def get_limits(request: Request) -> dict[str, Any]:
    """Limits on network size, data, batch, messages and sessions."""
    return limits(request.app.state.settings)


@router.get("/datasets")
async def get_datasets() -> dict[str, Any]:
    """The built-in data sets with their task and bilingual names."""
    return {"datasets": datasets.registry_info()}


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


RUN_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "A run file: `bpviz train --out` or the page's export (docs/protocol.md).",
    "required": ["format", "version", "config", "weights"],
    "properties": {
        "format": {"const": "bpviz-run"},
        "version": {"const": 1},
        "config": {"type": "object"},
        "weights": {"type": "array", "items": {"type": "object"}},
        "history": {"type": "object"},
        "metrics": {"type": "object"},
    },
}


@router.post(
    "/report",
    response_class=HTMLResponse,
    responses={400: {"description": "not a valid run"}, 413: {"description": "too large"}},
    openapi_extra={
        "requestBody": {"required": True, "content": {"application/json": {"schema": RUN_SCHEMA}}}
    },
)
async def post_report(request: Request) -> HTMLResponse:
    """A standalone HTML report (opens offline) of an exported run posted as JSON."""
    body = await _read_limited(request, request.app.state.settings.max_upload_bytes)
    try:
        run = json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise HTTPException(400, f"not JSON: {exc}") from None
    if not isinstance(run, dict):
        raise HTTPException(400, "a run must be a JSON object")
    loop = asyncio.get_running_loop()
    runtime = request.app.state.runtime
    try:
        text = await loop.run_in_executor(
            runtime.pool, build_report, run, plotly_js_bytes().decode("utf-8")
        )
    except core_config.ConfigError as exc:
        raise HTTPException(400, f"invalid config: {exc}") from None
    except RunError as exc:
        raise HTTPException(400, str(exc)) from None
    return HTMLResponse(
        text, headers={"Content-Disposition": 'attachment; filename="bpviz-report.html"'}
    )
