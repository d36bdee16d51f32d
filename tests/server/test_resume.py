"""Runs that survive: resume tokens, snapshots, a reload, a server restart, ``kill -9``."""

from __future__ import annotations

import itertools
import json
import logging
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from websockets.sync.client import ClientConnection, connect

from bpviz.server.protocol import server_adapter
from bpviz.server.resume import DEBOUNCE, SPREAD
from bpviz.server.settings import Settings

from .conftest import Conn, LiveServer, free_port, strict_json

XOR = {"data": {"name": "xor"}, "network": {"hidden": [{"units": 4, "activation": "tanh"}]}}


class Client(Conn):
    """``Conn`` (read until a message of a given type) over a real websocket, synchronous."""

    def __init__(self, url: str) -> None:
        super().__init__(connect(url, open_timeout=10, max_size=None).__enter__())
        self.ws: ClientConnection
        self.hello = self.until("hello")

    def send(self, **msg: Any) -> None:
        self.ws.send(json.dumps(msg))

    def recv(self, timeout: float = 10) -> dict[str, Any]:
        msg: dict[str, Any] = strict_json(self.ws.recv(timeout=timeout))
        server_adapter.validate_python(msg)
        self.seen.append(msg)
        return msg

    def until(self, kind: str, limit: int = 500) -> dict[str, Any]:
        return super().until(kind, limit)

    def close(self) -> None:
        self.ws.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def weights(frame: dict[str, Any]) -> list[Any]:
    return [(layer["W"], layer["b"]) for layer in frame["layers"]]


def stepped(url: str, steps: int, config: dict[str, Any] = XOR) -> tuple[str, dict[str, Any]]:
    """A session that configured ``config`` and took ``steps`` steps: its token and frame."""
    with Client(url) as c:
        c.until("grid")
        c.send(type="configure", config=config)
        c.until("topology")
        c.until("grid")
        c.send(type="step", unit="step", count=steps)
        frame = c.until("frame")
        assert frame["step"] == steps
        time.sleep(DEBOUNCE + 0.3)  # the snapshot is written once the session is idle
        return c.hello["resume_token"], frame


def reference(url: str, steps: int, config: dict[str, Any] = XOR) -> dict[str, Any]:
    """The frame of a run that never stopped: ``steps`` steps in one session."""
    with Client(url) as c:
        c.until("grid")
        c.send(type="configure", config=config)
        c.until("grid")
        c.send(type="step", unit="step", count=steps)
        return c.until("frame")


def resumed(url: str, token: str) -> Client:
    c = Client(f"{url}?resume={token}")
    assert c.hello["resumed"] is True, c.seen
    return c


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", snapshot_interval=0.5)


def test_hello_carries_a_fresh_128_bit_token(live: LiveServer) -> None:
    with Client(live.url) as a, Client(live.url) as b:
        for c in (a, b):
            assert len(c.hello["resume_token"]) == 22
            assert c.hello["resumed"] is False
        assert a.hello["resume_token"] != b.hello["resume_token"]


def test_a_reload_resumes_the_run_exactly(live: LiveServer) -> None:
    token, frame = stepped(live.url, 7)
    with resumed(live.url, token) as c:
        assert c.hello["resume_token"] == token  # the same run, the same token
        assert c.until("topology")["config"]["data"]["name"] == "xor"
        again = c.until("frame")
        assert again["step"] == 7
        assert weights(again) == weights(frame)
        assert again["history"]["reset"] is True and again["history"]["step"][-1] == 7
        c.send(type="step", unit="step")
        after = c.until("frame")
    assert after["step"] == 8
    ref = reference(live.url, 8)
    assert weights(after) == weights(ref)
    assert after["loss"] == ref["loss"]


def test_a_server_restart_on_the_same_data_dir_resumes_the_run(settings: Settings) -> None:
    with LiveServer(settings) as first:
        token, frame = stepped(first.url, 12)
    with LiveServer(settings) as second:
        with resumed(second.url, token) as c:
            again = c.until("frame")
            assert again["step"] == 12 and weights(again) == weights(frame)
            c.send(type="step", unit="step", count=3)
            after = c.until("frame")
        ref = reference(second.url, 15)
    assert after["step"] == 15
    assert weights(after) == weights(ref) and after["loss"] == ref["loss"]


