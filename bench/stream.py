"""Streaming benchmark: a real bpviz server on loopback, driven by websocket clients.

Run with ``.venv/bin/python bench/stream.py`` (about a minute and a half);
``bench/README.md`` explains the figures. It starts ``bpviz serve`` in a subprocess on
a free port of 127.0.0.1 and measures, with the default network (2 inputs, 4-2 tanh,
1 sigmoid output, batch 10, circle data):

1. single-step round trip: ``{"type":"step","unit":"step"}`` sent → ``frame`` received,
   one step at a time, ≥ 2,000 steps (the ``grid`` that follows each step is awaited,
   untimed, before the next step is sent);
2. one client playing as fast as possible at 60 fps for ~5 s: frames/s delivered and
   training steps/s behind them (from the frames' ``step``), against the bare engine
   (``Experiment.step()`` in a loop, one BLAS thread) timed in this process;
3. 100 concurrent clients playing as fast as possible at 20 fps for ~15 s: per-client
   p99 inter-frame gap, and the server's event-loop lag measured from outside by one
   more (idle) client that sends ``ping`` every 50 ms and times the ``pong`` — a ping
   touches no worker thread, so its round trip bounds the loop's lag from above;
4. bytes per message for three networks;
5. in this process, no server: the CPU time one frame, one frame while playing, one
   grid and one topology take to build and encode (``Workspace.frame_text`` …), for the
   same three networks — the server's per-message cost without the network around it;
   and one session snapshot after 1,500 steps played (the exact run with its history
   and rewind checkpoints, written every few seconds while a session plays).

The server's per-connection message rate limit (50/s by default) would refuse most
of the 2,000 back-to-back steps of (1), so the server is started with
``BPVIZ_MESSAGE_RATE`` raised; every other setting is the default.

``--quick`` (about 20 s) runs shorter: 500 steps in (1), 2 s of play in (2), 30 clients
for 5 s in (3); its figures are for comparing two versions on one machine, not for the
targets. ``--only-frames`` runs (5) alone.

6. ``--frames binary`` (the default): the clients of (3) ask for binary frames
   (``options``), as the page does; ``--frames json`` for JSON text frames. (3) also gives
   the CPU time per delivered frame of the server (training included) and of this
   process (the clients), measured over the window: figures that depend far less on what
   else the machine runs than frames/s do. (5) also prints the per-frame encoding cost
   of the candidates side by side: JSON with the standard encoder (before), JSON with
   orjson (now), binary frames.
7. ``--workers-table`` (about 1.5 minutes) runs (3) alone, binary frames, for 100 clients
   with ``bpviz serve --workers 1`` and ``--workers 2``, and 200 clients with 2 workers.
8. bystander: one (then two) clients do the most expensive thing the limits allow —
   digits, five hidden layers of 256, batch 1,024, ``gradcheck`` with ``max_examples``
   1,024 over and over, an ``export`` every fourth time — while another steps the default
   network every 50 ms for 20 s: that client's step→frame p99 (target ≤ 100 ms beside
   one). The server runs with ``BPVIZ_SESSION_MEMORY_BYTES`` raised to 1 GiB (the default
   64 MiB budget refuses that network); ``--bystander`` runs (8) alone.
9. memory per session: the server's resident memory grown by 20 default sessions and by
   3 of the largest network (each trained 30 steps and exported once), per session,
   beside the memory budget's estimate; ``--memory`` runs (9) alone.
"""

# One BLAS thread, set before NumPy is imported; the server subprocess inherits it.
import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import asyncio  # noqa: E402
import dataclasses  # noqa: E402
import gc  # noqa: E402
import itertools  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import re  # noqa: E402
import resource  # noqa: E402
import socket  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import urllib.request  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402
import websockets  # noqa: E402
from websockets.asyncio.client import ClientConnection, connect  # noqa: E402

from bpviz.core.experiment import config as core_config  # noqa: E402
from bpviz.core.experiment.build import build  # noqa: E402
from bpviz.server.settings import Settings  # noqa: E402
from bpviz.server.workspace import Workspace  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"
SERVER_ENV = {"BPVIZ_MESSAGE_RATE": "1000000", "BPVIZ_MESSAGE_BURST": "1000000"}

STEP_WARMUP = 200
STEP_COUNT = 2500
PLAY_SECONDS = 5.0
PLAY_WARMUP = 0.5
ENGINE_SECONDS = 2.0
CLIENTS = 100
CLIENT_FPS = 20
CLIENTS_SECONDS = 15.0
CLIENTS_WARMUP = 2.0
PING_INTERVAL = 0.05
# what the clients of (3) ask for, as the page does: "json" or "binary" (--frames)
FRAMES = "binary"
WORKER_RUNS = ((1, 100), (2, 100), (2, 200))  # (7): (server processes, clients)
SNAPSHOT_STEPS = 1500  # (5): steps played before a snapshot is timed (1,500 history points)

TYPE_RE = re.compile(r'^\{"type":"(\w+)"')
STEP_RE = re.compile(r'"step":(\d+)')
STEP_RE_BYTES = re.compile(rb'"step":(\d+)')

DIGITS = {
    "data": {"name": "digits"},
    "network": {
        "hidden": [{"units": 64, "activation": "relu"}, {"units": 64, "activation": "relu"}],
        "loss": "softmax_ce",
        "init": "he_normal",
    },
}
TANH_6X8 = {"network": {"hidden": [{"units": 8, "activation": "tanh"}] * 6}}
NETWORKS = (
    ("default 2-4-2-1 tanh", {}),
    ("digits 64-64-64-10 relu", DIGITS),
    ("2-8×6-1 tanh (6×8)", TANH_6X8),
)


