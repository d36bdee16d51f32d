"""Room codes, and the broker contract on both brokers.

With Redis the owner and the followers use two broker instances — what two server
processes would have — so every message here crossed Redis."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import cast

import pytest

from bpviz.server.stores import (
    KIND_CLOSED,
    KIND_FOLLOWERS,
    REASON_CLOSED,
    REASON_SHUTDOWN,
    InvalidRoomCodeError,
    MemoryBroker,
    RedisBroker,
    RoomBroker,
    RoomExistsError,
    RoomMessage,
    RoomNotFoundError,
    Subscription,
    format_room_code,
    new_room_code,
    normalize_room_code,
    open_room_broker,
)
from bpviz.server.stores.rooms import ROOM_ALPHABET

Pair = Callable[[], contextlib.AbstractAsyncContextManager[tuple[RoomBroker, RoomBroker]]]


def test_room_codes_avoid_look_alikes() -> None:
    for c in "0O1IL2Z5S8BQ":
        assert c not in ROOM_ALPHABET
    codes = {new_room_code() for _ in range(2000)}
    assert len(codes) > 1990
    assert all(len(c) == 6 and set(c) <= set(ROOM_ALPHABET) for c in codes)


def test_typed_codes_are_normalised() -> None:
    assert normalize_room_code("k7r-mxh") == "K7RMXH"
    assert normalize_room_code("  K7R MXH ") == "K7RMXH"
    assert normalize_room_code("k7r_m.x-h") == "K7RMXH"
    assert format_room_code("K7RMXH") == "K7R-MXH"
    with pytest.raises(InvalidRoomCodeError, match="6 characters"):
        normalize_room_code("K7RMX")
    with pytest.raises(InvalidRoomCodeError, match="'0O'"):
        normalize_room_code("K7R0OH")
    with pytest.raises(InvalidRoomCodeError):
        normalize_room_code(cast(str, None))


def test_open_room_broker_without_redis_is_in_memory() -> None:
    assert isinstance(open_room_broker(None), MemoryBroker)
    assert isinstance(open_room_broker("redis://127.0.0.1:1/0"), RedisBroker)
    with pytest.raises(ValueError, match="scheme"):
        open_room_broker("http://example.org")


@pytest.fixture(params=["memory", "redis"])
def pair(request: pytest.FixtureRequest) -> Pair:
    """``async with pair() as (owner_side, follower_side)``: one broker in memory, two
    broker instances (two processes' worth) on one Redis."""

    @contextlib.asynccontextmanager
    async def opened() -> AsyncIterator[tuple[RoomBroker, RoomBroker]]:
        if request.param == "memory":
            broker = MemoryBroker()
            try:
                yield broker, broker
            finally:
                await broker.aclose()
            return
        url = request.getfixturevalue("redis_server").url
        a, b = RedisBroker(url, heartbeat=0.2, ttl=1.0), RedisBroker(url, heartbeat=0.2, ttl=1.0)
        try:
            yield a, b
        finally:
            await a.aclose()
            await b.aclose()

    return opened


async def take(sub: Subscription, n: int, timeout: float = 3.0) -> list[RoomMessage]:
    out: list[RoomMessage] = []
    async with asyncio.timeout(timeout):
        while len(out) < n:
            out.append(await sub.__anext__())
    return out


async def settle(sub: Subscription, quiet: float = 0.25) -> list[RoomMessage]:
    """Everything that arrives until nothing has for ``quiet`` seconds."""
    out: list[RoomMessage] = []
    while True:
        try:
            out.append(await asyncio.wait_for(sub.__anext__(), quiet))
        except (TimeoutError, StopAsyncIteration):
            return out


def test_fan_out_to_many_followers(pair: Pair) -> None:
    async def main() -> None:
        async with pair() as (owner, side):
            code = new_room_code()
            await owner.open(code, "owner-1")
            subs = [await side.subscribe(code) for _ in range(50)]
            for i in range(5):
                await owner.publish(code, f'{{"step": {i}}}', "note")
                await asyncio.sleep(0.005)
            await owner.publish(code, b"\x00\x01binary", "blob")
            for sub in subs:
                got = await take(sub, 6)
                assert [m.payload for m in got] == [
                    *(f'{{"step": {i}}}' for i in range(5)),
                    b"\x00\x01binary",
                ]
                await sub.aclose()

    asyncio.run(main())


def test_a_slow_follower_gets_the_newest_frame_and_a_fast_one_every_frame(pair: Pair) -> None:
    async def main() -> None:
        async with pair() as (owner, side):
            code = new_room_code()
            await owner.open(code, "owner")
            # "fast" coalesces nothing, so it must see every frame, in order, whatever the
            # scheduling; "slow" (the default) never reads until the end.
            slow, fast = await side.subscribe(code), await side.subscribe(code, coalesce=())
            seen: list[bytes | str] = []

            async def read_fast() -> None:
                async for msg in fast:
                    seen.append(msg.payload)

            reader = asyncio.create_task(read_fast())
            for i in range(30):
                await owner.publish(code, f"frame {i}", "frame")
                await asyncio.sleep(0.005)
            await owner.publish(code, "the end", "note")
            await asyncio.sleep(0.2)
            assert [m.payload for m in await settle(slow)] == ["frame 29", "the end"]
            assert seen == [f"frame {i}" for i in range(30)] + ["the end"]
            await fast.aclose()
            await reader
            await slow.aclose()

    asyncio.run(main())


def test_no_message_of_one_room_reaches_another(pair: Pair) -> None:
    async def main() -> None:
        async with pair() as (owner, side):
            codes = [new_room_code() for _ in range(3)]
            for code in codes:
                await owner.open(code, f"owner-{code}")
            subs = {code: await side.subscribe(code) for code in codes}
            for round_ in range(3):
                for code in codes:
                    await owner.publish(code, f"{code}:{round_}", "note")
            for code, sub in subs.items():
                got = await settle(sub, 0.3)
                assert [m.payload for m in got] == [f"{code}:{r}" for r in range(3)]
                await sub.aclose()

    asyncio.run(main())


def test_late_followers_start_from_the_retained_state(pair: Pair) -> None:
    async def main() -> None:
        async with pair() as (owner, side):
            code = new_room_code()
            await owner.open(code, "owner")
            await owner.publish(code, "grid 1", "grid")
            await owner.publish(code, "topology 1", "topology")
            await owner.publish(code, "frame 1", "frame")
            await owner.publish(code, "frame 2", "frame")
            await owner.publish(code, "not kept", "note")
            sub = await side.subscribe(code)
            got = await settle(sub)
            assert [(m.kind, m.payload) for m in got] == [
                ("topology", "topology 1"),
                ("frame", "frame 2"),
                ("grid", "grid 1"),
            ]
            await sub.aclose()

    asyncio.run(main())


def test_join_leave_counts_and_the_owner_is_told(pair: Pair) -> None:
    async def main() -> None:
        async with pair() as (owner, side):
            code = new_room_code()
            await owner.open(code, "owner")
            owner_view = await owner.subscribe(code, kinds={KIND_FOLLOWERS})
            assert await side.join(code, "s1") == 1
            assert await side.join(code, "s2") == 2
            assert await side.followers(code) == 2
            await owner.publish(code, "frame", "frame")  # filtered out for the owner
            got = await settle(owner_view)
            assert [(m.kind, m.payload) for m in got][-1] == (KIND_FOLLOWERS, "2")
            assert await side.leave(code, "s1") == 1
            assert await side.leave(code, "s1") == 1  # twice: no change
            got = await settle(owner_view)
            assert [(m.kind, m.payload) for m in got] == [(KIND_FOLLOWERS, "1")]
            await owner_view.aclose()
            with pytest.raises(RoomNotFoundError):
                await side.join(new_room_code(), "s3")

    asyncio.run(main())


def test_close_ends_every_subscription(pair: Pair) -> None:
    async def main() -> None:
        async with pair() as (owner, side):
            code = new_room_code()
            await owner.open(code, "owner")
            subs = [await side.subscribe(code) for _ in range(5)]
            await owner.publish(code, "last words", "note")
            await owner.close(code)
            await owner.close(code)  # idempotent
            for sub in subs:
                got = [m async for m in sub]
                assert [(m.kind, m.payload) for m in got] == [
                    ("note", "last words"),
                    (KIND_CLOSED, REASON_CLOSED),
                ]
                await sub.aclose()
            assert not await side.exists(code)
            assert await side.followers(code) == 0
            with pytest.raises(RoomNotFoundError):
                await side.subscribe(code)
            with pytest.raises(RoomNotFoundError):
                await owner.publish(code, "too late")
            await owner.open(code, "owner-2")  # the code is free again
            await owner.close(code)

    asyncio.run(main())


def test_open_refuses_a_live_code_and_bad_input(pair: Pair) -> None:
    async def main() -> None:
        async with pair() as (owner, side):
            code = new_room_code()
            await owner.open(code, "owner")
            assert await side.exists(code.lower())
            with pytest.raises(RoomExistsError):
                await side.open(code, "intruder")
            with pytest.raises(InvalidRoomCodeError):
                await owner.open("nope", "owner")
            for kind in ("closed", "followers", "status", "Frame", "", "x" * 40):
                with pytest.raises(ValueError, match="kind"):
                    await owner.publish(code, "{}", kind)
            with pytest.raises(ValueError, match="over the limit"):
                await owner.publish(code, b"x" * (owner.max_payload_bytes + 1))
            with pytest.raises(TypeError):
                await owner.publish(code, cast(str, 3))
            with pytest.raises(ValueError, match="owner_id"):
                await owner.open(new_room_code(), "")

    asyncio.run(main())


def test_broker_shutdown_ends_its_rooms(pair: Pair) -> None:
    async def main() -> None:
        async with pair() as (owner, side):
            code = new_room_code()
            await owner.open(code, "owner")
            sub = await side.subscribe(code)
            await owner.aclose()
            got = await take(sub, 1)
            assert (got[0].kind, got[0].payload) == (KIND_CLOSED, REASON_SHUTDOWN)
            await sub.aclose()

    asyncio.run(main())