def test_a_resumed_run_passes_the_memory_check_of_a_configure(settings: Settings) -> None:
    """A snapshot whose network is over the session budget now (the server restarted
    with a smaller ``session_memory_bytes``) is refused like a configure of it would be:
    a fresh session and a notice, never a run past the budget."""
    digits = {
        "data": {"name": "digits"},
        "network": {"hidden": [{"units": 64, "activation": "relu"}] * 2, "loss": "softmax_ce"},
    }
    with LiveServer(settings) as first, Client(first.url) as c:
        c.until("grid")
        c.send(type="configure", config=digits)  # about 20 MiB: within the default 64
        c.until("topology")
        assert c.until("frame")["step"] == 0
        c.send(type="step", unit="step", count=2)
        assert c.until("frame")["step"] == 2
        token = c.hello["resume_token"]
        time.sleep(DEBOUNCE + 0.3)  # the snapshot is written once the session is idle
    small = settings.model_copy(update={"session_memory_bytes": 8 * 1024 * 1024})
    with LiveServer(small) as second:
        with Client(second.url) as c:  # a configure of it is refused, naming the budget
            c.until("grid")
            c.send(type="configure", config=digits)
            error = next(m for m in iter(c.recv, None) if m["type"] == "error")
            assert error["code"] == "too_much_memory"
            assert "session_memory_bytes" in error["message"]
        with Client(f"{second.url}?resume={token}") as c:  # so is its snapshot
            assert c.hello["resumed"] is False
            assert c.until("notice")["code"] == "resume_failed"
            top = c.until("topology")
            assert top["config"]["data"]["name"] != "digits"
            assert c.until("frame")["step"] == 0
        limits = json.load(urllib.request.urlopen(f"http://127.0.0.1:{second.port}/api/limits"))
        assert limits["session_memory_bytes"] == 8 * 1024 * 1024


def test_an_unknown_or_malformed_token_starts_afresh_with_a_notice(live: LiveServer) -> None:
    for token in ("A" * 22, "not-a-token", "x" * 400):
        with Client(f"{live.url}?resume={token}") as c:
            assert c.hello["resumed"] is False
            assert c.hello["resume_token"] != token
            notice = c.until("notice")
            assert notice["code"] == "resume_unknown"
            assert c.until("frame")["step"] == 0


def test_a_token_held_by_a_live_session_gives_an_exact_copy(live: LiveServer) -> None:
    with Client(live.url) as a:
        a.until("grid")
        a.send(type="configure", config=XOR)
        a.until("grid")
        a.send(type="step", unit="step", count=5)
        frame = a.until("frame")
        token = a.hello["resume_token"]
        with resumed(live.url, token) as b:  # a duplicated tab: both go on, apart
            assert b.hello["resume_token"] != token
            copy = b.until("frame")
            assert copy["step"] == 5 and weights(copy) == weights(frame)
            b.send(type="step", unit="step")
            assert b.until("frame")["step"] == 6
        a.send(type="step", unit="step")
        assert a.until("frame")["step"] == 6


def test_a_paused_run_is_written_at_once_and_a_playing_one_every_interval(
    live: LiveServer,
) -> None:
    store = live.app.state.runtime.resume.store
    writes: list[float] = []
    put = store.put

    async def counting_put(token: str, run: str) -> None:
        writes.append(time.monotonic())
        await put(token, run)

    store.put = counting_put
    with Client(live.url) as c:
        c.until("grid")
        c.send(type="play", speed=200, fps=20)
        time.sleep(2.2)
        playing = len(writes)
        c.send(type="pause")
        c.until("state")
        time.sleep(0.15)  # within the debounce: a pause writes at once
        assert len(writes) == playing + 1
    # snapshot_interval = 0.5 s over ~2 s of play: a write every 0.25–0.5 s (SPREAD), at
    # random, so that a class's sessions do not write together
    assert 3 <= playing <= 10, writes
    gaps = [b - a for a, b in itertools.pairwise(writes[:playing])]
    assert min(gaps) >= SPREAD * 0.5 * 0.9, gaps
    assert max(gaps) <= 0.5 + 0.2, gaps  # kill -9 loses at most the last interval
    assert max(gaps) - min(gaps) > 0.01, gaps  # spread, not in lockstep


def test_viewing_a_past_step_keeps_the_live_end_as_the_run(live: LiveServer) -> None:
    with Client(live.url) as c:
        c.until("grid")
        c.send(type="step", unit="step", count=10)
        c.until("frame")
        time.sleep(DEBOUNCE + 0.3)
        c.send(type="seek", step=4)
        assert c.until("frame")["viewing"] == 4
        token = c.hello["resume_token"]
    with resumed(live.url, token) as again:
        frame = again.until("frame")
        assert frame["step"] == 10 and frame["viewing"] is None


@pytest.mark.parametrize("settings", [Settings(redis_url="redis://127.0.0.1:9/0")])
def test_an_unreachable_store_says_unavailable_and_the_session_works(live: LiveServer) -> None:
    token = "B" * 22
    with Client(f"{live.url}?resume={token}") as c:
        assert c.hello["resumed"] is False
        assert c.until("notice")["code"] == "unavailable"
        c.send(type="step", unit="step")
        assert any(c.until("frame")["step"] == 1 for _ in range(3))


