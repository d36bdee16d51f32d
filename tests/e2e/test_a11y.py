"""Accessibility in a real browser (see conftest.py): axe-core on every page and dialog, the
diagram by keyboard, Space for Play, the list of keys, and a δ glow that every kind of
colour vision tells from "positive".

axe-core comes bundled with the ``axe-playwright-python`` package (``axe.min.js`` is
injected into the page: nothing is fetched at test time).
"""

from __future__ import annotations

import contextlib
import re
from typing import Any

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

READY = "() => window.bpviz && window.bpviz.connected && window.bpviz.topologies >= 2 && window.bpviz.frames >= 2"
IDLE = "() => !window.bpviz.animating"
LAB_READY = """() => window.bpvizLab && window.bpvizLab.connected
    && ['a', 'b'].every((k) => window.bpvizLab.side(k).topologies >= 2 && window.bpvizLab.side(k).frame)"""


def open_page(page: Any, base_url: str, path: str = "/") -> None:
    page.goto(f"{base_url}{path}")
    page.wait_for_function(READY)
    page.wait_for_function(IDLE)


def full_step(page: Any) -> None:
    """One full step, so that every phase chip, value and glow is on the page."""
    before = page.evaluate("() => window.bpviz.frame.step")
    page.click("[data-step=step]")
    page.wait_for_function(f"() => window.bpviz.frame.step > {before}")
    page.wait_for_function(IDLE, timeout=30_000)


