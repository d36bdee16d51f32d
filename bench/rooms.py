"""Classroom rooms benchmark: one owner playing, hundreds of followers, on loopback.

Run with ``.venv/bin/python bench/rooms.py`` (about two minutes); ``--quick`` for a short
run (figures for comparing two versions, not for the targets); ``--only memory`` or
``--only redis`` for one of the two set-ups. It measures, with the default network:

1. **memory** — one ``bpviz serve`` (the in-process broker): an owner session opens a
   room and plays as fast as it can at 20 frames/s; 300 followers connect to
   ``/ws?room=CODE`` and read every message. Per follower: frames/s received and the
   p99 gap between two frames (the stretches before the first and after the last frame
   of the window count as gaps too); the owner's own frames/s; one more client, idle
   with a session of its own, sends ``ping`` every 50 ms and times the ``pong`` (the
   event loop's lag, seen from outside); the server's CPU; its memory per follower (the
   growth of its RSS from before the followers connected to after, divided by their
   number).
2. **redis** — the same with ``redis-server`` (started here, on a free port, in a
   temporary directory) and two ``bpviz serve`` processes on it: the owner and the
   pinger on process A, the followers split half and half between A and B.

The followers run in ``CLIENT_PROCESSES`` client processes (one asyncio loop each), so
that the clients are not the bottleneck; client and server share this machine's cores,
as the issue asks. Targets (issue 13): median follower ≥ 19 frames/s, worst follower
p99 gap ≤ 100 ms, idle client's ping p99 ≤ 20 ms.
"""

# One BLAS thread, set before NumPy is imported; the server subprocesses inherit it.
import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import asyncio  # noqa: E402
import json  # noqa: E402
import multiprocessing as mp  # noqa: E402
import platform  # noqa: E402
import re  # noqa: E402
import shutil  # noqa: E402
import socket  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import urllib.request  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402
from websockets.asyncio.client import ClientConnection, connect  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"
FOLLOWERS = 300
FPS = 20
SECONDS = 15.0
WARMUP = 3.0
PING_INTERVAL = 0.05
CLIENT_PROCESSES = 2
CONNECT_BATCH = 25
STEP_SECONDS = 5.0  # the CPU-cost phases: the owner steps at FPS steps/s
SERVER_ENV = {
    "BPVIZ_MESSAGE_RATE": "1000",
    "BPVIZ_MAX_SESSIONS": "1000",
    "BPVIZ_LOG_LEVEL": "warning",
}
STEP_RE = re.compile(rb'"step":(\d+)')


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values, dtype=float), q)) if values else float("nan")


class Server:
    """``bpviz serve`` in a subprocess on a free port of 127.0.0.1."""

    def __init__(self, env: dict[str, str]) -> None:
        self.port = free_port()
        self.url = f"http://{HOST}:{self.port}"
        self.ws_url = f"ws://{HOST}:{self.port}/ws"
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 (closed in stop())
        exe = Path(sys.executable).parent / "bpviz"
        cmd = [str(exe), "serve", "--host", HOST, "--port", str(self.port)]
        self.proc = subprocess.Popen(
            cmd, cwd=ROOT, env=os.environ | env, stdout=self.log, stderr=self.log
        )
        deadline = time.monotonic() + 30
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"bpviz serve exited:\n{self.output()}")
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=1) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("bpviz serve did not become healthy within 30 s")
            time.sleep(0.1)

    def rss(self) -> int:
        """Resident memory of the server process (bytes)."""
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        return 0

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def output(self) -> str:
        self.log.seek(0)
        return self.log.read().decode(errors="replace")[-4000:]

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


class Redis:
    """``redis-server`` on a free port, no persistence, in a temporary directory."""

    def __init__(self) -> None:
        exe = shutil.which("redis-server") or "/usr/bin/redis-server"
        self.dir = tempfile.TemporaryDirectory()
        self.port = free_port()
        self.url = f"redis://{HOST}:{self.port}/0"
        args = ["--port", str(self.port), "--bind", HOST, "--save", "", "--appendonly", "no"]
        self.proc = subprocess.Popen(
            [exe, *args, "--dir", self.dir.name],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while not self._pong():
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise RuntimeError("redis-server did not start")
            time.sleep(0.02)

    def _pong(self) -> bool:
        try:
            with socket.create_connection((HOST, self.port), timeout=0.2) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)
        self.dir.cleanup()


