"""The chain-rule graph: the /graph page and its JSON endpoints (filled in by its own work)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
