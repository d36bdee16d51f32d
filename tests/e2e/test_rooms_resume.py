"""Rooms across a reconnect, on the real main page: after a server restart the lecturer and
the students see the room as the server has it now (gone), and a reload or a restart says one
thing about the run, once.

The restart tests run a server of their own (``own_server``: killed and started again on the
same port and data directory, so the lecturer's run comes back by its resume token).
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .conftest import free_port, start_server, stop_server
from .test_rooms_page import at_step, follow, open_room

LINK = "/#data=xor&hidden=4:tanh&batch=4&seed=3"
READY = "() => window.bpviz?.connected && window.bpviz.topology?.config.seed === 3"
STEP = "[data-step='step']"
STEP_OF = "() => window.bpviz.frame?.step"


def shown(page: Any, selector: str) -> str | None:
    """The text of a banner when it is shown, else None."""
    return page.evaluate(
        "(s) => { const e = document.querySelector(s); return e && !e.hidden ? e.textContent : null; }",
        selector,
    )


@pytest.fixture
def own_server(tmp_path: Path, new_page: Any) -> Iterator[dict[str, Any]]:
    """A server of this test's own on a port of its own, and its data directory: ``start()``,
    ``stop(sig)`` (SIGKILL: a crash; SIGTERM: a graceful stop), ``url`` and ``page(locale)``."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {"BPVIZ_DATA_DIR": str(tmp_path / "data")}
    procs: list[Any] = []
    pages: list[Any] = []

    def stop(sig: int) -> None:
        proc = procs[-1]
        proc.send_signal(sig)
        proc.wait(timeout=15)

    def page(locale: str = "en-US") -> Any:
        p = new_page(locale=locale)
        pages.append(p)
        return p

    info: dict[str, Any] = {
        "url": url,
        "start": lambda: procs.append(start_server(port, tmp_path / "server.log", env)),
        "stop": stop,
        "page": page,
    }
    yield info
    socket = f"ws://{url.split('://', 1)[1]}/ws"
    for p in pages:
        # Its origin is not the session's server's: not an outside request. While it is down,
        # the browser logs each reconnect that fails: not an error of the page.
        p.watch.outside = [u for u in p.watch.outside if not u.startswith((url, socket))]
        p.watch.errors = [
            e for e in p.watch.errors if not (socket in e and "ERR_CONNECTION_REFUSED" in e)
        ]
    for proc in procs:
        if proc.poll() is None:
            stop_server(proc)


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=["kill-9", "stop"])
def test_a_restart_ends_the_room_for_everyone(
    own_server: dict[str, Any], sig: int, screenshot: Any
) -> None:
    """A room open, two students following; the server dies (or stops) and comes back. The
    lecturer's run comes back, the room does not: no badge, no QR code, a message saying so.
    Each student is out of the room (the bar gone, the controls free, the address "/"), told
    in their language that the room ended, and on a run of their own they can step."""
    own_server["start"]()
    url = own_server["url"]
    lecturer = own_server["page"]()
    en, zh = own_server["page"](), own_server["page"]("zh-CN")
    lecturer.goto(url + LINK)
    lecturer.wait_for_function(READY)
    for n in (1, 2):
        lecturer.click(STEP)
        at_step(lecturer, n)
    raw = open_room(lecturer)
    code = f"{raw[:3]}-{raw[3:]}"  # as the page shows it
    follow(en, url, raw, 2)
    follow(zh, url, raw, 2)
    lecturer.wait_for_function(
        "() => /\\b2\\b/.test(document.querySelector('#room-open').textContent)"
    )
    lecturer.wait_for_timeout(500)  # the run's snapshot is written once the session is idle

    own_server["stop"](sig)
    for page in (lecturer, en, zh):
        page.wait_for_selector("#connection[data-status=closed]")
    own_server["start"]()

    # The lecturer: the run is back at step 2; the room is not, and the page says so (a
    # stopping server says it before it goes: "is restarting"; after a crash: "restarted").
    lecturer.wait_for_selector("#connection[data-status=open]", timeout=30_000)
    lecturer.wait_for_selector("#room-notice:not([hidden])")
    note = shown(lecturer, "#room-notice") or ""
    assert code in note and "server" in note and "restart" in note, note
    at_step(lecturer, 2)
    assert lecturer.text_content("#room-open .label") == "Room"  # no code, no count
    assert not lecturer.evaluate(
        "() => document.querySelector('#room-open').classList.contains('active')"
    )
    screenshot(lecturer, "rooms-restart-lecturer")
    lecturer.click("#room-open")
    lecturer.wait_for_selector("#room-dialog .room-start:not([hidden])")
    assert lecturer.is_hidden("#room-dialog .room-owner")  # no QR code of a room that is gone
    assert code in str(lecturer.text_content("#room-closed-note"))
    screenshot(lecturer, "rooms-restart-lecturer-dialog")
    lecturer.keyboard.press("Escape")

    # The students: out of the room, told why, on a run of their own.
    for page, words in ((en, "has ended: the server restarted"), (zh, "已结束：服务器已重启")):
        page.wait_for_selector("#room-bar", state="hidden", timeout=30_000)
        page.wait_for_selector("#room-notice:not([hidden])")
        note = shown(page, "#room-notice") or ""
        assert code in note and words in note, note
        assert page.evaluate("() => location.pathname") == "/"
        assert not page.evaluate("() => document.body.classList.contains('room-following')")
        for control in ("#playback", "#sidebar", "#focus-example"):
            assert not page.evaluate(f"() => document.querySelector('{control}').inert"), control
        assert shown(page, "#banner-error") is None  # no "No such room" on top of it
        assert shown(page, "#banner-connection") is None  # no run of its own was lost
        assert page.is_visible("#room-open")
    screenshot(zh, "rooms-restart-student-zh")
    screenshot(en, "rooms-restart-student-en")
    zero = en.evaluate(STEP_OF)
    en.click(STEP)
    at_step(en, zero + 1)  # its own run
    assert lecturer.evaluate(STEP_OF) == 2
    # The lecturer opens a new room; a student joins it by its code.
    new_code = open_room(lecturer)
    assert new_code != raw
    zh.click("#room-open")
    zh.fill("#room-join-code", new_code)
    zh.click("#room-join")
    zh.wait_for_selector("#room-bar:not([hidden])")
    at_step(zh, 2)


