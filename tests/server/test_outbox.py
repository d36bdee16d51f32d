"""The outbox: control messages in order and bounded, frames and grids coalesced."""

from __future__ import annotations

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


def test_control_messages_are_bounded_oldest_dropped() -> None:
    box = Outbox(limit=3)
    for i in range(5):
        box.put(str(i))
    assert box.dropped == 2
    assert drain(box) == ["2", "3", "4"]
    assert Outbox().limit == OUTBOX_LIMIT
