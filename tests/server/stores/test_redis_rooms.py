"""What only the Redis broker promises: one publish per message, processes that die,
Redis that is missing at start or restarts mid-room."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

import pytest
import redis.asyncio as aredis

from bpviz.server.stores import (
    KIND_CLOSED,
    KIND_FOLLOWERS,
    KIND_STATUS,
    REASON_OWNER_GONE,
    RedisBroker,
    RoomMessage,
    StoreUnavailable,
    Subscription,
    new_room_code,
)

FAST = {"heartbeat": 0.2, "ttl": 1.0}

FAR_SIDE = """
import asyncio, sys
from bpviz.server.stores.redis_rooms import RedisBroker

async def main():
    url, role, code = sys.argv[1:4]
    broker = RedisBroker(url, heartbeat=0.2, ttl=1.0)
    if role == "owner":
        await broker.open(code, "far-owner")
        await broker.publish(code, "topology", "topology")
    else:
        await broker.join(code, "far-follower")
    print("ready", flush=True)
    await asyncio.sleep(60)

asyncio.run(main())
"""


class FarSide:
    """Another server process holding a room (``owner``) or a follower, to be ``kill -9``ed."""

    def __init__(self, url: str, role: str, code: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", FAR_SIDE, url, role, code], stdout=subprocess.PIPE, text=True
        )
        assert self.proc.stdout is not None
        assert self.proc.stdout.readline().strip() == "ready"

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.communicate(timeout=10)


async def until(
    sub: Subscription, done: Callable[[RoomMessage], bool], timeout: float
) -> list[RoomMessage]:
    """Messages up to and including the first for which ``done`` holds."""
    got: list[RoomMessage] = []
    async with asyncio.timeout(timeout):
        async for msg in sub:
            got.append(msg)
            if done(msg):
                return got
    raise AssertionError(f"the stream ended first: {got}")


async def publishes(raw: aredis.Redis) -> int:
    """PUBLISH commands Redis has run (from scripts too)."""
    stats = await raw.info("commandstats")
    return int(stats.get("cmdstat_publish", {}).get("calls", 0))


def test_one_publish_per_message_however_many_follow(redis_server: Any) -> None:
    async def main() -> None:
        a, b = RedisBroker(redis_server.url, **FAST), RedisBroker(redis_server.url, **FAST)
        raw = aredis.Redis.from_url(redis_server.url)
        try:
            code = new_room_code()
            await a.open(code, "owner")
            subs = [await br.subscribe(code) for br in (a, b) for _ in range(20)]
            before = await publishes(raw)
            for i in range(10):
                await a.publish(code, f"frame {i}", "frame")
            assert await publishes(raw) - before == 10
            assert await raw.pubsub_numsub(f"bpviz:room:{code}") == [
                (f"bpviz:room:{code}".encode(), 2)
            ]
            ttl = await raw.pttl(f"bpviz:room:{{{code}}}:owner")
            assert 0 < ttl <= 1000
            for sub in subs:
                await sub.aclose()
        finally:
            await a.aclose()
            await b.aclose()
            await raw.aclose()

    asyncio.run(main())


def test_owner_process_killed_followers_learn_within_seconds(redis_server: Any) -> None:
    code = new_room_code()
    far = FarSide(redis_server.url, "owner", code)

    async def main() -> None:
        broker = RedisBroker(redis_server.url, **FAST)
        try:
            sub = await broker.subscribe(code)
            assert await broker.join(code, "here") == 1
            got = await until(sub, lambda m: m.kind == "topology", 3)
            far.kill()
            t0 = time.monotonic()
            got = await until(sub, lambda m: m.kind == KIND_CLOSED, 6)
            assert got[-1].payload == REASON_OWNER_GONE
            assert time.monotonic() - t0 < 4.5
            assert not await broker.exists(code)
            await sub.aclose()
        finally:
            await broker.aclose()

    try:
        asyncio.run(main())
    finally:
        if far.proc.returncode is None:
            far.kill()


def test_follower_process_killed_the_count_drops(redis_server: Any) -> None:
    async def main() -> None:
        broker = RedisBroker(redis_server.url, **FAST)
        code = new_room_code()
        far = None
        try:
            await broker.open(code, "owner")
            view = await broker.subscribe(code, kinds={KIND_FOLLOWERS})
            far = await asyncio.to_thread(FarSide, redis_server.url, "follower", code)
            await until(view, lambda m: m.payload == "1", 3)
            await asyncio.to_thread(far.kill)
            await until(view, lambda m: m.payload == "0", 3)
            assert await broker.followers(code) == 0
            await view.aclose()
        finally:
            if far is not None and far.proc.returncode is None:
                far.kill()
            await broker.aclose()

    asyncio.run(main())


def test_redis_unreachable_at_start_fails_fast_then_recovers(redis_server: Any) -> None:
    redis_server.stop()

    async def main() -> None:
        broker = RedisBroker(redis_server.url, **FAST)
        try:
            t0 = time.monotonic()
            with pytest.raises(StoreUnavailable, match="unavailable"):
                await broker.open(new_room_code(), "owner")
            with pytest.raises(StoreUnavailable):
                await broker.exists(new_room_code())
            assert time.monotonic() - t0 < 1.0
            assert not broker.available and not await broker.check()
            await asyncio.to_thread(redis_server.start)
            deadline = time.monotonic() + 5
            while not broker.available:  # the heartbeat probes by itself
                assert time.monotonic() < deadline, "the broker did not recover"
                await asyncio.sleep(0.05)
            code = new_room_code()
            await broker.open(code, "owner")
            sub = await broker.subscribe(code)
            await broker.publish(code, "works", "note")
            assert (await until(sub, lambda m: True, 2))[0].payload == "works"
            await sub.aclose()
        finally:
            await broker.aclose()

    asyncio.run(main())


def test_redis_restarted_mid_room_unavailable_then_recovers(redis_server: Any) -> None:
    async def main() -> None:
        owner, side = RedisBroker(redis_server.url, **FAST), RedisBroker(redis_server.url, **FAST)
        try:
            code = new_room_code()
            await owner.open(code, "owner")
            sub = await side.subscribe(code)
            assert await side.join(code, "s1") == 1
            await owner.publish(code, "t1", "topology")
            await owner.publish(code, "f1", "frame")
            await until(sub, lambda m: m.payload == "f1", 3)

            await asyncio.to_thread(redis_server.stop)
            await until(sub, lambda m: m.kind == KIND_STATUS, 3)
            with pytest.raises(StoreUnavailable):
                await owner.publish(code, "f2", "frame")
            assert not owner.available
            with pytest.raises(StoreUnavailable):
                await side.subscribe(code)

            await asyncio.to_thread(redis_server.start)
            # The follower's link comes back, the owner re-creates its room and re-sends
            # what it retains — including the frame whose publish failed.
            got = await until(sub, lambda m: m.payload == "f2", 8)
            assert ("status", "available") in [(m.kind, m.payload) for m in got]
            assert KIND_CLOSED not in [m.kind for m in got]
            deadline = time.monotonic() + 5
            while True:
                try:
                    await owner.publish(code, "f3", "frame")
                    break
                except StoreUnavailable:
                    assert time.monotonic() < deadline
                    await asyncio.sleep(0.05)
            got = await until(sub, lambda m: m.payload == "f3", 3)
            assert KIND_CLOSED not in [m.kind for m in got]
            deadline = time.monotonic() + 3
            while await side.followers(code) != 1:  # the follower's heartbeat counts it again
                assert time.monotonic() < deadline
                await asyncio.sleep(0.05)
            await asyncio.sleep(0.6)  # a few heartbeats later the room is still alive
            assert KIND_CLOSED not in [m.kind for m in await drain(sub)]
            assert await side.exists(code)
            await sub.aclose()
        finally:
            await owner.aclose()
            await side.aclose()

    asyncio.run(main())


async def drain(sub: Subscription) -> list[RoomMessage]:
    out = []
    while sub.pending:
        out.append(await sub.__anext__())
    return out
