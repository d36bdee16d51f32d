"""A subscriber's queue: coalescing by kind, bounded control messages, the final ``closed``."""

from __future__ import annotations

import asyncio
from typing import Any

from bpviz.server.stores.subscription import (
    KIND_CLOSED,
    REASON_CLOSED,
    REASON_OVERFLOW,
    RoomMessage,
    Subscription,
)


async def _nothing(sub: Subscription) -> None:
    return None


def make(**kw: Any) -> Subscription:
    opts: dict[str, Any] = {
        "kinds": None,
        "coalesce": {"frame", "grid"},
        "max_queued": 8,
        "max_queued_bytes": 1 << 20,
        "detach": _nothing,
    }
    opts.update(kw)
    return Subscription("ACDEFG", **opts)


def pending(sub: Subscription) -> list[tuple[str, bytes | str]]:
    async def read() -> list[tuple[str, bytes | str]]:
        out = []
        while sub.pending:
            msg = await sub.__anext__()
            out.append((msg.kind, msg.payload))
        return out

    return asyncio.run(read())


def test_coalesced_kinds_keep_the_newest_in_order() -> None:
    sub = make()
    for kind, payload in [
        ("frame", "f1"),
        ("note", "n1"),
        ("frame", "f2"),
        ("grid", "g1"),
        ("frame", "f3"),
    ]:
        sub.deliver(RoomMessage(kind, payload))
    assert pending(sub) == [("note", "n1"), ("grid", "g1"), ("frame", "f3")]
    assert sub.dropped == 2 and sub.pending_bytes == 0


def test_a_slow_subscriber_holds_one_frame_however_many_are_published() -> None:
    sub = make()
    frame = b"x" * 20_000
    for _ in range(10_000):
        sub.deliver(RoomMessage("frame", frame))
    assert sub.pending == 1 and sub.pending_bytes == len(frame)


def test_control_queue_overflow_ends_the_stream() -> None:
    sub = make(max_queued=3)
    for i in range(3):
        sub.deliver(RoomMessage("note", str(i)))
    sub.deliver(RoomMessage("frame", "f"))
    assert not sub.ended
    sub.deliver(RoomMessage("note", "3"))
    assert sub.ended
    assert pending(sub) == [(KIND_CLOSED, REASON_OVERFLOW)]
    sub.deliver(RoomMessage("note", "late"))  # ignored once ended
    assert sub.pending == 0


def test_control_queue_is_bounded_in_bytes() -> None:
    sub = make(max_queued_bytes=1000)
    sub.deliver(RoomMessage("note", b"x" * 600))
    sub.deliver(RoomMessage("note", b"x" * 600))
    assert pending(sub) == [(KIND_CLOSED, REASON_OVERFLOW)]


def test_kinds_filter_lets_reserved_kinds_through() -> None:
    sub = make(kinds={"followers"})
    sub.deliver(RoomMessage("frame", "f"))
    sub.deliver(RoomMessage("followers", "3"))
    sub.deliver(RoomMessage("followers", "4"))
    sub.end(REASON_CLOSED)
    assert pending(sub) == [("followers", "4"), (KIND_CLOSED, REASON_CLOSED)]


def test_retained_go_first_unless_a_newer_one_arrived() -> None:
    sub = make(coalesce={"frame", "grid", "topology"})
    sub.deliver(RoomMessage("frame", "live"))
    sub.deliver_retained(
        [RoomMessage("topology", "t0"), RoomMessage("frame", "old"), RoomMessage("note", "n0")]
    )
    assert pending(sub) == [("topology", "t0"), ("note", "n0"), ("frame", "live")]
    sub.forget_seen()  # after a lost link, retained ones are taken again
    sub.deliver_retained([RoomMessage("topology", "t1")])
    assert pending(sub) == [("topology", "t1")]


def test_iteration_ends_after_closed_and_aclose_wakes_a_reader() -> None:
    async def main() -> None:
        detached: list[Subscription] = []

        async def detach(s: Subscription) -> None:
            detached.append(s)

        sub = make(detach=detach)
        sub.deliver(RoomMessage("note", "a"))
        sub.end(REASON_CLOSED)
        assert [m.kind async for m in sub] == ["note", KIND_CLOSED]

        other = make(detach=detach)
        reader = asyncio.create_task(other.__anext__())
        await asyncio.sleep(0.01)
        await other.aclose()
        await other.aclose()
        try:
            await reader
        except StopAsyncIteration:
            pass
        else:
            raise AssertionError("the reader should have stopped")
        assert detached == [other]

    asyncio.run(main())
