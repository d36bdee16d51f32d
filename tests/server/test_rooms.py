"""Classroom rooms on one server (the in-process broker): open, follow, read-only,
copy, leave, close, late followers' history, slow followers, the page and the QR code."""

from __future__ import annotations

import json
import time
import urllib.request
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from bpviz.server.settings import Settings

from .conftest import LiveServer
from .test_resume import XOR, Client, resumed, weights


@pytest.fixture
def settings(tmp_path: Path, request: pytest.FixtureRequest) -> Settings:
    """The test's settings; ``indirect`` parametrization adds to them (a dict)."""
    extra = getattr(request, "param", {})
    return Settings(data_dir=tmp_path / "data", snapshot_interval=0.5, **extra)


def owner_with_room(url: str, steps: int = 3) -> tuple[Client, str]:
    c = Client(url)
    c.until("grid")
    c.send(type="configure", config=XOR)
    c.until("grid")
    if steps:
        c.send(type="step", unit="step", count=steps)
        c.until("frame")
    c.send(type="room_open")
    room = c.until("room")
    assert room["role"] == "owner" and room["followers"] == 0 and len(room["code"]) == 6
    return c, room["code"]


def follow(url: str, code: str, via: str = "message") -> Client:
    if via == "url":
        c = Client(f"{url}?room={code}")
    else:
        c = Client(url)
        c.until("grid")
        c.send(type="room_join", code=code.lower()[:3] + "-" + code[3:])
    room = c.until("room")
    assert room["role"] == "follower" and room["code"] == code and not room["closed"]
    return c


def ended(c: Client) -> dict[str, Any]:
    """The next ``room`` message that says this session is no longer in the room."""
    room = c.until("room")
    while not room["closed"]:
        room = c.until("room")
    return room


def followers(owner: Client, n: int, timeout: float = 5) -> None:
    """The owner has been told, last, that ``n`` follow (waiting for it if need be)."""
    told = [m["followers"] for m in owner.seen if m["type"] == "room"]
    if told and told[-1] == n:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        msg = owner.recv(timeout=timeout)
        if msg["type"] == "room" and msg["followers"] == n:
            return
    raise AssertionError(f"the owner was never told of {n} followers")


@pytest.mark.parametrize("via", ["message", "url"])
def test_a_follower_gets_the_owners_run_and_every_frame_after(live: LiveServer, via: str) -> None:
    owner, code = owner_with_room(live.url, steps=4)
    with owner, follow(live.url, code, via) as f:
        topo = f.until("topology")
        assert topo["config"]["data"]["name"] == "xor"
        first = f.until("frame")
        assert first["step"] == 4
        f.until("grid")
        followers(owner, 1)
        owner.send(type="step", unit="step", count=2)
        mine = owner.until("frame")
        theirs = f.until("frame")
        while theirs["step"] != 6:
            theirs = f.until("frame")
        assert weights(theirs) == weights(mine)
        owner.send(type="step", unit="phase")
        assert f.until("frame")["last_phase"]["kind"] == "forward"
        owner.send(type="configure", config={"data": {"name": "circle"}})
        assert f.until("topology")["config"]["data"]["name"] == "circle"
        if via == "url":  # no run was ever built for it
            sessions = live.app.state.runtime.sessions()
            assert sum(s.workspace.experiment is None for s in sessions) == 1


def test_followers_get_json_text_whatever_the_owners_client_reads(live: LiveServer) -> None:
    owner, code = owner_with_room(live.url, steps=1)
    with owner, follow(live.url, code) as f:
        f.until("grid")
        owner.send(type="options", frames="binary")  # from here on the owner reads bytes
        owner.send(type="step", unit="step")
        frame = f.until("frame")  # Client.recv parses JSON text and checks it with the model
        while frame["step"] != 2:
            frame = f.until("frame")
        owner.send(type="step", unit="epoch")
        assert f.until("grid")["type"] == "grid"


def test_a_follower_is_read_only(live: LiveServer) -> None:
    owner, code = owner_with_room(live.url)
    with owner, follow(live.url, code) as f:
        f.until("grid")
        for msg in (
            {"type": "step", "unit": "step"},
            {"type": "play"},
            {"type": "configure", "config": {}},
            {"type": "set", "training": {"learning_rate": 0.1}},
            {"type": "reset"},
            {"type": "seek", "step": 1},
            {"type": "room_open"},
            {"type": "export"},
        ):
            f.send(**msg)
            error = f.recv()
            while error["type"] != "error":
                error = f.recv()
            assert error["code"] == "follower", (msg, error)
        f.send(type="ping", id=5)
        while (msg := f.recv())["type"] != "pong":
            assert msg["type"] != "error"
        assert msg["id"] == 5


