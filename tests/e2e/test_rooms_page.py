"""Classroom rooms on the real main page, two browsers: the lecturer (page A) opens a room
from the header, reads its code, link and QR code; a student (page B, another browser
context, in Chinese) opens the link and follows A's run read-only; B makes its own copy at
A's exact step, branches, comes back by the code; A closes the room and B is told.

Every wait is for a state (a frame's step, a counter), never for a fixed time.
"""

from __future__ import annotations

import re
from typing import Any

LINK = "/#data=xor&hidden=4:tanh&batch=4&seed=3"
READY = "() => window.bpviz?.connected && window.bpviz.topology?.config.seed === 3"
STEP = "[data-step='step']"


def step_of(page: Any) -> int:
    return int(page.evaluate("() => window.bpviz.frame.step"))


def at_step(page: Any, step: int) -> None:
    page.wait_for_function(f"() => window.bpviz.frame?.step === {step}")


def weights(page: Any) -> Any:
    return page.evaluate("() => window.bpviz.frame.layers.map((l) => [l.W, l.b])")


def config_of(page: Any) -> Any:
    return page.evaluate("() => window.bpviz.topology.config")


def test_a_room_on_the_main_page(new_page: Any, base_url: str, screenshot: Any) -> None:
    lecturer, student = new_page(), new_page(locale="zh-CN")

    # ---- A: the lecturer's run, from a link; two steps.
    lecturer.goto(base_url + LINK)
    lecturer.wait_for_function(READY)
    config = config_of(lecturer)
    assert config["data"]["name"] == "xor" and config["training"]["batch_size"] == 4
    for n in (1, 2):
        lecturer.click(STEP)
        at_step(lecturer, n)

    # ---- A opens a room through the header button and its dialog.
    lecturer.click("#room-open")
    lecturer.wait_for_selector("#room-dialog[open] .room-start:not([hidden])")
    lecturer.click("#room-start")
    lecturer.wait_for_selector("#room-dialog .room-owner:not([hidden])")
    shown = lecturer.text_content("#room-code")
    assert re.fullmatch(r"[ACDEFGHJKMNPRTUVWXY34679]{3}-[ACDEFGHJKMNPRTUVWXY34679]{3}", shown)
    code = shown.replace("-", "")
    assert lecturer.get_attribute("#room-link", "href") == f"{base_url}/r/{code}"
    assert lecturer.text_content("#room-link").endswith(f"/r/{code}")
    # The QR code: an SVG the server made (the page watch fails the test on any outside request).
    lecturer.wait_for_function("() => document.querySelector('#room-qr').naturalWidth > 0")
    qr = lecturer.get_attribute("#room-qr", "src")
    assert qr == f"/api/room/{code}/qr.svg"
    svg = lecturer.evaluate(
        "async (src) => { const r = await fetch(src);"
        " return [r.headers.get('content-type'), await r.text()]; }",
        qr,
    )
    assert svg[0].startswith("image/svg+xml") and svg[1].startswith("<svg")
    box = lecturer.locator("#room-qr").bounding_box()
    assert box is not None and box["width"] >= 200  # large enough to scan from a seat
    assert "0" in lecturer.text_content("#room-count")
    screenshot(lecturer, "rooms-page-owner-dialog")

    # ---- B (zh-CN) opens the link: A's network and frame, read-only.
    student.goto(f"{base_url}/r/{code}")
    student.wait_for_selector("#room-bar:not([hidden])")
    student.wait_for_function("() => window.bpviz?.topology?.config.seed === 3")
    at_step(student, 2)
    theirs = config_of(student)
    assert theirs["network"] == config["network"] and theirs["data"] == config["data"]
    assert weights(student) == weights(lecturer)
    assert "跟随" in student.text_content("#room-bar-title")  # "Following room …", in Chinese
    assert shown in student.text_content("#room-bar-title")
    assert student.evaluate("() => location.pathname") == f"/r/{code}"
    for control in ("#playback", "#sidebar", ".lesson-bar", "#focus-example"):
        assert student.evaluate(f"() => document.querySelector('{control}').inert"), control
    assert student.is_hidden("#room-open")
    lecturer.wait_for_function(
        "() => /\\b1\\b/.test(document.querySelector('#room-count').textContent)"
    )
    lecturer.keyboard.press("Escape")  # the dialog closes; the header badge keeps the count
    assert "1" in lecturer.text_content("#room-open .label")

    # B tries to step: its controls are off (inert), the keys do nothing either.
    assert student.evaluate(f"() => document.querySelector(\"{STEP}\").closest('[inert]') !== null")
    student.evaluate(f'() => document.querySelector("{STEP}").click()')
    student.keyboard.press("Shift+ArrowRight")

    # A steps, then plays: B follows frame by frame.
    lecturer.click(STEP)
    at_step(lecturer, 3)
    at_step(student, 3)  # one step: B's own attempts changed nothing
    frames = student.evaluate("() => window.bpviz.frames")
    lecturer.click("#play")
    lecturer.wait_for_function("() => window.bpviz.playing && window.bpviz.frame.step > 20")
    student.wait_for_function(
        f"() => window.bpviz.frames > {frames + 5} && window.bpviz.frame.step > 20"
    )
    lecturer.click("#play")  # pause
    paused_frame = "() => !window.bpviz.playing && window.bpviz.frame.playing === false"
    lecturer.wait_for_function(paused_frame)  # the frame sent after the pause is in
    paused = step_of(lecturer)
    student.wait_for_function(paused_frame)
    at_step(student, paused)
    assert weights(student) == weights(lecturer)
    screenshot(student, "rooms-page-follower")

    # ---- B makes its own copy: A's exact state, then B's own run.
    student.click("#room-copy")
    student.wait_for_selector("#room-bar", state="hidden")
    student.wait_for_function("() => !document.querySelector('#playback').inert")
    assert student.evaluate("() => location.pathname") == "/"
    assert student.is_visible("#room-notice")  # "this is your own copy now", in Chinese
    at_step(student, paused)
    assert weights(student) == weights(lecturer)  # the same numbers: an exact copy
    assert config_of(student)["seed"] == 3
    student.click(STEP)
    at_step(student, paused + 1)
    assert step_of(lecturer) == paused  # A's run did not move
    lecturer.wait_for_function(
        "() => /\\b0\\b/.test(document.querySelector('#room-open').textContent)"
    )
    lecturer.click(STEP)  # the same step on A's side gives the same numbers
    at_step(lecturer, paused + 1)
    assert weights(student) == weights(lecturer)
    student.click(STEP)
    at_step(student, paused + 2)  # B goes on alone
    assert step_of(lecturer) == paused + 1

    # ---- B comes back by the code, typed as a person would.
    student.click("#room-open")
    student.fill("#room-join-code", f"{code[:3].lower()} {code[3:].lower()}")
    student.click("#room-join")
    student.wait_for_selector("#room-bar:not([hidden])")
    at_step(student, paused + 1)  # A's run again
    assert student.evaluate("() => document.querySelector('#playback').inert")
    lecturer.wait_for_function(
        "() => /\\b1\\b/.test(document.querySelector('#room-open').textContent)"
    )

    # ---- A closes the room: B keeps the last picture and is told, in Chinese.
    lecturer.click("#room-open")
    lecturer.click("#room-close")
    lecturer.wait_for_selector("#room-dialog .room-start:not([hidden])")
    note = lecturer.text_content("#room-closed-note")
    assert lecturer.is_visible("#room-closed-note") and "You closed room" in note and shown in note
    student.wait_for_selector("#room-bar.ended")
    title = student.text_content("#room-bar-title")
    assert "结束" in title and shown in title, title
    assert step_of(student) == paused + 1
    screenshot(student, "rooms-page-ended")
    screenshot(lecturer, "rooms-page-owner-closed")


