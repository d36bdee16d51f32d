"""Process-wide state of the server: the worker pools, the live sessions and their memory.

Threads run CPU work, never the event loop: ``pool`` (``worker_threads``) runs every
session's slices, each short (see ``bpviz.server.jobs``); the shortest of them — many
sessions' play slices — are taken in turn by the lane's one thread (``lane``,
``bpviz.server.lane``), which shares the event loop's CPU (:meth:`Runtime.pin_loop`);
``slow`` (one thread) runs the few pieces that cannot be cut into slices — parsing an
uploaded CSV, loading one into a data set — so they never hold a worker of ``pool``.
The memory budgets are kept here: the sum of the live sessions' estimates
(``bpviz.server.budget``) against ``total_memory_bytes``, and the sessions per client
address.

Admission counts two kinds of connection apart: a session with a run of its own counts
toward ``max_sessions``; a room's follower (no experiment: ``bpviz.server.rooms``)
toward ``max_followers``, at ``FOLLOWER_MEMORY`` each against the same memory budget. A
follower that takes a run of its own (``copy``, ``room_leave``) is admitted again as a
session first (:meth:`Runtime.to_session`).
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import ctypes.util
import logging
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from bpviz.core.experiment.config import default_config
from bpviz.server import budget
from bpviz.server.lane import Lane
from bpviz.server.settings import Settings

if TYPE_CHECKING:
    from bpviz.server.resume import Snapshots
    from bpviz.server.room_links import Rooms
    from bpviz.server.session import Session

# What a follower costs (bytes): its connection, session object and bounded subscription —
# bench/rooms.py measures 50–70 KiB of server memory per follower.
FOLLOWER_MEMORY = 96 * 1024
WORKER_NICE = 5  # the worker threads' nice value: the event loop's thread comes first


class ClientFaults(logging.Filter):
    """A client's fault is not the server's: uvicorn logs a text frame of invalid UTF-8
    as an ERROR with a traceback; this makes it one INFO line (the connection is closed
    with 1007 all the same)."""

    QUIET = ("Invalid UTF-8 sequence received from client",)

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.ERROR and record.getMessage().startswith(self.QUIET):
            record.levelno, record.levelname = logging.INFO, "INFO"
            record.exc_info, record.exc_text = None, None
        return True


CLIENT_FAULTS = ClientFaults()


class Runtime:
    """Holds the thread pool that runs every session's CPU work (never the event loop)
    and the registry of live sessions, so tests and ``/healthz`` can count them."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        logging.getLogger("uvicorn.error").addFilter(CLIENT_FAULTS)  # (once: a set)
        self._pool: ThreadPoolExecutor | None = None
        self._slow: ThreadPoolExecutor | None = None
        self._lane_thread: ThreadPoolExecutor | None = None
        self.lane = Lane(lambda: self.lane_thread)  # short calls of many sessions, in turn
        self.cpu: int | None = None  # the event loop's and the lane's CPU (pin_loop)
        self._cpus = _cpus()  # those this process may use
        self._lock = threading.Lock()
        self._sessions: dict[str, Session] = {}
        self._followers: set[str] = set()  # the ids of those in _sessions that follow a room
        self._tasks = 0
        self._playing = 0
        self._last_trim = 0.0
        self.reports = asyncio.Semaphore(1)  # /api/report builds one report at a time
        config = default_config()
        self.default_memory = budget.estimate(config, budget.data_shape(config), settings).total
        # Set while serving (resume.open_stores, in the app's lifespan): session snapshots
        # and classroom rooms.
        self.resume: Snapshots | None = None
        self.rooms: Rooms | None = None

    @property
    def pool(self) -> ThreadPoolExecutor:
        """The worker threads, started on first use (again after a shutdown)."""
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(
                    max_workers=self.settings.worker_threads,
                    thread_name_prefix="bpviz-worker",
                    initializer=self._pool_init,
                )
            return self._pool

    @property
    def lane_thread(self) -> ThreadPoolExecutor:
        """The lane's one thread (``bpviz.server.lane``), on the event loop's CPU once
        :meth:`pin_loop` chose one; started on first use."""
        with self._lock:
            if self._lane_thread is None:
                self._lane_thread = ThreadPoolExecutor(
                    max_workers=1, thread_name_prefix="bpviz-lane", initializer=self._lane_init
                )
            return self._lane_thread

    def pin_loop(self) -> None:
        """On the event loop's thread, as serving starts: keep it on one CPU (the
        settings' ``cpu``-th of this process's), where the lane's thread runs too.

        A class's frames pass between the two threads 2,000 times a second (the lane
        builds them, the loop sends them), and each hand-over of the GIL from one CPU to
        the other wakes that CPU and moves the objects they share between the CPUs'
        caches: in one process with 100 clients, ~0.06 ms of CPU a frame (bench/stream.py
        (7): 0.55 ms → 0.49). The worker pool, which runs large networks' NumPy work
        beside them, keeps every CPU. ``bpviz serve`` gives each of its processes a CPU
        of its own; one CPU or none to choose from (or ``cpu`` −1): nothing is pinned."""
        index = self.settings.cpu
        if index < 0 or self._cpus is None or len(self._cpus) < 2:
            return
        cpu = self._cpus[index % len(self._cpus)]
        try:
            os.sched_setaffinity(0, {cpu})  # 0: the calling thread (Linux)
        except OSError:
            return
        self.cpu = cpu

    def _lane_init(self) -> None:
        _lower_priority()
        if self.cpu is not None:
            with contextlib.suppress(OSError):
                os.sched_setaffinity(0, {self.cpu})

    def _pool_init(self) -> None:
        _lower_priority()
        if self._cpus is not None:  # a thread starts with the affinity of the one that
            with contextlib.suppress(OSError):  # started it: the event loop's CPU
                os.sched_setaffinity(0, self._cpus)

    @property
    def slow(self) -> ThreadPoolExecutor:
        """One thread for work that cannot be sliced (CSV parsing), started on first use."""
        with self._lock:
            if self._slow is None:
                self._slow = ThreadPoolExecutor(max_workers=1, thread_name_prefix="bpviz-slow")
            return self._slow

    @property
    def session_count(self) -> int:
        with self._lock:
            return len(self._sessions)

    @property
    def follower_count(self) -> int:
        """Live connections that follow a room (counted apart from ``max_sessions``)."""
        with self._lock:
            return len(self._followers)

    def is_follower(self, session: Session) -> bool:
        with self._lock:
            return session.id in self._followers

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

    # ------------------------------------------------------------------ admission, memory

    @property
    def memory_in_use(self) -> int:
        """The sum of the live sessions' memory estimates (bytes)."""
        with self._lock:
            return sum(s.workspace.memory for s in self._sessions.values())

    def refusal(self, session: Session, follower: bool = False) -> str | None:
        """Why ``session`` cannot be admitted now (``None``: it can) as a session of its
        own (the session cap, the server's memory budget, the cap of sessions per client
        address) or, ``follower``, as a room's follower (the follower cap, the memory
        budget). A follower asking for a run of its own is counted as a session here."""
        s = self.settings
        with self._lock:
            used = sum(x.workspace.memory for x in self._sessions.values() if x is not session)
            if follower:
                if len(self._followers - {session.id}) >= s.max_followers:
                    n = s.max_followers
                    return f"at most {n} room followers (max_followers), try again later"
                if used + FOLLOWER_MEMORY > s.total_memory_bytes:
                    return "server memory budget reached, try again later"
                return None
            own = [x for x in self._sessions.values() if x.id not in self._followers]
            own = [x for x in own if x is not session]
            if len(own) >= s.max_sessions:
                return "server full, try again later"
            if used + self.default_memory > s.total_memory_bytes:
                return "server memory budget reached, try again later"
            if s.max_sessions_per_address > 0:
                mine = sum(x.address == session.address for x in own)
                if mine >= s.max_sessions_per_address:
                    return f"at most {s.max_sessions_per_address} sessions per address"
        return None

    def try_register(self, session: Session) -> bool:
        """Add a session unless :meth:`refusal` gives a reason (kept in ``session.refused``).
        A connection to ``/ws?room=CODE`` comes to follow: it is admitted as a follower."""
        follower = bool(session.websocket.query_params.get("room"))
        reason = self.refusal(session, follower)
        with self._lock:
            session.refused = reason
            if reason is None:
                session.workspace.memory = FOLLOWER_MEMORY if follower else self.default_memory
                self._sessions[session.id] = session
                if follower:
                    self._followers.add(session.id)
            return reason is None

    def to_follower(self, session: Session) -> None:
        """Count ``session`` as a follower from now on (its run is gone: ``rooms.py``
        checked :meth:`refusal` with ``follower`` before it joined)."""
        with self._lock:
            if session.id in self._sessions:
                self._followers.add(session.id)
            session.workspace.memory = FOLLOWER_MEMORY

    def to_session(self, session: Session) -> str | None:
        """Count a follower as a session of its own from now on (``copy``, ``room_leave``),
        or the reason it cannot be one now (it then stays a follower)."""
        with self._lock:
            if session.id not in self._followers:
                return None
        reason = self.refusal(session)
        if reason is None:
            with self._lock:
                self._followers.discard(session.id)
        return reason

    def check_memory(self, session: object, needed: int, field: str | None) -> None:
        """Raise :class:`~bpviz.server.budget.MemoryBudgetError` if ``session`` may not
        grow to ``needed`` bytes: over ``session_memory_bytes``, or past
        ``total_memory_bytes`` with every other live session's estimate."""
        s = self.settings
        if needed > s.session_memory_bytes:
            raise budget.MemoryBudgetError(
                f"this needs about {budget.mib(needed)} of memory; a session may use "
                f"{budget.mib(s.session_memory_bytes)} (session_memory_bytes): use fewer or "
                "narrower layers, a smaller batch, or fewer examples",
                field,
                needed=needed,
                budget=s.session_memory_bytes,
                setting="session_memory_bytes",
            )
        with self._lock:
            others = sum(x.workspace.memory for x in self._sessions.values() if x is not session)
        if others + needed > s.total_memory_bytes:
            available = max(0, s.total_memory_bytes - others)
            raise budget.MemoryBudgetError(
                f"this needs about {budget.mib(needed)} of memory; the server has "
                f"{budget.mib(available)} left of {budget.mib(s.total_memory_bytes)} "
                "(total_memory_bytes) for all sessions: try a smaller network later",
                field,
                needed=needed,
                budget=s.total_memory_bytes,
                setting="total_memory_bytes",
                available=available,
            )

    def unregister(self, session: Session) -> None:
        with self._lock:
            self._sessions.pop(session.id, None)
            self._followers.discard(session.id)
            now = time.monotonic()
            if self._sessions and now - self._last_trim < 1.0:
                return
            self._last_trim = now
        # A finished session's arrays go back to the C heap; hand the free pages back to
        # the OS so memory returns to its baseline after a class leaves (glibc only).
        self.pool.submit(_trim_heap)

    def shutdown(self) -> None:
        with self._lock:
            pools = [self._pool, self._slow, self._lane_thread]
            self._pool = self._slow = self._lane_thread = None
        for pool in pools:
            if pool is not None:
                pool.shutdown(wait=False, cancel_futures=True)


def _lower_priority() -> None:
    """A worker thread yields the CPU to the event loop's (Linux: ``nice`` is per thread):
    with every core busy training, a ping or a frame still goes out at once."""
    with contextlib.suppress(OSError, AttributeError):  # no such call, or not allowed
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), WORKER_NICE)


def _cpus() -> list[int] | None:
    """The CPUs this process may run on (``None``: the system does not say)."""
    try:
        return sorted(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return None


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
