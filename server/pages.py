"""The page, its static assets, and plotly.js from the installed ``plotly`` package."""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import io
import threading
from functools import cache
from importlib import resources
from pathlib import Path

import segno
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates

from bpviz.server.protocol import PROTOCOL_VERSION
from bpviz.server.stores import InvalidRoomCodeError, format_room_code, normalize_room_code

FRONTEND_DIR = Path(str(resources.files("bpviz.frontend")))
templates = Jinja2Templates(directory=str(FRONTEND_DIR / "templates"))
router = APIRouter()


class _Precompressed:
    """A large file served gzip-compressed from memory, compressed once on first use."""

    def __init__(self, path: Path, media_type: str) -> None:
        self.path = path
        self.media_type = media_type
        self._lock = threading.Lock()
        self._raw: bytes | None = None
        self._gz: bytes | None = None
        self.etag = ""

    def load(self) -> tuple[bytes, bytes]:
        with self._lock:
            if self._raw is None or self._gz is None:
                raw = self.path.read_bytes()
                self._gz = gzip.compress(raw, compresslevel=6, mtime=0)
                self.etag = '"' + hashlib.sha256(raw).hexdigest()[:20] + '"'
                self._raw = raw
            return self._raw, self._gz


@cache
def _plotly() -> _Precompressed:
    path = Path(str(resources.files("plotly"))) / "package_data" / "plotly.min.js"
    return _Precompressed(path, "text/javascript")


def serve_precompressed(asset: _Precompressed, request: Request) -> Response:
    raw, gz = asset.load()
    headers = {
        "Cache-Control": "public, max-age=86400",
        "ETag": asset.etag,
        "Vary": "Accept-Encoding",
    }
    if request.headers.get("if-none-match") == asset.etag:
        return Response(status_code=304, headers=headers)
    if "gzip" in request.headers.get("accept-encoding", ""):
        headers["Content-Encoding"] = "gzip"
        return Response(gz, media_type=asset.media_type, headers=headers)
    return Response(raw, media_type=asset.media_type, headers=headers)


def plotly_js_bytes() -> bytes:
    """plotly.min.js itself (the standalone HTML report embeds it)."""
    return _plotly().load()[0]


@router.get("/vendor/plotly.min.js", include_in_schema=False)
async def plotly_js(request: Request) -> Response:
    """plotly.js as bundled by the installed plotly package: no CDN anywhere."""
    return serve_precompressed(_plotly(), request)


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
async def index(request: Request) -> HTMLResponse:
    """The page."""
    return templates.TemplateResponse(
        request, "index.html", {"protocol": PROTOCOL_VERSION, "page": "main"}
    )


@router.get("/lab", response_class=HTMLResponse, include_in_schema=False)
async def lab(request: Request) -> HTMLResponse:
    """The vanishing-gradient lab (two sessions side by side)."""
    return templates.TemplateResponse(
        request, "lab.html", {"protocol": PROTOCOL_VERSION, "page": "lab"}
    )


def _room_code(typed: str) -> str:
    try:
        code: str = normalize_room_code(typed)
    except InvalidRoomCodeError as exc:
        raise HTTPException(404, f"no such room: {exc}") from None
    return code


def room_link(request: Request, code: str) -> str:
    """The absolute link a student opens to follow room ``code`` (``/r/CODE`` on the host
    the page was reached by)."""
    return f"{str(request.base_url).rstrip('/')}/r/{code}"


@router.get("/r/{code}", response_class=HTMLResponse, include_in_schema=False)
async def room_page(request: Request, code: str) -> HTMLResponse:
    """The page, following classroom room ``code`` (read-only until the student copies).

    A person opens this link: whatever it says, the answer is the page, which learns
    over the websocket whether the room exists and says so in the reader's language. A
    link that cannot name a room (a code mistyped: ``/r/K7R-MX``) is the same page with
    status 404; whether a well-formed code is open only the websocket can tell (the room
    may live in another server process)."""
    room: str | None = None
    with contextlib.suppress(InvalidRoomCodeError):
        room = normalize_room_code(code)
    context = {"protocol": PROTOCOL_VERSION, "page": "main", "room": room}
    status = 404 if room is None else 200
    return templates.TemplateResponse(request, "index.html", context, status_code=status)


@router.get(
    "/api/room/{code}/qr.svg",
    tags=["api"],
    response_class=Response,
    responses={
        200: {"content": {"image/svg+xml": {}}, "description": "the QR code, SVG"},
        404: {"description": "not a room code (6 characters of the room alphabet)"},
    },
)
async def room_qr(request: Request, code: str) -> Response:
    """A QR code (SVG, made here: no outside request) of the link that follows room
    ``code``, to show on the projector."""
    code = _room_code(code)
    qr = segno.make(room_link(request, code), error="m")
    out = io.BytesIO()
    title = f"bpviz room {format_room_code(code)}"
    qr.save(out, kind="svg", scale=1, border=2, omitsize=True, xmldecl=False, title=title)
    return Response(
        out.getvalue(), media_type="image/svg+xml", headers={"Cache-Control": "no-store"}
    )
