"""The outgoing messages of one connection.

Control messages (errors, states, answers) queue in order, bounded: a client that stops
reading loses the oldest, never the server's memory. Frames and grids coalesce to the
newest, so a slow reader holds one frame, not a backlog.
"""

from __future__ import annotations

import asyncio
from collections import deque

OUTBOX_LIMIT = 256  # control messages kept for a client that does not read


class Outbox:
    """Outgoing messages of one connection: control messages in order, frames coalesced.

    ``pop`` gives control messages first, then the newest frame, then the newest grid;
    ``ready`` is set while something waits.
    """

    def __init__(self, limit: int = OUTBOX_LIMIT) -> None:
        self.limit = limit
        self.control: deque[str] = deque()
        self.frame: str | None = None
        self.grid: str | None = None
        self.ready = asyncio.Event()
        self.dropped = 0

    def put(self, text: str) -> None:
        """Queue a control message (the oldest is dropped past the limit)."""
        if len(self.control) >= self.limit:
            self.control.popleft()
            self.dropped += 1
        self.control.append(text)
        self.ready.set()

    def put_topology(self, text: str) -> None:
        """A new network: frames and grids still waiting belong to the old one."""
        self.frame = self.grid = None
        self.put(text)

    def put_frame(self, text: str) -> None:
        """The newest frame replaces one still waiting."""
        self.frame = text
        self.ready.set()

    def put_grid(self, text: str) -> None:
        """The newest grid replaces one still waiting."""
        self.grid = text
        self.ready.set()

    def pop(self) -> str | None:
        """The next message to send, or ``None`` (and ``ready`` cleared) when empty."""
        if self.control:
            return self.control.popleft()
        if self.frame is not None:
            text, self.frame = self.frame, None
            return text
        if self.grid is not None:
            text, self.grid = self.grid, None
            return text
        self.ready.clear()
        return None

    @property
    def empty(self) -> bool:
        return not self.control and self.frame is None and self.grid is None
