"""Classroom rooms, the session side: a lecturer's session drives, followers watch live.

The broker (``bpviz.server.stores``: in memory, or Redis for several processes) carries
the messages; ``room_links.py`` ties a session to its room (``OwnerLink``,
``FollowerLink``); this module answers the commands:

- ``room_open``: the session's run is shared under a fresh code (``room`` role
  ``owner``, then the follower count live);
- ``room_join`` (or ``/ws?room=CODE``): follow a room with no run of one's own (``room``
  role ``follower``, then the owner's ``topology``, ``frame``, ``grid`` and every later
  message); its own run, if it had one, waits in its snapshot;
- ``room_leave``: back to the session's own run (or a fresh one);
- ``room_close`` (or the owner leaving): every follower gets ``room`` ``closed``;
- ``copy``: the owner's run from its exact current state (the export format) becomes the
  follower's own, within the per-session budgets of an ``import``.

A follower is read-only: other commands are refused with ``error`` ``follower``.

Admission (``runtime.py``): a follower counts toward ``max_followers``, not
``max_sessions``; ``copy`` and ``room_leave`` give it a run of its own only when the
server admits it again as a session (else ``error`` ``busy``, and it keeps following).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING

from . import encode, frames
from .messages import State
from .protocol import ClientMessage, Copy, RoomClose, RoomJoin, RoomLeave, RoomOpen
from .room_links import (
    FOLLOWER_COMMANDS,
    KIND_RUN,
    OPEN_ATTEMPTS,
    ROOM_RETAIN,
    FollowerLink,
    OwnerLink,
    Rooms,
)
from .room_resync import resync_frame_text
from .runtime import FOLLOWER_MEMORY
from .snapshot_text import restore, snapshot
from .stores import (
    InvalidRoomCodeError,
    RoomExistsError,
    RoomNotFoundError,
    SnapshotStore,
    StoreError,
    StoreUnavailable,
    Subscription,
    new_room_code,
    normalize_room_code,
)
from .stores.subscription import KIND_FOLLOWERS

if TYPE_CHECKING:
    from .session import Session
    from .workspace import Workspace

__all__ = ["ROOM_RETAIN", "Rooms", "follow_on_start", "handle", "on_close", "refuses"]

log = logging.getLogger("bpviz.rooms")

JOIN_ATTEMPTS = 3  # a follower's tries to reach a room whose link is down for a moment
CLOSE_TRY_AGAIN_LATER = 1013  # as the websocket endpoint closes a refused connection
JOIN_RETRY = 0.5  # seconds before the second try (twice that before the third)


# ---------------------------------------------------------------- the commands


def shared_now(work: Workspace, state: State) -> list[tuple[str, str | bytes]]:
    """What a new room starts with: the owner's topology, state, frame (with the whole
    history) and grid, as (kind, text) — without touching the owner's own stream."""
    exp = work.exp
    out: list[tuple[str, str | bytes]] = [
        ("topology", encode.dumps(frames.topology(exp, work.rewind_range()))),
        ("state", encode.dumps(state)),
    ]
    frame = resync_frame_text(work)
    if frame is None:
        feed = type(work.history_feed)()
        metrics = work.metrics_feed.last or exp.metrics()
        message = frames.frame(exp, work.view, feed.next(exp), metrics, work.rewind_range())
        frame = encode.dumps(message)
    out.append(("frame", frame))
    grid = work.grid_text()
    if grid is not None:
        out.append(("grid", grid))
    return out


async def handle(session: Session, msg: ClientMessage) -> None:
    """``room_open``, ``room_join``, ``room_leave``, ``room_close`` and ``copy``."""
    rooms = session.runtime.rooms
    if rooms is None:
        session.send_error("unavailable", "rooms are not available on this server")
        return
    if rooms.stopping and isinstance(msg, RoomOpen | RoomJoin):
        session.send_error("unavailable", "this server is stopping: rooms are closed")
        return
    match msg:
        case RoomOpen():
            await open_room(rooms, session)
        case RoomJoin(code=code):
            await join_room(rooms, session, code)
        case RoomLeave():
            await leave_room(session)
        case RoomClose():
            link = session.room
            if not isinstance(link, OwnerLink):
                session.send_error("not_in_room", "this session has no room to close")
                return
            await link.end("closed")
        case Copy():
            await copy_run(rooms, session)


