"""The websocket endpoint: origin check, session cap, receive loop, cleanup in ``finally``."""

from __future__ import annotations

import contextlib
import logging
import time
from urllib.parse import urlsplit

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from . import encode
from .budget import message_limit, utf8_size
from .hosts import Hosts, host_name
from .messages import Error
from .runtime import Runtime
from .session import Session
from .settings import Settings

router = APIRouter()
log = logging.getLogger("bpviz.ws")

CLOSE_TOO_LARGE = 1009
CLOSE_TRY_AGAIN_LATER = 1013


def origin_allowed(websocket: WebSocket, settings: Settings, hosts: Hosts) -> bool:
    """An allow-listed origin, or the page's own: the same scheme and host as the
    request, and a host this server answers to — the Host header alone is not believed
    (a DNS-rebinding page sends its own name as both; ``server/hosts.py``).

    A missing Origin (a non-browser client such as a script or the benchmarks) is
    allowed: browsers always send one, so a page on another site cannot hide it.
    """
    origin = websocket.headers.get("origin")
    if origin is None:
        return True
    if origin in settings.allowed_origins:
        return True
    parts = urlsplit(origin)
    host = websocket.headers.get("host", "")
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return False
    expected_scheme = "https" if websocket.url.scheme == "wss" else "http"
    server = websocket.scope.get("server")
    local = server[0] if server else None
    return (
        parts.scheme == expected_scheme
        and parts.netloc.lower() == host.lower()
        and hosts.allows(host_name(parts.netloc), local)
    )


class TokenBucket:
    """Per-connection message rate limit."""

    def __init__(self, rate: float, burst: int) -> None:
        self.rate = rate
        self.capacity = float(burst)
        self.tokens = float(burst)
        self.stamp = time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False


@router.websocket("/ws")
async def session_socket(websocket: WebSocket) -> None:
    """One session per connection: connect, receive loop, cleanup in ``finally``."""
    runtime: Runtime = websocket.app.state.runtime
    settings = runtime.settings
    client = f"{websocket.client.host}:{websocket.client.port}" if websocket.client else "?"
    if not origin_allowed(websocket, settings, websocket.app.state.hosts):
        log.warning("refused websocket from %s: origin not allowed", client)
        await websocket.close(code=1008)  # before accept: the handshake gets HTTP 403
        return
    session = Session(runtime, websocket)
    if not runtime.try_register(session):
        await websocket.accept()
        log.warning("refused websocket from %s: %s", client, session.refused)
        reason = session.refused or "server full, try again later"
        # an `error` `busy` first (docs/protocol.md, error codes), as a room's follower
        # refused a run of its own gets: a client reads why before the close
        busy = Error(type="error", code="busy", message=reason, field=None)
        with contextlib.suppress(Exception):  # (a client already gone)
            await websocket.send_text(encode.dumps(busy))
        await websocket.close(code=CLOSE_TRY_AGAIN_LATER, reason=reason[:120])
        return
    await websocket.accept()
    log.info("session %s opened from %s", session.id, client)
    bucket = TokenBucket(settings.message_rate, settings.message_burst)
    try:
        await session.start()
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect" or session.closed:
                break  # (closed: another connection took the session over)
            text, data = message.get("text"), message.get("bytes")
            # Only an `import` (an exported run) and a `csv_inspect` (an uploaded file) may
            # be larger than an ordinary message; their "type" comes in the first 4 KiB, or
            # last (as the message's last key, in its last 4 KiB).
            # Sizes are bytes on the wire, binary frames included.
            size = utf8_size(text) if text is not None else len(data or b"")
            large = size > settings.max_message_bytes
            limit = settings.max_message_bytes
            if large and text is not None:
                limit = message_limit(settings, text[:4096], text[-4096:])
            if size > limit:
                session.send_error(
                    "too_large", f"message of {size:,} bytes is over the limit of {limit:,} bytes"
                )
                await session.flush()
                await websocket.close(code=CLOSE_TOO_LARGE, reason="message too large")
                break
            if not bucket.take():
                session.send_error(
                    "rate_limited",
                    f"more than {settings.message_rate:g} messages per second; slow down",
                )
            elif text is None:
                session.send_error("bad_message", "messages must be JSON text frames")
            elif not await session.handle_text(text, large=large):
                await session.flush()
                await websocket.close(code=CLOSE_TOO_LARGE, reason="message too large")
                break
            # Messages already received come without a pause: let the replies go out
            # before the next, so a client that reads is never "too slow" for a burst.
            await session.outbox.room()
    except WebSocketDisconnect:
        pass
    finally:
        await session.close()
        runtime.unregister(session)
