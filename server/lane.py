"""The lane: many sessions' short calls, run one after another by one job at a time;
and :class:`Hops`, where a session's CPU work runs (the pool, the lane, the slow thread).

A class of 100 playing a small network asks for ~2,000 play slices a second, each a
fraction of a millisecond. As a pool job each, they cost a hop through the pool apiece
(a future, a thread woken, a wake-up of the event loop) and, with two worker threads,
a fight over the GIL between two threads running Python: together more than the slices
themselves. The lane runs them in turn on one thread instead (the runtime's lane thread,
on the event loop's CPU): calls queue here, and one job at a time takes them in order for
up to :data:`TURN` seconds, handing the results back to the event loop in batches (every
:data:`HAND_BACK` seconds, so a frame built early in a turn is not held until it ends).
The pool's threads stay free for everything else (a step, a gradient check, a large
network's slices), which still goes to the pool directly.

Only short calls belong here (the player sends a slice when its measured cost is under
``player.LANE_HOP``): a long one would hold every other call of the lane behind it.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import time
from collections.abc import Callable
from concurrent.futures import Executor
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from .runtime import Runtime

T = TypeVar("T")

TURN = 0.02  # seconds one job runs calls of the lane before it makes room
HAND_BACK = 0.002  # seconds between batches of results handed back to the event loop
COST_WEIGHT = 0.02  # of the newest call in the moving average of a call's cost

_Call = tuple[Callable[..., Any], tuple[Any, ...], "asyncio.Future[Any]"]
_Done = tuple["asyncio.Future[Any]", Any, BaseException | None]


class Lane:
    """A FIFO of calls run in turn by at most one job of ``pool()`` (the runtime's lane
    thread) at a time."""

    def __init__(self, pool: Callable[[], Executor]) -> None:
        self._pool = pool
        self._queue: collections.deque[_Call] = collections.deque()
        self._busy = False  # a job is taking calls (read and written on the event loop)
        self._cost = 0.0  # seconds a call takes, a moving average
        # The training factor (``player.adapt``) of every session playing in the lane:
        # one for all, so that they share the lane's time evenly; and when it last changed
        # (``time.monotonic()``): sessions playing outside the lane meanwhile use it too.
        self.factor = 1.0
        self.adapted = -float("inf")

    def __len__(self) -> int:
        return len(self._queue)

    def wait(self) -> float:
        """Seconds a call queued now would wait for its turn, as things go."""
        return len(self._queue) * self._cost

    def submit(self, fn: Callable[..., T], *args: Any) -> asyncio.Future[T]:
        """Queue ``fn(*args)``; its future is resolved on the event loop once it ran."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._queue.append((fn, args, future))
        if not self._busy:
            self._start(loop)
        return future

    def _start(self, loop: asyncio.AbstractEventLoop) -> None:
        self._busy = True
        try:
            job = loop.run_in_executor(self._pool(), self._take, loop)
        except RuntimeError as exc:  # the pool is shut down: the server is stopping
            self._busy = False
            self._fail(exc)
            return
        job.add_done_callback(lambda _: self._ended(loop))

    def _ended(self, loop: asyncio.AbstractEventLoop) -> None:
        """The job ended (its turn is over, or the queue ran dry): calls queued since,
        or left over, get the next job."""
        self._busy = False
        if self._queue:
            self._start(loop)

    def _fail(self, exc: BaseException) -> None:
        while self._queue:
            _, _, future = self._queue.popleft()
            if not future.done():
                future.set_exception(exc)

    def _take(self, loop: asyncio.AbstractEventLoop) -> None:
        """On a worker thread: run queued calls in order for up to :data:`TURN` seconds."""
        queue = self._queue
        start = handed = time.perf_counter()
        done: list[_Done] = []
        try:
            while queue:
                fn, args, future = queue.popleft()
                began = time.perf_counter()
                try:
                    done.append((future, fn(*args), None))
                except BaseException as exc:  # handed to the caller, like the pool does
                    done.append((future, None, exc))
                now = time.perf_counter()
                self._cost += COST_WEIGHT * (now - began - self._cost)
                if now - handed >= HAND_BACK:
                    loop.call_soon_threadsafe(_resolve, done)
                    done, handed = [], now
                    time.sleep(0)  # the GIL to the event loop, now woken, to send them
                if now - start >= TURN:
                    break
        finally:
            if done:
                with contextlib.suppress(RuntimeError):  # the loop is closed: nobody waits
                    loop.call_soon_threadsafe(_resolve, done)


def _resolve(done: list[_Done]) -> None:
    for future, result, exc in done:
        if future.done():  # (a future is never cancelled: callers shield it)
            continue
        if exc is None:
            future.set_result(result)
        else:
            future.set_exception(exc)


async def _held(future: asyncio.Future[T]) -> T:
    """The result of ``future``; if the caller is cancelled meanwhile, it still waits for
    the call to end (the session's lock stays held until then) before it gives way, even
    when cancelled again while it waits (a task awaiting the caller, itself cancelled,
    cancels it once more)."""
    try:
        return await asyncio.shield(future)
    except asyncio.CancelledError:
        # Nobody takes the result now: an error the call ends with is dropped, not logged
        # as "never retrieved".
        future.add_done_callback(_drop)
        while not future.done():
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait([future])
        raise


def _drop(future: asyncio.Future[Any]) -> None:
    if not future.cancelled():
        future.exception()


class Hops:
    """Where a session's CPU work runs: never on the event loop, and one call at a time
    for the session (its lock), on the runtime's pool, in its lane, or on its slow
    thread."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self._lock = asyncio.Lock()
        self._lane_calls = 0  # calls of this session in the lane, holding the lock

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """Run CPU work on the worker pool, one call at a time for this session. A call
        cancelled while it runs still holds the lock until it has ended: no two calls of
        one session ever run at once."""
        async with self._lock:
            future = asyncio.get_running_loop().run_in_executor(self.runtime.pool, fn, *args)
            return await _held(future)

    async def run_short(self, fn: Callable[..., T], *args: Any) -> T:
        """Like :meth:`run`, for a call of a few milliseconds at most: it waits its turn
        in the runtime's lane with other sessions' short calls.

        While a call of this session is in the lane, the next one queues right behind it
        without waiting for the lock: the lane runs one call at a time in order, so they
        still never run at once, and the lock (which keeps :meth:`run` out) is let go
        when the last of them has ended. A snapshot taken while playing thus waits one
        turn of the lane, not two, and the play loop's next hop none at all."""
        if not self._lane_calls:
            await self._lock.acquire()
        self._lane_calls += 1
        try:
            return await _held(self.runtime.lane.submit(fn, *args))
        finally:
            self._lane_calls -= 1
            if not self._lane_calls:
                self._lock.release()

    async def run_slow(self, fn: Callable[..., T], *args: Any) -> T:
        """Run work that cannot be sliced (and touches no session state: a CSV parse) on
        the runtime's one slow thread, so that it never holds a worker of the pool."""
        return await asyncio.get_running_loop().run_in_executor(self.runtime.slow, fn, *args)