# ----------------------------------------------------------------------------- clients


async def read_until(ws: ClientConnection, kind: str, timeout: float = 30) -> dict[str, Any]:
    while True:
        msg = json.loads(await asyncio.wait_for(ws.recv(), timeout))
        if msg["type"] == kind:
            return dict(msg)
        if msg["type"] == "error":
            raise RuntimeError(f"error while waiting for {kind}: {msg}")


async def followers_main(urls: list[str], ready: Any, go: Any) -> Any:
    """One client process: connect followers (in batches), say how many, wait for the
    measuring window, then record for each the wall-clock arrival time of every
    ``frame`` inside it."""
    conns: list[ClientConnection] = []
    for i in range(0, len(urls), CONNECT_BATCH):
        batch = urls[i : i + CONNECT_BATCH]
        conns += await asyncio.gather(
            *(
                connect(u, max_size=None, compression=None, open_timeout=60, close_timeout=1)
                for u in batch
            )
        )
    ready.put(len(conns))
    # (start, end) of the measured window, and when to stop reading (after the cost phase)
    window: tuple[float, float, float] = await asyncio.get_running_loop().run_in_executor(
        None, go.get, True, 600
    )
    arrivals: list[list[float]] = [[] for _ in conns]
    lost = [0]

    async def reader(i: int, ws: ClientConnection) -> None:
        mine = arrivals[i]
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout_at(loop.time() + window[2] - time.time()):
                while True:
                    data = await ws.recv(decode=False)
                    t = time.time()
                    if window[0] <= t <= window[1] and data.startswith(b'{"type":"frame"'):
                        mine.append(t)
        except TimeoutError:
            return
        except Exception:
            lost[0] += 1

    await asyncio.gather(*(reader(i, ws) for i, ws in enumerate(conns)))
    await asyncio.gather(*(ws.close() for ws in conns), return_exceptions=True)
    return arrivals, lost[0]


def follower_process(urls: list[str], ready: Any, go: Any, out: Any) -> None:
    out.put(asyncio.run(followers_main(urls, ready, go)))


@dataclass
class Result:
    name: str
    follower_fps: list[float] = field(default_factory=list)
    follower_p99: list[float] = field(default_factory=list)
    owner_fps: float = 0.0
    owner_steps: float = 0.0
    ping_rtt: list[float] = field(default_factory=list)
    memory_per_follower: float = 0.0
    server_cpu: float = 0.0
    cpu_per_step: tuple[float, float] = (0.0, 0.0)  # server CPU s per step: alone, followed
    lost: int = 0


def gaps_of(arrivals: list[float], window: tuple[float, float]) -> tuple[float, float]:
    """(frames/s, p99 gap) of one client's arrivals inside ``window``."""
    if len(arrivals) < 2:
        return 0.0, float("inf")
    g = list(np.diff(arrivals))
    g += [arrivals[0] - window[0], window[1] - arrivals[-1]]
    return (len(arrivals) - 1) / (arrivals[-1] - arrivals[0]), pct(g, 99)


