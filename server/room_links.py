"""Classroom rooms: the links between a session and its room (see ``rooms.py``).

- an **owner** shares every ``topology``, ``frame``, ``grid``, ``state`` and ``inspect``
  its session produces — the same text its own client gets, encoded once — through a
  local coalescing queue and one publisher task (a slow broker never slows the session),
  and watches the follower count, telling its client live;
- a **follower** has no experiment: one task forwards the room's messages from its
  bounded, coalescing subscription straight to its websocket, so a slow follower gets
  the newest frame only and slows nobody.

History for late followers: when the follower count grows, the owner shares one
``frame`` carrying the whole history (``room_resync.py``), kind ``frame_full``, never
coalesced with the increments that follow it: every follower's chart is whole again
within ``RESYNC_INTERVAL``.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any

from starlette.websockets import WebSocketDisconnect

from . import encode
from .messages import Room
from .protocol import Copy, Options, Ping, RoomJoin, RoomLeave
from .room_resync import resync_frame_text
from .stores import (
    RoomBroker,
    RoomMessage,
    RoomNotFoundError,
    StoreError,
    StoreUnavailable,
    Subscription,
)
from .stores.rooms import DEFAULT_RETAIN
from .stores.subscription import (
    DEFAULT_COALESCE,
    KIND_CLOSED,
    KIND_FOLLOWERS,
    KIND_STATUS,
    REASON_CLOSED,
    REASON_OVERFLOW,
    REASON_SHUTDOWN,
)

if TYPE_CHECKING:
    from .session import Session


KIND_RUN = "run"  # the owner's snapshot token (server side only: never sent to a client)
KIND_FULL = "frame_full"  # a frame with the whole history, for late followers
ROOM_RETAIN = (*DEFAULT_RETAIN, KIND_RUN)
SHARED_COALESCE = DEFAULT_COALESCE | {KIND_FULL}
RESYNC_INTERVAL = 0.5  # seconds between whole-history frames (one per burst of joins)
OPEN_ATTEMPTS = 8  # fresh codes tried when one is taken
FOLLOWER_COMMANDS = (Ping, Options, RoomLeave, RoomJoin, Copy)
CLOSE_TIMEOUT = 3.0
GRACE = 10.0  # seconds a room waits for its owner to come back (a reload)
COUNT_INTERVAL = 1.0  # seconds between two follower counts sent to a follower


class Rooms:
    """This process's room broker and the rooms its sessions own."""

    def __init__(self, broker: RoomBroker, grace: float = GRACE) -> None:
        self.broker = broker
        self.grace = grace
        self.owned: dict[str, OwnerLink] = {}
        self.parked: dict[str, OwnerLink] = {}  # by the owner's resume token
        self.stopping = False  # the server is stopping (room_stop.py): no new rooms

    def unpark_all(self) -> None:
        """Shutting down: parked rooms wait no more (the broker ends every room)."""
        for link in list(self.parked.values()):
            link.unpark()


_finishing: set[asyncio.Task[Any]] = set()


async def finish(coro: Coroutine[Any, Any, Any]) -> None:
    """Await a broker call for at most ``CLOSE_TIMEOUT`` s; it runs to its end even when
    the caller is cancelled (a closing connection) or stops waiting."""
    task = asyncio.get_running_loop().create_task(coro)
    _finishing.add(task)
    task.add_done_callback(_finishing.discard)
    task.add_done_callback(_quiet)
    await asyncio.wait_for(asyncio.shield(task), CLOSE_TIMEOUT)


def _quiet(task: asyncio.Task[Any]) -> None:
    if not task.cancelled():
        task.exception()  # retrieved: a broker fault here is reported by the broker itself


# ---------------------------------------------------------------- the owner


