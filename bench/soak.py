"""Soak: many clients playing at once; the server's memory must plateau and come back.

Starts ``bpviz serve`` on a free loopback port, connects ``--clients`` websocket clients
that all play as fast as possible (frames at ``--fps``), for ``--seconds``, sampling the
server's resident memory (VmRSS) all along. Then every client disconnects and the server
must return to near its baseline with no session left.

    python bench/soak.py                                 # the full run: 200 clients, 10 min
    python bench/soak.py --clients 20 --seconds 20 --check   # the short form CI runs

Prints the memory curve and a verdict; ``--check`` exits 1 when a target is missed:
growth after the warm-up (the first half of the run, at most 2 minutes) < 10 %, memory
after disconnect within 15 % (+ 20 MiB) of the baseline, zero sessions left.
Only loopback is used; the run is bounded by ``--seconds``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from websockets.asyncio.client import connect

ROOT = Path(__file__).resolve().parents[1]


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def health(port: int) -> dict[str, object]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as r:
        return dict(json.load(r))


async def client(url: str, fps: int, stop: asyncio.Event, counts: list[int], i: int) -> None:
    await asyncio.sleep(i * 0.01)  # stagger the connections
    async with connect(url, max_size=2**24, open_timeout=30) as ws:
        await ws.send(json.dumps({"type": "play", "speed": None, "fps": fps}))
        while not stop.is_set():
            try:
                text = await asyncio.wait_for(ws.recv(), 1.0)
            except TimeoutError:
                continue
            if text.startswith('{"type":"frame"'):
                counts[i] += 1


async def drive(port: int, n: int, seconds: float, fps: int, pid: int) -> list[tuple[float, float]]:
    url = f"ws://127.0.0.1:{port}/ws"
    stop = asyncio.Event()
    counts = [0] * n
    tasks = [asyncio.create_task(client(url, fps, stop, counts, i)) for i in range(n)]
    curve: list[tuple[float, float]] = []
    t0 = time.monotonic()
    step = max(1.0, seconds / 40)
    next_report = 0.0
    while (elapsed := time.monotonic() - t0) < seconds:
        for t in tasks:
            if t.done() and t.exception() is not None:
                raise RuntimeError(f"a client failed: {t.exception()!r}")
        curve.append((elapsed, rss_mib(pid)))
        if elapsed >= next_report:
            print(
                f"  t={elapsed:6.1f}s  rss={curve[-1][1]:7.1f} MiB  frames so far={sum(counts):,}"
            )
            next_report += max(step * 5, 10)
        await asyncio.sleep(step)
    stop.set()
    await asyncio.gather(*tasks)
    print(f"  frames received: {sum(counts):,} ({sum(counts) / seconds / n:.1f} per client per s)")
    return curve


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--clients", type=int, default=200)
    ap.add_argument("--seconds", type=float, default=600)
    ap.add_argument("--fps", type=int, default=10)
    ap.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    args = ap.parse_args(argv)

    port = free_port()
    env = {
        **os.environ,
        "BPVIZ_MAX_SESSIONS": str(args.clients + 10),
        "BPVIZ_MESSAGE_BURST": "1000",
    }
    bpviz = Path(sys.executable).with_name("bpviz")
    server = subprocess.Popen(
        [str(bpviz), "serve", "--port", str(port), "--log-level", "warning"], env=env
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                health(port)
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError("server did not start") from None
                time.sleep(0.1)
        # warm the server once (imports, plotly not needed), then take the baseline
        asyncio.run(drive(port, 1, 2, args.fps, server.pid))
        time.sleep(1)
        baseline = rss_mib(server.pid)
        print(
            f"soak: {args.clients} clients playing for {args.seconds:.0f} s at {args.fps} frames/s"
        )
        print(f"  baseline rss={baseline:.1f} MiB")
        curve = asyncio.run(drive(port, args.clients, args.seconds, args.fps, server.pid))
        warm = min(120.0, args.seconds / 2)
        at_warm = next(r for t, r in curve if t >= warm)
        peak_after = max(r for t, r in curve if t >= warm)
        growth = (peak_after - at_warm) / at_warm
        deadline = time.monotonic() + 60
        while health(port)["sessions"] != 0 and time.monotonic() < deadline:
            time.sleep(0.5)
        time.sleep(2)
        after = rss_mib(server.pid)
        sessions = health(port)["sessions"]
    finally:
        server.terminate()
        server.wait(timeout=20)

    ok_growth = growth < 0.10
    ok_after = after <= baseline * 1.15 + 20
    ok_sessions = sessions == 0
    print()
    print(f"{'figure':44} {'value':>12}  {'target':>14}  result")
    print(f"{'rss at warm-up end (t=' + f'{warm:.0f}' + ' s)':44} {at_warm:9.1f} MiB")
    print(f"{'peak rss after warm-up':44} {peak_after:9.1f} MiB")
    verdict = "PASS" if ok_growth else "FAIL"
    print(f"{'growth after warm-up':44} {growth * 100:10.1f} %  {'< 10 %':>14}  {verdict}")
    verdict = "PASS" if ok_after else "FAIL"
    print(
        f"{'rss after all disconnect (baseline ' + f'{baseline:.0f}' + ')':44} {after:9.1f} MiB"
        f"  {'≤ 1.15×base+20':>14}  {verdict}"
    )
    print(f"{'sessions left':44} {sessions!s:>12}  {'0':>14}  {'PASS' if ok_sessions else 'FAIL'}")
    passed = ok_growth and ok_after and ok_sessions
    return 0 if passed or not args.check else 1


if __name__ == "__main__":
    sys.exit(main())
