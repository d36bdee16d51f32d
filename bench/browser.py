"""Browser benchmark: the bpviz page playing at full speed in headless Chromium.

Run with ``.venv/bin/python bench/browser.py`` (about 45 s); ``bench/README.md``
explains the figures. It starts ``bpviz serve`` (default settings) on a free port of
127.0.0.1, opens the page in Debian's Chromium through Playwright (headless, software
rendering, viewport 1280×720) and, for each network, presses play at speed "max" and
records for ~10 s:

- every ``requestAnimationFrame`` timestamp → frame time (median, p95) and the frames/s
  the page actually renders (callbacks / elapsed time);
- ``window.bpviz.frames`` and ``window.bpviz.frame.step`` at each of those frames →
  server frames applied by the page per second, and weight updates/s behind them;
- long tasks (> 50 ms) on the page's main thread, from a ``PerformanceObserver``.

Networks: (a) the default (2-4-2-1 tanh, batch 10, circle) and (b) 2 inputs → 6 hidden
layers × 8 tanh → 1, batch 10, circle — set through the URL hash the page reads
(``frontend/static/js/shared/state.js``). First, a baseline: rAF on an idle blank page and on
the idle bpviz page (headless Chromium without a GPU can throttle rAF).
"""

# One BLAS thread, set before NumPy is imported; the server subprocess inherits it.
import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import platform  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402
from playwright.sync_api import Page, sync_playwright  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from stream import Server  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
VIEWPORT = {"width": 1280, "height": 720}
BASELINE_SECONDS = 3.0
PLAY_SECONDS = 10.0
PLAY_WARMUP = 1.5
SPEED = None  # the page's speed setting: None = "max" (as fast as the server can)

HIDDEN_6X8 = ",".join(["8:tanh"] * 6)
SCENARIOS = (
    ("(a) default 2-4-2-1 tanh, B=10", "#data=circle&batch=10&speed=max", 3, (59.0, 1484.0)),
    (
        "(b) 2-8×6-1 tanh, B=10, circle",
        f"#data=circle&hidden={HIDDEN_6X8}&batch=10&speed=max",
        7,
        (19.6, 489.0),
    ),
)
TARGET_FPS, TARGET_MEDIAN_MS, TARGET_P95_MS, TARGET_UPDATES = 55.0, 18.0, 33.0, 5000.0

# Injected with page.evaluate (the page's CSP forbids inline scripts, not this).
RECORDER = """
(seconds) => new Promise((resolve) => {
  const rows = [];   // [rAF timestamp, bpviz.frames, bpviz.frame.step]
  const longTasks = [];
  let obs = null;
  try {
    obs = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) longTasks.push(e.duration);
    });
    obs.observe({ type: "longtask", buffered: false });
  } catch (e) { obs = null; }
  const b = () => window.bpviz;
  const t0 = performance.now();
  const tick = (ts) => {
    const bp = b();
    rows.push([ts, bp ? bp.frames : 0, bp && bp.frame ? bp.frame.step : 0]);
    if (performance.now() - t0 < seconds * 1000) requestAnimationFrame(tick);
    else {
      if (obs) obs.disconnect();
      resolve({ rows, longTasks, playing: bp ? bp.playing : null });
    }
  };
  requestAnimationFrame(tick);
})
"""


@dataclass
class Measure:
    name: str
    median_ms: float
    p95_ms: float
    max_ms: float
    fps: float
    data_fps: float
    updates_per_s: float
    long_tasks: list[float]


def measure(page: Page, name: str, seconds: float) -> Measure:
    out: dict[str, Any] = page.evaluate(RECORDER, seconds)
    rows = np.asarray(out["rows"], dtype=float)
    ts = rows[:, 0]
    deltas = np.diff(ts)
    span_s = (ts[-1] - ts[0]) / 1000.0
    return Measure(
        name=name,
        median_ms=float(np.median(deltas)),
        p95_ms=float(np.percentile(deltas, 95)),
        max_ms=float(deltas.max()),
        fps=(len(ts) - 1) / span_s,
        data_fps=(rows[-1, 1] - rows[0, 1]) / span_s,
        updates_per_s=(rows[-1, 2] - rows[0, 2]) / span_s,
        long_tasks=list(out["longTasks"]),
    )


def open_page(page: Page, url: str, layers: int) -> None:
    page.goto(url)
    page.wait_for_function(
        f"() => window.bpviz && window.bpviz.connected && window.bpviz.topology"
        f" && window.bpviz.topology.layers.length === {layers} && window.bpviz.frames > 0",
        timeout=30_000,
    )
    page.wait_for_timeout(500)  # let charts and the first grid settle