def refuses(session: Session, msg: ClientMessage) -> bool:
    """A follower is read-only: refuse (``error`` ``follower``) what would change a run."""
    link = session.room
    if not isinstance(link, FollowerLink) or isinstance(msg, FOLLOWER_COMMANDS):
        return False
    what = "the room has ended" if link.ended else f"this session follows room {link.code}"
    session.send_error(
        "follower", f"{what}: it is read-only; make your own copy (copy) or leave (room_leave)"
    )
    return True


def _unavailable(session: Session, exc: Exception) -> None:
    session.send_error("unavailable", f"rooms are unavailable right now; try again soon ({exc})")


async def open_room(rooms: Rooms, session: Session) -> None:
    link = session.room
    if isinstance(link, FollowerLink):
        session.send_error("follower", f"this session follows room {link.code}; leave it first")
        return
    if isinstance(link, OwnerLink):
        link.tell()
        return
    broker = rooms.broker
    try:
        for _ in range(OPEN_ATTEMPTS):
            code = new_room_code()
            with contextlib.suppress(RoomExistsError):
                await broker.open(code, session.id)
                break
        else:
            raise StoreUnavailable("no free room code")
        watch = await broker.subscribe(code, kinds={KIND_FOLLOWERS})
    except StoreError as exc:
        _unavailable(session, exc)
        return
    link = OwnerLink(rooms, session, code)
    await session.runs.flush()  # a copy in another process starts from this snapshot
    if session.runs.token is not None:
        link.share(KIND_RUN, session.runs.token)
    state = session.state_message()
    for kind, text in await session.run(shared_now, session.workspace, state):
        link.share(kind, text)
    session.room = link
    rooms.owned[code] = link
    link.start(watch)
    link.tell()
    log.info("session %s opened room %s", session.id, code)


async def join_room(rooms: Rooms, session: Session, typed: str) -> bool:
    """Follow room ``typed``; False (and an ``error``) when it cannot."""
    try:
        code = normalize_room_code(typed)
    except InvalidRoomCodeError as exc:
        session.send_error("room_unknown", str(exc), "code")
        return False
    link = session.room
    if isinstance(link, OwnerLink):
        session.send_error("room_owner", f"this session owns room {link.code}; close it first")
        return False
    if isinstance(link, FollowerLink):
        if link.code == code and not link.ended:
            session.outbox.put(link.room())
            return True
        await link.stop()
        session.room = None
    runtime = session.runtime
    if not runtime.is_follower(session):
        reason = runtime.refusal(session, follower=True)
        if reason is not None:
            session.send_error("busy", f"cannot follow room {code} now: {reason}")
            return False
    try:
        sub, n = await _follow(rooms, session, code)
    except RoomNotFoundError:
        session.send_error("room_unknown", _unknown(session, code), "code")
        return False
    except StoreError as exc:
        _unavailable(session, exc)
        return False
    await _drop_run(session)
    runtime.to_follower(session)
    link = FollowerLink(rooms, session, code, sub)
    session.room = link
    link.start(n)
    return True


def _unknown(session: Session, code: str) -> str:
    """No room ``code`` here: with several worker processes and no Redis, it may well be
    open in another process, which this one cannot see."""
    text = f"no room {code} is open"
    settings = session.runtime.settings
    if settings.redis_url is None and settings.workers > 1:
        text += (
            f" in this server process: this server runs {settings.workers} worker "
            "processes without Redis, so a room opened on another process cannot be seen "
            "here (the server's admin: set BPVIZ_REDIS_URL, or serve with one worker)"
        )
    return text


def _busy(session: Session, reason: str) -> None:
    """A follower that may not take a run of its own now: it keeps following."""
    session.send_error(
        "busy", f"no run of your own now ({reason}); you keep following the room: try again soon"
    )


async def _follow(rooms: Rooms, session: Session, code: str) -> tuple[Subscription, int]:
    """Subscribe to room ``code`` and be counted in it. A link that is down for a moment
    (a class joining at once on a busy server) is tried again before giving up."""
    for attempt in range(JOIN_ATTEMPTS):
        try:
            sub = await rooms.broker.subscribe(code)
            try:
                return sub, await rooms.broker.join(code, session.id)
            except BaseException:
                await sub.aclose()
                raise
        except StoreUnavailable:
            if attempt == JOIN_ATTEMPTS - 1:
                raise
            await asyncio.sleep(JOIN_RETRY * (attempt + 1))
    raise AssertionError("unreachable")


async def _drop_run(session: Session) -> None:
    """A follower has no run of its own: keep its snapshot (``room_leave`` brings it back)
    and free the experiment."""
    work = session.workspace
    if work.experiment is None:
        return
    await session.player.stop()
    await session.runs.flush()
    await session.flush()  # its own last frames go out before the room's topology
    work.experiment = None
    work.rewind.clear()
    work.memory = FOLLOWER_MEMORY  # a follower's memory is its connection's (docs/deploy.md)