# ----------------------------------------------------------------------------- helpers
def kind(text: str) -> str:
    m = TYPE_RE.match(text)
    return m.group(1) if m else json.loads(text)["type"]


def step_of(text: str) -> int:
    m = STEP_RE.search(text, 0, 64)
    assert m is not None, text[:80]
    return int(m.group(1))


def pct(values: list[float], q: float) -> float:
    """The q-th percentile (0–100), linear interpolation."""
    return float(np.percentile(np.asarray(values, dtype=float), q))


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


class Server:
    """``bpviz serve`` in a subprocess (uvicorn, websockets-sansio, deflate off), with
    ``workers`` server processes."""

    def __init__(self, env: dict[str, str] | None = None, workers: int = 1) -> None:
        self.env = SERVER_ENV if env is None else env
        self.port = free_port()
        self.url = f"http://{HOST}:{self.port}"
        self.ws_url = f"ws://{HOST}:{self.port}/ws"
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 (closed in stop())
        exe = Path(sys.executable).parent / "bpviz"
        cmd = [
            str(exe),
            "serve",
            "--host",
            HOST,
            "--port",
            str(self.port),
            "--log-level",
            "warning",
            "--workers",
            str(workers),
        ]
        env = os.environ | self.env
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=self.log, stderr=self.log)
        deadline = time.monotonic() + 30
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"bpviz serve exited with {self.proc.returncode}:\n{self.output()}"
                )
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=1) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("bpviz serve did not become healthy within 30 s")
            time.sleep(0.1)

    def cpu_seconds(self) -> float:
        """User + system CPU seconds of the server process so far (and of its worker
        processes, with ``--workers``)."""
        total = 0
        for pid in [self.proc.pid, *self.children()]:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += int(fields[11]) + int(fields[12])
        return total / os.sysconf("SC_CLK_TCK")

    def children(self) -> list[int]:
        """The worker processes of ``bpviz serve --workers N``."""
        out = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            if ppid == self.proc.pid:
                out.append(int(stat.parent.name))
        return out

    def output(self) -> str:
        self.log.seek(0)
        return self.log.read().decode(errors="replace")[-4000:]

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


async def open_session(url: str) -> tuple[ClientConnection, dict[str, str]]:
    """Connect and read the opening messages (hello, topology, frame, grid)."""
    ws = await connect(url, max_size=None, compression=None, open_timeout=30)
    got: dict[str, str] = {}
    while not {"hello", "topology", "frame", "grid"} <= got.keys():
        text = await asyncio.wait_for(ws.recv(), 30)
        assert isinstance(text, str)
        got[kind(text)] = text
    return ws, got


async def until(ws: ClientConnection, want: str, timeout: float = 10.0) -> str:
    """Receive until a message of type ``want``; fail on an error message."""
    while True:
        text = await asyncio.wait_for(ws.recv(), timeout)
        assert isinstance(text, str)
        k = kind(text)
        if k == want:
            return text
        if k == "error":
            raise RuntimeError(f"server error while waiting for {want}: {text}")


async def configure(ws: ClientConnection, config: dict[str, Any]) -> dict[str, str]:
    await ws.send(json.dumps({"type": "configure", "config": config}))
    got: dict[str, str] = {}
    want = {"topology", "frame"}
    while not want <= got.keys():
        text = await asyncio.wait_for(ws.recv(), 30)
        assert isinstance(text, str)
        k = kind(text)
        if k == "error":
            raise RuntimeError(text)
        got[k] = text
        if k == "topology" and json.loads(text)["data"]["n_features"] <= 2:
            want.add("grid")  # a decision-boundary grid only for 1-D and 2-D data
    return got


async def pause(ws: ClientConnection) -> None:
    """Pause and drain until the final frame after the ``state`` that says paused."""
    await ws.send(json.dumps({"type": "pause"}))
    while True:
        text = await asyncio.wait_for(ws.recv(), 10)
        if kind(text) == "state" and json.loads(text)["playing"] is False:
            break
    await until(ws, "frame")


@dataclass
class Figure:
    name: str
    value: str
    target: str
    passed: bool | None  # None: for information


# ----------------------------------------------------------------------------- (1)
async def bench_step(url: str) -> tuple[list[float], list[float]]:
    ws, _ = await open_session(url)
    msg = json.dumps({"type": "step", "unit": "step"})
    to_frame: list[float] = []
    to_grid: list[float] = []
    gc.collect()
    gc.disable()
    try:
        for i in range(STEP_WARMUP + STEP_COUNT):
            t0 = time.perf_counter()
            await ws.send(msg)
            await until(ws, "frame")
            t1 = time.perf_counter()
            await until(ws, "grid")  # every full step changes the weights: a grid follows
            t2 = time.perf_counter()
            if i >= STEP_WARMUP:
                to_frame.append(t1 - t0)
                to_grid.append(t2 - t0)
    finally:
        gc.enable()
    await ws.close()
    return to_frame, to_grid


