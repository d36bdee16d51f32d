"""Process-wide state of the server: the worker pool and the live sessions."""

from __future__ import annotations

import threading
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
        self.pool = ThreadPoolExecutor(
            max_workers=settings.worker_threads, thread_name_prefix="bpviz-worker"
        )
        self._lock = threading.Lock()
        self._sessions: dict[str, Session] = {}
        self._tasks = 0

    @property
    def session_count(self) -> int:
        with self._lock:
            return len(self._sessions)

    @property
    def task_count(self) -> int:
        """Background tasks (play loops, senders) alive across all sessions."""
        with self._lock:
            return self._tasks

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

    def shutdown(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)