def test_an_unusable_data_dir_is_one_warning_at_start(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A data directory the server cannot use (here a file stands where it should be) was
    silent until a reload came back empty; it is one WARNING as serving starts, naming the
    file, and the sessions still work (their resume says ``unavailable``)."""
    blocker = tmp_path / "a file"
    blocker.write_text("")
    settings = Settings(data_dir=blocker / "data")
    with (
        caplog.at_level(logging.WARNING, logger="bpviz"),
        LiveServer(settings) as live,
        Client(f"{live.url}?resume={'C' * 22}") as c,
    ):
        assert c.until("notice")["code"] == "unavailable"
        c.until("grid")
        c.send(type="step", unit="step")
        assert c.until("frame")["step"] == 1
    warned = [
        r
        for r in caplog.records
        if r.levelname == "WARNING" and "snapshots are off" in r.getMessage()
    ]
    assert len(warned) == 1 and "snapshots.sqlite3" in warned[0].getMessage()
    assert warned[0].exc_info is None


# ---------------------------------------------------------------- kill -9


class Subprocess:
    """``bpviz serve`` in its own process, killed with SIGKILL by the test."""

    def __init__(self, data_dir: Path, log: Path, extra: dict[str, str] | None = None) -> None:
        self.port = free_port()
        env = os.environ | {"BPVIZ_DATA_DIR": str(data_dir), "BPVIZ_SNAPSHOT_INTERVAL": "0.5"}
        env |= extra or {}
        bpviz = Path(sys.executable).parent / "bpviz"
        cmd = [str(bpviz), "serve", "--host", "127.0.0.1", "--port", str(self.port)]
        self.log = log.open("ab")
        self.proc = subprocess.Popen(cmd, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while True:
            if self.proc.poll() is not None:
                self.log.close()
                raise AssertionError(log.read_text())
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=1):
                    break
            except OSError:
                assert time.monotonic() < deadline, "bpviz serve did not start"
                time.sleep(0.1)

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)
        self.log.close()


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Any]:
    started: list[Subprocess] = []

    def start() -> Subprocess:
        started.append(Subprocess(tmp_path / "data", tmp_path / "serve.log"))
        return started[-1]

    yield start
    for s in started:
        if s.proc.poll() is None:
            s.kill()


def test_kill_9_loses_nothing_of_an_idle_run_and_seconds_of_a_playing_one(serve: Any) -> None:
    server = serve()
    idle, frame = stepped(server.url, 9)
    with Client(server.url) as c:  # a second client plays and never pauses
        c.until("grid")
        c.send(type="play", speed=100, fps=10)
        time.sleep(2.0)
        playing = c.hello["resume_token"]
        reached, deadline = 0, time.monotonic() + 0.3
        while time.monotonic() < deadline:  # the newest frame shown
            msg = c.recv()
            reached = msg["step"] if msg["type"] == "frame" else reached
        server.kill()
    server = serve()
    with resumed(server.url, idle) as c:
        again = c.until("frame")
        assert again["step"] == 9 and weights(again) == weights(frame)
    with resumed(server.url, playing) as c:
        step = c.until("frame")["step"]
    # at most snapshot_interval (0.5 s) of 100 steps/s lost, plus scheduling slack
    assert reached - 80 <= step <= reached + 30, (step, reached)


@pytest.mark.parametrize("short", [False, True])
def test_a_snapshot_is_built_off_the_event_loop_in_slices(
    monkeypatch: pytest.MonkeyPatch, short: bool
) -> None:
    """Every hop of a snapshot (the export with the exact part and the first slice of
    the weights, each further slice, the join) runs on a worker thread, never the event
    loop's; with slices cut as short as they go, one hop per piece of the weights. A
    small run's snapshot (``short``) is one short call of the session. The text is the
    run exactly."""
    import asyncio
    import threading

    from bpviz.core.experiment import config as core_config
    from bpviz.core.experiment.build import build
    from bpviz.core.experiment.runs import import_run
    from bpviz.server import jobs, snapshot_text
    from bpviz.server.workspace import Workspace

    monkeypatch.setattr(jobs, "JOB_SLICE", 0.0)
    if not short:
        monkeypatch.setattr(snapshot_text, "SHORT_PARAMS", 0)
    work = Workspace(Settings())
    work.adopt(build(core_config.validate(XOR)))
    for _ in range(5):
        work.exp.step()
    hops: list[int] = []

    class Host:
        workspace = work

        async def run(self, fn: Any, *args: Any) -> Any:
            def call() -> Any:
                hops.append(threading.get_ident())
                return fn(*args)

            return await asyncio.get_running_loop().run_in_executor(None, call)

        async def run_short(self, fn: Any, *args: Any) -> Any:
            shorts.append(fn)
            return await self.run(fn, *args)

    shorts: list[Any] = []

    async def main() -> tuple[int, Any, str | None]:
        fp, text = await snapshot_text.snapshot(Host())  # type: ignore[arg-type]
        return threading.get_ident(), fp, text

    loop_thread, fp, text = asyncio.run(main())
    assert text is not None and fp == snapshot_text.fingerprint(work)
    assert loop_thread not in hops
    pieces = len(list(jobs.dumps_pieces(work.export_snapshot()["weights"])))
    if short:
        assert len(hops) == len(shorts) == 1
    else:  # the first hop (with the first piece), one per further piece, one that joins
        assert len(hops) == 1 + pieces and not shorts
    back = import_run(json.loads(text))
    assert back.steps_done == 5
    for a, b in zip(back.layers, work.exp.layers, strict=True):
        assert (a.W == b.W).all() and (a.b == b.b).all()
