"""The page at the sizes a class meets it (see conftest.py): a 360×640 phone, a 768×1024 and a
1180×820 tablet, a 1024×768 projector, 1280×720, 1366×768, 1920×1080, 2560×1440 and a
1280×800 window at 150 % zoom (853×533 CSS pixels). Each test is a defect a lecturer or a
student met there: the inspector's title scrolled away, presentation mode without Reset and
the history slider, the lab's step counter a tick apart, the lab's table headers cut.
"""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import overlap

READY = "() => window.bpviz && window.bpviz.connected && window.bpviz.topologies >= 2 && window.bpviz.frames >= 2"
IDLE = "() => !window.bpviz.animating"
LAB_READY = """() => window.bpvizLab && window.bpvizLab.connected
    && ['a', 'b'].every((k) => window.bpvizLab.side(k).topologies >= 2 && window.bpvizLab.side(k).frame)"""

# The box of the first element matching each selector (null where none), in the viewport.
BOXES = """(sels) => Object.fromEntries(sels.map((s) => {
  const e = document.querySelector(s);
  if (!e) return [s, null];
  const r = e.getBoundingClientRect();
  const st = getComputedStyle(e);
  return [s, {l: r.left, r: r.right, t: r.top, b: r.bottom, w: r.width, h: r.height,
              shown: r.width > 0 && r.height > 0 && st.visibility !== 'hidden'}];
}))"""


def boxes(page: Any, *sels: str) -> dict[str, Any]:
    return page.evaluate(BOXES, list(sels))


def open_main(
    new_page: Any, base_url: str, size: tuple[int, int], path: str = "/", **options: Any
) -> Any:
    page = new_page(viewport={"width": size[0], "height": size[1]}, **options)
    page.set_default_timeout(30_000)  # two shared cores: a frame may take its time
    page.goto(f"{base_url}{path}")
    page.wait_for_function(READY)
    page.wait_for_function(IDLE)
    return page


def settled(page: Any, selector: str, timeout: int = 30_000) -> None:
    """Click ``selector`` and wait for the frame it asks for and its animation."""
    n = page.evaluate("() => window.bpviz.frames")
    page.click(selector)
    page.wait_for_function(f"() => window.bpviz.frames > {n}", timeout=timeout)
    page.wait_for_function(IDLE, timeout=timeout)


def on_screen(b: dict[str, Any], w: int, h: int) -> bool:
    return (
        b["shown"] and b["l"] >= -0.5 and b["r"] <= w + 0.5 and b["t"] >= -0.5 and b["b"] <= h + 0.5
    )


# ---------------------------------------------------------------- the inspector's title


TITLE_TEXT = """() => {
  const e = document.querySelector('#inspector-body .inspector-title');
  if (!e) return null;
  const range = document.createRange();
  range.selectNodeContents(e);
  const r = range.getBoundingClientRect();
  return {l: r.left, r: r.right, t: r.top, b: r.bottom, shown: r.width > 0 && r.height > 0};
}"""


def assert_title_shown(page: Any, size: tuple[int, int], what: str, window: bool = True) -> None:
    panel = boxes(page, "#panel-inspector")["#panel-inspector"]
    title = page.evaluate(TITLE_TEXT)  # its text: the sticky title's top padding may be hidden
    assert title is not None, f"{size} {what}: no title"
    assert title["t"] >= panel["t"] - 0.5 and title["b"] <= panel["b"] + 0.5, (
        f"{size} {what}: the title is scrolled out of the inspector: {title} in {panel}"
    )
    assert not window or on_screen(title, *size), f"{size} {what}: the title is off screen: {title}"


