"""Browser tests: a real bpviz server, Debian's Chromium, and a watch on every request.

Run in their own pytest process (sync Playwright keeps an event loop alive):
``.venv/bin/python -m pytest -q -p no:cacheprovider tests/e2e``.

Every test page records its requests and console messages; a test fails if the page
asked for anything outside the server's origin or logged an error. Each test saves a
screenshot under ``test-artifacts/e2e/``. Set ``BPVIZ_E2E_URL`` to test a server that
is already running instead of starting one.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "e2e"
CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
VIEWPORT = {"width": 1280, "height": 720}


def _chromium() -> str | None:
    for path in CHROMIUM_CANDIDATES:
        if Path(path).exists():
            return path
    return shutil.which("chromium")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_healthy(
    url: str, proc: subprocess.Popen[bytes] | None, log: Path | None = None, timeout: float = 30.0
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            out = log.read_text(errors="replace") if log is not None and log.exists() else ""
            raise RuntimeError(f"bpviz server exited with {proc.returncode}:\n{out[-3000:]}")
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=1) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"bpviz server at {url} did not answer within {timeout:.0f} s")


@pytest.fixture(scope="session")
def base_url() -> Iterator[str]:
    """The origin of a real bpviz server (started here unless BPVIZ_E2E_URL is set)."""
    given = os.environ.get("BPVIZ_E2E_URL")
    if given:
        wait_healthy(given.rstrip("/"), None)
        yield given.rstrip("/")
        return
    port = free_port()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    log_path = ARTIFACTS / "server.log"
    log_path.write_bytes(b"")
    proc = start_server(port, log_path)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop_server(proc)


def start_server(
    port: int, log: Path, env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """``bpviz serve`` on ``port``, answering ``/healthz``; its output appended to ``log``
    (a file: a pipe nobody reads fills up with the access log and blocks the server)."""
    bpviz = Path(sys.executable).parent / "bpviz"
    cmd = [str(bpviz), "serve", "--host", "127.0.0.1", "--port", str(port)]
    with log.open("ab") as out:  # the server writes to its own copy of the handle
        proc = subprocess.Popen(
            cmd, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})}
        )
    try:
        wait_healthy(f"http://127.0.0.1:{port}", proc, log)
    except RuntimeError:
        proc.kill()
        raise
    return proc


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    executable = _chromium()
    if executable is None:
        message = "Chromium not found (looked for /usr/bin/chromium): the browser tests cannot run"
        if os.environ.get("CI") == "true":
            pytest.fail(message, pytrace=False)
        pytest.skip("!!! SKIPPING ALL BROWSER TESTS !!! " + message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


class PageWatch:
    """What a page did: requests outside the origin, console errors, uncaught exceptions."""

    def __init__(self, origin: str) -> None:
        self.origin = origin
        self.outside: list[str] = []
        self.errors: list[str] = []
        self.requests: list[str] = []

    def request(self, url: str) -> None:
        self.requests.append(url)
        if url.startswith(("data:", "blob:", "about:")):
            return
        host = self.origin.split("://", 1)[1]
        own_ws = url == f"ws://{host}/ws" or url.startswith(f"ws://{host}/ws?")
        if not (url.startswith(self.origin + "/") or url == self.origin or own_ws):
            self.outside.append(url)


@pytest.fixture
def new_page(browser: Any, base_url: str, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A factory of watched pages: ``new_page(locale="zh-CN")``; all are checked at teardown."""
    contexts: list[Any] = []
    watches: list[PageWatch] = []

    def make(locale: str = "en-US", viewport: dict[str, int] | None = None, **options: Any) -> Any:
        """``options``: more of the context's (``has_touch=True`` for a tablet)."""
        context = browser.new_context(locale=locale, viewport=viewport or VIEWPORT, **options)
        contexts.append(context)
        page = context.new_page()
        watch = PageWatch(base_url)
        watches.append(watch)
        page.on("request", lambda r: watch.request(r.url))
        page.on("websocket", lambda ws: watch.request(ws.url))
        page.on(
            "console",
            lambda m: (
                watch.errors.append(f"console.{m.type}: {m.text}") if m.type == "error" else None
            ),
        )
        page.on("pageerror", lambda e: watch.errors.append(f"uncaught: {e}"))
        page.set_default_timeout(15_000)
        page.watch = watch
        return page

    yield make
    try:
        for watch in watches:
            assert not watch.outside, f"the page requested outside the server: {watch.outside}"
            assert not watch.errors, f"console errors: {watch.errors}"
    finally:
        for context in contexts:
            context.close()


@pytest.fixture
def page(new_page: Any) -> Any:
    return new_page()


def _screenshot(page: Any, name: str, full_page: bool = False) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


@pytest.fixture
def screenshot() -> Any:
    """``screenshot(page, name, full_page=False)`` saves test-artifacts/e2e/<name>.png."""
    return _screenshot


# Records every animation pulse (`circle.pulse`) and trail (`line.trail`) as it is added,
# and whether it had its place by then. The observer runs before the page is drawn; a
# pulse without `cx` (a trail without `x2`) at that moment is drawn at the corner (0, 0).
WATCH_PULSES = """() => {
  window.pulseWatch = {seen: 0, unplaced: []};
  new MutationObserver((records) => {
    for (const r of records) for (const el of r.addedNodes) {
      const pulse = el.matches?.('circle.pulse');
      const trail = el.matches?.('line.trail');
      if (!pulse && !trail) continue;
      window.pulseWatch.seen += 1;
      const at = pulse ? ['cx', 'cy'] : ['x1', 'y1', 'x2', 'y2'];
      if (at.some((k) => el.getAttribute(k) === null))
        window.pulseWatch.unplaced.push(el.outerHTML.slice(0, 120));
    }
  }).observe(document.body, {childList: true, subtree: true});
}"""


def pulses_placed(page: Any) -> int:
    """Assert that every pulse and trail added since ``WATCH_PULSES`` ran had its place when
    added; return how many there were."""
    watch = page.evaluate("() => window.pulseWatch")
    assert watch["unplaced"] == [], f"drawn at (0, 0) before the animation moved them: {watch}"
    return int(watch["seen"])


def overlap(a: dict[str, float], b: dict[str, float], tol: float = 0.5) -> bool:
    """Whether two rects (``l``, ``t``, ``r``, ``b``) overlap by more than ``tol`` px."""
    return (
        a["l"] < b["r"] - tol
        and b["l"] < a["r"] - tol
        and a["t"] < b["b"] - tol
        and b["t"] < a["b"] - tol
    )