async def run_room(
    name: str,
    owner_url: str,
    follower_urls: list[str],
    servers: list[Server],
    n: int,
    seconds: float,
) -> Result:
    result = Result(name)
    owner = await connect(owner_url, max_size=None, compression=None)
    await read_until(owner, "grid")
    await owner.send(json.dumps({"type": "room_open"}))
    code = (await read_until(owner, "room"))["code"]
    pinger = await connect(owner_url, max_size=None, compression=None)
    await read_until(pinger, "grid")
    alone = await stepping_cpu(owner, servers, STEP_SECONDS)
    await owner.send(json.dumps({"type": "play", "speed": None, "fps": FPS}))
    await asyncio.sleep(1.0)
    rss0 = [s.rss() for s in servers]

    # The owner's own frames, read from now on (recorded inside the window only).
    owner_frames: list[tuple[float, int]] = []
    window = (float("inf"), float("inf"))

    async def owner_reader() -> None:
        while True:
            data = await owner.recv(decode=False)
            t = time.time()
            if t > window[1]:
                return
            if t >= window[0] and data.startswith(b'{"type":"frame"'):
                m = STEP_RE.search(data, 0, 64)
                owner_frames.append((t, int(m.group(1)) if m else 0))

    reading = asyncio.create_task(owner_reader())

    # The followers, in client processes; the window opens once they are all connected.
    urls = [f"{follower_urls[i % len(follower_urls)]}?room={code}" for i in range(n)]
    ctx = mp.get_context("fork")
    ready, go, out = ctx.Queue(), ctx.Queue(), ctx.Queue()
    procs = []
    for k in range(CLIENT_PROCESSES):
        part = urls[k::CLIENT_PROCESSES]
        p = ctx.Process(target=follower_process, args=(part, ready, go, out), daemon=True)
        p.start()
        procs.append(p)
    connected = 0
    loop = asyncio.get_running_loop()
    for _ in procs:
        connected += await loop.run_in_executor(None, ready.get, True, 300)
    assert connected == n, f"only {connected} of {n} followers connected"
    t0 = time.time() + WARMUP
    window = (t0, t0 + seconds)
    for _ in procs:
        go.put((*window, window[1] + STEP_SECONDS + 4))
    await asyncio.sleep(1.0)  # the room's retained state reached everyone; settle
    rss1 = [s.rss() for s in servers]
    result.memory_per_follower = (sum(rss1) - sum(rss0)) / n

    # The pinger, in this process.
    sent: dict[int, float] = {}

    async def ping_reader() -> None:
        while True:
            msg = json.loads(await pinger.recv())
            if msg["type"] == "pong":
                t0 = sent.pop(msg["id"], None)
                if t0 is not None and window[0] <= t0 <= window[1]:
                    result.ping_rtt.append(time.time() - t0)

    async def ping_writer() -> None:
        ident, nxt = 0, time.time()
        while time.time() < window[1]:
            ident += 1
            sent[ident] = time.time()
            await pinger.send(json.dumps({"type": "ping", "id": ident}))
            nxt += PING_INTERVAL
            await asyncio.sleep(max(0.0, nxt - time.time()))

    await asyncio.sleep(max(0.0, window[0] - time.time()))
    cpu0 = sum(s.cpu_seconds() for s in servers)
    pr = asyncio.create_task(ping_reader())
    await asyncio.gather(reading, ping_writer())
    result.server_cpu = (sum(s.cpu_seconds() for s in servers) - cpu0) / seconds
    await asyncio.sleep(0.3)
    pr.cancel()
    await owner.send(json.dumps({"type": "pause"}))
    await asyncio.sleep(0.5)
    result.cpu_per_step = (alone, await stepping_cpu(owner, servers, STEP_SECONDS))
    for _ in procs:
        arrivals, lost = await loop.run_in_executor(None, out.get, True, 300)
        result.lost += lost
        for a in arrivals:
            fps, p99 = gaps_of(a, window)
            result.follower_fps.append(fps)
            result.follower_p99.append(p99)
    for p in procs:
        p.join(timeout=30)
    if len(owner_frames) > 1:
        (ta, sa), (tb, sb) = owner_frames[0], owner_frames[-1]
        result.owner_fps = (len(owner_frames) - 1) / (tb - ta)
        result.owner_steps = (sb - sa) / (tb - ta)
    await owner.close()
    await pinger.close()
    return result


async def stepping_cpu(owner: ClientConnection, servers: list[Server], seconds: float) -> float:
    """Server CPU seconds per step while the owner takes ``FPS`` single steps a second
    (each answered by a frame and a grid, which a room hands to every follower)."""
    cpu0 = sum(s.cpu_seconds() for s in servers)
    steps, nxt, end = 0, time.time(), time.time() + seconds
    while time.time() < end:
        await owner.send(json.dumps({"type": "step", "unit": "step"}))
        await read_until(owner, "frame")
        steps += 1
        nxt += 1 / FPS
        await asyncio.sleep(max(0.0, nxt - time.time()))
    await asyncio.sleep(0.5)  # the last fan-out
    return (sum(s.cpu_seconds() for s in servers) - cpu0) / steps