def test_a_followers_reload_says_nothing_of_a_lost_run(
    new_page: Any, base_url: str, screenshot: Any
) -> None:
    """A student reloads the room's page: it follows again, and no banner says a previous run
    was not found (a follower has no run of its own to lose)."""
    lecturer = new_page()
    lecturer.goto(base_url + LINK)
    lecturer.wait_for_function(READY)
    lecturer.click(STEP)
    at_step(lecturer, 1)
    code = open_room(lecturer)
    for locale in ("en-US", "zh-CN"):
        student = new_page(locale=locale)
        follow(student, base_url, code, 1)
        student.reload()
        student.wait_for_selector("#room-bar:not([hidden])")
        at_step(student, 1)  # the notice, when there is one, comes before the room's frames
        student.wait_for_function("() => window.bpviz.connected")
        assert student.evaluate("() => document.body.classList.contains('room-following')")
        assert shown(student, "#banner-connection") is None, shown(student, "#banner-connection")
        assert shown(student, "#room-notice") is None, shown(student, "#room-notice")
        assert shown(student, "#banner-error") is None
        screenshot(student, f"rooms-follower-reload-{locale}")


@pytest.mark.parametrize(
    ("locale", "words"),
    [("en-US", "was not found"), ("zh-CN", "没有找到要恢复的训练")],
)
def test_an_unknown_token_is_said_once(
    new_page: Any, base_url: str, locale: str, words: str, screenshot: Any
) -> None:
    """A reload whose run the server no longer has: one message, in the reader's language."""
    page = new_page(locale=locale)
    page.goto(base_url + LINK)
    page.wait_for_function(READY)
    page.evaluate("() => sessionStorage.setItem('bpviz.resume_token', 'A'.repeat(22))")
    page.reload()
    page.wait_for_selector("#banner-connection:not([hidden])")
    page.wait_for_function(READY)
    assert words in str(page.text_content("#banner-connection"))
    assert shown(page, "#room-notice") is None  # not a second time, in other words
    assert page.evaluate("() => sessionStorage.getItem('bpviz.resume_token')") != "A" * 22
    screenshot(page, f"rooms-unknown-token-{locale}")


