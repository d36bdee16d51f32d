"""``bpviz serve``: the settings it runs with, one server process or N on one port.

Python runs one thread at a time per process, so one process keeps one core busy at
most; a class on a 2-core server needs two. Each worker is a whole uvicorn server with
its own sessions: a websocket lives in one process from its first message to its last
(sessions are per process; ``BPVIZ_REDIS_URL`` shares snapshots and rooms between them).

On Linux every worker gets its own listening socket on the same port (``SO_REUSEPORT``):
the kernel spreads new connections evenly over the workers, so a class that connects
at once lands half on each. Elsewhere, uvicorn's own workers share one socket.

The supervisor (this module, run by ``bpviz serve``) binds the sockets — a port in use
is reported once, before any worker starts — hands each to a worker process
(``python -m bpviz.server.workers --fd N``), restarts a worker that dies, and on SIGTERM
or SIGINT stops them all gracefully (each closes its websockets and saves its
snapshots), then exits 0. A worker whose supervisor is gone stops by itself.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import json
import logging
import logging.config
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from types import FrameType
from typing import Any

import uvicorn
from uvicorn.config import STARTUP_FAILURE

APP = "bpviz.server.app:create_app"
GRACE_SECONDS = 30.0  # how long the workers get to stop before they are killed
POLL_SECONDS = 0.2
FAST_FAIL_SECONDS = 5.0  # a worker that dies sooner than this after starting failed to start
MAX_FAST_FAILS = 3

log = logging.getLogger("bpviz.workers")


def serve(
    host: str,
    port: int,
    workers: int = 1,
    log_level: str = "info",
    allowed_hosts: Sequence[str] = (),
    trusted_proxies: Sequence[str] = (),
) -> int:
    """Run the server until stopped: ``workers`` processes on ``host:port``. Host names
    and proxies are added to the environment's (``BPVIZ_*``); a bad one raises
    ``ValueError``."""
    if not log.hasHandlers():  # this process's own lines as uvicorn's, with their level
        logging.config.dictConfig(log_config(log_level))
    os.environ["BPVIZ_WORKERS"] = str(workers)  # each process knows it has siblings
    if workers > 1 and not reuse_port_supported():  # uvicorn's workers: all alike
        os.environ["BPVIZ_CPU"] = "-1"
    os.environ.setdefault("BPVIZ_CPU", "0")  # (Runtime.pin_loop; -1 in the environment: off)
    settings = settings_with(allowed_hosts, trusted_proxies)
    if not is_loopback(host):
        print(startup_notice(host, port, settings), file=sys.stderr, flush=True)
    if workers > 1 and settings.redis_url is None:
        log.warning(per_process_warning(workers))
    if workers > 1 and reuse_port_supported():
        return supervise(host, port, workers, log_level)
    options: dict[str, Any] = settings.uvicorn_options()
    options["log_config"] = log_config(log_level)
    if workers > 1:  # without SO_REUSEPORT: uvicorn's workers, sharing one socket
        # (uvicorn's own server in each: rooms end without their `shutdown` message)
        uvicorn.run(APP, factory=True, host=host, port=port, log_level=log_level, **options)
        return 0
    config = uvicorn.Config(APP, factory=True, host=host, port=port, log_level=log_level, **options)
    config.load_app()  # an app that cannot be imported: said and exits, as uvicorn.run does
    server = Server(config)
    with contextlib.suppress(KeyboardInterrupt):
        server.run()
    return 0 if server.started else STARTUP_FAILURE


class Server(uvicorn.Server):
    """uvicorn's server, letting the app speak before the connections close: uvicorn
    closes every websocket (1012) as soon as it stops, and runs the app's lifespan
    shutdown only after that. The rooms end first, with ``shutdown`` (``room_stop.py``)."""

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        if not self.force_exit:  # (a second Ctrl+C: at once)
            from bpviz.server.room_stop import stop_app_rooms

            try:
                await stop_app_rooms(self.config.loaded_app)
            except Exception:
                log.exception("the rooms could not be ended before stopping")
        await super().shutdown(sockets)


def log_config(log_level: str) -> dict[str, Any]:
    """uvicorn's logging, with bpviz's own loggers (``bpviz.*``: a session opening and
    closing, faults) through its handler and format (``INFO:     session … opened``);
    without it they have no handler and only warnings show, with no level name."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    level = log_level.upper()
    config["loggers"]["bpviz"] = {"handlers": ["default"], "level": level, "propagate": False}
    return config


