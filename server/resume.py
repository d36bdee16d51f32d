"""Runs that survive a reload, a dropped network and a server restart.

Every session holds a resume token (``hello.resume_token``, 128 random bits). Its run is
written to the session store (``bpviz.server.stores``: SQLite in the data directory, or
Redis) under that token, as the exact export format (``core.experiment.runs``): a run
imported from it takes the next step with exactly the numbers the original would have.

When a snapshot is written:

- after a command that may change the run, once the session is idle for ``DEBOUNCE``
  seconds (a burst of clicks is one write), at once after ``pause``;
- while playing, every ``snapshot_interval`` seconds at most (a random 50–100 % of it
  each time, so that a class's sessions spread their writes);
- when the session closes (a reload, a dropped connection, the server shutting down);
- never while the client views a past step (the live end stays the one to come back to).

The export and its JSON encoding run on the worker pool (a session job, under the
session's lock, between play slices; ``snapshot_text.py``); the event loop only hands
the text to the store.
So ``kill -9`` of the server loses at most the last ``snapshot_interval`` seconds of a
playing run, and nothing of an idle one older than ``DEBOUNCE``.

A client that comes back connects to ``/ws?resume=TOKEN``: the run is restored before
``hello`` (``resumed: true``). A token held by a session of this process that is still
closing waits for its last snapshot; one held by a live session (a duplicated tab, or a
dropped connection the server has not noticed yet) gets an exact copy of it under a new
token — unless the client says (``&takeover=1``) that its own connection dropped: then
that session ends (close 4000) and the run comes back under the same token. An unknown
or expired token starts a fresh session and a ``notice``
(``resume_unknown``); an unreachable store, ``unavailable``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import AsyncIterator, Coroutine
from typing import TYPE_CHECKING, Any

from .messages import Notice
from .settings import Settings
from .snapshot_text import fingerprint, restore, snapshot
from .stores import (
    SnapshotStore,
    StoreError,
    StoreUnavailable,
    is_valid_token,
    new_token,
    open_room_broker,
    open_snapshot_store,
)

if TYPE_CHECKING:
    from .runtime import Runtime
    from .session import Session

log = logging.getLogger("bpviz.resume")

DEBOUNCE = 0.2  # seconds of quiet after a command before its snapshot is written
CLOSE_WAIT = 5.0  # seconds a reconnect waits for the closing session's last snapshot
WRITE_TIMEOUT = 10.0  # seconds the last snapshot of a closing session may take
RETRY = 2.0  # seconds before a snapshot the store could not take is tried again
SPREAD = 0.5  # periodic snapshots come every (SPREAD … 1) × snapshot_interval, at random
_RANDOM = random.Random()  # the spreads' own: the module's state is left alone

NOTICES = {
    "resume_unknown": "the run to resume was not found (expired or unknown); this is a new run",
    "resume_failed": "the run to resume could not be restored; this is a new run",
    "unavailable": "the session store is unavailable, so the run could not be resumed; "
    "this is a new run",
}


def notice(code: str, detail: str | None = None) -> Notice:
    """The ``notice`` of ``code`` (the page shows its own words for the code)."""
    message = NOTICES[code] + (f" ({detail})" if detail else "")
    return Notice(type="notice", code=code, message=message)


# ---------------------------------------------------------------- this process


class Snapshots:
    """This process's session store, and which of its live sessions holds which token."""

    def __init__(self, store: SnapshotStore, interval: float) -> None:
        self.store = store
        self.interval = interval
        self.holders: dict[str, SessionRuns] = {}
        self.pending: set[asyncio.Task[None]] = set()  # last snapshots of closing sessions

    def background(self, coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        """Run ``coro`` to its end even if whoever awaits it is cancelled."""
        task = asyncio.get_running_loop().create_task(coro)
        self.pending.add(task)
        task.add_done_callback(self.pending.discard)
        return task

    async def drain(self, timeout: float = WRITE_TIMEOUT) -> None:
        """Wait for the last snapshots still being written."""
        if self.pending:
            await asyncio.wait(list(self.pending), timeout=timeout)


@contextlib.asynccontextmanager
async def open_stores(runtime: Runtime) -> AsyncIterator[None]:
    """The app's lifespan around serving: open the snapshot store and the room broker
    (no I/O yet), and at shutdown write the last snapshot of every session still open,
    end the rooms, and close both."""
    from .rooms import ROOM_RETAIN, Rooms

    settings: Settings = runtime.settings
    store = open_snapshot_store(settings.redis_url, settings.data_dir, settings.snapshot_ttl)
    if store.kind == "sqlite":  # (Redis says so itself, when its link goes: stores.md)
        await _probe(store)
    broker = open_room_broker(settings.redis_url, retain=ROOM_RETAIN)
    runtime.resume = Snapshots(store, settings.snapshot_interval)
    runtime.rooms = Rooms(broker)
    try:
        yield
    finally:
        for session in runtime.sessions():
            with contextlib.suppress(Exception):
                await session.runs.flush()
        await runtime.resume.drain()
        runtime.rooms.unpark_all()
        try:
            await broker.aclose()
        finally:
            runtime.rooms = None
            await store.close()
            runtime.resume = None


async def _probe(store: SnapshotStore) -> None:
    """One read of the snapshot store as serving starts: an unusable data directory (no
    permission, a file in the way, a full disk) is one WARNING then, not silence until a
    student's reload comes back empty. The server starts anyway (each resume then says
    ``unavailable``) and the next call tries again."""
    try:
        await store.get(new_token())
    except StoreUnavailable as exc:
        log.warning(
            "session snapshots are off: %s; runs will not survive a reload or a restart "
            "until it can be used (BPVIZ_DATA_DIR)",
            exc,
        )


# ---------------------------------------------------------------- one session


class SessionRuns:
    """One session's resume token and the snapshots of its run."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.service: Snapshots | None = session.runtime.resume
        self.token: str | None = None
        self.resumed = False
        self.dirty = False
        self.closing: asyncio.Future[None] | None = None
        self._written: tuple[Any, ...] | None = None
        self._last_write = 0.0
        self._period = 0.0  # seconds from one write to the next periodic one (_spread)
        self._spread()
        self._handle: asyncio.TimerHandle | None = None
        self._due_at = 0.0
        self._writing: asyncio.Task[None] | None = None
        self._again = False

    # ------------------------------------------------------------------ coming back

    async def open(self) -> Notice | None:
        """Take the token the client came back with (``?resume=``) and restore its run,
        or a new token. Returns the ``notice`` to send after ``hello``, if any."""
        svc = self.service
        if svc is None:
            return None
        asked = self.session.websocket.query_params.get("resume")
        said: Notice | None = None
        if asked:
            said = await self._resume(svc, asked)
        if self.token is None:
            self._claim(svc, new_token())
        return said

    async def _resume(self, svc: Snapshots, asked: str) -> Notice | None:
        if not is_valid_token(asked):
            return notice("resume_unknown")
        holder = svc.holders.get(asked)
        if holder is not None and holder.closing is None and self._takes_over():
            await holder.session.take_over()  # a connection dropped unnoticed: end it now
        if holder is not None and holder.closing is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(holder.closing), CLOSE_WAIT)
            holder = svc.holders.get(asked)
        if holder is not None:  # live here: an exact copy, under a token of its own
            _, text = await snapshot(holder.session, viewed=True)  # (as copy, export)
            if text is None:
                return notice("resume_unknown")
            return await self._restore(text, None)
        try:
            text = await svc.store.get(asked)
        except StoreUnavailable as exc:
            log.warning("session %s: cannot resume: %s", self.session.id, exc)
            return notice("unavailable")
        if text is None:
            return notice("resume_unknown")
        return await self._restore(text, asked)

    def _takes_over(self) -> bool:
        """``/ws?resume=TOKEN&takeover=1``: the client says its own connection with that
        token dropped (the page, reconnecting after its socket closed), so a session still
        open with the token is that connection, not yet noticed: it ends, and this one gets
        the run back under the same token (and the room it owned) instead of a copy."""
        return self.session.websocket.query_params.get("takeover") == "1"

    async def _restore(self, text: str, token: str | None) -> Notice | None:
        session = self.session
        try:
            await restore(session, text)
        except Exception as exc:  # invalid now (limits changed), over a budget, …
            log.warning("session %s: cannot restore its snapshot: %s", session.id, exc)
            return notice("resume_failed")
        self.resumed = True
        svc = self.service
        if token is not None and svc is not None and token not in svc.holders:
            self._claim(svc, token)
            self._written = await session.run(lambda: fingerprint(session.workspace))
        return None

    def _claim(self, svc: Snapshots, token: str) -> None:
        self.token = token
        svc.holders[token] = self

    # ------------------------------------------------------------------ writing

    def _spread(self) -> None:
        """Draw the time to the next periodic write: a class that pressed play together
        does not snapshot together (100 writes in one burst hold every frame back)."""
        if self.service is not None:
            self._period = self.service.interval * _RANDOM.uniform(SPREAD, 1.0)

    def touch(self, now: bool = False) -> None:
        """The run may have changed (after a command): write it soon (``now``: at once)."""
        if self.token is None or self.closing is not None:
            return
        self.dirty = True
        self._schedule(0.0 if now else DEBOUNCE)

    def _schedule(self, delay: float) -> None:
        loop = asyncio.get_running_loop()
        at = loop.time() + delay
        if self._handle is not None:
            if self._due_at <= at:
                return
            self._handle.cancel()
        self._due_at = at
        self._handle = loop.call_at(at, self._due)

    def _due(self) -> None:
        self._handle = None
        if self.session.closed or self.closing is not None:
            return
        if self._writing is not None and not self._writing.done():
            self._again = True
            return
        self._writing = self.session.spawn(self._write(periodic=True))

    async def _write(self, periodic: bool = False) -> None:
        svc = self.service
        session = self.session
        if svc is None or self.token is None:
            return
        if not self.dirty and self._written is None:
            return  # nothing was ever asked of the run: nothing to keep
        playing = session.workspace.view.playing
        wait = self._last_write + self._period - time.monotonic()
        if periodic and playing and wait > 0:
            self._schedule(wait)
            return
        if not svc.store.available and not await svc.store.check():
            self.dirty = True  # the store said why, once; try again a little later
            if self.closing is None:
                self._schedule(RETRY)
            return
        self.dirty = False
        fp, text = await snapshot(session, self._written)
        retry = DEBOUNCE
        if text is not None:
            try:
                await svc.store.put(self.token, text)
            except StoreUnavailable:  # logged by the store once; the next write tries again
                self.dirty, retry = True, RETRY
            except StoreError as exc:  # too large for the store
                log.warning("session %s: snapshot not written: %s", session.id, exc)
            else:
                self._written = fp
                self._last_write = time.monotonic()
                self._spread()
        if self.closing is not None:
            return
        if self._again or self.dirty:
            self._again = False
            self._schedule(retry)
        elif session.workspace.view.playing:
            self._schedule(self._period)

    async def flush(self) -> None:
        """Write the run now if it changed since the last snapshot."""
        if self.service is None or self.token is None or self.session.workspace.experiment is None:
            return
        if self._writing is not None and not self._writing.done():
            with contextlib.suppress(Exception):
                await self._writing
        await self._write()

    async def close(self) -> None:
        """The session is closing: its last snapshot, then the token is free again. The
        write goes on even if the caller is cancelled (a reconnect waits for it)."""
        svc = self.service
        if svc is None or self.token is None or self.closing is not None:
            return
        self.closing = asyncio.get_running_loop().create_future()
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
        await asyncio.shield(svc.background(self._last(svc, self.closing)))

    async def _last(self, svc: Snapshots, closing: asyncio.Future[None]) -> None:
        try:
            await asyncio.wait_for(self.flush(), WRITE_TIMEOUT)
        except (TimeoutError, StoreError) as exc:
            log.warning("session %s: last snapshot not written: %s", self.session.id, exc)
        except Exception:
            log.exception("session %s: last snapshot failed", self.session.id)
        finally:
            if self.token is not None and svc.holders.get(self.token) is self:
                del svc.holders[self.token]
            closing.set_result(None)

    # ------------------------------------------------------------------ reading back

    async def own_run(self) -> str | None:
        """This session's last snapshot (its own run, e.g. after following a room), or
        ``None`` when it has none. Raises ``StoreUnavailable``."""
        if self.service is None or self.token is None:
            return None
        return await self.service.store.get(self.token)
