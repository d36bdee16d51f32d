"""Classroom rooms: codes, the broker interface, and the in-process broker.

A room is one owner session whose messages fan out to followers. The owner ``open``s it,
``publish``es each message once; followers ``subscribe`` (a bounded, coalescing stream,
see ``subscription.py``) and ``join``/``leave`` to be counted. The broker keeps the newest
message of each *retained* kind (topology, state, frame, grid…) so a late follower starts
from the owner's current picture. ``close`` — or the owner vanishing — ends every
subscription with a ``closed`` message.

``MemoryBroker`` (here) serves one process with zero set-up; ``RedisBroker``
(``redis_rooms.py``) spans processes and replicas.
"""

from __future__ import annotations

import abc
import re
import secrets
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field

from .errors import InvalidRoomCodeError, RoomExistsError, RoomNotFoundError
from .subscription import (
    DEFAULT_COALESCE,
    DEFAULT_MAX_QUEUED,
    DEFAULT_MAX_QUEUED_BYTES,
    KIND_FOLLOWERS,
    REASON_CLOSED,
    REASON_SHUTDOWN,
    RESERVED_KINDS,
    RoomMessage,
    Subscription,
)

# No look-alikes: without 0/O/Q, 1/I/L, 2/Z, 5/S, 8/B. 24 symbols, 6 long: 1.9e8 codes.
ROOM_ALPHABET = "ACDEFGHJKMNPRTUVWXY34679"
ROOM_CODE_LENGTH = 6
_IGNORED = re.compile(r"[\s\-_.]+")
_KIND = re.compile(r"[a-z][a-z0-9_]{0,31}")

# Kinds kept per room for late followers, in the order a new subscriber receives them.
DEFAULT_RETAIN = ("topology", "state", "frame", "grid", "inspect")
DEFAULT_MAX_PAYLOAD = 8 * 1024 * 1024
MAX_ID_LENGTH = 128


def new_room_code() -> str:
    """A random room code, e.g. ``"K7RMXH"`` (show it as ``format_room_code``)."""
    return "".join(secrets.choice(ROOM_ALPHABET) for _ in range(ROOM_CODE_LENGTH))


def normalize_room_code(text: str) -> str:
    """The canonical code for what a person typed: case-insensitive, spaces, dashes, dots
    and underscores ignored. Raises ``InvalidRoomCodeError`` with a readable reason."""
    if not isinstance(text, str):
        raise InvalidRoomCodeError("a room code is text")
    code = _IGNORED.sub("", text[:64]).upper()
    if len(code) != ROOM_CODE_LENGTH:
        raise InvalidRoomCodeError(
            f"a room code has {ROOM_CODE_LENGTH} characters (got {len(code)})"
        )
    bad = sorted({c for c in code if c not in ROOM_ALPHABET})
    if bad:
        raise InvalidRoomCodeError(f"a room code uses only {ROOM_ALPHABET}; not {''.join(bad)!r}")
    return code


def format_room_code(code: str) -> str:
    """``"K7RMXH"`` → ``"K7R-MXH"``, easier to read aloud."""
    return f"{code[:3]}-{code[3:]}"


def check_kind(kind: str) -> str:
    """A publishable kind: 1–32 of ``a-z0-9_``, starting with a letter, not reserved."""
    if not isinstance(kind, str) or _KIND.fullmatch(kind) is None:
        raise ValueError(f"message kind {kind!r} is not 1-32 of a-z, 0-9, '_'")
    if kind in RESERVED_KINDS:
        raise ValueError(f"message kind {kind!r} is reserved for the broker")
    return kind


def check_id(what: str, value: str) -> str:
    if not isinstance(value, str) or not 0 < len(value) <= MAX_ID_LENGTH:
        raise ValueError(f"{what} must be 1-{MAX_ID_LENGTH} characters")
    return value