def open_room(lecturer: Any) -> str:
    """Open a room from the header; its code (``K7RMXH``). The dialog is closed again."""
    lecturer.click("#room-open")
    lecturer.click("#room-start")
    lecturer.wait_for_selector("#room-dialog .room-owner:not([hidden])")
    code = str(lecturer.text_content("#room-code")).replace("-", "")
    lecturer.keyboard.press("Escape")
    return code


def follow(student: Any, base_url: str, code: str, step: int) -> None:
    student.goto(f"{base_url}/r/{code}")
    student.wait_for_selector("#room-bar:not([hidden])")
    at_step(student, step)


LR = "#ctl-config-training-learning_rate"
OPT = "#ctl-config-training-optimizer"


def training_shown(page: Any) -> tuple[str, str]:
    return page.input_value(LR), page.input_value(OPT)


def test_a_follower_shows_the_lecturers_training(
    new_page: Any, base_url: str, screenshot: Any
) -> None:
    """A `set` from the lecturer's sidebar (no new topology): the students' sidebars say the
    new optimizer and learning rate — the frames' `hyper` — and stay locked; a late joiner too."""
    lecturer, student = new_page(), new_page(locale="zh-CN")
    lecturer.goto(base_url + LINK)
    lecturer.wait_for_function(READY)
    code = open_room(lecturer)
    follow(student, base_url, code, 0)
    assert training_shown(student) == training_shown(lecturer) == ("0.03", "sgd")

    lecturer.select_option(LR, "1")
    lecturer.select_option(OPT, "adam")
    lecturer.click(STEP)
    at_step(lecturer, 1)
    at_step(student, 1)
    student.wait_for_function(
        f"() => document.querySelector('{OPT}').value === 'adam'"
        f" && document.querySelector('{LR}').value === '1'"
    )
    hyper = student.evaluate("() => window.bpviz.frame.hyper")
    assert (hyper["optimizer"], hyper["learning_rate"]) == ("adam", 1)
    assert student.evaluate("() => document.querySelector('#sidebar').inert")  # still read-only
    student.locator(LR).scroll_into_view_if_needed()
    screenshot(student, "rooms-page-follower-training")

    late = new_page()  # its topology still says the training of the room's first config
    follow(late, base_url, code, 1)
    late.wait_for_function(f"() => document.querySelector('{OPT}').value === 'adam'")
    assert training_shown(late) == ("1", "adam")
    assert late.evaluate("() => document.querySelector('#sidebar').inert")


