"""``bpviz serve --workers N`` (server/workers.py): N processes on one port, each
websocket in one of them; a dead worker is replaced; SIGTERM stops them all cleanly."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from bpviz.server import workers
from bpviz.server.settings import Settings, get_settings

from .conftest import free_port

ROOT = Path(__file__).resolve().parents[2]
BPVIZ = Path(sys.executable).parent / "bpviz"


def healthz(port: int, host: str = "127.0.0.1") -> dict[str, Any]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/healthz", headers={"Host": host})
    with urllib.request.urlopen(request, timeout=5) as r:
        out: dict[str, Any] = json.loads(r.read())
        return out


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


class Served:
    """``bpviz serve --workers 2`` (or ``workers``) in a subprocess on a free port."""

    def __init__(self, tmp: Path, workers: int = 2, log_level: str = "warning") -> None:
        self.port = free_port()
        self.log_path = tmp / "serve.log"
        self.log = self.log_path.open("wb")
        cmd = [str(BPVIZ), "serve", "--workers", str(workers), "--port", str(self.port)]
        cmd += ["--log-level", log_level, "--allowed-host", "bpviz.test"]
        env = {k: v for k, v in os.environ.items() if not k.startswith("BPVIZ_")}
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=self.log, stderr=self.log)
        deadline = time.monotonic() + 30
        while True:
            assert self.proc.poll() is None, self.output()
            try:
                healthz(self.port)
                return
            except OSError:
                assert time.monotonic() < deadline, "no answer within 30 s:\n" + self.output()
                time.sleep(0.1)

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")[-3000:]

    def hello_pids(self, stack: ExitStack, want: int = 2, tries: int = 60) -> list[Any]:
        """Open websockets (kept open in ``stack``) until their ``hello`` named ``want``
        processes; the sockets."""
        pids: set[int] = set()
        sockets: list[Any] = []
        for _ in range(tries):
            ws = stack.enter_context(connect(f"ws://127.0.0.1:{self.port}/ws", open_timeout=10))
            hello = json.loads(ws.recv(timeout=10))
            assert hello["type"] == "hello"
            pids.add(hello["pid"])
            sockets.append((ws, hello["pid"]))
            if len(pids) >= want:
                break
        return sockets

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    server = Served(tmp_path)
    try:
        yield server
    finally:
        server.stop()


def test_two_workers_share_the_port_and_stop_on_sigterm(served: Served) -> None:
    with ExitStack() as stack:
        sockets = served.hello_pids(stack)
        pids = {pid for _, pid in sockets}
        assert len(pids) == 2 and served.proc.pid not in pids, served.output()
        assert healthz(served.port)["pid"] in pids
        assert healthz(served.port, host="bpviz.test")["status"] == "ok"  # --allowed-host
        if len(os.sched_getaffinity(0)) >= 2:  # each worker's event loop on a CPU of its own
            loops = [os.sched_getaffinity(pid) for pid in sorted(pids)]  # (pid: main thread)
            assert all(len(cpus) == 1 for cpus in loops) and loops[0] != loops[1]
        served.proc.send_signal(signal.SIGTERM)
        assert served.proc.wait(timeout=40) == 0, served.output()
        for ws, _ in sockets:  # every websocket was closed by its worker
            with pytest.raises(ConnectionClosed):
                while True:
                    ws.recv(timeout=5)
    assert not any(alive(pid) for pid in pids)


def test_a_dead_worker_is_replaced(served: Served) -> None:
    with ExitStack() as stack:
        pids = {pid for _, pid in served.hello_pids(stack)}
    victim = min(pids)
    os.kill(victim, signal.SIGKILL)
    deadline = time.monotonic() + 30
    seen: set[int] = set()
    while not seen - pids:
        assert time.monotonic() < deadline, served.output()
        try:
            seen.add(healthz(served.port)["pid"])
        except OSError:
            time.sleep(0.1)
    assert served.proc.poll() is None
    assert "starting another" in served.output()


# ---------------------------------------------------------------- in-process


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ("BPVIZ_ALLOWED_HOSTS", "BPVIZ_TRUSTED_PROXIES", "BPVIZ_REDIS_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("BPVIZ_WORKERS", "1")  # serve() sets it: restored after the test
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.mark.usefixtures("clean_env")
def test_settings_with_adds_to_the_environments(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BPVIZ_ALLOWED_HOSTS", "a.example")
    settings = workers.settings_with(["B.example:8000"], ["10.0.0.0/8"])
    assert settings.allowed_hosts == ["a.example", "b.example"]
    assert Settings().trusted_proxies == ["10.0.0.0/8"]  # passed on through the environment
    with pytest.raises(ValueError, match="not an IP address"):
        workers.settings_with([], ["proxy.example"])


def test_what_a_server_open_to_other_machines_says() -> None:
    assert workers.is_loopback("127.0.0.1") and workers.is_loopback("localhost")
    assert workers.is_loopback("::1") and not workers.is_loopback("0.0.0.0")
    notice = workers.startup_notice("0.0.0.0", 8000, Settings(allowed_hosts=["bpviz.test"]))
    assert "localhost, 127.0.0.1, [::1]" in notice and "bpviz.test" in notice
    assert "--allowed-host NAME" in notice


@pytest.mark.usefixtures("clean_env")
def test_serve_runs_the_supervisor_or_uvicorn(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    calls: list[Any] = []
    monkeypatch.setattr(workers, "supervise", lambda *a: calls.append(("supervise", a)) or 0)
    monkeypatch.setattr(workers.Server, "run", fake_run(calls))
    assert workers.serve("0.0.0.0", 8123, workers=2) == 0
    assert calls.pop() == ("supervise", ("0.0.0.0", 8123, 2, "info"))
    assert "--allowed-host" in capsys.readouterr().err  # the host names it answers to
    assert workers.serve("127.0.0.1", 8123) == 0
    kind, config = calls.pop()  # one process: bpviz's server (its rooms end first)
    assert kind == "server" and config.app == workers.APP and config.workers == 1
    assert (config.host, config.port, config.factory) == ("127.0.0.1", 8123, True)
    assert capsys.readouterr().err == ""  # loopback only: nothing to say


def fake_run(calls: list[Any]) -> Any:
    """A stand-in for ``Server.run``: it started, and says with what config."""

    def run(self: workers.Server, sockets: Any = None) -> None:
        self.started = True
        calls.append(("server", self.config))

    return run


@pytest.mark.usefixtures("clean_env")
def test_workers_without_redis_warn_that_rooms_are_per_process(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(workers, "supervise", lambda *a: 0)
    monkeypatch.setattr(workers.Server, "run", fake_run([]))
    with caplog.at_level(logging.WARNING, logger="bpviz.workers"):
        assert workers.serve("127.0.0.1", 8123, workers=3) == 0
    [record] = [r for r in caplog.records if r.name == "bpviz.workers"]
    assert record.levelno == logging.WARNING
    text = record.getMessage()
    assert "3 worker processes without Redis" in text and "rooms" in text
    assert "another" in text and "BPVIZ_REDIS_URL" in text  # the consequence, the fix
    assert Settings().workers == 3  # every worker process knows it has siblings
    caplog.clear()
    for n, redis in ((1, None), (2, "redis://127.0.0.1:6399/0")):  # nothing to say
        if redis:
            monkeypatch.setenv("BPVIZ_REDIS_URL", redis)
            get_settings.cache_clear()
        assert workers.serve("127.0.0.1", 8123, workers=n) == 0
    assert not [r for r in caplog.records if r.name == "bpviz.workers"]


def test_a_port_in_use_is_refused_cleanly(
    served: Served, capsys: pytest.CaptureFixture[str]
) -> None:
    """A second server on the same port would share it (SO_REUSEPORT): refused instead."""
    assert workers.supervise("127.0.0.1", served.port, 2, "warning") == 1
    assert "cannot listen on" in capsys.readouterr().err
    assert served.proc.poll() is None


@pytest.mark.parametrize("n", [1, 2])
def test_serve_logs_each_session_opening_and_closing(tmp_path: Path, n: int) -> None:
    """What a lecturer running ``bpviz serve`` sees: one INFO line, with its level, when
    a session opens and one when it closes (bpviz's loggers had no handler: not shown)."""
    server = Served(tmp_path, workers=n, log_level="info")
    try:
        with connect(f"ws://127.0.0.1:{server.port}/ws", open_timeout=10) as ws:
            session = json.loads(ws.recv(timeout=10))["session"]
        deadline = time.monotonic() + 20
        while f"session {session} closed" not in server.output():
            assert time.monotonic() < deadline, server.output()
            time.sleep(0.1)
        lines = server.output().splitlines()
        opened = [line for line in lines if f"session {session} opened from" in line]
        closed = [line for line in lines if f"session {session} closed after" in line]
        assert len(opened) == len(closed) == 1, lines
        assert opened[0].startswith("INFO:") and closed[0].startswith("INFO:")
        # The supervisor's warning (no Redis: rooms per process) has its level too.
        warned = [line for line in lines if "worker processes without Redis" in line]
        assert [line.split()[0] for line in warned] == (["WARNING:"] if n > 1 else []), lines
    finally:
        server.stop()