def settings_with(allowed_hosts: Sequence[str], trusted_proxies: Sequence[str]) -> Any:
    """The settings of the environment plus these host names and proxies, written back
    to the environment: the app reads its settings there, in this process and in every
    worker process."""
    from pydantic import ValidationError

    from bpviz.server.settings import Settings, environment_problems, get_settings

    try:
        env = Settings()
    except ValidationError as exc:  # a bad BPVIZ_* variable: one clear line, no traceback
        raise ValueError(environment_problems(exc)) from None
    extra = {"allowed_hosts": allowed_hosts, "trusted_proxies": trusted_proxies}
    merged = {k: [*getattr(env, k), *v] for k, v in extra.items() if v}
    try:
        checked = Settings.model_validate(merged)
    except ValidationError as exc:
        raise ValueError("; ".join(str(e["msg"]) for e in exc.errors())) from None
    for name in merged:
        os.environ[f"BPVIZ_{name.upper()}"] = json.dumps(getattr(checked, name))
    get_settings.cache_clear()
    return get_settings()


def is_loopback(host: str) -> bool:
    from bpviz.server.hosts import ip_of

    ip = ip_of(host)
    return host == "localhost" or (ip is not None and ip.is_loopback)


def startup_notice(host: str, port: int, settings: Any) -> str:
    """What a server reachable from other machines says at startup: the host names it
    answers to (a student's browser that uses another one is refused), how to add one."""
    from bpviz.server.hosts import Hosts

    return (
        f"bpviz: listening on {host}:{port} for other machines. It answers only to these "
        f"host names: {Hosts(settings.allowed_hosts).describe()}. To open it by another "
        f"name, add it: bpviz serve --allowed-host NAME (repeatable), or "
        f"BPVIZ_ALLOWED_HOSTS=NAME,NAME"
    )


def per_process_warning(workers: int) -> str:
    """What N processes without Redis cannot share: rooms (the in-process broker). Runs
    still resume on any of them (their snapshots share one SQLite file)."""
    return (
        f"bpviz: {workers} worker processes without Redis: a classroom room lives in the "
        "process that opened it, and a student's connection that lands on another process "
        'does not find it ("no room … is open"); a lecturer whose reload lands on another '
        "process loses the room. To share rooms between processes, set "
        "BPVIZ_REDIS_URL=redis://HOST:6379/0 (see docs/deploy.md), or serve with --workers 1"
    )


def reuse_port_supported() -> bool:
    """Whether the kernel balances connections over sockets sharing a port (Linux)."""
    return sys.platform.startswith("linux") and hasattr(socket, "SO_REUSEPORT")


