"""The errors of the stores and the room broker: each names what failed and what to do."""

from __future__ import annotations


class StoreError(Exception):
    """Base of every error raised by ``bpviz.server.stores``."""


class StoreUnavailable(StoreError):  # noqa: N818 (the name the issues use)
    """The backing service (Redis, the SQLite file) cannot be reached or written right now.

    Raised fast (short timeouts, then a back-off during which calls fail at once); the
    store or broker reconnects by itself, so the caller reports "unavailable" and goes on.
    """


class InvalidTokenError(StoreError, ValueError):
    """A resume token that is not one ``new_token()`` could have made (length, charset)."""


class SnapshotTooLargeError(StoreError, ValueError):
    """A snapshot over the store's ``max_bytes``."""


class InvalidRoomCodeError(StoreError, ValueError):
    """A typed room code that is not 6 characters of the room alphabet."""


class RoomExistsError(StoreError):
    """``open`` of a code that is already a live room (draw another code)."""


class RoomNotFoundError(StoreError):
    """No live room with this code (never opened, closed, or its owner vanished)."""