# ----------------------------------------------------------------------------- (2)
def engine_steps_per_second() -> float:
    """Bare engine on the default config, this process, one BLAS thread (median of 5)."""
    exp = build(core_config.default_config())
    for _ in range(200):
        exp.step()
    rates = []
    gc.collect()
    gc.disable()
    try:
        for _ in range(5):
            n = 0
            t0 = time.perf_counter()
            deadline = t0 + ENGINE_SECONDS / 5
            while True:
                for _ in range(100):
                    exp.step()
                n += 100
                t = time.perf_counter()
                if t >= deadline:
                    break
            rates.append(n / (t - t0))
    finally:
        gc.enable()
    assert not exp.diverged
    return statistics.median(rates)


@dataclass
class PlayResult:
    fps: float
    steps_per_s: float
    frame_bytes: list[int]
    server_sps: list[float]
    gaps: list[float]
    server_cpu: float


async def bench_play(url: str, server: Server) -> PlayResult:
    ws, _ = await open_session(url)
    cpu0 = server.cpu_seconds()
    t_start = time.perf_counter()
    await ws.send(json.dumps({"type": "play", "speed": None, "fps": 60}))
    frames: list[tuple[float, int]] = []
    sizes: list[int] = []
    sps: list[float] = []
    while True:
        text = await asyncio.wait_for(ws.recv(), 10)
        t = time.perf_counter()
        if t - t_start > PLAY_WARMUP + PLAY_SECONDS:
            break
        k = kind(text)
        if k == "error":
            raise RuntimeError(text)
        if k != "frame" or t - t_start < PLAY_WARMUP:
            continue
        frames.append((t, step_of(text)))
        sizes.append(len(text.encode()))
        v = json.loads(text).get("steps_per_second")
        if v:
            sps.append(v)
    cpu = (server.cpu_seconds() - cpu0) / (time.perf_counter() - t_start)
    await pause(ws)
    await ws.close()
    (ta, sa), (tb, sb) = frames[0], frames[-1]
    gaps = [b[0] - a[0] for a, b in itertools.pairwise(frames)]
    return PlayResult(
        fps=(len(frames) - 1) / (tb - ta),
        steps_per_s=(sb - sa) / (tb - ta),
        frame_bytes=sizes,
        server_sps=sps,
        gaps=gaps,
        server_cpu=cpu,
    )


# ----------------------------------------------------------------------------- (3)
@dataclass
class CrowdResult:
    per_client_p99: list[float]
    per_client_fps: list[float]
    all_gaps: list[float]
    ping_rtt: list[float]
    ping_lost: int
    client_lag: list[float]
    server_cpu: float
    steps_per_s: float
    frames: int = 0  # frames delivered in the window, all clients
    server_cpu_s: float = 0.0  # CPU seconds of the server (all its processes) in the window
    client_cpu_s: float = 0.0  # CPU seconds of this (the clients') process in the window

    @property
    def server_ms_per_frame(self) -> float:
        """Server CPU-ms per delivered frame: training included (speed null trains as
        fast as the share allows), so this is what one frame costs end to end."""
        return 1e3 * self.server_cpu_s / max(1, self.frames)

    @property
    def client_ms_per_frame(self) -> float:
        return 1e3 * self.client_cpu_s / max(1, self.frames)