# ----------------------------------------------------------------------------- report


def report(r: Result) -> int:
    fps = r.follower_fps
    worst = max(r.follower_p99) if r.follower_p99 else float("inf")
    per_follower = (r.cpu_per_step[1] - r.cpu_per_step[0]) / max(1, len(fps))
    rows = [
        ("followers measured", f"{len(fps)}", "", None),
        ("median follower frames/s", f"{np.median(fps):.2f}", ">= 19", np.median(fps) >= 19),
        ("slowest follower frames/s", f"{min(fps):.2f}", "", None),
        ("worst follower p99 gap", f"{worst * 1e3:.1f} ms", "<= 100 ms", worst <= 0.1),
        ("median follower p99 gap", f"{np.median(r.follower_p99) * 1e3:.1f} ms", "", None),
        ("idle client ping p99", f"{pct(r.ping_rtt, 99) * 1e3:.2f} ms", "<= 20 ms", None),
        ("idle client ping median", f"{pct(r.ping_rtt, 50) * 1e3:.2f} ms", "", None),
        ("owner frames/s", f"{r.owner_fps:.2f}", "", None),
        ("owner training steps/s", f"{r.owner_steps:,.0f}", "", None),
        ("server memory per follower", f"{r.memory_per_follower / 1024:.0f} KiB", "", None),
        ("server CPU (cores, all processes)", f"{r.server_cpu:.2f}", "", None),
        ("server CPU per step, no follower", f"{r.cpu_per_step[0] * 1e3:.2f} ms", "", None),
        ("server CPU per step per follower", f"{per_follower * 1e6:.1f} µs", "", None),
        ("followers that lost their connection", f"{r.lost}", "0", r.lost == 0),
    ]
    p99 = pct(r.ping_rtt, 99)
    rows[5] = (rows[5][0], rows[5][1], rows[5][2], p99 <= 0.02)
    print(f"\n{r.name}")
    head = f"{'figure':<40} {'measured':>14} {'target':>10}  result"
    print(head)
    print("-" * len(head))
    fails = 0
    for name, value, target, passed in rows:
        result = "info" if passed is None else ("PASS" if passed else "FAIL")
        fails += passed is False
        print(f"{name:<40} {value:>14} {target:>10}  {result}")
    return fails


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="100 followers for 5 s")
    parser.add_argument("--only", choices=["memory", "redis"], help="one set-up only")
    parser.add_argument("--followers", type=int, default=None)
    args = parser.parse_args()
    n = args.followers or (100 if args.quick else FOLLOWERS)
    seconds = 5.0 if args.quick else SECONDS
    print(
        f"bpviz rooms benchmark — {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}; {n} followers at {FPS} frames/s for {seconds:g} s"
    )
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    fails = 0
    data = tempfile.TemporaryDirectory()
    try:
        if args.only in (None, "memory"):
            env = SERVER_ENV | {"BPVIZ_DATA_DIR": data.name}
            server = Server(env)
            try:
                result = asyncio.run(
                    run_room(
                        "1. one process, in-process broker",
                        server.ws_url,
                        [server.ws_url],
                        [server],
                        n,
                        seconds,
                    )
                )
            finally:
                server.stop()
            fails += report(result)
        if args.only in (None, "redis"):
            redis = Redis()
            env = SERVER_ENV | {"BPVIZ_DATA_DIR": data.name, "BPVIZ_REDIS_URL": redis.url}
            a, b = Server(env), Server(env)
            try:
                result = asyncio.run(
                    run_room(
                        "2. two processes on Redis (owner on A, followers on A and B)",
                        a.ws_url,
                        [a.ws_url, b.ws_url],
                        [a, b],
                        n,
                        seconds,
                    )
                )
            finally:
                a.stop()
                b.stop()
                redis.stop()
            fails += report(result)
    finally:
        data.cleanup()
    print(f"\nload average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