def bind(host: str, port: int, share: bool = True) -> socket.socket:
    """A listening socket on ``host:port`` that other workers may share (SO_REUSEPORT;
    ``share=False``: a plain one, which fails while anything listens there)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET  # as uvicorn binds it
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if share:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        sock.bind((host, port))
        sock.listen(2048)
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


class Worker:
    """One worker process and the socket it serves."""

    def __init__(self, host: str, port: int, log_level: str, index: int = 0) -> None:
        self.sock = bind(host, port)
        fd = self.sock.fileno()
        cmd = [sys.executable, "-m", "bpviz.server.workers", "--fd", str(fd)]
        cmd += ["--log-level", log_level, "--parent", str(os.getpid())]
        env = dict(os.environ)
        if env.get("BPVIZ_CPU") != "-1":  # the Nth worker's event loop on the Nth CPU
            env["BPVIZ_CPU"] = str(index)
        self.proc = subprocess.Popen(cmd, pass_fds=(fd,), env=env)
        self.started = time.monotonic()
        self.sock.close()  # the worker holds it now: once it exits, no connection waits on it

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None


def supervise(host: str, port: int, workers: int, log_level: str) -> int:
    """Run ``workers`` server processes on ``host:port`` until SIGTERM or SIGINT; 0 when
    they stopped as asked, 1 when the port is taken or they kept failing to start."""
    stopping = threading.Event()

    def stop(sig: int, frame: FrameType | None) -> None:
        stopping.set()

    try:  # the port must be free: another server's SO_REUSEPORT sockets would share it
        bind(host, port, share=False).close()
    except OSError as exc:
        print(f"bpviz: error: cannot listen on {host}:{port}: {exc.strerror}", file=sys.stderr)
        return 1
    previous = {s: signal.signal(s, stop) for s in (signal.SIGTERM, signal.SIGINT)}
    pool: list[Worker] = []
    try:
        for i in range(workers):
            pool.append(Worker(host, port, log_level, i))
        pids = ", ".join(str(w.pid) for w in pool)
        print(
            f"bpviz: {workers} worker processes on {host}:{port} (pids {pids}); "
            f"supervisor pid {os.getpid()}",
            file=sys.stderr,
            flush=True,
        )
        fails = 0
        while not stopping.wait(POLL_SECONDS):
            for i, worker in enumerate(pool):
                if worker.alive() or stopping.is_set():
                    continue
                code = worker.proc.returncode
                quick = time.monotonic() - worker.started < FAST_FAIL_SECONDS
                fails = fails + 1 if quick else 0
                if fails >= MAX_FAST_FAILS:
                    print(
                        f"bpviz: workers keep failing to start (exit code {code}); stopping",
                        file=sys.stderr,
                        flush=True,
                    )
                    return 1
                print(
                    f"bpviz: worker {worker.pid} exited with {code}; starting another",
                    file=sys.stderr,
                    flush=True,
                )
                pool[i] = Worker(host, port, log_level, i)
        return 0
    finally:
        _stop_all(pool)
        for s, handler in previous.items():
            signal.signal(s, handler)


def _stop_all(pool: list[Worker]) -> None:
    """SIGTERM to every worker (uvicorn stops gracefully), SIGKILL after the grace time."""
    for worker in pool:
        if worker.alive():
            worker.proc.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + GRACE_SECONDS
    for worker in pool:
        try:
            worker.proc.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            worker.proc.kill()
            worker.proc.wait()


# ------------------------------------------------------------------ the worker process


def _watch_parent(parent: int, on_gone: Callable[[], None]) -> None:
    """Call ``on_gone`` once the supervisor has gone (this process was re-parented)."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        on_gone()

    threading.Thread(target=watch, name="bpviz-parent-watch", daemon=True).start()


def run_worker(fd: int, log_level: str, parent: int | None) -> None:
    """Serve the app on the inherited listening socket ``fd`` until told to stop."""
    from bpviz.server.settings import get_settings

    sock = socket.socket(fileno=fd)
    options = get_settings().uvicorn_options() | {"log_config": log_config(log_level)}
    config = uvicorn.Config(APP, factory=True, log_level=log_level, **options)
    if parent is not None:
        _watch_parent(parent, lambda: os.kill(os.getpid(), signal.SIGTERM))
    Server(config).run(sockets=[sock])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bpviz.server.workers")
    parser.add_argument("--fd", type=int, required=True, help="the listening socket")
    parser.add_argument("--log-level", default="info")
    parser.add_argument("--parent", type=int, default=None, help="the supervisor's pid")
    args = parser.parse_args(argv)
    run_worker(args.fd, args.log_level, args.parent)
    return 0


if __name__ == "__main__":
    # One BLAS thread per process, before NumPy is imported (as `bpviz serve` does).
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    sys.exit(main())
