"""One follower's stream of a room: bounded, coalescing, ended by a ``closed`` message.

A follower that reads slower than the owner publishes must never slow the owner, the other
followers, or grow without bound. So a ``Subscription`` keeps:

- for each *coalesced* kind (frames, grids, the follower count…), only the newest message:
  a new one replaces the pending one and moves to the back of the line, so the order of
  kinds is kept and a stale frame is never shown after a newer control message;
- every other kind in order, up to ``max_queued`` messages and ``max_queued_bytes``; past
  that the subscriber is too far behind to catch up message by message, and the stream
  ends with ``closed`` (reason ``"overflow"``): subscribe again to resync from the
  retained state.

Memory per subscriber is therefore at most one message per coalesced kind plus the
queue's byte bound.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Collection, Iterable
from dataclasses import dataclass

# Kinds the broker itself sends; a publisher may not use them.
KIND_CLOSED = "closed"  # payload: the reason, one of CLOSE_REASONS; always the last message
KIND_FOLLOWERS = "followers"  # payload: the follower count, as decimal text
KIND_STATUS = "status"  # payload: "unavailable" or "available" (the link to Redis)
RESERVED_KINDS = frozenset({KIND_CLOSED, KIND_FOLLOWERS, KIND_STATUS})

REASON_CLOSED = "closed"  # the owner closed the room
REASON_OWNER_GONE = "owner_gone"  # the owner's heartbeat stopped (its process died)
REASON_OVERFLOW = "overflow"  # this subscriber fell too far behind on queued kinds
REASON_SHUTDOWN = "shutdown"  # this server process is shutting the broker down
CLOSE_REASONS = (REASON_CLOSED, REASON_OWNER_GONE, REASON_OVERFLOW, REASON_SHUTDOWN)

# Kinds where only the newest matters to a follower (the protocol's state-like messages).
DEFAULT_COALESCE = frozenset({"topology", "frame", "grid", "state", "inspect"})
DEFAULT_MAX_QUEUED = 256
DEFAULT_MAX_QUEUED_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class RoomMessage:
    """One message of a room, as published (``payload`` keeps its type, bytes or str)."""

    kind: str
    payload: bytes | str

    @property
    def size(self) -> int:
        """Bytes the payload holds (UTF-8 length for text)."""
        if isinstance(self.payload, bytes):
            return len(self.payload)
        return len(self.payload.encode("utf-8"))


class Subscription:
    """Async iterator of a room's ``RoomMessage``s; ends after ``closed`` or ``aclose()``.

    Made by ``RoomBroker.subscribe``; always ``aclose()`` it (or use ``async with``).

    Parameters
    ----------
    code : str
        The room.
    kinds : collection of str, optional
        Only these kinds are delivered (the reserved ``closed``, ``followers`` and
        ``status`` always are); None for all.
    coalesce : collection of str
        Kinds of which only the newest pending message is kept.
    max_queued, max_queued_bytes : int
        Bounds of the queue of the other kinds.
    detach : callable
        Awaited by ``aclose()`` to remove the subscription from its broker.
    """

    def __init__(
        self,
        code: str,
        *,
        kinds: Collection[str] | None,
        coalesce: Collection[str],
        max_queued: int,
        max_queued_bytes: int,
        detach: Callable[[Subscription], Awaitable[None]],
    ) -> None:
        self.code = code
        self.kinds = None if kinds is None else frozenset(kinds) | RESERVED_KINDS
        self.coalesce = frozenset(coalesce) | {KIND_FOLLOWERS, KIND_STATUS}
        self.max_queued = max_queued
        self.max_queued_bytes = max_queued_bytes
        self.dropped = 0  # coalesced messages replaced before they were read
        self.pending_bytes = 0
        self._detach = detach
        self._items: OrderedDict[object, RoomMessage] = OrderedDict()
        self._queued = 0  # pending messages of non-coalesced kinds
        self._seq = 0
        self._seen: set[str] = set()  # kinds delivered since creation or the last resync
        self._wake = asyncio.Event()
        self._ended = False  # no more deliveries: a closed message is queued, or aclose()
        self._finished = False  # iteration is over
        self._detached = False

    @property
    def ended(self) -> bool:
        """True once the room closed for this subscriber (or it was closed locally)."""
        return self._ended

    @property
    def pending(self) -> int:
        """Messages waiting to be read."""
        return len(self._items)

    def wants(self, kind: str) -> bool:
        return not self._ended and (self.kinds is None or kind in self.kinds)

    def deliver(self, msg: RoomMessage) -> None:
        """Queue ``msg`` (broker side; never blocks)."""
        self._put(msg)

    def _put(self, msg: RoomMessage) -> object | None:
        if not self.wants(msg.kind):
            return None
        size = msg.size
        key: object
        if msg.kind in self.coalesce:
            key = ("kind", msg.kind)
            old = self._items.pop(key, None)
            if old is not None:
                self.dropped += 1
                self.pending_bytes -= old.size
        else:
            if self._queued >= self.max_queued or self.pending_bytes + size > self.max_queued_bytes:
                self.end(REASON_OVERFLOW)
                return None
            self._seq += 1
            key = self._seq
            self._queued += 1
        self._items[key] = msg
        self._seen.add(msg.kind)
        self.pending_bytes += size
        self._wake.set()
        return key

    def deliver_retained(self, msgs: Iterable[RoomMessage]) -> None:
        """Put the room's retained messages (in order) at the front of the line, except
        kinds already delivered live since creation or ``forget_seen()`` (those are newer)."""
        keys = [self._put(m) for m in msgs if m.kind not in self._seen]
        for key in reversed(keys):
            if key is not None and key in self._items:
                self._items.move_to_end(key, last=False)

    def forget_seen(self) -> None:
        """After a lost link: the next retained messages are delivered again."""
        self._seen.clear()

    def end(self, reason: str) -> None:
        """Deliver the final ``closed`` message (broker side). On overflow what is pending is
        dropped first: the subscriber resyncs from the retained state anyway."""
        if self._ended:
            return
        if reason == REASON_OVERFLOW:
            self._items.clear()
            self._queued = 0
            self.pending_bytes = 0
        self._items[("end",)] = RoomMessage(KIND_CLOSED, reason)
        self._ended = True
        self._wake.set()

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> RoomMessage:
        while True:
            if self._items:
                key, msg = self._items.popitem(last=False)
                if isinstance(key, int):
                    self._queued -= 1
                if msg.kind == KIND_CLOSED:
                    self._finished = True
                else:
                    self.pending_bytes -= msg.size
                return msg
            if self._finished:
                raise StopAsyncIteration
            self._wake.clear()
            await self._wake.wait()

    async def aclose(self) -> None:
        """Stop receiving and leave the broker (idempotent; never raises for Redis faults)."""
        self._ended = True
        self._finished = True
        self._items.clear()
        self._queued = 0
        self.pending_bytes = 0
        self._wake.set()
        if not self._detached:
            self._detached = True
            await self._detach(self)

    async def __aenter__(self) -> Subscription:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
