"""The app factory: routers per concern, one settings object, security headers."""

from __future__ import annotations

import gc
import logging
import os
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse
from fastapi.staticfiles import StaticFiles

from bpviz.server import api, graph_api, pages, ws
from bpviz.server.hosts import HostGuard, Hosts
from bpviz.server.resume import open_stores
from bpviz.server.runtime import Runtime
from bpviz.server.settings import Settings, get_settings

log = logging.getLogger("bpviz")

# How long a thread running Python may keep the GIL while another waits (CPython's
# default is 5 ms). The event loop thread gives the GIL up at every socket call and then
# waits for the worker threads, which run Python (frames, training) back to back: at
# 5 ms a wait, a ping or a frame's send waits tens of ms behind them with many sessions
# playing. At 0.5 ms, bench/stream.py (3) (30 clients, 2-core machine) delivered more
# frames per client at a lower loop lag, for the same CPU per frame.
SWITCH_INTERVAL = 0.0005

# The garbage collector's thresholds while serving (CPython's default: 700, 10, 10).
# A class's frames allocate containers by the thousand a second, and the objects in
# flight when a young collection runs move to the older generations: at 700 that
# happened hundreds of times a second, so a full collection — every live object of
# every session, 50–80 ms of one core — ran every ~2 s, and every client's frames and
# pings waited behind it (bench/stream.py (7): each client's p99 gap 115–135 ms, ping
# p99 27–48 ms, on a 2-core machine). At 7,000 young collections run a tenth as often
# and a full one comes about once a run: gaps 60–80 ms, ping p99 under 4 ms. Memory
# does not wait on it: what is not a cycle is freed at once, by reference counting.
GC_THRESHOLDS = (7000, 10, 10)


def content_security_policy() -> str:
    """Only the server's own origin: the page provably fetches nothing from outside."""
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            # Plotly and KaTeX set inline style attributes.
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data: blob:",
            "font-src 'self'",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "frame-ancestors 'self'",
            "form-action 'self'",
        ]
    )


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the bpviz app. Used by ``bpviz serve`` (uvicorn ``factory=True``) and tests."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        before, gc_before = sys.getswitchinterval(), gc.get_threshold()
        sys.setswitchinterval(SWITCH_INTERVAL)
        gc.set_threshold(*GC_THRESHOLDS)
        app.state.runtime.pin_loop()  # (this is the event loop's thread)
        try:
            async with open_stores(app.state.runtime):  # snapshots and rooms (resume.py)
                yield
            app.state.runtime.shutdown()
        finally:
            sys.setswitchinterval(before)
            gc.set_threshold(*gc_before)

    app = FastAPI(
        title="bpviz",
        summary="Backpropagation, step by step: the server behind the bpviz page.",
        version="0.1.0",
        lifespan=lifespan,
        # Swagger UI and ReDoc load their scripts from a CDN, which the page's own policy
        # (and a classroom without internet) refuses: they drew a blank page. The schema
        # itself stays at /openapi.json.
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.runtime = Runtime(settings)
    app.state.hosts = Hosts(settings.allowed_hosts)
    csp = content_security_policy()
    # Outermost middleware last: the Host check runs before anything but the headers below.
    app.add_middleware(
        HostGuard, allowed_hosts=settings.allowed_hosts, proxies=settings.trusted_proxies
    )

    @app.middleware("http")
    async def security_headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        try:
            response = await call_next(request)
        except Exception:
            # A bug in a route: answered here, so the 500 carries the headers too (the
            # server's own error handler, outside this middleware, would send none).
            log.exception("internal error on %s %s", request.method, request.url.path)
            response = PlainTextResponse("Internal Server Error", status_code=500)
        response.headers.setdefault("Content-Security-Policy", csp)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        response.headers.setdefault("X-Frame-Options", "SAMEORIGIN")
        return response

    @app.exception_handler(RequestValidationError)
    async def refused(request: Request, exc: RequestValidationError) -> JSONResponse:
        """422 with every problem at its path, as the routes' own refusals: the input is
        never echoed (FastAPI's default sends it back, and its ``ctx``)."""
        detail = [{"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]} for e in exc.errors()]
        return JSONResponse({"detail": detail}, status_code=422)

    @app.get("/healthz", tags=["health"])
    async def healthz() -> dict[str, object]:
        """Liveness: the server answers, with its session count and the process that
        answered (``bpviz serve --workers N`` runs several)."""
        return {"status": "ok", "sessions": app.state.runtime.session_count, "pid": os.getpid()}

    app.include_router(pages.router)
    app.include_router(api.router)
    app.include_router(ws.router)
    app.include_router(graph_api.router)
    app.mount("/static", StaticFiles(directory=str(pages.FRONTEND_DIR / "static")), name="static")
    return app
