"""Classroom rooms and resume in the browser, two pages: open a room, its link and QR code,
follow it read-only, make a copy, follow again, close; a reload that brings the run back.

The room's own modules (js/main/room.js, templates/_room.html, css/room.css and the
room.{en,zh}.json dictionaries) run here in a small page this test builds on the server's
origin — the partial, the shared transport and i18n, and the few controls a follower must
not use — so that it depends on nothing of the main page but what the room module needs.
"""

from __future__ import annotations

import re
from typing import Any

from jinja2 import Environment, FileSystemLoader

from bpviz.server.pages import FRONTEND_DIR

_env = Environment(loader=FileSystemLoader(str(FRONTEND_DIR / "templates")), autoescape=True)
_room = _env.get_template("_room.html").module

BODY = f"""<header class="topbar"><div id="playback"><button id="step" type="button">step</button></div>
{_room.button()}
<span id="connection"><span class="label"></span></span></header>
{_room.panel()}
<aside id="sidebar"><button id="side-button" type="button">a setting</button></aside>"""

BOOT = """async ({ body, path }) => {
  for (const css of ["/static/css/page.css", "/static/css/room.css"]) {
    const link = document.createElement("link");
    link.rel = "stylesheet";
    link.href = css;
    document.head.append(link);
  }
  document.body.innerHTML = body;
  if (path) history.replaceState(null, "", path);
  const { applyI18n, initI18n } = await import("/static/js/shared/i18n.js");
  const { Transport } = await import("/static/js/shared/transport.js");
  const { RoomPanel, socketUrl, wantsOwnConfig } = await import("/static/js/main/room.js");
  await initI18n(["room"]);
  applyI18n(document);
  // What transport.js does once it takes a function as its url: each (re)connect asks it.
  class RoomTransport extends Transport {
    connect() {
      this.url = socketUrl();
      super.connect();
    }
  }
  const transport = new RoomTransport();
  const room = new RoomPanel({ transport });
  const seen = { hello: null, frames: [], topology: null, errors: [] };
  transport.on("hello", (m) => {
    seen.hello = m;
    if (wantsOwnConfig(m)) transport.send({ type: "configure", config: { data: { name: "xor" } } });
  });
  transport.on("topology", (m) => (seen.topology = m));
  transport.on("frame", (m) => seen.frames.push(m.step));
  transport.on("error", (m) => seen.errors.push(m.code));
  document.querySelector("#step").addEventListener("click", () => transport.send({ type: "step", unit: "step" }));
  window.test = { transport, room, seen };
  transport.connect();
}"""


def boot(page: Any, base_url: str, path: str | None = None, reload: bool = False) -> None:
    """The room module in a page of the server's origin (a real response, so that the
    browser lets it reach the server's websocket), its address set to ``path``."""
    page.route("**/favicon.ico", lambda route: route.fulfill(status=204))
    if reload:
        page.reload()
    else:
        page.goto(f"{base_url}/healthz")
    page.evaluate(BOOT, {"body": BODY, "path": path})


def resume_sockets_are_ours(page: Any, base_url: str) -> None:
    """The page's websocket carries ``?resume=``/``?room=``: the server's own, not outside."""
    host = base_url.split("://", 1)[1]
    page.watch.outside = [u for u in page.watch.outside if not u.startswith(f"ws://{host}/ws?")]


def last_step(page: Any) -> int:
    return int(page.evaluate("() => window.test.seen.frames.at(-1) ?? -1"))


