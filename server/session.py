"""One websocket session: parse each message, dispatch it, answer; see ``docs/protocol.md``.
What each command does is ``commands.py``'s.

Concurrency, in one place:
- every call into the experiment runs on the runtime's worker pool, one at a time per
  session (:class:`~bpviz.server.lane.Hops`), never on the event loop: the
  :class:`Workspace` does that work, frames and their encoding included;
- playing (:class:`Player`) trains in slices of at most ``slice_seconds`` and publishes
  at most ``fps`` frames per second;
- outgoing messages go through an :class:`Outbox`: control messages queue (bounded),
  frames and grids coalesce to the newest, so a slow reader holds one frame, not a backlog.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import time
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any

from fastapi import WebSocket, WebSocketDisconnect
from pydantic import ValidationError

from bpviz.core.engine.edits import ParamError

from . import encode, jobs, rooms
from .budget import utf8_size
from .commands import dispatch
from .lane import Hops
from .outbox import Outbox, Text
from .player import Player, frame_texts
from .protocol import (
    PROTOCOL_VERSION,
    CsvInspect,
    Error,
    Hello,
    Import,
    Message,
    Ping,
    State,
    StopReason,
    client_adapter,
    error_of,
    invalid_message,
)
from .resume import SessionRuns
from .workspace import Workspace

if TYPE_CHECKING:
    from .room_links import FollowerLink, OwnerLink
    from .runtime import Runtime

log = logging.getLogger("bpviz.session")

# Close code and reason of a connection whose session another connection took over
# (``/ws?resume=TOKEN&takeover=1``: it had dropped without the server noticing).
CLOSE_TAKEN_OVER = 4000
TAKEN_OVER = "taken over by a new connection"


def _large_kind(error_type: str, loc: tuple[int | str, ...]) -> bool:
    """Whether a parse error belongs to a message that may be large: a mistake inside an
    import or a csv_inspect, or text that is not JSON at all (a file cut short)."""
    return error_type == "json_invalid" or loc[:1] in (("import",), ("csv_inspect",))


class Session(Hops):
    """A learner's experiment, driven by one websocket; its CPU work runs off the event
    loop through :class:`Hops` (``run``, ``run_short``, ``run_slow``)."""

    def __init__(self, runtime: Runtime, websocket: WebSocket) -> None:
        super().__init__(runtime)
        self.id = secrets.token_hex(6)
        self.settings = runtime.settings
        self.websocket = websocket
        self.address = websocket.client.host if websocket.client else "?"
        self.opened = time.monotonic()
        self.refused: str | None = None  # why the runtime did not admit it
        self.close_reason: str | None = None  # why the server closes it, if it does
        self.outbox = Outbox(max_bytes=self.settings.outbox_max_bytes, on_overflow=self._too_slow)
        self.workspace = Workspace(self.settings)
        self.player = Player(self)
        self.jobs = jobs.Jobs(self)
        self.closed = False
        self._tasks: set[asyncio.Task[None]] = set()
        self._releasing: asyncio.Task[None] | None = None  # close(): after a running call
        self._closer: asyncio.Task[None] | None = None  # take_over(): the socket's close
        self.runs = SessionRuns(self)  # the resume token and snapshots (resume.py)
        self.room: OwnerLink | FollowerLink | None = None  # a classroom room (rooms.py)

    # ------------------------------------------------------------------ plumbing

    def spawn(self, coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        """Run ``coro`` as a task of this session (cancelled when it closes)."""
        task: asyncio.Task[None] = asyncio.get_running_loop().create_task(coro)
        self.runtime.task_started()
        self._tasks.add(task)

        def done(t: asyncio.Task[None]) -> None:
            self._tasks.discard(t)
            self.runtime.task_ended()
            if not t.cancelled() and t.exception() is not None:
                log.error("session %s task failed", self.id, exc_info=t.exception())

        task.add_done_callback(done)
        return task

    async def _sender(self) -> None:
        ws = self.websocket
        try:
            while not self.closed:
                await self.outbox.ready.wait()
                while (text := self.outbox.pop()) is not None:
                    if isinstance(text, bytes):
                        await ws.send_bytes(text)
                    else:
                        await ws.send_text(text)
                    await asyncio.sleep(0)  # let other connections run between sends
                if self.outbox.overflow is not None:
                    return
        except (WebSocketDisconnect, OSError):  # (uvicorn's ClientDisconnected is an OSError)
            return  # the connection is gone: closed by the client, or lost; no fault
        except RuntimeError:  # Starlette: a send after the close was sent
            return

    def _too_slow(self, reason: str) -> None:
        """The outbox overflowed: the client is not reading. Close the connection (1008,
        with the reason) and stop the session's work; nothing more is queued."""
        if self.close_reason is not None:
            return
        self.close_reason = reason
        self.workspace.view.playing = False

        async def close() -> None:
            with contextlib.suppress(Exception):
                await self.websocket.close(code=1008, reason=reason[:120])

        asyncio.get_running_loop().create_task(close())

    async def take_over(self) -> None:
        """A new connection came back with this session's resume token and ``takeover``:
        this connection dropped without the server noticing yet. End the session now (an
        owner's room waits for the new connection, the run's last snapshot is written)
        and close the connection with 4000 and the reason."""
        if self.closed or self.close_reason is not None:
            return
        self.close_reason = TAKEN_OVER
        await self.close()

        async def close() -> None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(
                    self.websocket.close(code=CLOSE_TAKEN_OVER, reason=TAKEN_OVER), 5.0
                )

        self._closer = asyncio.get_running_loop().create_task(close())

    def send(self, message: Message) -> None:
        """Queue a control message (small: encoded here, on the event loop)."""
        self.outbox.put(encode.dumps(message))

    def send_error(
        self,
        code: str,
        message: str,
        field: str | None = None,
        row: int | None = None,
        column: str | None = None,
    ) -> None:
        """An ``error``; ``row`` and ``column`` (a CSV's) only when either is known."""
        error: dict[str, Any] = {"type": "error", "code": code, "message": message, "field": field}
        if row is not None or column is not None:
            error |= {"row": row, "column": column}
        self.send(Error.model_validate(error))

    def report(self, exc: Exception, where: str, data_field: str | None = None) -> None:
        """Answer a refused command with its ``error`` (and params); an exception that is
        a bug is logged with its traceback and answered ``internal``."""
        error = error_of(exc, data_field)
        if error is not None:
            self.send(error)
        elif isinstance(exc, ParamError):  # set_param: mid_step, bad_param
            self.send_error(exc.code, exc.message, exc.field)
        else:
            log.error("session %s: internal error on %s", self.id, where, exc_info=exc)
            self.send_error("internal", "internal error; the session is still usable")

    def state_message(self, stopped: StopReason | None = None) -> State:
        exp = self.workspace.experiment
        return State(
            type="state",
            playing=self.player.playing,
            diverged=bool(exp.diverged) if exp else False,
            speed=self.player.speed,
            stopped=stopped,
            job=self.jobs.progress(),
        )

    def send_state(self, stopped: StopReason | None = None) -> None:
        text = encode.dumps(self.state_message(stopped))
        self.outbox.put(text)
        self.share("state", text)

    def share(self, kind: str, text: Text | None) -> None:
        """Hand what this session's client gets to its room's followers (encoded once)."""
        if text is not None and self.room is not None:
            self.room.share(kind, text)

    def put_frame(self, frame: Text | None, grid: Text | None) -> None:
        if frame is not None:
            self.outbox.put_frame(frame)
        if grid is not None:
            self.outbox.put_grid(grid)
        self.share("frame", frame)
        self.share("grid", grid)

    async def publish_frame(self, grid: bool) -> None:
        """Build and queue a frame (and, if asked and wanted, a grid): one worker job, or
        a few short ones for a large network (``player.frame_texts``)."""
        self.put_frame(*await frame_texts(self, grid))

    async def publish_all(self) -> None:
        """Topology, frame and grid of a new experiment."""
        text = await self.run(self.workspace.topology_text)
        self.outbox.put_topology(text)
        self.share("topology", text)
        await self.publish_frame(grid=True)

    async def flush(self, timeout: float = 1.0) -> None:
        """Wait (briefly) until everything queued has been written."""
        deadline = time.monotonic() + timeout
        while not self.outbox.empty and time.monotonic() < deadline:
            await asyncio.sleep(0.005)

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        from .api import limits

        self.spawn(self._sender())
        notice = await self.runs.open()  # /ws?resume=TOKEN: the run comes back before hello
        self.send(
            Hello(
                type="hello",
                protocol=PROTOCOL_VERSION,
                server="bpviz 0.1.0",
                session=self.id,
                limits=limits(self.settings),
                resume_token=self.runs.token,
                resumed=self.runs.resumed,
                pid=os.getpid(),
            )
        )
        if notice is not None:
            self.send(notice)
        if await rooms.follow_on_start(self):  # /ws?room=CODE: a follower, no run of its own
            return
        if not self.runs.resumed:
            await self.run(self.workspace.start)
        await self.publish_all()

    async def close(self) -> None:
        if self.closed:
            return
        if self.jobs.current is not None:
            self.jobs.current.cancelled = True
        await rooms.on_close(self)  # its room ends; its run's last snapshot
        self.closed = True
        self.workspace.view.playing = False
        self.outbox.ready.set()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self._lock.locked():  # a call still runs (its caller was cancelled): after it
            self._releasing = asyncio.get_running_loop().create_task(self._release())
        else:
            self._release_now()
        reason = self.close_reason or "connection closed"
        log.info("session %s closed after %.1f s (%s)", self.id, self.age, reason)

    async def _release(self) -> None:
        async with self._lock:  # held by the call until it has ended (lane._held)
            self._release_now()

    def _release_now(self) -> None:
        """Let go of the experiment, once the run's last snapshot is written."""
        last = self.runs.closing  # still being written?
        if last is not None and not last.done():
            last.add_done_callback(lambda _: setattr(self.workspace, "experiment", None))
        else:
            self.workspace.experiment = None

    @property
    def age(self) -> float:
        """Seconds since the connection opened."""
        return time.monotonic() - self.opened

    # ------------------------------------------------------------------ receiving

    def _too_large(self, text: str) -> bool:
        """Refuse a message over the limit that is not an import or a csv_inspect; False:
        the connection closes (1009)."""
        limit = self.settings.max_message_bytes
        self.send_error(
            "too_large",
            f"only an import or a csv_inspect may exceed {limit:,} bytes; "
            f"this is {utf8_size(text):,}",
        )
        return False

    async def handle_text(self, text: str, large: bool = False) -> bool:
        """Handle one message; False when the connection must close (an oversized message)."""
        try:
            if large:  # parsing a big message is CPU work: not on the event loop
                loop = asyncio.get_running_loop()
                msg = await loop.run_in_executor(
                    self.runtime.pool, client_adapter.validate_json, text
                )
            else:
                msg = client_adapter.validate_json(text)
        except ValidationError as exc:
            if large and not all(_large_kind(e["type"], e["loc"]) for e in exc.errors()):
                return self._too_large(text)
            # an import or a csv_inspect with a mistake (a file cut short, a key too many)
            self.send(invalid_message(exc))
            return True
        if large and not isinstance(msg, Import | CsvInspect):
            return self._too_large(text)
        if not isinstance(msg, Ping):
            await self.jobs.cancel()  # a new command cancels a gradcheck, an export…
        try:
            await dispatch(self, msg)
        except Exception as exc:
            self.report(exc, type(msg).__name__, "csv" if isinstance(msg, CsvInspect) else None)
        return True