class DroppingProxy:
    """A TCP proxy in front of the server, on a port of its own. ``drop()`` is a network
    that drops: the browser's side of every open connection is cut (its socket closes),
    while the server's side stays open and silent — the server notices only at its ping
    timeout (up to 35 s). New connections go through as before."""

    def __init__(self, target_port: int) -> None:
        self.target = target_port
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.pairs: list[tuple[asyncio.StreamWriter, list[asyncio.Task[None]]]] = []
        self.silent: list[asyncio.StreamWriter] = []  # the server's sides, left open
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.call(self._start())

    def call(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(10)

    async def _start(self) -> None:
        self.server = await asyncio.start_server(self._pair, "127.0.0.1", self.port)

    async def _pair(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target)

        async def pipe(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
            with contextlib.suppress(ConnectionError):
                while data := await r.read(65536):
                    w.write(data)
                    await w.drain()
            if w is writer:
                writer.close()

        tasks = [
            asyncio.create_task(pipe(reader, up_writer)),
            asyncio.create_task(pipe(up_reader, writer)),
        ]
        self.pairs.append((writer, tasks))
        self.silent.append(up_writer)

    async def _drop(self) -> None:
        for writer, tasks in self.pairs:
            for task in tasks:
                task.cancel()
            writer.transport.abort()
        self.pairs.clear()

    def drop(self) -> None:
        self.call(self._drop())

    def close(self) -> None:
        async def end() -> None:
            await self._drop()
            for w in self.silent:
                w.transport.abort()
            self.server.close()
            await self.server.wait_closed()
            await asyncio.sleep(0.05)  # the aborted transports' last callbacks

        self.call(end())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()


def test_a_lecturer_whose_network_drops_keeps_the_room(
    new_page: Any, base_url: str, screenshot: Any
) -> None:
    """The lecturer's network drops without a goodbye (the server still holds the old
    connection) and comes back a second later: the page reconnects with its token and
    ``takeover=1``, and gets its own run, its token and the room back — the student keeps
    following — instead of a copy under a new token beside a room that would die with the
    old connection."""
    proxy = DroppingProxy(int(base_url.rsplit(":", 1)[1]))
    lecturer, student = new_page(), new_page()
    try:
        lecturer.goto(proxy.url + LINK)
        lecturer.wait_for_function(READY)
        for n in (1, 2):
            lecturer.click(STEP)
            at_step(lecturer, n)
        raw = open_room(lecturer)
        follow(student, base_url, raw, 2)
        token = lecturer.evaluate("() => sessionStorage.getItem('bpviz.resume_token')")
        lecturer.wait_for_timeout(500)  # the run's snapshot is written once the session is idle

        proxy.drop()
        lecturer.wait_for_selector("#connection[data-status=closed]", state="attached")
        lecturer.wait_for_selector("#connection[data-status=open]", timeout=30_000)
        assert lecturer.evaluate("() => sessionStorage.getItem('bpviz.resume_token')") == token
        at_step(lecturer, 2)
        lecturer.wait_for_function(
            "() => /\\b1\\b/.test(document.querySelector('#room-open').textContent)"
        )
        assert shown(lecturer, "#room-notice") is None  # no "the room ended"
        lecturer.click(STEP)
        at_step(lecturer, 3)
        at_step(student, 3)  # still following
        assert student.is_visible("#room-bar")
        screenshot(lecturer, "rooms-drop-lecturer")
    finally:
        for p in (lecturer,):
            socket = f"ws://127.0.0.1:{proxy.port}/ws"
            p.watch.outside = [u for u in p.watch.outside if not u.startswith((proxy.url, socket))]
            p.watch.errors = [e for e in p.watch.errors if socket not in e]
        proxy.close()