def test_copy_starts_from_the_owners_exact_state_and_branches(live: LiveServer) -> None:
    owner, code = owner_with_room(live.url, steps=6)
    with owner, follow(live.url, code) as f:
        f.until("grid")
        f.send(type="copy")
        assert ended(f)["reason"] == "copied"
        assert f.until("topology")["config"]["data"]["name"] == "xor"
        assert f.until("frame")["step"] == 6
        followers(owner, 0)
        f.send(type="step", unit="step")
        mine = f.until("frame")
        owner.send(type="step", unit="step")
        theirs = owner.until("frame")
        assert mine["step"] == theirs["step"] == 7
        assert weights(mine) == weights(theirs)  # the same numbers: an exact copy
        f.send(type="configure", config={"data": {"name": "moons"}})  # its own now
        assert f.until("topology")["config"]["data"]["name"] == "moons"
        f.send(type="room_join", code=code)  # and back
        assert f.until("room")["role"] == "follower"
        assert f.until("topology")["config"]["data"]["name"] == "xor"


def test_leave_goes_back_to_the_sessions_own_run(live: LiveServer) -> None:
    owner, code = owner_with_room(live.url)
    with owner, Client(live.url) as f:
        f.until("grid")
        f.send(type="step", unit="step", count=5)
        f.until("frame")
        f.send(type="room_join", code=code)
        assert f.until("room")["role"] == "follower"
        assert f.until("frame")["step"] == 3  # the owner's
        f.send(type="room_leave")
        assert ended(f)["reason"] == "left"
        assert f.until("topology")["config"]["data"]["name"] != "xor"
        assert f.until("frame")["step"] == 5  # its own, as it left it
        f.send(type="step", unit="step")
        assert f.until("frame")["step"] == 6


def test_close_ends_the_room_for_every_follower_who_can_still_copy(live: LiveServer) -> None:
    owner, code = owner_with_room(live.url, steps=2)
    with owner, follow(live.url, code) as a, follow(live.url, code, "url") as b:
        a.until("grid")
        b.until("grid")
        owner.send(type="room_close")
        assert ended(owner)["reason"] == "closed"
        for f in (a, b):
            assert ended(f)["reason"] == "closed"
        a.send(type="step", unit="step")
        assert a.recv()["code"] == "follower"
        a.send(type="copy")  # from the owner's last snapshot
        assert ended(a)["reason"] == "copied"
        assert a.until("frame")["step"] == 2
        b.send(type="room_join", code=code)
        assert b.until("error")["code"] == "room_unknown"


def test_the_owner_leaving_ends_the_room(live: LiveServer) -> None:
    live.app.state.runtime.rooms.grace = 0.3  # how long a room waits for a reload
    owner, code = owner_with_room(live.url)
    with follow(live.url, code) as f:
        f.until("grid")
        left = time.monotonic()
        owner.close()
        assert ended(f)["reason"] == "closed"
        assert time.monotonic() - left < 3


def test_an_owner_who_reloads_keeps_the_room(live: LiveServer) -> None:
    owner, code = owner_with_room(live.url, steps=2)
    token = owner.hello["resume_token"]
    with follow(live.url, code) as f:
        f.until("grid")
        owner.close()  # a reload: the page comes back with its token
        with resumed(live.url, token) as again:
            room = again.until("room")
            assert room["code"] == code and room["role"] == "owner" and room["followers"] == 1
            assert again.until("frame")["step"] == 2
            again.send(type="step", unit="step")
            assert again.until("frame")["step"] == 3
            theirs = until_frame(f, 3)
            assert not any(m["type"] == "room" and m["closed"] for m in f.seen)
            assert theirs["step"] == 3


def test_an_owner_whose_connection_dropped_unnoticed_takes_the_room_back(
    live: LiveServer,
) -> None:
    """The lecturer's network drops without a close (the server will notice only at its
    ping timeout, up to 35 s): the page reconnects at once with its token and
    ``takeover=1``. The old connection is closed (4000) and the room, the run and the
    token come back, instead of a copy under a new token beside a room left to die."""
    owner, code = owner_with_room(live.url, steps=2)
    token = owner.hello["resume_token"]
    with follow(live.url, code) as f:
        f.until("grid")
        with resumed(live.url, f"{token}&takeover=1") as again:  # `owner` still open
            assert again.hello["resume_token"] == token
            room = again.until("room")
            assert room["code"] == code and room["role"] == "owner" and room["followers"] == 1
            assert again.until("frame")["step"] == 2
            again.send(type="step", unit="step")
            assert again.until("frame")["step"] == 3
            assert until_frame(f, 3)["step"] == 3
            assert not any(m["type"] == "room" and m["closed"] for m in f.seen)
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                owner.recv(timeout=5)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4000
        assert closed.value.rcvd.reason == "taken over by a new connection"


