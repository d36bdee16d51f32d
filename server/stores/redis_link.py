"""One process's pub/sub link to Redis: the channels its local subscribers need.

The link is transport only; the broker decides what a message means. It runs one task
(``run``): connect, subscribe to the process's own node channel plus every wanted room
channel, read, and on any error tell the broker, back off (0.1 s doubling to 2 s) and do it
all again. The node channel's confirmation is the "link is up" signal; a room channel
confirmed again after a reconnect is reported so the broker can refill its subscribers.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Collection
from typing import Any, Protocol

from redis.asyncio.client import PubSub
from redis.exceptions import RedisError

from . import redis_scripts as rs
from .errors import StoreUnavailable
from .health import BACKOFF_CAP, BACKOFF_START, Health, redis_client
from .subscription import RoomMessage

log = logging.getLogger("bpviz.stores")
CONFIRM_TIMEOUT = 2.0


class LinkEvents(Protocol):
    """What the link tells its broker."""

    def wanted(self) -> Collection[str]:
        """Room codes with local subscribers (subscribed again after a reconnect)."""

    def on_message(self, code: str, msg: RoomMessage) -> None:
        """A room message arrived."""

    def on_link(self, up: bool, relinked: bool) -> None:
        """The link went down, or came up (``relinked``: not for the first time)."""

    def on_resubscribed(self, code: str) -> None:
        """After a reconnect, room ``code`` is subscribed again."""


class PubSubLink:
    """Parameters
    ----------
    url : str
        The Redis URL (its own client, without retries: every broken link reaches ``run``).
    health : Health
        Shared with the broker: a broken link marks Redis down, a confirmed one up.
    events : LinkEvents
        The broker.
    node : str
        This process's own channel (``bpviz:node:ID``), always subscribed.
    poll : float
        Longest wait for a message before looping (no busy loop; idle is one read per
        ``poll`` seconds).
    """

    def __init__(self, url: str, health: Health, events: LinkEvents, node: str, poll: float):
        self._redis = redis_client(url, retries=0)
        self._health = health
        self._events = events
        self._node = node.encode()
        self._poll = poll
        self._pubsub: PubSub | None = None
        self._lock = asyncio.Lock()  # SUBSCRIBE/UNSUBSCRIBE go out in the order decided
        self._confirm: dict[str, asyncio.Future[None]] = {}
        self._resync: set[str] = set()
        self._up = asyncio.Event()
        self._ever_up = False
        self._closing = False
        self.up_since = 0.0  # time.monotonic() of the last (re)connection

    @property
    def up(self) -> bool:
        return self._up.is_set()

    async def run(self) -> None:
        """Read forever, reconnecting with back-off; cancelled by the broker's ``aclose``."""
        delay = 0.0
        while True:
            ps = self._redis.pubsub()
            try:
                wanted = list(self._events.wanted())
                self._resync = set(wanted)
                for code in wanted:
                    self._confirm[code] = asyncio.get_running_loop().create_future()
                await ps.subscribe(self._node, *(rs.channel(c) for c in wanted))
                self._pubsub = ps
                while True:
                    msg = await ps.get_message(timeout=self._poll)
                    if msg is not None:
                        delay = 0.0
                        self._dispatch(msg)
            except (RedisError, OSError) as exc:
                self._health.failed(exc)
            finally:
                self._pubsub = None
                self._down()
                with contextlib.suppress(RedisError, OSError):
                    await ps.aclose()  # type: ignore[no-untyped-call]
            delay = min(BACKOFF_CAP, max(BACKOFF_START, delay * 2))
            await asyncio.sleep(delay)

    def _down(self) -> None:
        for fut in self._confirm.values():
            fut.cancel()
        self._confirm.clear()
        if self._up.is_set():
            self._up.clear()
            if not self._closing:
                log.info("room broker: pub/sub link lost; reconnecting")
                self._events.on_link(False, True)

    def _dispatch(self, msg: dict[str, Any]) -> None:
        name = msg["channel"]
        if isinstance(name, str):
            name = name.encode()
        if name == self._node:
            if msg["type"] == "subscribe":
                self._health.ok()
                self.up_since = time.monotonic()
                if not self._up.is_set():
                    self._up.set()
                    relinked, self._ever_up = self._ever_up, True
                    self._events.on_link(True, relinked)
            return
        if not name.startswith(rs.CHANNEL_PREFIX):
            return
        code = name[len(rs.CHANNEL_PREFIX) :].decode("ascii", "replace")
        if msg["type"] == "subscribe":
            fut = self._confirm.get(code)
            if fut is not None and not fut.done():
                fut.set_result(None)
            if code in self._resync:
                self._resync.discard(code)
                self._events.on_resubscribed(code)
        elif msg["type"] == "message":
            room_msg = rs.decode(msg["data"])
            if room_msg is None:
                log.warning("room %s: dropped a message that is not an envelope", code)
            else:
                self._events.on_message(code, room_msg)

    async def listen(self, code: str) -> None:
        """Make sure room ``code``'s channel is subscribed (confirmed by Redis, so nothing
        published after this returns is missed). ``StoreUnavailable`` without a link."""
        fut = self._confirm.get(code)
        if fut is None:
            if not self._up.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._up.wait(), CONFIRM_TIMEOUT)
            ps = self._pubsub
            if ps is None or not self._up.is_set():
                raise StoreUnavailable(f"{self._health.what} is unavailable (no pub/sub link)")
            fut = self._confirm[code] = asyncio.get_running_loop().create_future()
            try:
                async with self._lock:
                    await ps.subscribe(rs.channel(code))
            except (RedisError, OSError) as exc:
                raise self._health.failed(exc) from exc
        await asyncio.wait({fut}, timeout=CONFIRM_TIMEOUT)
        if not fut.done() or fut.cancelled():
            raise StoreUnavailable(f"{self._health.what} did not confirm the subscription")

    def forget(self, code: str) -> None:
        """Room ``code`` has no local subscriber any more (call ``unlisten`` next)."""
        fut = self._confirm.pop(code, None)
        if fut is not None:
            fut.cancel()

    async def unlisten(self, code: str) -> None:
        """Unsubscribe room ``code`` unless a subscriber wants it again (never raises)."""
        async with self._lock:
            ps = self._pubsub
            if ps is not None and code not in self._events.wanted():
                with contextlib.suppress(RedisError, OSError):
                    await ps.unsubscribe(rs.channel(code))

    def stopping(self) -> None:
        """The broker is shutting down: a lost link is no news any more."""
        self._closing = True

    async def aclose(self) -> None:
        """Close the client (after the broker cancelled ``run``)."""
        self._closing = True
        await self._redis.aclose()
