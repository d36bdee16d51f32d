"""The small REST API the page needs before a session exists."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from bpviz.core import config as core_config
from bpviz.core import datasets
from bpviz.server.protocol import PROTOCOL_VERSION, schemas
from bpviz.server.settings import get_settings

router = APIRouter(prefix="/api", tags=["api"])


def limits() -> dict[str, Any]:
    """Every limit a client can run into, in one place (config limits + server limits)."""
    s = get_settings()
    return {
        **core_config.LIMITS,
        "max_message_bytes": s.max_message_bytes,
        "max_upload_bytes": s.max_upload_bytes,
        "message_rate": s.message_rate,
        "message_burst": s.message_burst,
        "max_sessions": s.max_sessions,
        "max_fps": s.max_fps,
    }


@router.get("/limits")
async def get_limits() -> dict[str, Any]:
    """Limits on network size, data, batch, messages and sessions."""
    return limits()


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
    return {"config": core_config.json_schema(), **schemas(), "protocol": PROTOCOL_VERSION}
