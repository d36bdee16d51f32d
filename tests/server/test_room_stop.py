"""A server that stops gracefully (SIGTERM to ``bpviz serve``) ends its rooms first: the
owner and every follower get ``room`` ``closed`` ``shutdown`` before their websocket
closes (1012); the rooms of the in-process hook (``room_stop.py``) end the same way."""

from __future__ import annotations

import json
import signal
import threading
from pathlib import Path
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from bpviz.server.settings import Settings
from bpviz.server.workers import Server

from .conftest import LiveServer
from .test_resume import Client
from .test_rooms import follow, owner_with_room
from .test_workers import Served


def last_messages(ws: Any) -> tuple[list[dict[str, Any]], int | None]:
    """Every message until the server closes the connection, and its close code."""
    got: list[dict[str, Any]] = []
    try:
        while True:
            got.append(json.loads(ws.recv(timeout=20)))
    except ConnectionClosed as closed:
        return got, closed.rcvd.code if closed.rcvd else None


def test_sigterm_tells_the_owner_and_the_followers_before_closing(tmp_path: Path) -> None:
    served = Served(tmp_path, workers=1)
    try:
        url = f"ws://127.0.0.1:{served.port}/ws"
        with connect(url, open_timeout=10) as owner:
            owner.send(json.dumps({"type": "room_open"}))
            room = json.loads(owner.recv(timeout=10))
            while room["type"] != "room":
                room = json.loads(owner.recv(timeout=10))
            code = room["code"]
            with connect(f"{url}?room={code}", open_timeout=10) as student:
                while json.loads(student.recv(timeout=10))["type"] != "grid":
                    pass
                served.proc.send_signal(signal.SIGTERM)
                for ws, role in ((owner, "owner"), (student, "follower")):
                    got, close_code = last_messages(ws)
                    rooms = [m for m in got if m["type"] == "room"]
                    assert rooms, (role, got)
                    last = rooms[-1]
                    assert last["closed"] is True and last["reason"] == "shutdown", rooms
                    assert last["role"] == role and last["code"] == code
                    assert close_code == 1012, close_code
        served.proc.wait(timeout=40)  # (one process: uvicorn raises the SIGTERM again)
    finally:
        served.stop()


def test_a_stop_in_process_ends_the_rooms_before_closing(settings: Settings) -> None:
    live = LiveServer(settings)
    live.server = Server(live.server.config)  # bpviz serve's server, in a thread
    live.thread = threading.Thread(target=live.server.run, daemon=True)
    with live:
        owner, code = owner_with_room(live.url, steps=1)
        with owner, follow(live.url, code) as f:
            f.until("grid")
            live.server.should_exit = True
            for c, role in ((owner, "owner"), (f, "follower")):
                got, close_code = last_messages(c.ws)
                last = [m for m in got if m["type"] == "room"][-1]
                assert last["closed"] and last["reason"] == "shutdown" and last["role"] == role
                assert close_code == 1012


def test_no_room_opens_while_stopping(live: LiveServer) -> None:
    with Client(live.url) as c:
        c.until("grid")
        live.app.state.runtime.rooms.stopping = True
        c.send(type="room_open")
        assert c.until("error")["code"] == "unavailable"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", snapshot_interval=0.5)
