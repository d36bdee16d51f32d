"""What outlives a process or spans several: session snapshots and rooms (embedded and Redis).

The embedded defaults need no set-up (SQLite in the data directory, rooms in memory);
with a Redis URL both span processes and replicas. See ``docs/stores.md``.
"""

from __future__ import annotations

from collections.abc import Sequence

from .errors import (
    InvalidRoomCodeError,
    InvalidTokenError,
    RoomExistsError,
    RoomNotFoundError,
    SnapshotTooLargeError,
    StoreError,
    StoreUnavailable,
)
from .redis_rooms import RedisBroker
from .rooms import (
    DEFAULT_RETAIN,
    MemoryBroker,
    RoomBroker,
    format_room_code,
    new_room_code,
    normalize_room_code,
)
from .snapshots import (
    RedisSnapshotStore,
    SnapshotStore,
    SqliteSnapshotStore,
    is_valid_token,
    new_token,
    open_snapshot_store,
)
from .subscription import (
    KIND_CLOSED,
    KIND_FOLLOWERS,
    KIND_STATUS,
    REASON_CLOSED,
    REASON_OVERFLOW,
    REASON_OWNER_GONE,
    REASON_SHUTDOWN,
    RoomMessage,
    Subscription,
)


def open_room_broker(redis_url: str | None, retain: Sequence[str] = DEFAULT_RETAIN) -> RoomBroker:
    """The room broker for this configuration: Redis when a URL is set, else in memory.
    ``retain``: the kinds kept for late followers, in delivery order. Does no I/O (the
    Redis broker connects on first use); a malformed URL is a ``ValueError`` here."""
    if redis_url:
        return RedisBroker(redis_url, retain=retain)
    return MemoryBroker(retain=retain)


__all__ = [
    "KIND_CLOSED",
    "KIND_FOLLOWERS",
    "KIND_STATUS",
    "REASON_CLOSED",
    "REASON_OVERFLOW",
    "REASON_OWNER_GONE",
    "REASON_SHUTDOWN",
    "InvalidRoomCodeError",
    "InvalidTokenError",
    "MemoryBroker",
    "RedisBroker",
    "RedisSnapshotStore",
    "RoomBroker",
    "RoomExistsError",
    "RoomMessage",
    "RoomNotFoundError",
    "SnapshotStore",
    "SnapshotTooLargeError",
    "SqliteSnapshotStore",
    "StoreError",
    "StoreUnavailable",
    "Subscription",
    "format_room_code",
    "is_valid_token",
    "new_room_code",
    "new_token",
    "normalize_room_code",
    "open_room_broker",
    "open_snapshot_store",
]
