"""The page operated without a mouse: by keyboard, by touch, and on a projector (an outside
audit of touch, keyboard and presentation mode). Each test failed on the page before its fix."""

from __future__ import annotations

from typing import Any

READY = "() => window.bpviz && window.bpviz.connected && window.bpviz.topologies >= 2 && window.bpviz.frames >= 2"
IDLE = "() => !window.bpviz.animating"


def open_page(page: Any, base_url: str, path: str = "/") -> None:
    page.goto(f"{base_url}{path}")
    page.wait_for_function(READY)
    page.wait_for_function(IDLE)


def units(page: Any) -> list[int]:
    return page.evaluate("() => window.bpviz.topology.config.network.hidden.map((l) => l.units)")


def test_the_layer_buttons_keep_the_focus(page: Any, base_url: str) -> None:
    """Enter on "more neurons", then Space: the focus is still on the button (Space presses
    it again); it once fell to <body>, and the Space started training."""
    open_page(page, base_url, "/#data=xor&hidden=4:tanh")
    button = page.locator("#controls [data-key='more0']")
    button.focus()
    page.keyboard.press("Enter")
    page.wait_for_function("() => window.bpviz.topology.config.network.hidden[0].units === 5")
    page.wait_for_function("() => document.activeElement?.dataset.key === 'more0'")
    page.keyboard.press("Space")
    page.wait_for_function("() => window.bpviz.topology.config.network.hidden[0].units === 6")
    assert not page.evaluate("() => window.bpviz.playing")
    # the last layer removed: the focus goes to the button beside it, not <body>
    page.locator("#controls [data-key='remove_layer']").focus()
    page.keyboard.press("Enter")
    page.wait_for_function("() => window.bpviz.topology.config.network.hidden.length === 0")
    assert page.evaluate("() => document.activeElement?.dataset.key") == "add_layer"
    # an activation chosen with the arrow keys keeps its menu focused
    page.keyboard.press("Enter")
    page.wait_for_function("() => window.bpviz.topology.config.network.hidden.length === 1")
    page.locator("#controls [data-key='act0']").focus()
    page.keyboard.press("ArrowDown")
    page.wait_for_function(
        "() => window.bpviz.topology.config.network.hidden[0].activation !== 'tanh'"
    )
    page.wait_for_function("() => document.activeElement?.dataset.key === 'act0'")


def test_a_lab_preset_chosen_by_keyboard_keeps_the_focus(page: Any, base_url: str) -> None:
    page.goto(f"{base_url}/lab")
    page.wait_for_selector(".lab-preset[data-preset]")
    second = page.locator(".lab-preset").nth(1)
    preset = second.get_attribute("data-preset")
    second.focus()
    page.keyboard.press("Enter")
    page.wait_for_function(
        "(p) => document.querySelector(`.lab-preset[data-preset='${p}']`)"
        "?.getAttribute('aria-current') === 'page'",
        arg=preset,
    )
    page.wait_for_function(
        "(p) => document.activeElement?.dataset?.preset === p", arg=preset, timeout=5_000
    )


def test_a_tap_reads_the_decision_boundary(new_page: Any, base_url: str) -> None:
    """x₁, x₂ and ŷ at a point of the map: a mouse gets them by hovering, a finger by a tap."""
    page = new_page(viewport={"width": 1024, "height": 768}, has_touch=True, is_mobile=True)
    open_page(page, base_url, "/#data=circle&hidden=4:tanh")
    page.wait_for_selector("#output-plot canvas", state="visible")
    page.wait_for_timeout(500)  # the points drawn over it
    tap_the_map(page, 0.1)


def tap_the_map(page: Any, at: float) -> None:
    """A finger on the decision boundary's map, ``at`` of its width and height from its top
    left corner (off the points): the tip under it reads x₁, x₂ and ŷ there."""
    box = page.locator("#output-plot canvas").bounding_box()
    assert box is not None
    page.touchscreen.tap(box["x"] + box["width"] * at, box["y"] + box["height"] * at)
    tip = page.locator(".output-tip")
    tip.wait_for(state="visible", timeout=5_000)
    assert "ŷ" in (tip.text_content() or "")


def test_present_mode_charts_are_large_and_esc_leaves_it(page: Any, base_url: str) -> None:
    """In presentation mode the chart beside the diagram has type as large as the page's
    (its ticks were 13 px beside 19–26 px everywhere else); Esc leaves the mode."""
    page.set_viewport_size({"width": 1280, "height": 720})
    open_page(page, base_url, "/?present=loss#data=xor&hidden=4:tanh")
    page.click("[data-step=step]")
    page.wait_for_function("() => window.bpviz.frame.step >= 1")
    page.wait_for_timeout(800)  # the chart is drawn apart from the frames
    size = page.evaluate(
        """() => Math.min(...[...document.querySelectorAll('#panel-loss .xtick text, #panel-loss .ytick text')]
              .map((t) => parseFloat(getComputedStyle(t).fontSize)))"""
    )
    assert size >= 18, size
    page.locator("body").focus()
    page.keyboard.press("Escape")
    page.wait_for_function("() => !document.body.classList.contains('present')")


def test_a_finger_gets_larger_targets(new_page: Any, base_url: str) -> None:
    """On a touch screen the settings' check boxes, the sliders and the weights' hit lines
    are larger (13 px boxes and 9 px lines under a finger); a mouse keeps the small ones."""
    sizes = {}
    for touch in (False, True):
        page = new_page(viewport={"width": 1180, "height": 820}, has_touch=touch, is_mobile=touch)
        open_page(page, base_url, "/#data=xor&hidden=4:tanh")
        sizes[touch] = page.evaluate(
            """() => ({
                box: document.querySelector('.sidebar input[type=checkbox]').getBoundingClientRect().height,
                slider: document.querySelector('.sidebar input[type=range]').getBoundingClientRect().height,
                hit: parseFloat(getComputedStyle(document.querySelector('.edge-hit')).strokeWidth),
            })"""
        )
    assert sizes[True]["box"] >= 22 and sizes[True]["slider"] >= 28 and sizes[True]["hit"] >= 18
    assert sizes[False]["box"] < 22 and sizes[False]["hit"] < 18, sizes
