"""Process-wide state of the server: the worker pool and the live sessions."""

from __future__ import annotations

import ctypes
import ctypes.util
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from bpviz.server.settings import Settings

if TYPE_CHECKING:
    from bpviz.server.session import Session


class Runtime:
    """Holds the thread pool that runs every session's CPU work (never the event loop)
    and the registry of live sessions, so tests and ``/healthz`` can count them."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._pool: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()
        self._sessions: dict[str, Session] = {}
        self._tasks = 0
        self._playing = 0
        self._last_trim = 0.0

    @property
    def pool(self) -> ThreadPoolExecutor:
        """The worker threads, started on first use (again after a shutdown)."""
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(
                    max_workers=self.settings.worker_threads, thread_name_prefix="bpviz-worker"
                )
            return self._pool

    @property
    def session_count(self) -> int:
        with self._lock:
            return len(self._sessions)

    @property
    def task_count(self) -> int:
        """Background tasks (play loops, senders) alive across all sessions."""
        with self._lock:
            return self._tasks

    @property
    def playing_count(self) -> int:
        """Sessions playing now: each takes its fair share of the worker pool."""
        return self._playing

    def playing_started(self) -> None:
        with self._lock:
            self._playing += 1

    def playing_ended(self) -> None:
        with self._lock:
            self._playing -= 1

    def task_started(self) -> None:
        with self._lock:
            self._tasks += 1

    def task_ended(self) -> None:
        with self._lock:
            self._tasks -= 1

    def sessions(self) -> list[Session]:
        """A snapshot of the live sessions."""
        with self._lock:
            return list(self._sessions.values())

    def try_register(self, session: Session) -> bool:
        """Add a session unless the cap is reached."""
        with self._lock:
            if len(self._sessions) >= self.settings.max_sessions:
                return False
            self._sessions[session.id] = session
            return True

    def unregister(self, session: Session) -> None:
        with self._lock:
            self._sessions.pop(session.id, None)
            now = time.monotonic()
            if self._sessions and now - self._last_trim < 1.0:
                return
            self._last_trim = now
        # A finished session's arrays go back to the C heap; hand the free pages back to
        # the OS so memory returns to its baseline after a class leaves (glibc only).
        self.pool.submit(_trim_heap)

    def shutdown(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)


def _load_trim() -> Callable[[int], int] | None:
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        trim: Callable[[int], int] = ctypes.CDLL(name).malloc_trim
    except (OSError, AttributeError):
        return None
    return trim


_MALLOC_TRIM = _load_trim()


def _trim_heap() -> None:
    if _MALLOC_TRIM is not None:
        _MALLOC_TRIM(0)