def test_without_takeover_a_live_token_gives_a_copy_and_the_room_stays(
    live: LiveServer,
) -> None:
    owner, _ = owner_with_room(live.url, steps=2)
    with resumed(live.url, owner.hello["resume_token"]) as copy:  # a duplicated tab
        assert copy.hello["resume_token"] != owner.hello["resume_token"]
        assert copy.until("frame")["step"] == 2
        assert not any(m["type"] == "room" for m in copy.seen)
    owner.send(type="step", unit="step")
    assert owner.until("frame")["step"] == 3
    assert not any(m["type"] == "room" and m["closed"] for m in owner.seen)
    owner.close()


def until_frame(c: Client, step: int) -> dict[str, Any]:
    msg = c.until("frame")
    while msg["step"] != step:
        msg = c.until("frame")
    return msg


def test_bad_and_unknown_codes(live: LiveServer) -> None:
    with Client(live.url) as c:
        c.until("grid")
        c.send(type="room_join", code="O0O0O0")
        error = c.recv()
        while error["type"] != "error":
            error = c.recv()
        assert error["code"] == "room_unknown" and error["field"] == "code"
        c.send(type="room_join", code="ACDEFG")
        assert c.recv()["code"] == "room_unknown"
        for kind in ("room_leave", "room_close", "copy"):
            c.send(type=kind)
            assert c.recv()["code"] == "not_in_room"
        c.send(type="step", unit="step")  # still its own session
        assert c.until("frame")["step"] == 1


def test_a_late_follower_gets_the_whole_history(live: LiveServer) -> None:
    owner, code = owner_with_room(live.url, steps=0)
    with owner:
        owner.send(type="step", unit="step", count=40)
        owner.until("frame")
        owner.send(type="step", unit="step")  # the newest frame carries one point only
        owner.until("frame")
        with follow(live.url, code) as f:
            deadline = time.monotonic() + 3
            while time.monotonic() < deadline:
                msg = f.recv()
                history = msg.get("history") if msg["type"] == "frame" else None
                if history and history["reset"] and len(history["step"]) > 10:
                    assert history["step"][-1] == 41
                    return
            raise AssertionError("no frame with the whole history reached the late follower")


def test_rooms_are_isolated(live: LiveServer) -> None:
    one, code1 = owner_with_room(live.url)
    two, code2 = owner_with_room(live.url)
    assert code1 != code2
    with one, two, follow(live.url, code1) as f1, follow(live.url, code2) as f2:
        two.send(type="configure", config={"data": {"name": "spiral"}})
        while f2.until("topology")["config"]["data"]["name"] != "spiral":
            pass
        one.send(type="step", unit="step", count=3)
        while f1.until("frame")["step"] != 6:
            pass
        names = {m["config"]["data"]["name"] for m in f1.seen if m["type"] == "topology"}
        assert "spiral" not in names


def test_a_follower_that_never_reads_slows_no_one(live: LiveServer) -> None:
    owner, code = owner_with_room(live.url)
    stuck = follow(live.url, code)  # reads nothing from here on
    with owner, stuck, follow(live.url, code) as f:
        owner.send(type="play", speed=None, fps=30)
        t0 = time.monotonic()
        frames = 0
        while time.monotonic() - t0 < 2.0:
            if f.recv()["type"] == "frame":
                frames += 1
        owner.send(type="pause")
        assert frames >= 30, frames  # ~30 frames/s for the follower that reads
        links = [s.room for s in live.app.state.runtime.sessions() if s.room is not None]
        assert all(link.role == "owner" or link.sub.pending <= 8 for link in links)


def test_the_page_and_its_qr_code(live: LiveServer) -> None:
    base = f"http://127.0.0.1:{live.port}"
    with urllib.request.urlopen(f"{base}/r/k7r-mxh") as r:
        assert r.status == 200 and b"<html" in r.read()
    with urllib.request.urlopen(f"{base}/api/room/K7RMXH/qr.svg") as r:
        assert r.headers["Content-Type"].startswith("image/svg+xml")
        svg = r.read().decode()
    assert svg.startswith("<svg") and "viewBox" in svg and "K7R-MXH" in svg
    for bad in ("/r/OOOOOO", "/r/K7R-MX", "/api/room/short/qr.svg"):
        with pytest.raises(urllib.error.HTTPError) as info:
            urllib.request.urlopen(base + bad)
        body = info.value.read()
        info.value.close()
        assert info.value.code == 404
        if bad.startswith("/r/"):  # a person's mistyped link: the page, which says so
            assert info.value.headers["Content-Type"].startswith("text/html")
            assert b"<html" in body and b"no such room" not in body  # (not JSON)