@pytest.mark.parametrize("size", [(1024, 768), (1280, 720), (360, 640)])
def test_a_selection_shows_the_inspector_title(
    new_page: Any, base_url: str, size: tuple[int, int], screenshot: Any
) -> None:
    """At 1024×768 a click on a neuron scrolled the inspector to the section of the phase
    shown: the reader saw the middle of the panel, not which neuron it is about. The title
    now stays at the panel's top (sticky) for a neuron, an edge, another neuron, and while
    stepping by hand follows the pass to the δ section below it."""
    page = open_main(new_page, base_url, size)
    settled(page, "[data-step=step]")
    for target in (
        "#network .neuron[data-layer='1'][data-neuron='0']",
        "#network .neuron[data-layer='2'][data-neuron='1']",
        "#network .edge-hit >> nth=2",
    ):
        if "edge-hit" in target:
            page.locator(target).dispatch_event("click")
        else:
            page.click(target)
        page.wait_for_timeout(400)
        assert_title_shown(page, size, target)
    page.click("#network .neuron[data-layer='1'][data-neuron='0']")
    page.wait_for_timeout(300)
    for _ in range(7):  # a whole step, phase by phase, ends on the update
        settled(page, "[data-step=phase]")
    page.wait_for_timeout(300)
    sel = "#inspector-body .inspector-section.backward"
    m = boxes(page, "#panel-inspector", "#inspector-body .inspector-title", sel)
    section, panel, title = m[sel], m["#panel-inspector"], m["#inspector-body .inspector-title"]
    # the δ section starts below the stuck title, not under it
    assert section["t"] >= title["b"] - 0.5 and section["t"] <= panel["b"], (
        f"{size}: the δ section is not followed (or is under the title): {section} in {panel}"
    )
    # (on a phone the page itself scrolled up to the header's buttons the test clicked)
    assert_title_shown(page, size, "after stepping", window=size[0] > 600)
    screenshot(page, f"sizes-inspector-title-{size[0]}x{size[1]}")


# ---------------------------------------------------------------- presentation mode


PRESENT_SIZES = [(1024, 768), (1280, 720), (1366, 768), (1920, 1080), (853, 533), (768, 1024)]


@pytest.mark.parametrize("size", PRESENT_SIZES)
def test_presenting_keeps_reset_and_the_history(
    new_page: Any, base_url: str, size: tuple[int, int], screenshot: Any
) -> None:
    """A lecturer presenting starts over (Reset) and goes back to a step shown before (the
    history slider): both stay on screen in presentation mode, in both languages, with the
    header's controls apart and nothing scrolling sideways."""
    w, h = size
    for locale in ("en-US", "zh-CN"):
        label = f"{w}x{h} {locale}"
        page = open_main(new_page, base_url, size, "/?present", locale=locale)
        assert page.evaluate("() => document.body.classList.contains('present')")
        for _ in range(3):
            settled(page, "[data-step=step]")
        m = boxes(page, "#reset", "#rewind-slider", "#rewind-range", "#network", "#play")
        for sel in ("#reset", "#rewind-slider", "#rewind-range", "#play"):
            assert on_screen(m[sel], w, h), f"{label}: {sel} is not on screen: {m[sel]}"
        assert m["#rewind-slider"]["w"] >= 120, f"{label}: the slider is too short to drag"
        assert m["#network"]["h"] >= 200, f"{label}: the diagram is squashed: {m['#network']}"
        assert page.evaluate("() => document.documentElement.scrollWidth <= innerWidth"), label
        controls = page.evaluate(
            """() => [...document.querySelectorAll('.topbar button, .topbar select, .topbar a')]
                 .filter((e) => e.getClientRects().length).map((e) => { const r = e.getBoundingClientRect();
                   return {name: e.id || e.dataset.step || e.className, l: r.left, r: r.right, t: r.top, b: r.bottom}; })"""
        )
        pairs = [
            (a["name"], b["name"])
            for i, a in enumerate(controls)
            for b in controls[i + 1 :]
            if overlap(a, b)
        ]
        assert pairs == [], f"{label}: header controls overlap: {pairs}"
        screenshot(page, f"sizes-present-{w}x{h}-{locale[:2]}")
        if locale == "en-US":
            # Back to step 1 with the slider, then Reset: step 0.
            page.evaluate(
                """() => { const s = document.querySelector('#rewind-slider');
                     s.value = String(Number(s.min) + 1); s.dispatchEvent(new Event('input', {bubbles: true}));
                     s.dispatchEvent(new Event('change', {bubbles: true})); }"""
            )
            page.wait_for_function("() => window.bpviz.frame.viewing === 1")
            assert page.is_visible("#rewind-live")
            settled(page, "#reset")
            page.wait_for_function("() => window.bpviz.frame.step === 0")
        page.close()


# ---------------------------------------------------------------- the lab


def lab(
    new_page: Any, base_url: str, size: tuple[int, int], hash_: str = "", **options: Any
) -> Any:
    page = new_page(viewport={"width": size[0], "height": size[1]}, **options)
    page.set_default_timeout(30_000)
    page.goto(f"{base_url}/lab{hash_}")
    page.wait_for_function(LAB_READY)
    return page


# Every text the step counter shows, from now on.
WATCH_COUNTER = """() => { window.counterSeen = [];
  const el = document.querySelector('#lab-step-count');
  new MutationObserver(() => window.counterSeen.push(el.textContent))
    .observe(el, {childList: true, characterData: true, subtree: true}); }"""