class OwnerLink:
    """A session's open room: shares its messages, watches its follower count."""

    role = "owner"

    def __init__(self, rooms: Rooms, session: Session, code: str) -> None:
        self.rooms = rooms
        self.session = session
        self.code = code
        self.followers = 0
        self.available = True
        self.ended = False
        self.queue = Subscription(
            code,
            kinds=None,
            coalesce=SHARED_COALESCE,
            max_queued=64,
            max_queued_bytes=64 * 1024 * 1024,
            detach=_nothing,
        )
        self._tasks: list[asyncio.Task[None]] = []
        self._resync_at = 0.0
        self._resyncing = False
        self._parked: tuple[str, asyncio.TimerHandle] | None = None

    def start(self, watch: Subscription) -> None:
        self._tasks = [
            self.session.spawn(self._publisher()),
            self.session.spawn(self._watcher(watch)),
        ]

    def share(self, kind: str, payload: str | bytes) -> None:
        """Queue one message for the followers (never waits; frames coalesce)."""
        if not self.ended:
            self.queue.deliver(RoomMessage(kind, payload))

    def tell(self, **change: Any) -> None:
        """Send the owner's client the room as it is now."""
        fields: dict[str, Any] = {"code": self.code, "role": "owner", "closed": False}
        fields |= {"reason": None, "followers": self.followers, "available": self.available}
        fields |= change
        self.session.send(Room(type="room", **fields))

    async def _publisher(self) -> None:
        broker = self.rooms.broker
        loop = asyncio.get_running_loop()
        async for msg in self.queue:
            payload = msg.payload
            if isinstance(payload, bytes):  # the owner's client reads binary frames
                pool = self.session.runtime.pool
                payload = await loop.run_in_executor(pool, as_json, payload)
            try:
                await broker.publish(self.code, payload, msg.kind)
            except StoreUnavailable:
                self._set_available(False)  # the broker re-sends what it retains later
            except RoomNotFoundError:
                await self.end("owner_gone")
                return
            else:
                self._set_available(True)

    def _set_available(self, up: bool) -> None:
        if up != self.available:
            self.available = up
            self.tell()

    async def _watcher(self, sub: Subscription) -> None:
        async with sub:
            async for msg in sub:
                if msg.kind == KIND_FOLLOWERS:
                    n = int(msg.payload)
                    if n > self.followers:
                        self._resync()
                    self.followers = n
                    self.tell()
                elif msg.kind == KIND_STATUS:
                    self._set_available(msg.payload == "available")
                elif msg.kind == KIND_CLOSED and not self.ended:
                    await self.end(str(msg.payload))
                    return

    def _resync(self) -> None:
        if not self._resyncing:
            self._resyncing = True
            self.session.spawn(self._send_resync())

    async def _send_resync(self) -> None:
        try:
            await asyncio.sleep(max(0.0, self._resync_at - time.monotonic()))
            self._resync_at = time.monotonic() + RESYNC_INTERVAL
            session = self.session
            text = await session.run(resync_frame_text, session.workspace)
            if text is not None:  # shared at once: no frame of the owner's can come between
                self.share(KIND_FULL, text)
        finally:
            self._resyncing = False

    def park(self, token: str) -> None:
        """The owner's connection closed (a reload?): the room waits ``grace`` seconds
        for a session of this process that resumes the run (``attach``), then ends."""
        for task in self._tasks:
            task.cancel()
        self._tasks = []
        self.rooms.parked[token] = self
        timer = asyncio.get_running_loop().call_later(self.rooms.grace, self._expire)
        self._parked = (token, timer)

    def unpark(self) -> None:
        if self._parked is not None:
            token, timer = self._parked
            self._parked = None
            timer.cancel()
            if self.rooms.parked.get(token) is self:
                del self.rooms.parked[token]

    def _expire(self) -> None:
        self.unpark()
        task = asyncio.get_running_loop().create_task(self.end("closed", tell=False))
        _finishing.add(task)
        task.add_done_callback(_finishing.discard)

    async def attach(self, session: Session) -> None:
        """The owner is back (its run resumed in ``session``): the room goes on."""
        self.unpark()
        self.session = session
        try:
            watch = await self.rooms.broker.subscribe(self.code, kinds={KIND_FOLLOWERS})
            self.followers = await self.rooms.broker.followers(self.code)
        except StoreError:
            await self.end("unavailable", tell=False)
            return
        session.room = self
        self.start(watch)
        self.tell()

    async def end(self, reason: str, tell: bool = True) -> None:
        """The room is over: close it on the broker, stop the tasks, tell the owner."""
        if self.ended:
            return
        self.unpark()
        self.ended = True
        if self.rooms.owned.get(self.code) is self:
            del self.rooms.owned[self.code]
        if self.session.room is self:
            self.session.room = None
        await self.queue.aclose()
        said = REASON_SHUTDOWN if reason == REASON_SHUTDOWN else REASON_CLOSED
        with contextlib.suppress(StoreError, TimeoutError):
            await finish(self.rooms.broker.close(self.code, said))
        current = asyncio.current_task()
        for task in self._tasks:
            if task is not current:
                task.cancel()
        if tell and not self.session.closed:
            self.tell(closed=True, reason=reason)


