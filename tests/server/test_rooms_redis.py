"""Rooms and resume across processes on one Redis: the owner on server A, followers on B;
Redis stopped and restarted mid-room; the owner's process killed; Redis missing at start."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bpviz.server.settings import Settings

from .conftest import LiveServer, free_port
from .stores.conftest import RedisServer
from .test_resume import XOR, Client, Subprocess, resumed, stepped, weights
from .test_rooms import ended, follow, followers, owner_with_room


@pytest.fixture
def pair(redis_server: RedisServer, tmp_path: Path) -> Iterator[tuple[LiveServer, LiveServer]]:
    """Two servers (their own data directories: only Redis is shared)."""
    a = Settings(redis_url=redis_server.url, data_dir=tmp_path / "a", snapshot_interval=0.5)
    b = Settings(redis_url=redis_server.url, data_dir=tmp_path / "b", snapshot_interval=0.5)
    with LiveServer(a) as first, LiveServer(b) as second:
        yield first, second


def until(c: Client, test: Any, timeout: float = 10) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        msg = c.recv(timeout=timeout)
        if test(msg):
            return msg
    raise AssertionError("the message never came")


def test_owner_on_one_server_followers_on_another(pair: tuple[LiveServer, LiveServer]) -> None:
    a, b = pair
    owner, code = owner_with_room(a.url, steps=5)
    with owner, follow(b.url, code) as f1, follow(b.url, code, "url") as f2:
        assert f1.until("topology")["config"]["data"]["name"] == "xor"
        assert f1.until("frame")["step"] == 5
        followers(owner, 2)
        owner.send(type="step", unit="step", count=2)
        mine = owner.until("frame")
        for f in (f1, f2):
            theirs = until(f, lambda m: m["type"] == "frame" and m["step"] == 7)
            assert weights(theirs) == weights(mine)
        time.sleep(0.5)  # the owner's snapshot (a copy elsewhere starts from it)
        f1.send(type="copy")
        assert ended(f1)["reason"] == "copied"
        copy = f1.until("frame")
        assert copy["step"] == 7 and weights(copy) == weights(mine)
        f1.send(type="step", unit="step")
        owner.send(type="step", unit="step")
        assert weights(f1.until("frame")) == weights(owner.until("frame"))
        followers(owner, 1)
        f2.send(type="step", unit="step")
        assert f2.until("error")["code"] == "follower"


def test_a_run_resumes_on_whichever_server_the_reconnect_lands(
    pair: tuple[LiveServer, LiveServer],
) -> None:
    a, b = pair
    token, frame = stepped(a.url, 6)
    with resumed(b.url, token) as c:
        again = c.until("frame")
        assert again["step"] == 6 and weights(again) == weights(frame)
        c.send(type="step", unit="step")
        assert c.until("frame")["step"] == 7
    time.sleep(0.5)
    with resumed(a.url, token) as c:
        assert c.until("frame")["step"] == 7


def test_redis_stopped_and_restarted_mid_room(
    pair: tuple[LiveServer, LiveServer], redis_server: RedisServer
) -> None:
    a, b = pair
    owner, code = owner_with_room(a.url, steps=2)
    with owner, follow(b.url, code) as f, Client(a.url) as other:
        f.until("grid")
        other.until("grid")
        redis_server.stop()
        down = until(f, lambda m: m["type"] == "room" and m["available"] is False)
        assert down["code"] == code and not down["closed"]
        owner.send(type="step", unit="step")  # own sessions keep working
        assert owner.until("frame")["step"] == 3
        other.send(type="room_open")
        assert other.until("error")["code"] == "unavailable"
        redis_server.start()  # empty: the owner's server re-creates the room
        until(f, lambda m: m["type"] == "room" and m["available"] is True, timeout=15)
        owner.send(type="step", unit="step", count=4)
        until(f, lambda m: m["type"] == "frame" and m["step"] == 7, timeout=15)
        other.send(type="room_open")
        assert other.until("room")["role"] == "owner"


def test_the_owners_process_killed_ends_the_room_for_followers_elsewhere(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    env = {"BPVIZ_REDIS_URL": redis_server.url}
    server = Subprocess(tmp_path / "data", tmp_path / "owner.log", env)
    try:
        owner, code = owner_with_room(server.url, steps=1)
        settings = Settings(redis_url=redis_server.url, data_dir=tmp_path / "b")
        with LiveServer(settings) as b, follow(b.url, code) as f:
            f.until("grid")
            killed = time.monotonic()
            server.kill()
            room = ended(f)
            assert room["reason"] == "owner_gone"
            assert time.monotonic() - killed < 8
            owner.ws.close_socket()
    finally:
        if server.proc.poll() is None:
            server.kill()


def test_redis_missing_at_start_leaves_own_sessions_working(tmp_path: Path) -> None:
    url = f"redis://127.0.0.1:{free_port()}/0"
    with LiveServer(Settings(redis_url=url, data_dir=tmp_path)) as live, Client(live.url) as c:
        c.until("grid")
        c.send(type="configure", config=XOR)
        c.until("grid")
        c.send(type="room_open")
        assert c.until("error")["code"] == "unavailable"
        c.send(type="room_join", code="K7RMXH")
        assert c.until("error")["code"] == "unavailable"
        c.send(type="step", unit="step")
        assert c.until("frame")["step"] == 1
