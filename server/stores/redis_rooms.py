"""Rooms across processes and replicas on Redis (keys and scripts: ``redis_scripts.py``).

Each process runs two tasks, started on first use:

- the *reader* (``redis_link.PubSubLink``): one pub/sub connection for every room this
  process has subscribers in,
  handing each message to the local ``Subscription``s (one Redis message, any number of
  local followers). When the link drops it tells the subscribers (``status``
  ``unavailable``), reconnects with back-off, subscribes again and refills each
  subscriber from the retained messages (``status`` ``available``).
- the *heartbeat* (every ``heartbeat`` s): refreshes the TTL of the rooms opened here
  (re-creating them if Redis lost them, then re-sending what they retain), of the
  followers counted here, and checks the rooms followed here still have an owner: a
  room whose owner key expired (its process died) ends for local subscribers with
  ``closed`` (``owner_gone``) — within ``ttl + heartbeat`` seconds.

Every call fails fast with ``StoreUnavailable`` while Redis is unreachable (see
``health.Health``) and works again by itself when it returns.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import Collection, Coroutine, Sequence
from dataclasses import dataclass, field
from typing import Any

from redis.typing import EncodableT

from . import redis_scripts as rs
from .errors import RoomExistsError, RoomNotFoundError, StoreUnavailable
from .health import BACKOFF_CAP, Health, redacted, redis_client
from .redis_link import PubSubLink
from .rooms import (
    DEFAULT_MAX_PAYLOAD,
    DEFAULT_RETAIN,
    RoomBroker,
    check_id,
    normalize_room_code,
)
from .subscription import (
    DEFAULT_COALESCE,
    DEFAULT_MAX_QUEUED,
    DEFAULT_MAX_QUEUED_BYTES,
    KIND_CLOSED,
    KIND_STATUS,
    REASON_CLOSED,
    REASON_OWNER_GONE,
    REASON_SHUTDOWN,
    RoomMessage,
    Subscription,
)

log = logging.getLogger("bpviz.stores")


def _raw(value: bytes | str) -> bytes:
    return value.encode("utf-8") if isinstance(value, str) else value


def _text(value: bytes | str) -> str:
    return value if isinstance(value, str) else value.decode("ascii", "replace")


@dataclass
class _Owned:
    owner_id: str
    retained: dict[str, bytes] = field(default_factory=dict)  # kind → envelope
    stale: bool = False  # a publish failed: re-send the retained ones when Redis is back


class RedisBroker(RoomBroker):
    """Rooms shared by every process on one Redis.

    Parameters
    ----------
    url : str
        ``redis://host:port/db`` (``rediss://`` for TLS, ``unix://`` for a socket).
    heartbeat : float
        Seconds between the owner's (and followers') refreshes.
    ttl : float
        Seconds a room lives without a heartbeat: how soon followers elsewhere learn
        that an owner's process died.
    retain, max_payload_bytes
        As in ``RoomBroker``.
    """

    kind = "redis"

    def __init__(
        self,
        url: str,
        *,
        heartbeat: float = 1.0,
        ttl: float = 4.0,
        retain: Sequence[str] = DEFAULT_RETAIN,
        max_payload_bytes: int = DEFAULT_MAX_PAYLOAD,
    ) -> None:
        super().__init__(retain=retain, max_payload_bytes=max_payload_bytes)
        if not 0 < heartbeat < ttl:
            raise ValueError("the room heartbeat must be positive and shorter than the ttl")
        self.url: str = redacted(url)
        self._redis = redis_client(url)
        self._health = Health(f"Redis at {self.url}")
        self._heartbeat = heartbeat
        self._ttl_ms = round(ttl * 1000)
        # After the link comes back (Redis restarted empty?), the owners elsewhere get this
        # long — their back-off, a heartbeat, a TTL — to re-create their rooms before a
        # missing owner key means the owner is gone.
        self._grace = ttl + BACKOFF_CAP + heartbeat
        self._instance = secrets.token_hex(6)
        node = rs.NODE_PREFIX + self._instance
        self._owned: dict[str, _Owned] = {}
        self._joined: dict[str, set[str]] = {}
        self._subs: dict[str, set[Subscription]] = {}
        self._link = PubSubLink(url, self._health, self, node, poll=heartbeat)
        self._tasks: set[asyncio.Task[None]] = set()
        self._started = False
        self._closed = False
        script = self._redis.register_script
        self._open, self._beat, self._touch = (
            script(rs.OPEN),
            script(rs.HEARTBEAT),
            script(rs.TOUCH),
        )
        self._leave, self._count = script(rs.LEAVE), script(rs.COUNT)
        self._publish, self._close = script(rs.PUBLISH), script(rs.CLOSE)

    @property
    def available(self) -> bool:
        return bool(self._health.up)

    # -- tasks ----------------------------------------------------------------------------

    def _start(self) -> None:
        if self._closed:
            raise StoreUnavailable("the room broker is shut down")
        if not self._started:
            self._started = True
            self._spawn(self._link.run())
            self._spawn(self._heartbeat_loop())

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- what the pub/sub link reports (LinkEvents) ---------------------------------------

    def wanted(self) -> Collection[str]:
        return self._subs.keys()

    def on_message(self, code: str, msg: RoomMessage) -> None:
        if msg.kind == KIND_CLOSED:
            self._end_local(code, str(msg.payload))
            return
        for sub in self._subs.get(code, ()):
            sub.deliver(msg)

    def on_link(self, up: bool, relinked: bool) -> None:
        if up and not relinked:
            return
        status = RoomMessage(KIND_STATUS, "available" if up else "unavailable")
        for subs in self._subs.values():
            for sub in subs:
                if not up:
                    sub.forget_seen()  # what was missed comes back from the retained state
                sub.deliver(status)

    def on_resubscribed(self, code: str) -> None:
        self._spawn(self._refill(code))

    async def _refill(self, code: str) -> None:
        with contextlib.suppress(StoreUnavailable):
            retained = await self._retained(code)
            for sub in self._subs.get(code, ()):
                sub.deliver_retained(retained)

    async def _retained(self, code: str) -> list[RoomMessage]:
        raw = await self._health.call(lambda: self._redis.hgetall(rs.keys(code)[2]))
        by_kind = {_text(k): _raw(v) for k, v in raw.items()}
        found = (rs.decode(by_kind[k]) for k in self.retain if k in by_kind)
        return [m for m in found if m is not None]

    async def _heartbeat_loop(self) -> None:
        while True:
            await asyncio.sleep(self._heartbeat)
            try:
                await self._tick()
            except StoreUnavailable:
                pass  # Health logged the state; the next tick is the retry
            except Exception:  # a bug must not stop the heartbeat of every room
                log.exception("room broker heartbeat failed")

    async def _tick(self) -> None:
        owned = list(self._owned.items())
        joined = [(c, m) for c, m in self._joined.items() if m]
        watched = [c for c in self._subs if c not in self._owned]
        if not (owned or joined or watched):
            if not self._health.up:
                await self.check()
            return
        # `async with`: a pipeline left holding a connection when Redis went away mid-tick
        # warned from its __del__ (an unraisable ResourceWarning, a failed test run)
        async with self._redis.pipeline(transaction=False) as pipe:
            for code, room in owned:
                beat: list[EncodableT] = [room.owner_id, self._ttl_ms, rs.channel(code)]
                await self._beat(rs.keys(code), beat, pipe)
            for code, members in joined:
                args: list[EncodableT] = [
                    self._ttl_ms,
                    rs.channel(code),
                    *(self._member(m) for m in members),
                ]
                await self._touch(rs.keys(code)[:2], args, pipe)
            for code in watched:
                pipe.exists(rs.keys(code)[0])
            results = await self._health.call(pipe.execute)
        for (code, room), (status, _count) in zip(owned, results, strict=False):
            if status == -1:
                log.warning("room %s was taken over by another owner", code)
                self._owned.pop(code, None)
                self._end_local(code, REASON_OWNER_GONE)
            elif status == 1 or room.stale:
                self._spawn(self._resend(code, room))
        gone_after = self._link.up_since + self._grace
        for code, alive in zip(watched, results[len(owned) + len(joined) :], strict=True):
            if not alive and self._link.up and time.monotonic() >= gone_after:
                self._end_local(code, REASON_OWNER_GONE)

    async def _resend(self, code: str, room: _Owned) -> None:
        """Re-send what a room retains after Redis lost it or missed publishes."""
        room.stale = False
        try:
            for kind in self.retain:
                if kind in room.retained and self._owned.get(code) is room:
                    await self._send(code, room.retained[kind], kind)
        except StoreUnavailable:
            room.stale = True  # the next successful heartbeat tries again

    def _member(self, follower_id: str) -> str:
        return f"{self._instance}:{follower_id}"

    def _end_local(self, code: str, reason: str) -> None:
        """The room ended: its local subscriptions get ``closed``; stop listening to it."""
        self._joined.pop(code, None)
        subs = self._subs.pop(code, set())
        for sub in subs:
            sub.end(reason)
        self._link.forget(code)
        if subs:
            self._spawn(self._link.unlisten(code))

    # -- the interface --------------------------------------------------------------------

    async def open(self, code: str, owner_id: str) -> None:
        code, owner_id = normalize_room_code(code), check_id("owner_id", owner_id)
        self._start()
        opened = await self._health.call(
            lambda: self._open(rs.keys(code), [owner_id, self._ttl_ms])
        )
        if not opened:
            raise RoomExistsError(f"room {code} is already open")
        self._owned[code] = _Owned(owner_id)

    async def close(self, code: str, reason: str = REASON_CLOSED) -> None:
        code = normalize_room_code(code)
        room = self._owned.pop(code, None)
        if room is None:
            return
        self._end_local(code, reason)
        env = rs.encode(RoomMessage(KIND_CLOSED, reason))
        args: list[EncodableT] = [room.owner_id, rs.channel(code), env]
        await self._health.call(lambda: self._close(rs.keys(code), args))

    async def exists(self, code: str) -> bool:
        code = normalize_room_code(code)
        if code in self._owned:
            return True
        self._start()
        n = await self._health.call(lambda: self._redis.exists(rs.keys(code)[0]))
        return bool(n)

    async def publish(self, code: str, payload: bytes | str, kind: str = "frame") -> None:
        msg = self._message(payload, kind)
        code = normalize_room_code(code)
        room = self._owned.get(code)
        if room is None:
            raise RoomNotFoundError(f"room {code} is not open in this process")
        env = rs.encode(msg)
        if kind in self.retain:
            room.retained[kind] = env
        self._start()
        try:
            await self._send(code, env, kind)
        except StoreUnavailable:
            room.stale = True
            raise

    async def _send(self, code: str, env: bytes, kind: str) -> None:
        keep = kind if kind in self.retain else ""
        args: list[EncodableT] = [rs.channel(code), env, keep, self._ttl_ms]
        await self._health.call(lambda: self._publish(rs.keys(code)[2:], args))

    async def subscribe(
        self,
        code: str,
        *,
        kinds: Collection[str] | None = None,
        coalesce: Collection[str] = DEFAULT_COALESCE,
        max_queued: int = DEFAULT_MAX_QUEUED,
        max_queued_bytes: int = DEFAULT_MAX_QUEUED_BYTES,
    ) -> Subscription:
        code = normalize_room_code(code)
        if not await self.exists(code):
            raise RoomNotFoundError(f"no room {code}")
        sub = Subscription(
            code,
            kinds=kinds,
            coalesce=coalesce,
            max_queued=max_queued,
            max_queued_bytes=max_queued_bytes,
            detach=self._detach,
        )
        self._subs.setdefault(code, set()).add(sub)
        try:
            await self._link.listen(code)
            sub.deliver_retained(await self._retained(code))
        except BaseException:
            await sub.aclose()
            raise
        return sub

    async def _detach(self, sub: Subscription) -> None:
        subs = self._subs.get(sub.code)
        if subs is None or sub not in subs:
            return
        subs.discard(sub)
        if not subs:
            del self._subs[sub.code]
            self._link.forget(sub.code)
            await self._link.unlisten(sub.code)

    async def join(self, code: str, follower_id: str) -> int:
        code, follower_id = normalize_room_code(code), check_id("follower_id", follower_id)
        self._start()
        args: list[EncodableT] = [self._ttl_ms, rs.channel(code), self._member(follower_id)]
        n = int(await self._health.call(lambda: self._touch(rs.keys(code)[:2], args)))
        if n < 0:
            raise RoomNotFoundError(f"no room {code}")
        self._joined.setdefault(code, set()).add(follower_id)
        return n

    async def leave(self, code: str, follower_id: str) -> int:
        code = normalize_room_code(code)
        members = self._joined.get(code)
        if members is not None:
            members.discard(follower_id)
            if not members:
                del self._joined[code]
        self._start()
        args: list[EncodableT] = [rs.channel(code), self._member(follower_id)]
        return int(await self._health.call(lambda: self._leave(rs.keys(code)[:2], args)))

    async def followers(self, code: str) -> int:
        code = normalize_room_code(code)
        self._start()
        return int(await self._health.call(lambda: self._count(rs.keys(code)[:2])))

    async def check(self) -> bool:
        try:
            await self._health.call(self._redis.ping)
        except StoreUnavailable:
            return False
        return True

    async def aclose(self) -> None:
        if self._closed:
            return
        self._link.stopping()
        for code in list(self._owned):
            with contextlib.suppress(StoreUnavailable):
                await self.close(code, REASON_SHUTDOWN)
        for code, members in list(self._joined.items()):
            for member in list(members):
                with contextlib.suppress(StoreUnavailable):
                    await self.leave(code, member)
        for code in list(self._subs):
            self._end_local(code, REASON_SHUTDOWN)
        self._closed = True
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self._redis.aclose()
        await self._link.aclose()