def as_json(payload: bytes) -> str:
    """A binary message (``options`` ``frames: "binary"``) as the JSON text it stands for:
    followers get JSON text, whatever the owner's client reads."""
    return encode.dumps(encode.unpack(payload), rounded=False)


async def _nothing(sub: Subscription) -> None:
    return None


# ---------------------------------------------------------------- a follower


class FollowerLink:
    """A session following a room: the room's messages go straight to its websocket."""

    role = "follower"

    def __init__(self, rooms: Rooms, session: Session, code: str, sub: Subscription) -> None:
        self.rooms = rooms
        self.session = session
        self.code = code
        self.sub = sub
        self.followers = 0
        self.available = True
        self.ended = False  # the room closed: the picture stays, ``copy`` still works
        self.reason: str | None = None
        self.run_token: str | None = None
        self._task: asyncio.Task[None] | None = None
        self._count_sent = 0.0
        self._count_timer: asyncio.TimerHandle | None = None

    def share(self, kind: str, payload: str | bytes) -> None:
        """A follower shares nothing (it has no run)."""

    def room(self, **change: Any) -> str:
        fields: dict[str, Any] = {"code": self.code, "role": "follower", "closed": False}
        fields |= {"reason": None, "followers": self.followers, "available": self.available}
        fields |= change
        return encode.dumps(Room(type="room", **fields))

    def start(self, followers: int) -> None:
        self.followers = followers
        self._task = self.session.spawn(self._forward())

    @property
    def task(self) -> asyncio.Task[None] | None:
        """What sends the room's messages to this follower (done once the room ended)."""
        return self._task

    async def _send(self, payload: str | bytes) -> None:
        ws = self.session.websocket
        if isinstance(payload, bytes):
            await ws.send_bytes(payload)
        else:
            await ws.send_text(payload)

    async def _count(self, n: int) -> None:
        """A new follower count: sent at most every ``COUNT_INTERVAL`` (a class joining
        would otherwise send every follower a message per student)."""
        self.followers = n
        now = time.monotonic()
        if now >= self._count_sent + COUNT_INTERVAL:
            self._count_sent = now
            await self._send(self.room())
        elif self._count_timer is None:
            again = RoomMessage(KIND_FOLLOWERS, "")  # "": the count held here, then
            self._count_timer = asyncio.get_running_loop().call_at(
                asyncio.get_running_loop().time() + self._count_sent + COUNT_INTERVAL - now,
                self._recount,
                again,
            )

    def _recount(self, msg: RoomMessage) -> None:
        self._count_timer = None
        self.sub.deliver(msg)

    async def _forward(self) -> None:
        try:
            await self._forward_all()
        except (WebSocketDisconnect, RuntimeError, OSError):
            return  # the websocket went away: the session closes
        except Exception as exc:  # uvicorn's ClientDisconnected, and the like
            if type(exc).__name__ != "ClientDisconnected":
                raise
        finally:
            if self._count_timer is not None:
                self._count_timer.cancel()

    async def _forward_all(self) -> None:
        await self._send(self.room())
        while True:
            reason = "closed"
            async for msg in self.sub:
                kind = msg.kind
                if kind == KIND_RUN:
                    self.run_token = str(msg.payload)
                elif kind == KIND_FOLLOWERS:
                    await self._count(int(msg.payload or self.followers))
                elif kind == KIND_STATUS:
                    self.available = msg.payload == "available"
                    await self._send(self.room())
                elif kind == KIND_CLOSED:
                    reason = str(msg.payload)
                else:
                    await self._send(msg.payload)
            if reason == REASON_OVERFLOW:  # too far behind: again from what it retains
                try:
                    self.sub = await self.rooms.broker.subscribe(self.code)
                    continue
                except RoomNotFoundError:
                    reason = "closed"
                except StoreError:
                    reason = "unavailable"
            self.ended = True
            self.reason = reason
            await self._send(self.room(closed=True, reason=reason))
            return

    async def stop(self) -> None:
        """Stop following (leave the count, end the stream)."""
        if self._task is not None and self._task is not asyncio.current_task():
            self._task.cancel()
        await self.sub.aclose()
        with contextlib.suppress(StoreError, TimeoutError):
            await finish(self.rooms.broker.leave(self.code, self.session.id))
