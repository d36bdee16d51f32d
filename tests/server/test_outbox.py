"""The outbox: control messages in order, frames and grids coalesced, all bounded in bytes."""

from __future__ import annotations

import asyncio

from bpviz.server.outbox import OUTBOX_LIMIT, Outbox


def drain(box: Outbox) -> list[str]:
    out = []
    while (text := box.pop()) is not None:
        out.append(text)
    return out


def test_control_first_then_the_newest_frame_then_the_newest_grid() -> None:
    box = Outbox()
    box.put_frame("f1")
    box.put_grid("g1")
    box.put("c1")
    box.put_frame("f2")
    box.put("c2")
    box.put_grid("g2")
    assert box.ready.is_set() and not box.empty
    assert drain(box) == ["c1", "c2", "f2", "g2"]
    assert box.empty and not box.ready.is_set()


def test_a_topology_drops_the_frames_of_the_old_network() -> None:
    box = Outbox()
    box.put_frame("old frame")
    box.put_grid("old grid")
    box.put_topology("topology")
    box.put_frame("new frame")
    assert drain(box) == ["topology", "new frame"]


def test_too_many_control_messages_overflow_and_nothing_more_is_queued() -> None:
    reasons: list[str] = []
    box = Outbox(limit=3, on_overflow=reasons.append)
    for i in range(5):
        box.put(str(i))
    assert box.overflow is not None and len(reasons) == 1  # said once
    assert drain(box) == ["0", "1", "2"]
    assert box.ready.is_set()  # the sender wakes up to close the connection
    assert Outbox().limit == OUTBOX_LIMIT


def test_bytes_are_bounded_and_a_coalesced_slot_counts_once() -> None:
    box = Outbox(max_bytes=100)
    for _ in range(50):
        box.put_frame("f" * 60)  # each replaces the last: 60 bytes waiting, not 3,000
    assert box.nbytes == 60 and box.overflow is None
    box.put_grid("g" * 30)
    box.put("c" * 10)
    assert box.nbytes == 100 and box.overflow is None
    box.put_frame("f" * 61)  # one byte too many
    assert box.overflow is not None and "100" in box.overflow
    assert box.nbytes == 100  # the refused frame is not kept; the old one still is
    assert drain(box) == ["c" * 10, "f" * 60, "g" * 30]
    assert box.nbytes == 0


def test_a_topology_frees_the_bytes_of_the_old_frames() -> None:
    box = Outbox(max_bytes=100)
    box.put_frame("f" * 60)
    box.put_grid("g" * 30)
    box.put_topology("t" * 90)
    assert box.nbytes == 90 and box.overflow is None
    assert drain(box) == ["t" * 90]


def test_binary_frames_count_their_bytes() -> None:
    box = Outbox(max_bytes=10)
    box.put_frame(b"\x00" * 10)
    assert box.nbytes == 10 and box.overflow is None
    assert drain(box) == [b"\x00" * 10]


def test_room_waits_for_the_replies_to_go_out_and_no_longer_than_its_bound() -> None:
    async def run() -> tuple[int, float, float]:
        box = Outbox()
        for i in range(40):
            box.put(f"reply {i}")

        async def sender() -> None:  # sends one message a turn, like the session's
            while box.pop() is not None:
                await asyncio.sleep(0)

        task = asyncio.create_task(sender())
        await box.room(backlog=4, seconds=5.0)
        left = len(box.control)
        await task
        for i in range(10):
            box.put(f"unread {i}")  # nobody sends: room gives up after its bound
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        await box.room(backlog=4, seconds=0.2)
        waited = loop.time() - t0
        t0 = loop.time()
        await box.room(backlog=32, seconds=5.0)  # under the backlog: no wait
        return left, waited, loop.time() - t0

    left, waited, quick = asyncio.run(run())
    assert left <= 4
    assert 0.2 <= waited < 2.0 and quick < 0.1