def process_cpu() -> float:
    """User + system CPU seconds of this process so far (all its threads)."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


async def bench_crowd(url: str, server: Server) -> CrowdResult:
    # Connect in small batches (a connection builds a session on the worker pool).
    conns: list[ClientConnection] = []
    for i in range(0, CLIENTS, 10):
        batch = await asyncio.gather(*(open_session(url) for _ in range(min(10, CLIENTS - i))))
        conns.extend(ws for ws, _ in batch)
    pinger, _ = await open_session(url)

    stop = asyncio.Event()
    t_start = time.perf_counter()
    window = (t_start + CLIENTS_WARMUP, t_start + CLIENTS_WARMUP + CLIENTS_SECONDS)
    arrivals: list[list[float]] = [[] for _ in conns]
    steps: list[list[tuple[float, int]]] = [[] for _ in conns]

    async def reader(i: int, ws: ClientConnection) -> None:
        if FRAMES == "binary":
            await ws.send(json.dumps({"type": "options", "frames": "binary"}))
        await ws.send(json.dumps({"type": "play", "speed": None, "fps": CLIENT_FPS}))
        mine, mysteps = arrivals[i], steps[i]
        async for text in ws:
            t = time.perf_counter()
            if t > window[1]:
                break
            if isinstance(text, bytes):  # a binary frame or grid: its JSON part at byte 8
                if t >= window[0] and text.startswith(b'{"message":{"type":"frame"', 8):
                    m = STEP_RE_BYTES.search(text, 8, 96)
                    assert m is not None
                    mine.append(t)
                    mysteps.append((t, int(m.group(1))))
            elif t >= window[0] and text.startswith('{"type":"frame"'):
                mine.append(t)
                mysteps.append((t, step_of(text)))
            elif text.startswith('{"type":"error"'):
                raise RuntimeError(text)

    sent: dict[int, float] = {}
    rtts: list[float] = []

    async def ping_reader() -> None:
        async for text in pinger:
            t = time.perf_counter()
            if text.startswith('{"type":"pong"'):
                ident = json.loads(text)["id"]
                t0 = sent.pop(ident, None)
                if t0 is not None and window[0] <= t0 <= window[1]:
                    rtts.append(t - t0)

    async def ping_writer() -> None:
        ident = 0
        nxt = time.perf_counter()
        while time.perf_counter() < window[1]:
            ident += 1
            sent[ident] = time.perf_counter()
            await pinger.send(json.dumps({"type": "ping", "id": ident}))
            nxt += PING_INTERVAL
            await asyncio.sleep(max(0.0, nxt - time.perf_counter()))

    lag: list[float] = []

    async def client_loop_lag() -> None:
        """Our own loop's lag (10 ms sleeps): if large, the client, not the server, is slow."""
        while time.perf_counter() < window[1]:
            t0 = time.perf_counter()
            await asyncio.sleep(0.01)
            if t0 >= window[0]:
                lag.append(time.perf_counter() - t0 - 0.01)

    window_cpu: list[tuple[float, float]] = []  # (server, this process) at each end

    async def cpu_probe() -> None:
        """CPU seconds of the server and of this process at both ends of the window:
        CPU per delivered frame does not depend (much) on what else the machine runs."""
        for end in window:
            await asyncio.sleep(max(0.0, end - time.perf_counter()))
            window_cpu.append((server.cpu_seconds(), process_cpu()))

    cpu0 = server.cpu_seconds()
    t_cpu = time.perf_counter()
    pr = asyncio.create_task(ping_reader())
    tasks = [asyncio.create_task(reader(i, ws)) for i, ws in enumerate(conns)]
    tasks += [asyncio.create_task(ping_writer()), asyncio.create_task(client_loop_lag())]
    tasks.append(asyncio.create_task(cpu_probe()))
    await asyncio.gather(*tasks)
    cpu = (server.cpu_seconds() - cpu0) / (time.perf_counter() - t_cpu)
    await asyncio.sleep(0.3)  # late pongs of pings sent inside the window
    pr.cancel()
    stop.set()
    lost = sum(1 for t0 in sent.values() if window[0] <= t0 <= window[1])
    await asyncio.gather(*(ws.close() for ws in [*conns, pinger]), return_exceptions=True)

    p99s, fps, gaps = [], [], []
    total_sps = 0.0
    for a, s in zip(arrivals, steps, strict=True):
        if len(a) < 2:
            p99s.append(float("inf"))
            fps.append(0.0)
            continue
        g = [y - x for x, y in itertools.pairwise(a)]
        # the stretch before the first frame and after the last counts as a gap too
        g.append(a[0] - window[0])
        g.append(window[1] - a[-1])
        gaps.extend(g)
        p99s.append(pct(g, 99))
        fps.append((len(a) - 1) / (a[-1] - a[0]))
        total_sps += (s[-1][1] - s[0][1]) / (s[-1][0] - s[0][0])
    (s0, c0), (s1, c1) = window_cpu
    delivered = sum(len(a) for a in arrivals)
    return CrowdResult(
        p99s, fps, gaps, rtts, lost, lag, cpu, total_sps, delivered, s1 - s0, c1 - c0
    )


# ----------------------------------------------------------------------------- (4)
async def bench_bytes(url: str) -> list[tuple[str, dict[str, int]]]:
    ws, _ = await open_session(url)
    out = []
    for name, config in NETWORKS:
        got = await configure(ws, config)
        await ws.send(json.dumps({"type": "step", "unit": "step"}))
        frame = await until(ws, "frame")
        sizes = {"topology": len(got["topology"].encode()), "frame": len(frame.encode())}
        if "grid" in got:
            sizes["grid"] = len((await until(ws, "grid")).encode())
        # a frame after a phase (half-computed trace)
        await ws.send(json.dumps({"type": "step", "unit": "phase"}))
        sizes["frame_phase"] = len((await until(ws, "frame")).encode())
        out.append((name, sizes))
    await ws.close()
    return out


# ----------------------------------------------------------------------------- (5)
def cpu_time(fn: Any, n: int, repeats: int = 15) -> float:
    """CPU seconds of one call (this thread; the best of ``repeats`` runs of ``n``)."""
    best = float("inf")
    for _ in range(repeats):
        t0 = time.thread_time()
        for _ in range(n):
            fn()
        best = min(best, (time.thread_time() - t0) / n)
    return best


def bench_encoders() -> list[tuple[str, dict[str, tuple[float, int]]]]:
    """(5) the candidates side by side: CPU seconds and bytes to encode one frame while
    playing (10 new history points), the frame already built."""
    from bpviz.server import encode, framepack, frames

    std = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    candidates = {
        "JSON, std encoder (before)": lambda m: std.encode(encode.jsonable(m)).encode(),
        "JSON, orjson (now)": lambda m: encode.dumps(m).encode(),
        "binary frame, walked": encode.pack,
        "binary frame, by its layout (the page's)": framepack.pack_frame,
    }
    out = []
    gc.collect()
    gc.disable()
    try:
        for name, config in NETWORKS:
            work = Workspace(Settings())
            work.adopt(build(core_config.validate(config)))
            exp = work.exp
            for _ in range(30):
                exp.step()
            work.view.playing = True
            work.history_feed.next(exp)
            for _ in range(10):
                exp.step()
            view, rewind = work.view, work.rewind_range()
            history, metrics = work.history_feed.next(exp), exp.metrics()
            message = frames.frame(exp, view, history, metrics, rewind)
            costs = {
                label: (cpu_time(lambda fn=fn, m=message: fn(m), 200, 25), len(fn(message)))
                for label, fn in candidates.items()
            }
            out.append((name, costs))
    finally:
        gc.enable()
    return out


