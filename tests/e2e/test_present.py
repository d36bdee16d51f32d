"""Presentation mode's inspector (see conftest.py): at a projector's 1280×720 and 1920×1080,
no KaTeX formula is cut at the inspector's right edge. A formula wider than the panel
scrolls sideways in its own box, is a tab stop, and ← → scroll it (not the next phase).
"""

from __future__ import annotations

import contextlib
from typing import Any

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

READY = "() => window.bpviz && window.bpviz.connected && window.bpviz.topologies >= 2 && window.bpviz.frames >= 2"
IDLE = "() => !window.bpviz.animating"
DIGITS = "/?present#data=digits&hidden=16:relu&batch=10&seed=1"

# Every formula of the inspector: its box, what it holds, how it scrolls, and where its
# glyphs are; the inspector's visible box.
FORMULAS = """() => {
  const ins = document.querySelector('#panel-inspector');
  const r = ins.getBoundingClientRect();
  const panel = {l: r.left + ins.clientLeft, r: r.left + ins.clientLeft + ins.clientWidth, sw: ins.scrollWidth, cw: ins.clientWidth};
  const range = document.createRange();
  return {panel, formulas: [...ins.querySelectorAll('.formula')].map((f) => {
    const b = f.getBoundingClientRect();
    let right = b.left;
    const walk = document.createTreeWalker(f, NodeFilter.SHOW_TEXT);
    while (walk.nextNode()) {
      range.selectNodeContents(walk.currentNode);
      for (const g of range.getClientRects()) if (g.width) right = Math.max(right, g.right);
    }
    return {tex: f.dataset.tex.slice(0, 40), l: b.left, r: b.right, sw: f.scrollWidth, cw: f.clientWidth,
            overflow: getComputedStyle(f).overflowX, tabindex: f.getAttribute('tabindex'),
            label: f.getAttribute('aria-label'), glyphs: right};
  })};
}"""

# Every wide formula has been made a tab stop (inspector.js measures when the page is idle).
MARKED = """() => [...document.querySelectorAll('#panel-inspector .formula')]
  .every((f) => f.scrollWidth <= f.clientWidth + 1 || f.getAttribute('tabindex') === '0')"""


def open_present(page: Any, base_url: str, path: str) -> None:
    page.goto(f"{base_url}{path}")
    page.wait_for_function(READY)
    page.wait_for_function(IDLE)
    assert page.evaluate("() => document.body.classList.contains('present')")
    before = page.evaluate("() => window.bpviz.frame.step")
    page.click("[data-step=step]")
    page.wait_for_function(f"() => window.bpviz.frame.step > {before}")
    page.wait_for_function(IDLE, timeout=30_000)


def assert_nothing_cut(page: Any, where: str) -> int:
    """No formula reaches past the inspector's edge; a wider one scrolls in its own box and
    is a named tab stop. Returns how many formulas scroll."""
    with contextlib.suppress(PlaywrightTimeout):  # the assertions below say which formula
        page.wait_for_function(MARKED, timeout=5_000)
    got = page.evaluate(FORMULAS)
    panel = got["panel"]
    assert got["formulas"], f"{where}: no formula in the inspector"
    assert panel["sw"] <= panel["cw"] + 1, f"{where}: the inspector itself overflows sideways"
    wide = 0
    for f in got["formulas"]:
        assert f["l"] >= panel["l"] - 1 and f["r"] <= panel["r"] + 1, (
            f"{where}: box past the edge {f}"
        )
        if f["sw"] > f["cw"] + 1:
            wide += 1
            assert f["overflow"] in ("auto", "scroll"), f"{where}: cut, not scrollable {f}"
            assert f["tabindex"] == "0" and f["label"], f"{where}: not reachable by keyboard {f}"
        else:
            assert f["glyphs"] <= panel["r"] + 1, f"{where}: glyphs past the edge {f}"
    return wide


@pytest.mark.parametrize("size", [(1280, 720), (1920, 1080)])
def test_present_formulas_are_never_cut(
    new_page: Any, base_url: str, screenshot: Any, size: tuple[int, int]
) -> None:
    w, h = size
    page = new_page(viewport={"width": w, "height": h})
    open_present(page, base_url, DIGITS)
    # A hidden neuron: its Σ over all 64 inputs, and the layer in vector form (its matrices).
    page.click("#network .neuron[data-layer='1'][data-neuron='0']")
    page.wait_for_selector("#inspector-body button[data-toggle='z1.0']")
    page.click("#inspector-body button[data-toggle='z1.0']")
    page.click("#inspector-body button[data-toggle='layer1']")
    page.wait_for_function(
        "() => document.querySelectorAll('#inspector-body .formula').length >= 12"
    )
    wide = assert_nothing_cut(page, f"{w}x{h} hidden neuron")
    # At 1280x720 the matrices are far wider than the panel: they scroll. At 1920x1080 they
    # are only a little wider, and are set in type small enough to fit (inspector-tex.js).
    if w == 1280:
        assert wide >= 1, "the matrices are wider than the panel: they scroll"
        page.locator("#inspector-body .formula[tabindex='0']").first.scroll_into_view_if_needed()
    screenshot(page, f"present-formulas-{w}x{h}")
    # The softmax output neuron: the long derivation of δ = ŷ − y.
    page.click("#network .neuron[data-layer='2'][data-neuron='2']")
    page.wait_for_function(
        "() => /softmax/.test(document.querySelector('#inspector-body').textContent)"
    )
    assert_nothing_cut(page, f"{w}x{h} output neuron")


def test_wide_formula_scrolls_by_keyboard(new_page: Any, base_url: str) -> None:
    page = new_page()
    open_present(page, base_url, DIGITS)
    page.click("#network .neuron[data-layer='1'][data-neuron='0']")
    page.click("#inspector-body button[data-toggle='layer1']")
    page.wait_for_selector("#inspector-body .formula[tabindex='0']")
    formula = page.locator("#inspector-body .formula[tabindex='0']").first
    formula.focus()
    assert page.evaluate("() => window.bpviz.frame.cursor.index") == 0
    for _ in range(4):
        page.keyboard.press("ArrowRight")
    page.wait_for_function("() => document.activeElement.scrollLeft > 0")
    assert page.evaluate("() => document.activeElement.matches('.formula')")
    # → scrolled the formula and ran no phase: one click on "Next phase" is one phase on.
    page.click("[data-step=phase]")
    page.wait_for_function("() => window.bpviz.frame.cursor.index > 0")
    page.wait_for_function(IDLE)
    assert page.evaluate("() => window.bpviz.frame.cursor.index") == 1