def seek(page: Any, step: int) -> None:
    page.evaluate(
        """(step) => { const s = document.querySelector('#rewind-slider'); s.value = String(step);
                       s.dispatchEvent(new Event('input')); s.dispatchEvent(new Event('change')); }""",
        step,
    )


def test_a_follower_is_told_the_lecturer_views_a_past_step(
    new_page: Any, base_url: str, screenshot: Any
) -> None:
    """The lecturer drags the history back: the students read that the lecturer looks at an
    earlier step — not the hint to press Step to branch, which is the lecturer's to do."""
    lecturer, en, zh = new_page(), new_page(), new_page(locale="zh-CN")
    lecturer.goto(base_url + LINK)
    lecturer.wait_for_function(READY)
    for n in (1, 2, 3):
        lecturer.click(STEP)
        at_step(lecturer, n)
    code = open_room(lecturer)
    follow(en, base_url, code, 3)
    follow(zh, base_url, code, 3)
    seek(lecturer, 2)
    lecturer.wait_for_function("() => window.bpviz.frame.viewing === 2")
    assert "Full step" in str(lecturer.text_content("#rewind-viewing"))  # the lecturer may go on
    for page, words in ((en, "The lecturer is viewing step 2"), (zh, "老师正在查看第 2 步")):
        page.wait_for_function("() => window.bpviz.frame.viewing === 2")
        page.wait_for_selector("#rewind-viewing:not([hidden])")
        text = str(page.text_content("#rewind-viewing"))
        assert words in text, text
        assert not re.search("branch|Step|Play|分支|单步|播放", text), text
        assert page.is_hidden("#rewind-live")  # going back to live is the lecturer's too
    screenshot(zh, "rooms-page-follower-viewing")
    # Its own copy: the branching hint is the student's again.
    en.click("#room-copy")
    en.wait_for_selector("#room-bar", state="hidden")
    # the copy's own run in place (its topology and first frame) before the slider moves
    en.wait_for_function("() => window.bpviz.frame && !window.bpviz.animating")
    en.wait_for_timeout(500)
    seek(en, 1)
    en.wait_for_function("() => window.bpviz.frame.viewing === 1")
    assert "Full step" in str(en.text_content("#rewind-viewing"))


def test_a_mistyped_room_link_says_there_is_no_such_room(new_page: Any, base_url: str) -> None:
    """/r/K7R-MX (a letter short) is the page (status 404), in the reader's language, saying
    the room does not exist (it was a 404 of raw JSON, then a page that said nothing)."""
    for locale, words in (("en-US", "No such room"), ("zh-CN", "没有这个课堂")):
        page = new_page(locale=locale)
        response = page.goto(f"{base_url}/r/K7R-MX")
        assert response is not None and "text/html" in response.headers["content-type"]
        page.wait_for_function("() => window.bpviz?.connected")
        page.wait_for_function(
            "(w) => document.body.innerText.includes(w)", arg=words, timeout=10_000
        )
        assert "detail" not in page.inner_text("body")
        # The page comes with status 404 (docs/protocol.md, Rooms), which Chromium logs.
        page.watch.errors[:] = [e for e in page.watch.errors if "status of 404" not in e]


def test_room_errors_are_worded_in_the_page_s_language(new_page: Any, base_url: str) -> None:
    """A room's error on a Chinese page was its title in Chinese and the server's English
    ("没有这个课堂 no room ACDEFG is open"): now both in Chinese."""
    page = new_page(locale="zh-CN")
    page.goto(f"{base_url}/")
    page.wait_for_function("() => window.bpviz?.connected")
    for code in ("room_unknown", "not_in_room", "follower", "room_owner", "unavailable"):
        text = page.evaluate(
            """async (code) => (await import('/static/js/shared/banner.js')).errorDetail(
                {code, message: 'no room ACDEFG is open', field: 'code'})""",
            code,
        )
        assert text and not re.search("[A-Za-z]{3,}", text), (code, text)