def snapshot_cost(work: Workspace) -> float:
    """CPU seconds of one session snapshot (its exact text, as ``server.resume`` writes
    it every few seconds while playing) after ``SNAPSHOT_STEPS`` steps played as fast as
    possible: a history of that many points, and the rewind checkpoints a snapshot keeps."""
    from bpviz.server import snapshot_text

    work.view.playing = True
    work.train(60.0, SNAPSHOT_STEPS - work.exp.steps_done, None, fast=True)

    def write() -> str:
        _, head, pieces = snapshot_text.snapshot_start(work)
        assert head is not None and pieces is not None
        parts = [head]
        snapshot_text.write_for(pieces, parts, 60.0)
        return "".join(parts)

    work.view.playing = False
    return cpu_time(write, 10, 5)


def bench_frames() -> list[tuple[str, dict[str, float]]]:
    """Build and encode messages in this process, after one full step of each network."""
    out = []
    gc.collect()
    gc.disable()
    try:
        for name, config in NETWORKS:
            work = Workspace(Settings())
            work.adopt(build(core_config.validate(config)))
            work.exp.step()
            costs = {"frame": cpu_time(work.frame_text, 100)}
            work.view.playing = True
            costs["frame while playing"] = cpu_time(work.frame_text, 100)
            if "binary" in {f.name for f in dataclasses.fields(work.view)}:
                work.view.binary = True  # as the page asks (options frames binary)
                costs["binary frame while playing"] = cpu_time(work.frame_text, 100)
                work.view.binary = False
            work.view.playing = False
            if work.grid_text() is not None:
                costs["grid"] = cpu_time(work.grid_text, 30)
            costs["topology"] = cpu_time(work.topology_text, 30)
            costs["snapshot while playing"] = snapshot_cost(work)
            out.append((name, costs))
    finally:
        gc.enable()
    return out


# ----------------------------------------------------------------------------- report
def ms(s: float) -> str:
    return f"{s * 1e3:.2f} ms"


def us(s: float) -> str:
    return f"{s * 1e6:,.0f} µs"


def report(figures: list[Figure]) -> int:
    print()
    head = f"{'figure':<44} {'measured':>16} {'target':>14}  result"
    print(head)
    print("-" * len(head))
    fails = 0
    for f in figures:
        result = "info" if f.passed is None else ("PASS" if f.passed else "FAIL")
        fails += f.passed is False
        print(f"{f.name:<44} {f.value:>16} {f.target:>14}  {result}")
    print()
    return fails


def frame_figures() -> list[Figure]:
    figures = []
    print("(5) CPU time to build and encode, in this process (best of 15 runs):")
    for name, costs in bench_frames():
        print("    " + f"{name:<26}" + ", ".join(f"{k} {us(v)}" for k, v in costs.items()))
        figures.append(Figure(f"(5) frame, {name}", us(costs["frame"]), "-", None))
        figures.append(
            Figure("    frame while playing", us(costs["frame while playing"]), "-", None)
        )
        if "binary frame while playing" in costs:
            cost = us(costs["binary frame while playing"])
            figures.append(Figure("    binary frame while playing", cost, "-", None))
        snapshot = costs["snapshot while playing"]
        ratio = f"{us(snapshot)} ({snapshot / costs['frame while playing']:.1f} frames)"
        figures.append(Figure(f"    snapshot, {SNAPSHOT_STEPS:,} steps played", ratio, "-", None))
    print("(5) encoding one frame while playing (built already), CPU (best of 25) and bytes:")
    for name, candidates in bench_encoders():
        print(
            "    "
            + f"{name:<26}"
            + "; ".join(f"{k} {us(t)} {n:,} B" for k, (t, n) in candidates.items())
        )
        (t_std, n_std), (t_now, _), (t_bin, n_bin), (t_layout, _) = candidates.values()
        figures.append(Figure(f"(5) encode, {name}: orjson/std", f"{t_now / t_std:.0%}", "-", None))
        figures.append(Figure("    binary/std JSON", f"{t_bin / t_std:.0%}", "-", None))
        by_layout = f"{t_layout / t_std:.0%}"
        figures.append(Figure("    binary by layout/std JSON", by_layout, "-", None))
        figures.append(Figure("    bytes, binary/JSON", f"{n_bin / n_std:.0%}", "-", None))
    return figures


def crowd_figures(crowd: CrowdResult, clients: int, label: str) -> list[Figure]:
    """(7): one row of the workers table."""
    worst = max(crowd.per_client_p99)
    fps = statistics.median(crowd.per_client_fps)
    rtt = pct(crowd.ping_rtt, 99) if crowd.ping_rtt else float("inf")
    print(
        f"(7) {label}, {clients} clients: frames/s per client median {fps:.1f} "
        f"(min {min(crowd.per_client_fps):.1f}); per-client p99 gap worst {ms(worst)}, median "
        f"{ms(statistics.median(crowd.per_client_p99))}; ping p99 {ms(rtt)}; total "
        f"{crowd.steps_per_s:,.0f} steps/s; server CPU {crowd.server_cpu:.0%} of one core; "
        f"client loop lag p99 {ms(pct(crowd.client_lag, 99))}; CPU per frame: server "
        f"{crowd.server_ms_per_frame:.3f} ms, clients {crowd.client_ms_per_frame:.3f} ms"
    )
    return [
        Figure(f"(7) {label}, {clients} clients: fps median", f"{fps:.1f}", "≥ 19", fps >= 19),
        Figure("    per-client p99 gap, worst", ms(worst), "≤ 100 ms", worst <= 0.1),
        Figure("    ping p99 (idle client)", ms(rtt), "≤ 20 ms", rtt <= 0.02),
        Figure("    server CPU (cores)", f"{crowd.server_cpu:.2f}", "-", None),
    ]