@pytest.mark.parametrize("speed", ["5", "100"])
def test_lab_counter_shows_one_step_while_playing(new_page: Any, base_url: str, speed: str) -> None:
    """Playing, the counter showed "60 / 50": the lab drew when the first side had answered
    a tick and the other had not yet (each side answers on its own socket). A tick is drawn
    once both sides have answered it: one step, the same on both sides."""
    page = lab(new_page, base_url, (1280, 720))
    page.select_option("#lab-speed", speed)
    page.evaluate(WATCH_COUNTER)
    page.click("#lab-play")
    page.wait_for_timeout(4000)
    # a loaded machine (two cores, browsers beside) may draw fewer ticks in those 4 s
    page.wait_for_function("() => window.counterSeen.length >= 4", timeout=60_000)
    page.click("#lab-play")
    page.wait_for_function("() => window.bpvizLab.settled")
    seen = page.evaluate("() => window.counterSeen")
    assert len(seen) >= 4, f"the counter hardly moved: {seen}"
    assert [s for s in seen if "/" in s] == [], f"the counter showed two steps: {seen}"
    steps = page.evaluate("() => window.bpvizLab.steps")
    assert steps[0] == steps[1] and page.inner_text("#lab-step-count") == str(steps[0])


def test_lab_step_while_playing_does_not_stall(new_page: Any, base_url: str) -> None:
    """Step or +10 pressed while playing sent a second command with the tick in flight: it
    took the tick's waiter, the tick's own answer was waited for until its 15 s timeout, and
    the lab stood still. Commands go out one at a time; play goes on."""
    page = lab(new_page, base_url, (1280, 720))
    page.select_option("#lab-speed", "20")
    page.click("#lab-play")
    page.wait_for_function("() => window.bpvizLab.steps[0] >= 3")
    for _ in range(3):
        page.click("#lab-step-10")
        page.wait_for_timeout(60)
    start = page.evaluate("() => window.bpvizLab.steps[0]")
    page.wait_for_timeout(3000)
    end = page.evaluate("() => window.bpvizLab.steps")
    page.click("#lab-play")
    assert end[0] - start >= 20, f"play stalled: {start} → {end}"
    page.wait_for_function("() => window.bpvizLab.settled")
    steps = page.evaluate("() => window.bpvizLab.steps")
    assert steps[0] == steps[1], steps


LAB_PRESETS = ["vanish", "init", "explode", "batchnorm", "residual", "nielsen"]


@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
def test_lab_table_headers_are_whole(
    new_page: Any, base_url: str, locale: str, screenshot: Any
) -> None:
    """At 1280×720 the numbers table cut its side headers ("Left · without s…",
    "Right · clip at ‖g…"): each header is whole (wrapped where long), inside its card."""
    page = lab(new_page, base_url, (1280, 720), locale=locale)
    for preset in LAB_PRESETS:
        if preset != "vanish":  # the first preset is the lab's start
            n = page.evaluate("() => window.bpvizLab.side('b').topologies")
            page.click(f"#lab-presets a[data-preset='{preset}']")
            page.wait_for_function(
                f"() => ['a', 'b'].every((k) => window.bpvizLab.side(k).topologies > {n} && window.bpvizLab.side(k).frame)"
            )
        page.wait_for_timeout(300)
        cut = page.evaluate(
            """() => [...document.querySelectorAll('#lab-table th')]
                 .filter((c) => c.scrollWidth > c.clientWidth + 1 || c.scrollHeight > c.clientHeight + 1)
                 .map((c) => c.textContent)"""
        )
        assert cut == [], f"{preset} {locale}: headers cut: {cut}"
        m = page.evaluate(
            """() => { const c = document.querySelector('.lab-table-card'), t = document.querySelector('#lab-table table');
                 const a = c.getBoundingClientRect(), b = t.getBoundingClientRect();
                 return {card: [a.left, a.right], table: [b.left, b.right], sw: c.scrollWidth, cw: c.clientWidth}; }"""
        )
        assert m["sw"] <= m["cw"] + 1, f"{preset} {locale}: the table scrolls sideways: {m}"
        assert m["table"][0] >= m["card"][0] and m["table"][1] <= m["card"][1] + 0.5, m
        if preset == "residual":
            screenshot(page, f"sizes-lab-table-{locale[:2]}")


