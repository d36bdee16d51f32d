"""Shared fixtures: the app, a TestClient websocket helper, a real uvicorn server."""

from __future__ import annotations

import base64
import json
import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi.testclient import TestClient

from bpviz.core.experiment import config as core_config
from bpviz.core.experiment.build import build
from bpviz.server import frames
from bpviz.server.app import create_app
from bpviz.server.frames import HistoryFeed, View
from bpviz.server.messages import Frame
from bpviz.server.protocol import server_adapter
from bpviz.server.settings import Settings


def _no_constants(token: str) -> Any:
    raise AssertionError(f"bare {token} token in a message")


def frames_of(config: dict[str, Any]) -> list[Frame]:
    """Frames of ``config``'s experiment: before any step, phase by phase, after 20
    steps, while playing (a history reset, then increments of one and of several points,
    then one with nothing new and no metrics) and with the whole history again."""
    exp = build(core_config.validate(config))
    view = View()
    feed = HistoryFeed()
    rewind = {"first": 0, "last": 3, "count": 4}

    def frame() -> Frame:
        return frames.frame(exp, view, feed.next(exp), exp.metrics(), rewind)

    out = [frame()]
    for _ in range(len(exp.phases())):
        exp.step_phase()
        out.append(frame())
    for _ in range(20):
        exp.step()
    out.append(frame())
    view.playing, view.steps_per_second = True, 1234.5
    for steps in (1, 1, 7):
        for _ in range(steps):
            exp.step()
        out.append(frame())
    out.append(frames.frame(exp, view, None, None, rewind))  # nothing new, no metrics
    view.playing, view.viewing = False, 3  # (as after a seek) with the whole history
    feed.restart()
    out.append(frame())
    return out


def strict_json(text: str) -> Any:
    """Parse like the browser's JSON.parse: NaN/Infinity tokens are an error."""
    return json.loads(text, parse_constant=_no_constants)


class Conn:
    """A websocket test connection that reads until a message of a given type."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.seen: list[dict[str, Any]] = []

    def send(self, **msg: Any) -> None:
        self.ws.send_text(json.dumps(msg))

    def recv(self) -> dict[str, Any]:
        text = self.ws.receive_text()
        msg: dict[str, Any] = strict_json(text)
        server_adapter.validate_python(msg)  # every message the server sends fits its model
        self.seen.append(msg)
        return msg

    def until(self, kind: str, limit: int = 200) -> dict[str, Any]:
        for _ in range(limit):
            msg = self.recv()
            if msg["type"] == kind:
                return msg
            if msg["type"] == "error":
                raise AssertionError(f"error while waiting for {kind!r}: {msg}")
        raise AssertionError(f"no {kind!r} message")


@pytest.fixture(autouse=True)
def no_cpu_of_its_own(monkeypatch: pytest.MonkeyPatch) -> None:
    """`bpviz serve` (as some tests call it) writes ``BPVIZ_CPU`` to the environment, and
    an app served with it keeps its event loop's thread on one CPU: none in this test
    process, then (restored after each test). Servers started as processes pin theirs."""
    monkeypatch.setenv("BPVIZ_CPU", "-1")


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data")


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as c:
        yield c


@pytest.fixture
def conn(client: TestClient) -> Iterator[Conn]:
    with client.websocket_connect("/ws") as ws:
        c = Conn(ws)
        assert c.recv()["type"] == "hello"
        c.until("grid")
        yield c


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LiveServer:
    def __init__(self, settings: Settings) -> None:
        self.app = create_app(settings)
        self.port = free_port()
        config = uvicorn.Config(
            self.app,
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            **settings.uvicorn_options(),
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture
def live(settings: Settings) -> Iterator[LiveServer]:
    with LiveServer(settings) as server:
        yield server


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[Any]:
    """A real ``redis-server`` of this test's own (``stores/conftest.RedisServer``)."""
    from .stores.conftest import REDIS_SERVER, RedisServer

    if not Path(REDIS_SERVER).exists():
        pytest.skip("redis-server is not installed (.ci/run installs it)")
    server = RedisServer(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def raw_websocket(port: int) -> socket.socket:
    """A websocket client on a bare socket: the handshake done, nothing read after it."""
    sock = socket.create_connection(("127.0.0.1", port))
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(
        (
            f"GET /ws HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
    )
    assert b"101" in sock.recv(1024).split(b"\r\n")[0]
    return sock
