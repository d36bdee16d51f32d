"""The lane: short calls of many sessions run in turn by one pool job at a time."""

from __future__ import annotations

import asyncio
import gc
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace
from typing import Any

import pytest

from bpviz.server import lane as lane_module
from bpviz.server.lane import Hops, Lane


@pytest.fixture
def pool() -> Any:
    with ThreadPoolExecutor(max_workers=2) as executor:
        yield executor


def test_calls_run_in_order_one_at_a_time_with_their_results_and_errors(pool: Any) -> None:
    lane = Lane(lambda: pool)
    running = 0
    overlaps: list[int] = []
    order: list[int] = []

    def call(i: int) -> int:
        nonlocal running
        running += 1
        overlaps.append(running)
        time.sleep(0.001)
        order.append(i)
        running -= 1
        if i == 7:
            raise ValueError("seven")
        return i * i

    async def main() -> list[Any]:
        futures = [lane.submit(call, i) for i in range(20)]
        return await asyncio.gather(*futures, return_exceptions=True)

    results = asyncio.run(main())
    assert order == list(range(20))
    assert set(overlaps) == {1}  # never two at once
    assert isinstance(results[7], ValueError)
    assert [r for i, r in enumerate(results) if i != 7] == [i * i for i in range(20) if i != 7]