def workers_table() -> list[Figure]:
    """(7): (3) with binary frames for each (workers, clients) of ``WORKER_RUNS``."""
    global CLIENTS, FRAMES
    FRAMES = "binary"
    figures: list[Figure] = []
    print(f"(7) load average before: {os.getloadavg()[0]:.2f} (2 cores; other work skews this)")
    for workers, clients in WORKER_RUNS:
        CLIENTS = clients
        server = Server(workers=workers)
        try:
            crowd = asyncio.run(bench_crowd(server.ws_url, server))
        finally:
            server.stop()
        figures += crowd_figures(crowd, clients, f"{workers} worker{'s' * (workers > 1)}")
    return figures


# ----------------------------------------------------------------------------- (8)
# The most expensive thing the limits allow (issue 11, item 1): digits, five hidden layers
# of 256, batch 1,024, gradcheck max_examples 1,024, over and over, with an export now and
# then. The default session budget (64 MiB) refuses this network, so the server runs with
# BPVIZ_SESSION_MEMORY_BYTES raised: the budget is not what is measured here.
HEAVY = {
    "data": {"name": "digits", "samples": 1797},
    "network": {"hidden": [{"units": 256, "activation": "relu"}] * 5, "loss": "softmax_ce"},
    "training": {"batch_size": 1024, "optimizer": "adam"},
}
HEAVY_ENV = SERVER_ENV | {"BPVIZ_SESSION_MEMORY_BYTES": str(1024 * 2**20)}
BYSTANDER_SECONDS = 20.0


async def bench_bystander(url: str, heavies: int = 1) -> tuple[list[float], int]:
    """A bystander steps (default network) once every 50 ms while ``heavies`` clients
    run gradient checks (and every fourth time an export) on ``HEAVY``: the bystander's
    step→frame round trips, and how many heavy jobs finished."""
    rtts: list[float] = []
    finished = 0
    stop = asyncio.Event()

    async def heavy() -> None:
        nonlocal finished
        ws = await connect(url, max_size=None, compression=None, open_timeout=30)
        await configure(ws, HEAVY)
        i = 0
        while not stop.is_set():
            job = "export" if i % 4 == 3 else "gradcheck"
            message = {"type": job} | ({"max_examples": 1024} if job == "gradcheck" else {})
            await ws.send(json.dumps(message))
            await until(ws, job, timeout=120)
            finished += 1
            i += 1
        await ws.close()

    tasks = [asyncio.create_task(heavy()) for _ in range(heavies)]
    await asyncio.sleep(3.0)  # the heavy sessions are built and busy
    ws, _ = await open_session(url)
    step = json.dumps({"type": "step", "unit": "step"})
    end = time.perf_counter() + BYSTANDER_SECONDS
    while time.perf_counter() < end:
        t0 = time.perf_counter()
        await ws.send(step)
        await until(ws, "frame", timeout=60)
        rtts.append(time.perf_counter() - t0)
        await asyncio.sleep(max(0.0, 0.05 - (time.perf_counter() - t0)))
    stop.set()
    await ws.close()
    await asyncio.gather(*tasks, return_exceptions=True)
    return rtts, finished


def bystander_figures() -> list[Figure]:
    figures: list[Figure] = []
    for heavies in (1, 2):
        server = Server(env=HEAVY_ENV)
        try:
            rtts, jobs = asyncio.run(bench_bystander(server.ws_url, heavies))
        finally:
            server.stop()
        p50, p99 = pct(rtts, 50), pct(rtts, 99)
        print(
            f"(8) bystander beside {heavies} heavy client(s) (digits 5×256, batch 1,024, "
            f"gradcheck max_examples 1,024, and exports): {len(rtts)} steps, step→frame p50 "
            f"{ms(p50)} p99 {ms(p99)} max {ms(max(rtts))}; {jobs} heavy jobs finished; "
            f"load average {os.getloadavg()[0]:.2f}"
        )
        target = "≤ 100 ms" if heavies == 1 else "-"
        figures.append(
            Figure(
                f"(8) bystander step p99, {heavies} heavy",
                ms(p99),
                target,
                p99 <= 0.1 if heavies == 1 else None,
            )
        )
    return figures


