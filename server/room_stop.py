"""The server is stopping: its rooms end with reason ``shutdown`` while the connections
are still open.

uvicorn closes every websocket (1012) as soon as it starts to stop, and runs the app's
lifespan shutdown only after that: too late to tell anyone. So ``bpviz serve`` runs
uvicorn with a server (``workers.Server``) that first calls :func:`stop_rooms`: each
room this process owns (or keeps for an owner's reload) ends, its owner gets ``room``
``closed`` ``shutdown`` and so does every follower (here, or in another process through
Redis); a follower here of a room owned elsewhere gets it too. Then uvicorn closes the
connections as usual, and the lifespan writes the last snapshots.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from .room_links import FollowerLink, OwnerLink
from .stores import REASON_SHUTDOWN

if TYPE_CHECKING:
    from .runtime import Runtime

STOP_WAIT = 2.0  # seconds the last room messages may take to go out


async def stop_rooms(runtime: Runtime, wait: float = STOP_WAIT) -> None:
    """End every room of this process with ``shutdown`` and wait (at most ``wait`` s)
    until each owner and follower here has been sent its last ``room`` message."""
    rooms = runtime.rooms
    if rooms is None:
        return
    rooms.stopping = True  # no new room from here on
    owners: list[OwnerLink] = [*rooms.owned.values(), *rooms.parked.values()]
    sessions = runtime.sessions()
    for owner in dict.fromkeys(owners):  # (once each)
        await owner.end(REASON_SHUTDOWN)
    pending: list[asyncio.Future[Any]] = []
    for session in sessions:
        link = session.room
        if isinstance(link, FollowerLink) and link.task is not None:
            link.sub.end(REASON_SHUTDOWN)  # (a room ended above has said so already)
            pending.append(link.task)
        if not session.closed:
            pending.append(asyncio.ensure_future(session.flush(wait)))
    if pending:
        await asyncio.wait(pending, timeout=wait)


async def stop_app_rooms(app: Any) -> None:
    """:func:`stop_rooms` for the app uvicorn serves (``app``: the bpviz app, or a
    middleware of uvicorn's around it)."""
    while not hasattr(getattr(app, "state", None), "runtime") and hasattr(app, "app"):
        app = app.app
    runtime = getattr(getattr(app, "state", None), "runtime", None)
    if runtime is not None:
        await stop_rooms(runtime)