def serious(page: Any) -> list[str]:
    """The serious and critical axe-core violations on the page, one line per element."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    found = []
    for v in results.response["violations"]:
        if v["impact"] not in ("serious", "critical"):
            continue
        for node in v["nodes"]:
            checks = node.get("any", []) + node.get("all", []) + node.get("none", [])
            why = checks[0]["message"] if checks else ""
            found.append(f"{v['id']} ({v['impact']}) {node['target']}: {why}")
    return found


# ------------------------------------------------------------------ axe-core


@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
def test_axe_main_page(new_page: Any, base_url: str, locale: str) -> None:
    page = new_page(locale=locale)
    open_page(page, base_url, "/#data=xor&hidden=4:tanh,3:tanh&batch=4&seed=3")
    assert serious(page) == []
    full_step(page)
    page.click("#network .neuron[data-layer='1'][data-neuron='0']")
    assert serious(page) == []


def test_axe_presentation_mode(new_page: Any, base_url: str) -> None:
    page = new_page()
    open_page(page, base_url, "/?present")
    full_step(page)
    page.click("#network .neuron[data-layer='2'][data-neuron='0']")
    assert serious(page) == []
    page.select_option("#present-panel", "loss")
    page.wait_for_function("() => document.body.dataset.panel === 'loss'")
    assert serious(page) == []


@pytest.mark.parametrize("dialog", ["#csv-dialog", "#gc-dialog", "#keys-dialog"])
def test_axe_each_dialog(new_page: Any, base_url: str, dialog: str) -> None:
    page = new_page()
    open_page(page, base_url)
    opener = {
        "#csv-dialog": "#open-csv",
        "#gc-dialog": "#open-gradcheck",
        "#keys-dialog": "#keys-open",
    }
    page.click(opener[dialog])
    page.wait_for_selector(f"{dialog}[open]")
    if dialog == "#gc-dialog":
        page.click("#gc-run")
        page.wait_for_function(
            "() => window.bpviz.gradcheck !== null && window.bpviz.gradcheck !== undefined"
        )
    assert serious(page) == []


def test_axe_lab(new_page: Any, base_url: str) -> None:
    page = new_page()
    page.goto(f"{base_url}/lab")
    page.wait_for_function(LAB_READY)
    page.click("#lab-step-10")
    page.wait_for_function("() => window.bpvizLab.steps.every((s) => s >= 10)")
    page.wait_for_timeout(400)  # the charts redraw after a throttle
    assert serious(page) == []


@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
def test_axe_inspector_with_wide_formulas(new_page: Any, base_url: str, locale: str) -> None:
    """A hidden neuron of the digits network: its Σ over 64 inputs and the layer's matrices,
    wider than the panel. Each wide formula scrolls in its own box and is a named tab stop."""
    page = new_page(locale=locale)
    open_page(page, base_url, "/#data=digits&hidden=16:relu&batch=10&seed=1")
    full_step(page)
    page.click("#network .neuron[data-layer='1'][data-neuron='0']")
    page.click("#inspector-body button[data-toggle='z1.0']")
    page.click("#inspector-body button[data-toggle='layer1']")
    page.wait_for_function(
        "() => document.querySelectorAll('#inspector-body .formula').length >= 12"
    )
    wide = """() => [...document.querySelectorAll('#inspector-body .formula')]
        .filter((f) => f.scrollWidth > f.clientWidth + 1)"""
    with contextlib.suppress(PlaywrightTimeout):  # inspector.js marks them when the page is idle
        page.wait_for_function(
            f"() => ({wide})().every((f) => f.getAttribute('tabindex') === '0')", timeout=5_000
        )
    assert page.evaluate(f"() => ({wide})().length") >= 1, "no formula is wider than the panel"
    assert serious(page) == []
    # The name says how to scroll it, in the page's language.
    label = page.evaluate(f"() => ({wide})()[0].getAttribute('aria-label')")
    assert label and ("←" in label) and (("滚动" in label) == (locale == "zh-CN")), label


def test_axe_graph(new_page: Any, base_url: str) -> None:
    page = new_page()
    page.goto(f"{base_url}/graph")
    page.wait_for_selector("#graph svg, svg")
    page.wait_for_timeout(500)
    assert serious(page) == []


# ------------------------------------------------------------------ the diagram by keyboard


def focused_item(page: Any) -> dict[str, Any] | None:
    return page.evaluate(
        """() => {
          const el = document.activeElement;
          if (!el || !el.closest) return null;
          const hit = el.closest('.neuron, .edge-hit');
          if (!hit) return null;
          const d = hit.dataset;
          return hit.classList.contains('edge-hit')
            ? {type: 'edge', layer: +d.layer, from: +d.from, to: +d.to, label: hit.getAttribute('aria-label'), role: hit.getAttribute('role')}
            : {type: 'neuron', layer: +d.layer, neuron: +d.neuron, label: hit.getAttribute('aria-label'), role: hit.getAttribute('role')};
        }"""
    )


def tab_into_diagram(page: Any) -> None:
    """Tab from the element before the diagram until the focus is in it."""
    page.focus("#rewind-slider")
    for _ in range(6):
        page.keyboard.press("Tab")
        if focused_item(page):
            return
    raise AssertionError("Tab never reached the diagram")


def test_neurons_and_weights_by_keyboard(page: Any, base_url: str, screenshot: Any) -> None:
    open_page(page, base_url, "/#data=xor&hidden=4:tanh,3:tanh&batch=4&seed=3")
    full_step(page)
    f = page.evaluate("() => window.bpviz.frame")
    # One tab stop for the whole diagram: the first input neuron.
    assert page.locator("#network [tabindex='0']").count() == 1
    tab_into_diagram(page)
    item = focused_item(page)
    assert (item["type"], item["layer"], item["neuron"], item["role"]) == ("neuron", 0, 0, "button")
    # The inspector follows the focus.
    page.wait_for_function(
        "() => /x₁|x1/.test(document.querySelector('#inspector-body').textContent)"
    )
    page.keyboard.press("ArrowRight")
    item = focused_item(page)
    assert (item["layer"], item["neuron"]) == (1, 0)
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    item = focused_item(page)
    assert (item["layer"], item["neuron"]) == (1, 2)
    # The accessible name carries the values: a and δ of that neuron, as the page prints them.
    a = page.evaluate(
        "(v) => import('/static/js/shared/format.js').then((m) => m.fmt(v))", f["layers"][0]["a"][2]
    )
    d = page.evaluate(
        "(v) => import('/static/js/shared/format.js').then((m) => m.fmt(v))",
        f["layers"][0]["delta"][2],
    )
    assert a in item["label"] and d in item["label"], item["label"]
    page.wait_for_function("() => document.querySelector('#network .overlay .selection') !== null")
    ring = page.locator("#network .overlay circle.selection")
    neuron = page.locator("#network .neuron[data-layer='1'][data-neuron='2'] .body")
    assert ring.get_attribute("cx") == neuron.get_attribute("cx")
    assert ring.get_attribute("cy") == neuron.get_attribute("cy")
    # → does not run a phase while the diagram has the focus.
    step = page.evaluate("() => window.bpviz.frame.step")
    cursor = page.evaluate("() => window.bpviz.frame.cursor.index")
    # Shift+← goes to the weights into the neuron, ↓ along them.
    page.keyboard.press("Shift+ArrowLeft")
    item = focused_item(page)
    assert (item["type"], item["layer"], item["from"], item["to"]) == ("edge", 1, 0, 2)
    page.keyboard.press("ArrowDown")
    item = focused_item(page)
    assert (item["type"], item["layer"], item["from"], item["to"]) == ("edge", 1, 1, 2)
    w = page.evaluate(
        "(v) => import('/static/js/shared/format.js').then((m) => m.fmt(v))",
        f["layers"][0]["W"][2][1],
    )
    assert w in item["label"], item["label"]
    page.wait_for_function(
        "() => document.querySelector('#network .overlay line.selection') !== null"
    )
    page.keyboard.press("ArrowRight")  # to the weight's target neuron
    item = focused_item(page)
    assert (item["type"], item["layer"], item["neuron"]) == ("neuron", 1, 2)
    page.keyboard.press("Enter")
    assert page.evaluate("() => window.bpviz.frame.step") == step
    assert page.evaluate("() => window.bpviz.frame.cursor.index") == cursor
    screenshot(page, "a11y-keyboard-neuron")
    # Esc unselects; the diagram keeps its one tab stop.
    page.keyboard.press("Escape")
    page.wait_for_function("() => document.querySelector('#network .overlay .selection') === null")
    assert page.locator("#network [tabindex='0']").count() == 1


def test_space_plays_after_a_click_on_a_button(page: Any, base_url: str) -> None:
    open_page(page, base_url, "/#speed=5")
    page.click("[data-step=phase]")  # the button now has the focus, from a click
    page.wait_for_function(IDLE)
    page.keyboard.press("Space")
    page.wait_for_function("() => window.bpviz.playing")
    page.keyboard.press("Space")
    page.wait_for_function("() => !window.bpviz.playing")
    # A button reached with Tab keeps Space (as on every web page): it presses that button.
    page.click("[data-step=phase]")
    page.wait_for_function(IDLE)
    page.keyboard.press("Tab")  # → "Forward", focused by keyboard
    assert page.evaluate("() => document.activeElement.dataset.step") == "forward"
    frames = page.evaluate("() => window.bpviz.frames")
    page.keyboard.press("Space")
    page.wait_for_function(
        f"() => window.bpviz.frames > {frames} && window.bpviz.frame.last_phase?.kind === 'forward'"
    )
    page.wait_for_timeout(300)
    assert not page.evaluate("() => window.bpviz.playing")


def test_lab_space_plays_after_a_click_on_a_button(page: Any, base_url: str) -> None:
    """The lab as the main page: Space plays after a click on a button; a button reached
    with Tab keeps Space (it presses that button) until Esc lets go of it."""
    page.goto(f"{base_url}/lab#speed=5")
    page.wait_for_function(LAB_READY)
    page.click("#lab-step")  # the button now has the focus, from a click
    page.wait_for_function("() => window.bpvizLab.steps.every((s) => s >= 1)")
    assert page.evaluate("() => document.activeElement.id") == "lab-step"
    page.keyboard.press("Space")
    page.wait_for_function("() => window.bpvizLab.playing")
    page.keyboard.press("Space")
    page.wait_for_function("() => !window.bpvizLab.playing")
    # Tab to "+10": Space presses it, as on every web page.
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.id") == "lab-step-10"
    page.wait_for_function("() => window.bpvizLab.settled")
    assert page.evaluate("() => window.bpvizLab.steps[0] === window.bpvizLab.steps[1]")
    before = page.evaluate("() => window.bpvizLab.steps[0]")
    page.keyboard.press("Space")
    page.wait_for_function(f"() => window.bpvizLab.steps.every((s) => s >= {before + 10})")
    assert not page.evaluate("() => window.bpvizLab.playing")
    # Esc lets go of the button: Space plays again.
    page.keyboard.press("Escape")
    assert page.evaluate("() => document.activeElement === document.body")
    page.keyboard.press("Space")
    page.wait_for_function("() => window.bpvizLab.playing")
    page.keyboard.press("Space")
    page.wait_for_function("() => !window.bpvizLab.playing")


def test_escape_lets_go_of_a_button_then_space_plays(page: Any, base_url: str) -> None:
    """The keys dialog's advice on the main page: on a button reached with Tab, Esc first."""
    open_page(page, base_url, "/#speed=5")
    page.focus("[data-step=phase]")  # focused by script, as by Tab
    page.keyboard.press("Escape")
    assert page.evaluate("() => document.activeElement === document.body")
    page.keyboard.press("Space")
    page.wait_for_function("() => window.bpviz.playing")
    page.keyboard.press("Space")
    page.wait_for_function("() => !window.bpviz.playing")