def test_a_turn_ends_and_the_next_job_takes_the_rest(
    pool: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With turns as short as they go, every call is a job of its own: none is lost."""
    monkeypatch.setattr(lane_module, "TURN", 0.0)
    lane = Lane(lambda: pool)
    jobs: list[int] = []
    take = lane._take

    def counting(loop: Any) -> None:
        jobs.append(len(lane))
        take(loop)

    monkeypatch.setattr(lane, "_take", counting)

    async def main() -> list[int]:
        return await asyncio.gather(*(lane.submit(lambda i=i: i) for i in range(10)))

    assert asyncio.run(main()) == list(range(10))
    assert len(jobs) == 10


def test_results_are_handed_back_while_the_turn_goes_on(
    pool: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A frame built early in a turn goes out before the turn ends: the second call
    waits (on its thread) until the event loop has seen the first one's result."""
    monkeypatch.setattr(lane_module, "HAND_BACK", 0.0)
    lane = Lane(lambda: pool)
    seen = threading.Event()

    async def main() -> bool:
        first = lane.submit(lambda: 1)
        second = lane.submit(seen.wait, 5.0)
        await first
        seen.set()
        return await second

    assert asyncio.run(main()) is True


def test_wait_estimates_the_queue_ahead(pool: Any) -> None:
    lane = Lane(lambda: pool)
    gate = threading.Event()

    async def main() -> tuple[float, float]:
        futures = [lane.submit(time.sleep, 0.002) for _ in range(20)]
        await asyncio.gather(*futures)
        idle = lane.wait()
        futures = [lane.submit(gate.wait, 5.0)] + [lane.submit(time.sleep, 0) for _ in range(10)]
        await asyncio.sleep(0.05)
        busy = lane.wait()
        gate.set()
        await asyncio.gather(*futures)
        return idle, busy

    idle, busy = asyncio.run(main())
    assert idle == 0.0
    assert busy > 0.0  # ten calls queued behind one, at the cost seen so far


def test_a_shut_down_pool_fails_the_calls_rather_than_losing_them() -> None:
    executor = ThreadPoolExecutor(max_workers=1)
    executor.shutdown()
    lane = Lane(lambda: executor)

    async def main() -> None:
        await lane.submit(lambda: 1)

    with pytest.raises(RuntimeError):
        asyncio.run(main())


def test_a_session_s_short_calls_queue_behind_each_other_and_keep_its_other_calls_out(
    pool: Any,
) -> None:
    """``Hops.run_short`` (a session's): a second short call of a session queues right behind the
    first without waiting for the lock; a pool call (``run``) of that session waits
    until both have ended; the lock is free afterwards."""
    events: list[str] = []
    gate = threading.Event()

    async def main() -> None:
        runtime = SimpleNamespace(lane=Lane(lambda: pool), pool=pool)
        session = Hops(runtime)  # type: ignore[arg-type]

        def record(name: str, wait: bool = False) -> None:
            if wait:
                gate.wait(5.0)
            events.append(name)

        first = asyncio.create_task(session.run_short(record, "short 1", True))
        await asyncio.sleep(0.01)
        other = asyncio.create_task(session.run(record, "pool"))
        await asyncio.sleep(0.01)
        second = asyncio.create_task(session.run_short(record, "short 2"))
        await asyncio.sleep(0.01)
        assert session._lane_calls == 2 and session._lock.locked()
        gate.set()
        await asyncio.gather(first, second, other)
        assert session._lane_calls == 0 and not session._lock.locked()

    asyncio.run(main())
    assert events == ["short 1", "short 2", "pool"]


@pytest.mark.parametrize("where", ["lane", "pool"])
def test_a_call_left_by_its_cancelled_caller_fails_quietly(pool: Any, where: str) -> None:
    """A session closing cancels its caller while a call runs; the call then fails. The
    caller still waits for it to end, holding the session's lock, however often it is
    cancelled, and its error is dropped: no "Future exception was never retrieved" from
    the event loop."""
    reported: list[str] = []
    gate = threading.Event()

    def doomed() -> None:
        gate.wait(5.0)
        raise AssertionError("the workspace was released")

    async def main() -> None:
        asyncio.get_running_loop().set_exception_handler(
            lambda _loop, context: reported.append(context["message"])
        )
        runtime = SimpleNamespace(lane=Lane(lambda: pool), pool=pool)
        hops = Hops(runtime)  # type: ignore[arg-type]
        run = hops.run_short if where == "lane" else hops.run
        caller = asyncio.create_task(run(doomed))
        await asyncio.sleep(0.02)
        caller.cancel()
        await asyncio.sleep(0.02)
        assert not caller.done()  # it waits for the call to end
        caller.cancel()  # (a task awaiting it, cancelled in turn, cancels it again)
        await asyncio.sleep(0.02)
        assert not caller.done() and hops._lock.locked()
        gate.set()
        with pytest.raises(asyncio.CancelledError):
            await caller
        assert not hops._lock.locked()

    asyncio.run(main())
    gc.collect()  # an unretrieved exception is reported when its future is collected
    assert reported == []


def test_the_worker_threads_yield_the_cpu_to_the_event_loop() -> None:
    """The pool's threads run at a lower priority (a higher nice value) than the event
    loop's thread, which keeps the one it had."""
    from bpviz.server.runtime import WORKER_NICE, Runtime
    from bpviz.server.settings import Settings

    mine = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    runtime = Runtime(Settings())
    try:
        theirs = runtime.pool.submit(
            lambda: os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
        ).result()
    finally:
        runtime.shutdown()
    assert theirs == max(mine, WORKER_NICE)
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == mine


@pytest.mark.skipif(
    not hasattr(os, "sched_getaffinity") or len(os.sched_getaffinity(0)) < 2,
    reason="needs a system that pins threads to CPUs, with two CPUs at least",
)
@pytest.mark.parametrize("cpu", [1, -1])
def test_the_event_loop_and_the_lane_share_a_cpu_and_the_pool_keeps_them_all(cpu: int) -> None:
    """``Runtime.pin_loop`` on the event loop's thread (here a thread of the test's own,
    so that the test process stays unpinned): that thread and the lane's run on the
    ``cpu``-th CPU, the worker pool's threads on every CPU; ``cpu`` −1 pins nothing."""
    from bpviz.server.runtime import Runtime
    from bpviz.server.settings import Settings

    every = os.sched_getaffinity(0)
    seen: dict[str, set[int]] = {}

    def event_loop_thread() -> None:
        runtime = Runtime(Settings(cpu=cpu))
        try:
            runtime.pin_loop()
            seen["loop"] = os.sched_getaffinity(0)
            seen["lane"] = runtime.lane_thread.submit(os.sched_getaffinity, 0).result()
            seen["pool"] = runtime.pool.submit(os.sched_getaffinity, 0).result()
        finally:
            runtime.shutdown()

    thread = threading.Thread(target=event_loop_thread)
    thread.start()
    thread.join()
    mine = {sorted(every)[cpu]} if cpu >= 0 else every
    assert seen == {"loop": mine, "lane": mine, "pool": every}
    assert os.sched_getaffinity(0) == every
