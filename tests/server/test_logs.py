"""What the server logs: one INFO line when a session opens and one when it closes (its
id and how long it lasted, never what was said); ERROR only for real faults — a normal
or abrupt disconnect, invalid UTF-8 and a client too slow to read log no traceback."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import socket
import time
from typing import Any

import pytest
from websockets.asyncio.client import connect

from bpviz.server.settings import Settings

from .conftest import LiveServer, raw_websocket


def _wait_for(predicate: Any, timeout: float = 10.0) -> None:
    start = time.monotonic()
    while not predicate():
        assert time.monotonic() - start < timeout, "timed out"
        time.sleep(0.02)


def _frame(payload: bytes, opcode: int = 0x1) -> bytes:
    """A masked client frame (payload < 64 KiB)."""
    mask = os.urandom(4)
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    n = len(payload)
    size = bytes([0x80 | n]) if n < 126 else bytes([0x80 | 126]) + n.to_bytes(2, "big")
    return bytes([0x80 | opcode]) + size + mask + masked


def _problems(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]


def _closed_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if "closed after" in r.getMessage()]


def test_a_session_logs_one_line_open_and_one_closed(
    live: LiveServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bpviz")
    secret = "do-not-log-me"

    async def run() -> None:
        async with connect(live.url) as ws:
            await ws.send(json.dumps({"type": "ping", "id": secret}))
            while json.loads(await ws.recv())["type"] != "pong":
                pass

    asyncio.run(run())
    _wait_for(lambda: live.app.state.runtime.session_count == 0)
    _wait_for(lambda: len(_closed_lines(caplog)) == 1)
    (closed,) = _closed_lines(caplog)
    assert re.search(r"session \w+ closed after \d+\.\d s", closed)
    opened = [r for r in caplog.records if "opened" in r.getMessage()]
    assert len(opened) == 1
    assert all(secret not in r.getMessage() for r in caplog.records)
    assert _problems(caplog) == []


def test_disconnects_with_replies_still_queued_log_no_traceback(
    live: LiveServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    runtime = live.app.state.runtime

    async def run() -> None:
        for _ in range(3):  # a normal close while frames stream and replies queue
            async with connect(live.url) as ws:
                await ws.send(json.dumps({"type": "play", "speed": None, "fps": 60}))
                for i in range(20):
                    await ws.send(json.dumps({"type": "ping", "id": i}))
                await ws.recv()

    asyncio.run(run())
    for _ in range(3):  # abrupt: a reset, no close frame, while playing
        sock = raw_websocket(live.port)
        sock.sendall(_frame(json.dumps({"type": "play", "speed": None, "fps": 60}).encode()))
        time.sleep(0.1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        sock.close()
    _wait_for(lambda: runtime.session_count == 0 and runtime.task_count == 0)
    _wait_for(lambda: len(_closed_lines(caplog)) == 6)
    assert _problems(caplog) == []


def test_invalid_utf8_logs_no_traceback(live: LiveServer, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    runtime = live.app.state.runtime
    sock = raw_websocket(live.port)
    sock.sendall(_frame(b'{"type": "ping", "id": "\xff\xfe"}'))
    _wait_for(lambda: runtime.session_count == 0)
    sock.close()
    _wait_for(lambda: len(_closed_lines(caplog)) == 1)
    assert _problems(caplog) == []


@pytest.mark.parametrize("settings", [Settings(outbox_max_bytes=64 * 1024)])
def test_a_client_too_slow_is_closed_with_a_reason_and_no_traceback(
    live: LiveServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    runtime = live.app.state.runtime
    sock = raw_websocket(live.port)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    config = {"network": {"hidden": [{"units": 64, "activation": "tanh"}] * 3}}
    sock.sendall(_frame(json.dumps({"type": "configure", "config": config}).encode()))
    for _ in range(40):  # exports of ~130 KB each, never read
        sock.sendall(_frame(b'{"type": "export"}'))
        sock.sendall(_frame(b'{"type": "ping"}'))  # (a ping does not cancel the export)
    _wait_for(lambda: any("too slow" in line for line in _closed_lines(caplog)), 20)
    _wait_for(lambda: runtime.session_count == 0)
    sock.close()
    assert _problems(caplog) == []