class RoomBroker(abc.ABC):
    """Rooms across one process (``MemoryBroker``) or many (``RedisBroker``).

    Parameters
    ----------
    retain : sequence of str
        Kinds of which the newest message is kept for late subscribers, in delivery order.
    max_payload_bytes : int
        Largest payload ``publish`` accepts.
    """

    kind = "abstract"

    def __init__(
        self,
        *,
        retain: Sequence[str] = DEFAULT_RETAIN,
        max_payload_bytes: int = DEFAULT_MAX_PAYLOAD,
    ) -> None:
        self.retain = tuple(check_kind(k) for k in retain)
        self.max_payload_bytes = max_payload_bytes

    def _message(self, payload: bytes | str, kind: str) -> RoomMessage:
        if not isinstance(payload, bytes | str):
            raise TypeError("a room payload is bytes or str")
        msg = RoomMessage(check_kind(kind), payload)
        if msg.size > self.max_payload_bytes:
            raise ValueError(
                f"room message of {msg.size} bytes is over the limit of {self.max_payload_bytes}"
            )
        return msg

    @property
    @abc.abstractmethod
    def available(self) -> bool:
        """Whether rooms work right now (always True in memory; Redis reachable)."""

    @abc.abstractmethod
    async def open(self, code: str, owner_id: str) -> None:
        """Start room ``code`` owned by ``owner_id``; ``RoomExistsError`` if it is live."""

    @abc.abstractmethod
    async def close(self, code: str, reason: str = REASON_CLOSED) -> None:
        """End the room: every subscriber gets ``closed`` with ``reason`` (``"closed"``, or
        ``"shutdown"`` when the server is stopping). Idempotent."""

    @abc.abstractmethod
    async def exists(self, code: str) -> bool:
        """Whether ``code`` is a live room."""

    @abc.abstractmethod
    async def publish(self, code: str, payload: bytes | str, kind: str = "frame") -> None:
        """Send one message to every subscriber (one send however many follow).
        Only the process that opened the room publishes to it (``RoomNotFoundError``)."""

    @abc.abstractmethod
    async def subscribe(
        self,
        code: str,
        *,
        kinds: Collection[str] | None = None,
        coalesce: Collection[str] = DEFAULT_COALESCE,
        max_queued: int = DEFAULT_MAX_QUEUED,
        max_queued_bytes: int = DEFAULT_MAX_QUEUED_BYTES,
    ) -> Subscription:
        """A stream of the room's messages, starting with the retained ones.
        ``RoomNotFoundError`` if the room is not live. See ``Subscription``."""

    @abc.abstractmethod
    async def join(self, code: str, follower_id: str) -> int:
        """Count ``follower_id`` in the room; returns the count. Everyone subscribed gets a
        ``followers`` message. ``RoomNotFoundError`` if the room is not live."""

    @abc.abstractmethod
    async def leave(self, code: str, follower_id: str) -> int:
        """Stop counting ``follower_id``; returns the count (0 if the room is gone)."""

    @abc.abstractmethod
    async def followers(self, code: str) -> int:
        """The follower count now (0 if the room is gone)."""

    async def check(self) -> bool:
        """Probe the backing service now; returns ``available``."""
        return self.available

    @abc.abstractmethod
    async def aclose(self) -> None:
        """Shut the broker down: rooms opened here close, subscriptions end (``shutdown``)."""


@dataclass
class _Room:
    owner_id: str
    followers: set[str] = field(default_factory=set)
    subs: set[Subscription] = field(default_factory=set)
    retained: dict[str, RoomMessage] = field(default_factory=dict)


class MemoryBroker(RoomBroker):
    """Rooms inside this process: the embedded default, nothing to set up.

    A publish hands the same message object to every subscriber (no copy per follower).
    """

    kind = "memory"

    def __init__(
        self,
        *,
        retain: Sequence[str] = DEFAULT_RETAIN,
        max_payload_bytes: int = DEFAULT_MAX_PAYLOAD,
    ) -> None:
        super().__init__(retain=retain, max_payload_bytes=max_payload_bytes)
        self._rooms: dict[str, _Room] = {}

    @property
    def available(self) -> bool:
        return True

    def _room(self, code: str) -> _Room:
        room = self._rooms.get(normalize_room_code(code))
        if room is None:
            raise RoomNotFoundError(f"no room {code!r}")
        return room

    async def open(self, code: str, owner_id: str) -> None:
        code = normalize_room_code(code)
        check_id("owner_id", owner_id)
        if code in self._rooms:
            raise RoomExistsError(f"room {code} is already open")
        self._rooms[code] = _Room(owner_id)

    async def close(self, code: str, reason: str = REASON_CLOSED) -> None:
        self._end(normalize_room_code(code), reason)

    def _end(self, code: str, reason: str) -> None:
        room = self._rooms.pop(code, None)
        if room is not None:
            for sub in room.subs:
                sub.end(reason)

    async def exists(self, code: str) -> bool:
        return normalize_room_code(code) in self._rooms

    async def publish(self, code: str, payload: bytes | str, kind: str = "frame") -> None:
        msg = self._message(payload, kind)
        room = self._room(code)
        if kind in self.retain:
            room.retained[kind] = msg
        for sub in room.subs:
            sub.deliver(msg)

    async def subscribe(
        self,
        code: str,
        *,
        kinds: Collection[str] | None = None,
        coalesce: Collection[str] = DEFAULT_COALESCE,
        max_queued: int = DEFAULT_MAX_QUEUED,
        max_queued_bytes: int = DEFAULT_MAX_QUEUED_BYTES,
    ) -> Subscription:
        room = self._room(code)
        sub = Subscription(
            normalize_room_code(code),
            kinds=kinds,
            coalesce=coalesce,
            max_queued=max_queued,
            max_queued_bytes=max_queued_bytes,
            detach=self._detach,
        )
        sub.deliver_retained(room.retained[k] for k in self.retain if k in room.retained)
        room.subs.add(sub)
        return sub

    async def _detach(self, sub: Subscription) -> None:
        room = self._rooms.get(sub.code)
        if room is not None:
            room.subs.discard(sub)

    def _count(self, room: _Room) -> int:
        n = len(room.followers)
        msg = RoomMessage(KIND_FOLLOWERS, str(n))
        for sub in room.subs:
            sub.deliver(msg)
        return n

    async def join(self, code: str, follower_id: str) -> int:
        room = self._room(code)
        room.followers.add(check_id("follower_id", follower_id))
        return self._count(room)

    async def leave(self, code: str, follower_id: str) -> int:
        room = self._rooms.get(normalize_room_code(code))
        if room is None:
            return 0
        if follower_id not in room.followers:
            return len(room.followers)
        room.followers.discard(follower_id)
        return self._count(room)

    async def followers(self, code: str) -> int:
        room = self._rooms.get(normalize_room_code(code))
        return 0 if room is None else len(room.followers)

    async def aclose(self) -> None:
        for code in list(self._rooms):
            self._end(code, REASON_SHUTDOWN)