async def leave_room(session: Session) -> None:
    link = session.room
    if not isinstance(link, FollowerLink):
        session.send_error("not_in_room", "this session follows no room")
        return
    reason = session.runtime.to_session(session)
    if reason is not None:
        _busy(session, reason)
        return
    await link.stop()
    session.room = None
    session.outbox.put(link.room(closed=True, reason="left"))
    try:
        await own_run_back(session)
    except BaseException:
        session.runtime.to_follower(session)  # no run after all: counted as before
        raise


async def own_run_back(session: Session) -> None:
    """After following: this session's own run from its snapshot, or a fresh one."""
    text = None
    with contextlib.suppress(StoreError):
        text = await session.runs.own_run()
    work = session.workspace
    restored = False
    if text is not None:
        try:
            await restore(session, text)
            restored = True
        except Exception as exc:  # a snapshot this server can no longer load: start afresh
            log.warning("session %s: own run not restored: %s", session.id, exc)
    if not restored:
        await session.run(work.start)
    await session.publish_all()


async def copy_run(rooms: Rooms, session: Session) -> None:
    link = session.room
    if not isinstance(link, FollowerLink):
        session.send_error("not_in_room", "copy takes the run of the room this session follows")
        return
    owner = rooms.owned.get(link.code)
    text: str | None = None
    if owner is not None and not owner.ended:  # here: exactly as it is now (as an export)
        _, text = await snapshot(owner.session, viewed=True)
    elif link.run_token is not None:  # in another process: its last snapshot
        try:
            text = await rooms_store(session).get(link.run_token)
        except StoreError as exc:
            _unavailable(session, exc)
            return
    if text is None:
        session.send_error("room_unknown", f"the run of room {link.code} is not available")
        return
    runtime = session.runtime
    reason = runtime.to_session(session)  # a copy is a session: the cap and the budget
    if reason is not None:
        _busy(session, reason)
        return
    try:
        await restore(session, text)  # within the budgets of an import; errors are answered
    except BaseException:
        runtime.to_follower(session)  # refused: it keeps following, counted as a follower
        raise
    await link.stop()
    session.room = None
    session.outbox.put(link.room(closed=True, reason="copied"))
    session.runs.touch(now=True)
    await session.publish_all()


def rooms_store(session: Session) -> SnapshotStore:
    resume = session.runtime.resume
    if resume is None:
        raise StoreUnavailable("no session store")
    store: SnapshotStore = resume.store
    return store


async def follow_on_start(session: Session) -> bool:
    """``/ws?room=CODE``: start as a follower (no run built); False when not asked or the
    room cannot be followed (the session then starts as usual). An owner whose run came
    back (a reload) takes back its room if it still waits (``OwnerLink.park``)."""
    code = session.websocket.query_params.get("room")
    rooms = session.runtime.rooms
    if not code:
        token = session.runs.token
        link = rooms.parked.get(token) if rooms and token and session.runs.resumed else None
        if link is not None:
            await link.attach(session)  # the room gets the run again from publish_all
        return False
    if rooms is not None and await join_room(rooms, session, code):
        return True
    if rooms is None:
        session.send_error("unavailable", "rooms are not available on this server")
    # It came to follow and was admitted as a follower: a run of its own needs a session.
    reason = session.runtime.to_session(session)
    if reason is None:
        return False
    session.close_reason = reason
    session.send_error("busy", reason)
    await session.flush()
    with contextlib.suppress(Exception):
        await session.websocket.close(code=CLOSE_TRY_AGAIN_LATER, reason=reason[:120])
    return True  # no run: the connection closes


async def on_close(session: Session) -> None:
    """The session is closing: an owner's room ends, a follower leaves; playing stops
    (the slice in progress finishes) and the run's last snapshot is written."""
    # Each step runs even if the connection's task is being cancelled (as the session's
    # own cleanup does); what must finish goes on in the background.
    link = session.room
    with contextlib.suppress(Exception, asyncio.CancelledError):
        if isinstance(link, OwnerLink):
            session.room = None
            if session.runs.token is not None:
                link.park(session.runs.token)  # a reload gets it back (see follow_on_start)
            else:
                await link.end("closed", tell=False)
        elif isinstance(link, FollowerLink):
            session.room = None
            await link.stop()
    with contextlib.suppress(Exception, asyncio.CancelledError):
        await session.player.stop()
    with contextlib.suppress(Exception, asyncio.CancelledError):
        await session.runs.close()