def test_open_follow_copy_rejoin_close(new_page: Any, base_url: str, screenshot: Any) -> None:
    owner, student = new_page(), new_page(locale="zh-CN")
    boot(owner, base_url)
    owner.wait_for_function("() => window.test?.seen.topology?.config.data.name === 'xor'")
    owner.click("#step")
    owner.click("#step")
    owner.wait_for_function("() => window.test.seen.frames.at(-1) === 2")

    # The lecturer opens a room: code, link, QR code (made by the server), follower count.
    owner.click("#room-open")
    owner.click("#room-start")
    owner.wait_for_selector("#room-dialog .room-owner:not([hidden])")
    code = owner.evaluate("() => window.test.room.room.code")
    assert re.fullmatch(r"[ACDEFGHJKMNPRTUVWXY34679]{6}", code)
    assert owner.text_content("#room-code") == f"{code[:3]}-{code[3:]}"
    assert owner.text_content("#room-link").endswith(f"/r/{code}")
    owner.wait_for_function("() => document.querySelector('#room-qr').naturalWidth > 0")
    assert owner.get_attribute("#room-qr", "src") == f"/api/room/{code}/qr.svg"
    assert owner.is_visible("#room-local-hint")  # served on 127.0.0.1: students cannot reach it
    assert "0" in owner.text_content("#room-count")
    screenshot(owner, "rooms-owner-dialog")

    # A student opens the link: read-only, the owner's run, its controls off.
    boot(student, base_url, f"/r/{code.lower()}")
    student.wait_for_selector("#room-bar:not([hidden])")
    assert code[:3] in student.text_content("#room-bar-title")
    assert "跟随" in student.text_content("#room-bar-title")  # in the student's language
    student.wait_for_function("() => window.test.seen.frames.at(-1) === 2")
    assert student.evaluate("() => document.querySelector('#playback').inert")
    assert student.evaluate("() => document.querySelector('#sidebar').inert")
    assert student.is_hidden("#room-open")
    owner.wait_for_function("() => /1/.test(document.querySelector('#room-count').textContent)")
    owner.keyboard.press("Escape")
    owner.click("#step")
    student.wait_for_function("() => window.test.seen.frames.at(-1) === 3")
    screenshot(student, "rooms-follower")

    # "Make my own copy": the run as it is, then the student's own.
    student.click("#room-copy")
    student.wait_for_selector("#room-bar", state="hidden")
    assert not student.evaluate("() => document.querySelector('#playback').inert")
    assert student.evaluate("() => location.pathname") == "/"  # a reload would not follow
    assert student.is_visible("#room-notice")
    student.click("#step")
    student.wait_for_function("() => window.test.seen.frames.at(-1) === 4")
    assert last_step(owner) == 3  # the owner's run did not move
    owner.wait_for_function("() => /0/.test(document.querySelector('#room-count').textContent)")

    # Back in the room by its code, typed as a person would.
    student.click("#room-open")
    student.fill("#room-join-code", f"{code[:3].lower()} {code[3:]}")
    student.click("#room-join")
    student.wait_for_selector("#room-bar:not([hidden])")
    student.wait_for_function("() => window.test.seen.frames.at(-1) === 3")
    assert student.evaluate("() => location.pathname") == f"/r/{code}"

    # The lecturer closes the room: the student keeps the last picture and is told why.
    owner.click("#room-open")
    owner.click("#room-close")
    student.wait_for_selector("#room-bar.ended")
    assert "结束" in student.text_content("#room-bar-title")
    owner.wait_for_selector("#room-dialog .room-start:not([hidden])")
    screenshot(student, "rooms-ended")
    for p in (owner, student):
        assert p.evaluate("() => window.test.seen.errors") == []
        resume_sockets_are_ours(p, base_url)


def test_a_reload_brings_the_run_back(page: Any, base_url: str) -> None:
    boot(page, base_url)
    page.wait_for_function("() => window.test?.seen.topology?.config.data.name === 'xor'")
    for n in range(1, 4):
        page.click("#step")
        page.wait_for_function(f"() => window.test.seen.frames.at(-1) === {n}")
    token = page.evaluate("() => window.test.seen.hello.resume_token")
    page.wait_for_timeout(500)  # the snapshot is written once the session is idle
    boot(page, base_url, reload=True)
    page.wait_for_function("() => window.test?.seen.hello !== null")
    hello = page.evaluate("() => window.test.seen.hello")
    assert hello["resumed"] is True and hello["resume_token"] == token
    page.wait_for_function("() => window.test.seen.frames.at(-1) === 3")
    assert page.evaluate("() => window.test.seen.topology.config.data.name") == "xor"
    assert page.is_hidden("#room-notice")
    resume_sockets_are_ours(page, base_url)


def test_an_unknown_token_starts_afresh(page: Any, base_url: str) -> None:
    """A new token is kept; the room's notice says nothing of the run not found — the main
    page's connection banner does, once (test_rooms_resume.py)."""
    page.route("**/favicon.ico", lambda route: route.fulfill(status=204))
    page.goto(f"{base_url}/healthz")
    page.evaluate("() => sessionStorage.setItem('bpviz.resume_token', 'A'.repeat(22))")
    boot(page, base_url)
    page.wait_for_function("() => window.test?.seen.topology?.config.data.name === 'xor'")
    assert page.is_hidden("#room-notice")
    token = page.evaluate("() => sessionStorage.getItem('bpviz.resume_token')")
    assert token != "A" * 22 and len(token) == 22
    resume_sockets_are_ours(page, base_url)