def main() -> int:
    t_all = time.perf_counter()
    server = Server(env={})
    errors: list[str] = []
    results: list[tuple[Measure, tuple[float, float], str]] = []
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            print("bpviz browser benchmark: the page playing at full speed")
            print(
                f"Chromium {browser.version} (headless, {' '.join(CHROMIUM_ARGS)}), viewport "
                f"{VIEWPORT['width']}×{VIEWPORT['height']}; python {platform.python_version()}, "
                f"{platform.machine()}, {os.cpu_count()} CPU(s); server {server.url} default "
                f"settings, OPENBLAS_NUM_THREADS={os.environ['OPENBLAS_NUM_THREADS']}"
            )
            context = browser.new_context(viewport=VIEWPORT, locale="en-US")
            page = context.new_page()
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))

            # Baselines: is rAF at 60 Hz when nothing else happens?
            page.set_content("<!doctype html><title>blank</title><p>idle")
            blank = measure(page, "idle blank page", BASELINE_SECONDS)
            open_page(page, server.url + "/" + SCENARIOS[0][1], SCENARIOS[0][2])
            idle = measure(page, "idle bpviz page (not playing)", BASELINE_SECONDS)
            for m in (blank, idle):
                print(
                    f"baseline, {m.name}: rAF {m.fps:.1f}/s, frame median {m.median_ms:.2f} ms, "
                    f"p95 {m.p95_ms:.2f} ms, max {m.max_ms:.1f} ms"
                )

            for name, fragment, layers, peer in SCENARIOS:
                page.goto("about:blank")
                open_page(page, server.url + "/" + fragment, layers)
                speed = page.evaluate("() => window.bpviz.state.ui.speed")
                assert speed == SPEED, f"the page's speed is {speed!r}, not {SPEED!r}"
                page.click("#play")
                page.wait_for_function("() => window.bpviz.playing", timeout=10_000)
                page.wait_for_timeout(int(PLAY_WARMUP * 1000))
                m = measure(page, name, PLAY_SECONDS)
                playing = page.evaluate("() => window.bpviz.playing")
                diverged = page.evaluate("() => window.bpviz.frame.diverged")
                page.click("#play")  # pause
                lt = m.long_tasks
                print(
                    f"{name}: rAF {m.fps:.1f}/s, frame median {m.median_ms:.2f} ms, p95 "
                    f"{m.p95_ms:.2f} ms, max {m.max_ms:.1f} ms; server frames applied "
                    f"{m.data_fps:.1f}/s; {m.updates_per_s:,.0f} updates/s; long tasks "
                    f"{len(lt)} ({sum(lt):.0f} ms in all, longest {max(lt, default=0):.0f} ms); "
                    f"still playing {playing}, diverged {diverged}"
                )
                results.append((m, peer, fragment))
            context.close()
            browser.close()
    finally:
        server.stop()

    print()
    head = (
        f"{'network (at speed max)':<32} {'rAF fps':>8} {'median':>8} {'p95':>8} "
        f"{'frames':>7} {'updates/s':>10} │ {'peer fps':>8} {'peer upd/s':>10} │ result"
    )
    print(head)
    print("-" * len(head))
    print(
        f"{'baseline: idle blank page':<32} {blank.fps:8.1f} {blank.median_ms:6.2f}ms "
        f"{blank.p95_ms:6.2f}ms {'-':>7} {'-':>10} │ {'':>8} {'':>10} │ info"
    )
    print(
        f"{'baseline: idle bpviz page':<32} {idle.fps:8.1f} {idle.median_ms:6.2f}ms "
        f"{idle.p95_ms:6.2f}ms {'-':>7} {'-':>10} │ {'':>8} {'':>10} │ info"
    )
    fails = 0
    for m, (peer_fps, peer_upd), _ in results:
        if m.name.startswith("(b)"):
            checks = {
                "fps": m.fps >= TARGET_FPS,
                "median": m.median_ms <= TARGET_MEDIAN_MS,
                "p95": m.p95_ms <= TARGET_P95_MS,
                "updates": m.updates_per_s >= TARGET_UPDATES,
            }
            missed = [k for k, ok in checks.items() if not ok]
            fails += len(missed)
            result = "PASS" if not missed else "FAIL (" + ", ".join(missed) + ")"
        else:
            result = "info"
        print(
            f"{m.name:<32} {m.fps:8.1f} {m.median_ms:6.2f}ms {m.p95_ms:6.2f}ms "
            f"{m.data_fps:7.1f} {m.updates_per_s:10,.0f} │ {peer_fps:8.1f} {peer_upd:10,.0f} │ "
            f"{result}"
        )
    print(
        f"{'targets for (b)':<32} {'≥ 55':>8} {'≤ 18ms':>8} {'≤ 33ms':>8} {'-':>7} "
        f"{'≥ 5,000':>10} │ {'':>8} {'':>10} │"
    )
    print()
    print(
        "rAF fps: requestAnimationFrame callbacks per second (the frames the page renders); "
        "median/p95: rAF deltas; frames: server frames the page applied per second (the page "
        "asks for 30/s); updates/s: weight updates per second from the frames' step counts. "
        "Peer: TensorFlow Playground, headless Chromium, same kind of machine."
    )
    if errors:
        print(f"page console errors ({len(errors)}): " + " | ".join(errors[:5]))
    print(f"{fails} target(s) missed; whole run {time.perf_counter() - t_all:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