def test_lab_loss_lines_are_unbroken(new_page: Any, base_url: str, screenshot: Any) -> None:
    """A burst of 10 steps evaluates the whole sets at its end only (docs/protocol.md): the
    loss and speed-of-learning lines broke into pieces at every burst. They join the
    measured points, as on the main page."""
    page = lab(new_page, base_url, (1280, 720))
    for k in range(1, 4):
        page.click("#lab-step-10")
        page.wait_for_function(f"() => window.bpvizLab.steps.every((s) => s >= {10 * k})")
    page.wait_for_function("() => window.bpvizLab.settled")
    page.wait_for_timeout(600)
    pieces = page.evaluate(
        """() => [...document.querySelectorAll('#lab-loss, .lab-chart.lines')].flatMap((chart) =>
             [...chart.querySelectorAll('.scatterlayer .trace')].map((trace) =>
               [...trace.querySelectorAll('path.js-line')].reduce((n, p) => n + (p.getAttribute('d') || '').split('M').length - 1, 0)))"""
    )
    assert pieces and all(n == 1 for n in pieces), f"lines in pieces: {pieces}"
    screenshot(page, "sizes-lab-lines")


@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
def test_lab_presets_on_a_small_phone(new_page: Any, base_url: str, locale: str) -> None:
    """On a 360×640 phone (narrow and short) the preset links had no width at all and the
    compare select stuck out past the screen's edge (the page scrolled sideways): the links
    take a row of their own, each reachable, and nothing leaves the screen."""
    w, h = 360, 640
    page = lab(new_page, base_url, (w, h), locale=locale, has_touch=True)
    assert page.evaluate("() => document.documentElement.scrollWidth") <= w
    m = boxes(page, ".lab-preset-links", ".lab-compare select", "#lab-presets")
    assert m[".lab-preset-links"]["w"] >= w - 40, f"{locale}: the preset links: {m}"
    assert m[".lab-compare select"]["r"] <= w and m[".lab-compare select"]["w"] >= 100, m
    for preset in LAB_PRESETS:
        link = page.locator(f"#lab-presets a[data-preset='{preset}']")
        link.scroll_into_view_if_needed()
        b = link.bounding_box()
        assert b and b["width"] > 40 and b["x"] >= 0 and b["x"] + b["width"] <= w + 0.5, (
            f"{locale}: {preset} out of reach: {b}"
        )


# The header's buttons and the history slider, as the page draws them, at every frame.
WATCH_JUMPS = """() => { window.jumpSeen = [];
  const box = (s) => { const r = document.querySelector(s).getBoundingClientRect(); return [Math.round(r.left), Math.round(r.top), Math.round(r.width)]; };
  const tick = () => { window.jumpSeen.push({play: box('#play'), phase: box('[data-step=phase]'),
    reset: box('#reset'), slider: box('#rewind-slider'), plot: box('#output-plot'),
    inspector: [Math.round(document.querySelector('#panel-inspector').getBoundingClientRect().height)],
    step: window.bpviz.frame.step}); requestAnimationFrame(tick); };
  tick(); }"""


@pytest.mark.parametrize("size", [(1024, 768), (360, 640)])
def test_nothing_jumps_when_playing(new_page: Any, base_url: str, size: tuple[int, int]) -> None:
    """Play turned into the wider "❚❚ Pause": every button after it moved sideways (17 px on
    a phone); and the history slider shortened at steps 10, 100, 1000 as "steps 0–122"
    grew. The buttons stay where they were, the slider keeps its length. The data card's plot
    and the inspector keep their place and height too: the "Example shown" list appeared at
    the first step (33 px down at 1024×768) and wrapped to a second line at pause, when its
    options grew wider than "—" (21 px more)."""
    page = open_main(new_page, base_url, size)
    page.evaluate(WATCH_JUMPS)
    page.click("#play")
    page.wait_for_function("() => window.bpviz.frame.playing && window.bpviz.frame.step >= 110")
    page.click("#play")
    page.wait_for_function("() => !window.bpviz.frame.playing")
    seen = page.evaluate("() => window.jumpSeen")
    page.wait_for_timeout(300)  # the list filled at pause
    seen += page.evaluate("() => window.jumpSeen.slice(-1)")
    # (a phone's page is one scrolling column: the inspector above the plot grows with its text)
    panels = ("plot", "inspector") if size[0] > 600 else ()
    for key in ("play", "phase", "reset", *panels):
        places = {tuple(s[key]) for s in seen}
        assert len(places) == 1, f"{size}: {key} moved while playing: {sorted(places)}"
    lengths = {s["slider"][2] for s in seen if s["step"] >= 2}
    assert len(lengths) == 1, f"{size}: the history slider changed length: {sorted(lengths)}"