def test_keys_dialog(page: Any, base_url: str, screenshot: Any) -> None:
    open_page(page, base_url)
    page.keyboard.press("?")
    page.wait_for_selector("#keys-dialog[open]")
    text = page.text_content("#keys-dialog")
    for key in ("Space", "Shift", "Enter", "Esc", "P", "R"):
        assert key in text
    assert "Tab" in text  # it says why Space presses a button reached with Tab
    screenshot(page, "a11y-keys")
    page.keyboard.press("Escape")
    page.wait_for_selector("#keys-dialog", state="hidden")
    page.click("#keys-open")
    page.wait_for_selector("#keys-dialog[open]")


# ------------------------------------------------------------------ colour vision

# Machado, Oliveira & Fernandes (2009), severity 1.0, on linear RGB.
CVD = {
    "protanopia": (
        (0.152286, 1.052583, -0.204868),
        (0.114503, 0.786281, 0.099216),
        (-0.003882, -0.048116, 1.051998),
    ),
    "deuteranopia": (
        (0.367322, 0.860646, -0.227968),
        (0.280085, 0.672501, 0.047413),
        (-0.011820, 0.042940, 0.968881),
    ),
    "tritanopia": (
        (1.255528, -0.076749, -0.178779),
        (-0.078411, 0.930809, 0.147602),
        (0.004733, 0.691367, 0.303900),
    ),
}


