"""The outgoing messages of one connection, bounded in bytes.

Control messages (errors, states, answers) queue in order. Frames and grids coalesce to
the newest, so a slow reader holds one frame and one grid, not a backlog. Everything
waiting counts against ``max_bytes`` (a coalesced slot counts once, by its current
message); a message that would go past it, or past ``limit`` control messages, is not
queued: the outbox is marked ``overflow`` and the session closes the connection (1008,
with the reason) — a client that does not read is never buffered without end.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable

OUTBOX_LIMIT = 256  # control messages waiting for a client that does not read
OUTBOX_BYTES = 16 * 1024 * 1024  # default of the byte bound (``Settings.outbox_max_bytes``)
ROOM_BACKLOG = 32  # control messages waiting past which a client's next message waits
ROOM_SECONDS = 1.0  # … at most this long

Text = str | bytes  # a message as it goes on the wire (JSON text, or a binary frame)


class Outbox:
    """Outgoing messages of one connection: control messages in order, frames coalesced.

    ``pop`` gives control messages first, then the newest frame, then the newest grid;
    ``ready`` is set while something waits or the outbox overflowed.

    Attributes:
        nbytes: bytes waiting (control messages and the two slots).
        overflow: why the outbox refused a message (``None`` while it has not);
            ``on_overflow`` is called with it once, when it happens.
    """

    def __init__(
        self,
        limit: int = OUTBOX_LIMIT,
        max_bytes: int = OUTBOX_BYTES,
        on_overflow: Callable[[str], None] | None = None,
    ) -> None:
        self.limit = limit
        self.max_bytes = max_bytes
        self.on_overflow = on_overflow
        self.control: deque[Text] = deque()
        self.frame: Text | None = None
        self.grid: Text | None = None
        self.nbytes = 0
        self.overflow: str | None = None
        self.ready = asyncio.Event()

    def _fits(self, size: int, replaced: Text | None = None) -> bool:
        """Whether ``size`` more bytes (in place of ``replaced``) fit; if not, overflow."""
        if self.overflow is not None:
            return False
        after = self.nbytes + size - (0 if replaced is None else len(replaced))
        if after <= self.max_bytes:
            return True
        self._overflowed(
            f"too slow: {after:,} bytes would be waiting to be sent, more than {self.max_bytes:,}"
        )
        return False

    def _overflowed(self, reason: str) -> None:
        self.overflow = reason
        self.ready.set()
        if self.on_overflow is not None:
            self.on_overflow(reason)

    def put(self, text: Text) -> None:
        """Queue a control message (refused, and the outbox overflows, past the bounds)."""
        if len(self.control) >= self.limit and self.overflow is None:
            self._overflowed(f"too slow: more than {self.limit} messages waiting to be sent")
        if not self._fits(len(text)):
            return
        self.control.append(text)
        self.nbytes += len(text)
        self.ready.set()

    def put_topology(self, text: Text) -> None:
        """A new network: frames and grids still waiting belong to the old one."""
        for slot in (self.frame, self.grid):
            if slot is not None:
                self.nbytes -= len(slot)
        self.frame = self.grid = None
        self.put(text)

    def put_frame(self, text: Text) -> None:
        """The newest frame replaces one still waiting."""
        if self._fits(len(text), self.frame):
            self.nbytes += len(text) - (0 if self.frame is None else len(self.frame))
            self.frame = text
            self.ready.set()

    def put_grid(self, text: Text) -> None:
        """The newest grid replaces one still waiting."""
        if self._fits(len(text), self.grid):
            self.nbytes += len(text) - (0 if self.grid is None else len(self.grid))
            self.grid = text
            self.ready.set()

    def pop(self) -> Text | None:
        """The next message to send, or ``None`` (and ``ready`` cleared) when empty."""
        text: Text | None = None
        if self.control:
            text = self.control.popleft()
        elif self.frame is not None:
            text, self.frame = self.frame, None
        elif self.grid is not None:
            text, self.grid = self.grid, None
        if text is None:
            if self.overflow is None:
                self.ready.clear()
            return None
        self.nbytes -= len(text)
        return text

    async def room(self, backlog: int = ROOM_BACKLOG, seconds: float = ROOM_SECONDS) -> None:
        """Wait (at most ``seconds``) while more than ``backlog`` control messages are
        waiting: the receive loop reads a client's next message only once the replies
        to its last ones are going out. A client that sends in a burst and reads is
        answered in full; one that sends and never reads still overflows, slowly."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        await asyncio.sleep(0)  # the sender's turn, whatever is waiting
        while len(self.control) > backlog and self.overflow is None and loop.time() < deadline:
            await asyncio.sleep(0.005)

    @property
    def empty(self) -> bool:
        return not self.control and self.frame is None and self.grid is None