# ---------------------------------------------------------------- admission


def error_of(c: Client) -> dict[str, Any]:
    """The next ``error`` this client gets."""
    msg = c.recv()
    while msg["type"] != "error":
        msg = c.recv()
    return msg


def refused(url: str) -> str:
    """A connection the server closes (1013) before its session starts: the reason."""
    with connect(url, open_timeout=10) as ws, pytest.raises(ConnectionClosed) as info:
        while True:
            msg = json.loads(ws.recv(timeout=10))
            assert msg["type"] in ("hello", "error", "room"), msg
    assert info.value.rcvd is not None and info.value.rcvd.code == 1013
    return info.value.rcvd.reason


def wait_for(check: Any, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "the server never got there"
        time.sleep(0.02)


@pytest.mark.parametrize("settings", [{"max_sessions": 2, "max_followers": 5}], indirect=True)
def test_followers_do_not_count_toward_max_sessions(live: LiveServer) -> None:
    runtime = live.app.state.runtime
    owner, code = owner_with_room(live.url)
    with owner, ExitStack() as stack:
        fs = [stack.enter_context(follow(live.url, code, "url")) for _ in range(5)]
        followers(owner, 5)
        other = Client(live.url)  # the second session of 2: followers took none
        other.until("grid")
        assert "server full" in refused(live.url)
        assert "max_followers" in refused(f"{live.url}?room={code}")
        assert runtime.follower_count == 5 and runtime.session_count == 7

        f = fs[0]
        f.until("grid")
        for ask in ("copy", "room_leave"):  # a run of its own is a session: none is free
            f.send(type=ask)
            error = error_of(f)
            assert error["code"] == "busy" and "keep following" in error["message"], error
        f.send(type="step", unit="step")
        assert error_of(f)["code"] == "follower"  # still a follower, still following
        owner.send(type="step", unit="step", count=2)
        assert until_frame(f, 5)["step"] == 5
        assert runtime.follower_count == 5

        other.close()  # a session's slot frees: now the copy is a session
        wait_for(lambda: runtime.session_count == 6)
        f.send(type="copy")
        assert ended(f)["reason"] == "copied"
        assert f.until("frame")["step"] == 5
        f.send(type="step", unit="step")
        assert f.until("frame")["step"] == 6
        assert runtime.follower_count == 4
        followers(owner, 4)
        assert "server full" in refused(live.url)


@pytest.mark.parametrize("settings", [{"max_followers": 1}], indirect=True)
def test_a_join_past_max_followers_is_refused_and_the_session_keeps_its_run(
    live: LiveServer,
) -> None:
    owner, code = owner_with_room(live.url)
    with owner, follow(live.url, code, "url"), Client(live.url) as c:
        c.until("grid")
        c.send(type="room_join", code=code)
        error = error_of(c)
        assert error["code"] == "busy" and "max_followers" in error["message"]
        c.send(type="step", unit="step")
        assert c.until("frame")["step"] == 1  # its own run, untouched


@pytest.mark.parametrize("settings", [{"max_sessions": 1}], indirect=True)
def test_a_link_to_no_room_needs_a_session_slot(live: LiveServer) -> None:
    """``/ws?room=CODE`` is admitted as a follower; when the room is not there the
    connection would need a run of its own: refused (1013) while sessions are full."""
    with Client(live.url) as one:  # the one session
        one.until("grid")
        assert "server full" in refused(f"{live.url}?room=ACDEFG")
    wait_for(lambda: live.app.state.runtime.session_count == 0)
    with Client(f"{live.url}?room=ACDEFG") as c:  # a free slot: it starts as usual
        assert error_of(c)["code"] == "room_unknown"
        assert c.until("frame")["step"] == 0


def test_the_limits_name_max_followers(live: LiveServer) -> None:
    with urllib.request.urlopen(f"http://127.0.0.1:{live.port}/api/limits") as r:
        limits = json.loads(r.read())
    assert limits["max_followers"] == 2000 and limits["max_sessions"] == 300
    with Client(live.url) as c:
        assert c.hello["limits"]["max_followers"] == 2000


@pytest.mark.parametrize("settings", [{"workers": 2}, {}], indirect=True)
def test_an_unknown_room_with_workers_and_no_redis_may_be_on_another_process(
    live: LiveServer, settings: Settings
) -> None:
    with Client(live.url) as c:
        c.until("grid")
        c.send(type="room_join", code="ACDEFG")
        message = error_of(c)["message"]
        if settings.workers > 1:
            assert "another process" in message and "BPVIZ_REDIS_URL" in message
        else:
            assert message == "no room ACDEFG is open"