# ----------------------------------------------------------------------------- (9)
def rss_bytes(pid: int) -> int:
    """Resident memory of a process (bytes)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS")


async def bench_memory(server: Server, config: dict[str, Any], n: int) -> float:
    """The server's resident memory per session (bytes) for ``n`` sessions of
    ``config``, each trained 30 steps and exported once (rewind, buffers, history)."""
    before = rss_bytes(server.proc.pid)
    conns = []
    for _ in range(n):
        ws, _ = await open_session(server.ws_url)
        if config:
            await configure(ws, config)
        await ws.send(json.dumps({"type": "step", "unit": "step", "count": 30}))
        await until(ws, "frame", timeout=60)
        await ws.send(json.dumps({"type": "export"}))
        await until(ws, "export", timeout=60)
        conns.append(ws)
    await asyncio.sleep(0.5)
    after = rss_bytes(server.proc.pid)
    await asyncio.gather(*(ws.close() for ws in conns), return_exceptions=True)
    return (after - before) / n


def memory_figures() -> list[Figure]:
    from bpviz.server import budget
    from bpviz.server.settings import Settings as _Settings

    figures: list[Figure] = []
    for name, config, n in (("default", {}, 20), ("largest (digits 5×256, Adam)", HEAVY, 3)):
        server = Server(env=HEAVY_ENV)
        try:
            asyncio.run(bench_memory(server, {}, 1))  # warm: imports, first allocations
            per = asyncio.run(bench_memory(server, config, n))
        finally:
            server.stop()
        cfg = core_config.validate(config)
        est = budget.estimate(cfg, budget.data_shape(cfg), _Settings()).total
        print(
            f"(9) memory per session, {name}: {per / 2**20:.1f} MiB resident "
            f"({n} sessions); the budget's estimate {est / 2**20:.1f} MiB"
        )
        figures.append(Figure(f"(9) RSS per session, {name}", f"{per / 2**20:.1f} MiB", "-", None))
        figures.append(Figure("    its estimate (budget)", f"{est / 2**20:.1f} MiB", "-", None))
    return figures


def main() -> int:
    global STEP_COUNT, PLAY_SECONDS, CLIENTS, CLIENTS_SECONDS, FRAMES, BYSTANDER_SECONDS
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a shorter run, for comparisons")
    parser.add_argument("--only-frames", action="store_true", help="run (5) alone (no server)")
    parser.add_argument(
        "--frames",
        choices=["json", "binary"],
        default="binary",
        help="what (3)'s clients ask for (binary, as the page does)",
    )
    parser.add_argument(
        "--workers-table", action="store_true", help="run (7) alone: 1 and 2 server processes"
    )
    parser.add_argument("--bystander", action="store_true", help="run (8) alone")
    parser.add_argument("--memory", action="store_true", help="run (9) alone")
    args = parser.parse_args()
    if args.bystander or args.memory:
        if args.quick:
            BYSTANDER_SECONDS = 8.0
        figures = bystander_figures() if args.bystander else []
        report(figures + (memory_figures() if args.memory else []))
        return 0
    FRAMES = args.frames
    if args.only_frames:
        report(frame_figures())
        return 0
    if args.workers_table:
        if args.quick:
            CLIENTS_SECONDS = 5.0
        report(workers_table())
        return 0
    if args.quick:
        STEP_COUNT, PLAY_SECONDS, CLIENTS, CLIENTS_SECONDS = 500, 2.0, 30, 5.0
    t_all = time.perf_counter()
    try:
        from threadpoolctl import threadpool_info

        blas = ", ".join(
            f"{i['internal_api']} {i.get('version')} {i['num_threads']} thread(s)"
            for i in threadpool_info()
        )
    except ImportError:
        cfg: Any = np.show_config(mode="dicts")
        b = cfg["Build Dependencies"]["blas"]
        blas = f"{b.get('name')} {b.get('version')}"
    print("bpviz streaming benchmark: a real server on loopback, websocket clients")
    print(
        f"python {platform.python_version()}, numpy {np.__version__}, websockets "
        f"{websockets.__version__}, {platform.machine()}, {os.cpu_count()} CPU(s)"
    )
    print(
        f"numpy BLAS: {blas}; OPENBLAS_NUM_THREADS={os.environ['OPENBLAS_NUM_THREADS']} "
        f"(here and in the server)"
    )
    engine_sps = engine_steps_per_second()
    print(f"bare engine (this process): {engine_sps:,.0f} steps/s, default network")

    server = Server()
    print(
        f"server: bpviz serve on {server.url} (uvicorn, ws=websockets-sansio, deflate off), "
        f"env {' '.join(f'{k}={v}' for k, v in server.env.items())}; pid {server.proc.pid}"
    )
    figures: list[Figure] = []
    try:
        # (1)
        to_frame, to_grid = asyncio.run(bench_step(server.ws_url))
        p50, p99 = pct(to_frame, 50), pct(to_frame, 99)
        print(
            f"(1) {len(to_frame)} single steps (after {STEP_WARMUP} warm-up): step→frame "
            f"p50 {ms(p50)} p99 {ms(p99)} max {ms(max(to_frame))}; step→grid p50 "
            f"{ms(pct(to_grid, 50))} p99 {ms(pct(to_grid, 99))}"
        )
        figures.append(Figure("(1) step→frame round trip p50", ms(p50), "-", None))
        figures.append(Figure("(1) step→frame round trip p99", ms(p99), "≤ 5 ms", p99 <= 0.005))
        figures.append(Figure("(1) step→grid (frame+grid) p99", ms(pct(to_grid, 99)), "-", None))

        # (2)
        play = asyncio.run(bench_play(server.ws_url, server))
        engine_after = engine_steps_per_second()
        print(
            f"    bare engine again right after (2): {engine_after:,.0f} steps/s; the best of "
            f"the two is the reference (a noisy machine only ever makes a run slower)"
        )
        engine_sps = max(engine_sps, engine_after)
        ratio = play.steps_per_s / engine_sps
        big = sum(b > 16384 for b in play.frame_bytes)
        sps_field = statistics.median(play.server_sps) if play.server_sps else float("nan")
        print(
            f"(2) play speed=null fps=60 for {PLAY_SECONDS:.0f} s: {play.fps:.1f} frames/s "
            f"(gap p50 {ms(pct(play.gaps, 50))}, p99 {ms(pct(play.gaps, 99))}), "
            f"{play.steps_per_s:,.0f} steps/s (frames' steps_per_second field: {sps_field:,.0f}); "
            f"server CPU {play.server_cpu:.0%} of one core; {big} of {len(play.frame_bytes)} "
            f"frames over 16 KB (max {max(play.frame_bytes):,} B)"
        )
        figures.append(
            Figure(
                "(2) frames/s delivered, 1 client",
                f"{play.fps:.1f}",
                "≥ 58 (cap 60)",
                play.fps >= 58,
            )
        )
        figures.append(
            Figure("(2) training steps/s behind them", f"{play.steps_per_s:,.0f}", "-", None)
        )
        figures.append(
            Figure("    bare engine steps/s (same run)", f"{engine_sps:,.0f}", "-", None)
        )
        figures.append(Figure("(2) streamed / bare engine", f"{ratio:.0%}", "≥ 50 %", ratio >= 0.5))

        # (3)
        crowd = asyncio.run(bench_crowd(server.ws_url, server))
        finite = [p for p in crowd.per_client_p99 if np.isfinite(p)]
        worst = max(crowd.per_client_p99)
        med_p99 = statistics.median(crowd.per_client_p99)
        rtt_p50 = pct(crowd.ping_rtt, 50) if crowd.ping_rtt else float("inf")
        rtt_p99 = pct(crowd.ping_rtt, 99) if crowd.ping_rtt else float("inf")
        print(
            f"(3) {CLIENTS} clients ({FRAMES} frames), play speed=null fps={CLIENT_FPS}, "
            f"{CLIENTS_SECONDS:.0f} s "
            f"(after {CLIENTS_WARMUP:.0f} s warm-up): frames/s per client median "
            f"{statistics.median(crowd.per_client_fps):.1f} (min {min(crowd.per_client_fps):.1f}); "
            f"per-client p99 gap median {ms(med_p99)}, worst {ms(worst)} "
            f"({len(finite)}/{CLIENTS} clients got ≥ 2 frames); pooled gap p50 "
            f"{ms(pct(crowd.all_gaps, 50))} p99 {ms(pct(crowd.all_gaps, 99))}; "
            f"total {crowd.steps_per_s:,.0f} steps/s; server CPU {crowd.server_cpu:.0%} of one core"
        )
        print(
            f"    CPU per delivered frame ({crowd.frames:,} frames in the window): server "
            f"{crowd.server_ms_per_frame:.3f} ms (training included), clients' process "
            f"{crowd.client_ms_per_frame:.3f} ms; load average {os.getloadavg()[0]:.2f}"
        )
        print(
            f"    server loop lag, from outside: {len(crowd.ping_rtt)} pings every "
            f"{PING_INTERVAL * 1e3:.0f} ms from a 101st idle client, pong round trip p50 "
            f"{ms(rtt_p50)} p99 {ms(rtt_p99)} max {ms(max(crowd.ping_rtt or [float('inf')]))}"
            f" ({crowd.ping_lost} unanswered); this client's own loop lag p99 "
            f"{ms(pct(crowd.client_lag, 99))}"
        )
        figures.append(
            Figure(
                f"(3) {CLIENTS} clients: per-client p99 gap, worst",
                ms(worst),
                "≤ 100 ms",
                worst <= 0.1,
            )
        )
        figures.append(Figure("    per-client p99 gap, median client", ms(med_p99), "-", None))
        figures.append(
            Figure(
                "    frames/s per client, median",
                f"{statistics.median(crowd.per_client_fps):.1f}",
                f"({CLIENT_FPS} asked)",
                None,
            )
        )
        figures.append(
            Figure("(3) server loop lag p99 (ping RTT)", ms(rtt_p99), "≤ 20 ms", rtt_p99 <= 0.02)
        )
        figures.append(
            Figure("(3) server CPU per frame", f"{crowd.server_ms_per_frame:.3f} ms", "-", None)
        )
        figures.append(
            Figure("    clients' CPU per frame", f"{crowd.client_ms_per_frame:.3f} ms", "-", None)
        )

        # (4)
        sizes = asyncio.run(bench_bytes(server.ws_url))
        print("(4) bytes per message (after one full step; frame_phase: after one more phase):")
        for name, s in sizes:
            print("    " + f"{name:<26}" + ", ".join(f"{k} {v:,}" for k, v in s.items()))
        default_frame = sizes[0][1]["frame"]
        play_mean = statistics.mean(play.frame_bytes)
        figures.append(
            Figure(
                "(4) frame bytes, default network",
                f"{default_frame:,}",
                "≤ 16 KB",
                default_frame <= 16384,
            )
        )
        figures.append(
            Figure(
                "    frame bytes while playing (2), mean/max",
                f"{play_mean:,.0f}/{max(play.frame_bytes):,}",
                "≤ 16 KB",
                max(play.frame_bytes) <= 16384,
            )
        )
        for name, s in sizes[1:]:
            figures.append(Figure(f"(4) frame bytes, {name}", f"{s['frame']:,}", "-", None))
        figures.append(
            Figure("(4) grid bytes, default network", f"{sizes[0][1]['grid']:,}", "-", None)
        )
    finally:
        server.stop()

    # (5)
    figures += frame_figures()
    # (8), (9)
    figures += bystander_figures() + memory_figures()
    fails = report(figures)
    print(f"{fails} target(s) missed; whole run {time.perf_counter() - t_all:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