def _lin(c: float) -> float:
    c /= 255
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def _luminance(rgb: tuple[float, float, float]) -> float:
    r, g, b = (min(1.0, max(0.0, x)) for x in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def seen(rgb: tuple[int, int, int], kind: str | None) -> float:
    """The relative luminance of an sRGB colour as a viewer with `kind` of CVD sees it."""
    lin = tuple(_lin(c) for c in rgb)
    if kind:
        m = CVD[kind]
        lin = tuple(sum(m[i][k] * lin[k] for k in range(3)) for i in range(3))
    return _luminance(lin)  # type: ignore[arg-type]


def contrast(a: float, b: float) -> float:
    hi, lo = max(a, b), min(a, b)
    return (hi + 0.05) / (lo + 0.05)


def rgb_of(css: str) -> tuple[int, int, int]:
    if css.startswith("#"):
        return (int(css[1:3], 16), int(css[3:5], 16), int(css[5:7], 16))
    r, g, b = re.findall(r"\d+", css)[:3]
    return (int(r), int(g), int(b))


def test_delta_glow_differs_from_positive_for_every_colour_vision(page: Any, base_url: str) -> None:
    """The δ ring is dark and dashed: against the orange of "positive" (and the white page)
    its luminance differs ≥ 3:1 under normal vision, protanopia, deuteranopia and tritanopia."""
    open_page(page, base_url, "/#data=xor&hidden=4:tanh&batch=4&seed=3")
    full_step(page)
    halo = page.evaluate(
        """() => {
          const h = [...document.querySelectorAll('#network .halo')].find((c) => +c.getAttribute('stroke-opacity') > 0.5);
          return h && {stroke: h.getAttribute('stroke'), dash: h.getAttribute('stroke-dasharray'),
                       width: +h.getAttribute('stroke-width'), fill: h.getAttribute('fill')};
        }"""
    )
    assert halo, "no neuron glows after a full step"
    assert halo["dash"] and halo["width"] >= 2, "the ring is dashed and visible"
    positive = rgb_of(
        page.evaluate(
            "() => getComputedStyle(document.documentElement).getPropertyValue('--pos').trim()"
        )
    )
    ring = rgb_of(halo["stroke"])
    for kind in (None, "protanopia", "deuteranopia", "tritanopia"):
        assert contrast(seen(ring, kind), seen(positive, kind)) >= 3, kind
        assert contrast(seen(ring, kind), seen((255, 255, 255), kind)) >= 7, kind
