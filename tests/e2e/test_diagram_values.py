"""The values printed inside the diagram's neurons stay inside their circles on a phone.

The compact diagram (a canvas under 520 px: a phone held upright) has small circles: its
values are set in smaller type, and a label still too wide for its circle ("−0.82") smaller
still (value-fit.js). The larger diagrams keep their type.
"""

from __future__ import annotations

from typing import Any

import pytest

READY = (
    "() => window.bpviz && window.bpviz.connected && window.bpviz.topologies >= 2"
    " && window.bpviz.frames >= 2 && !window.bpviz.animating"
)
IDLE = "() => !window.bpviz.animating"

# Each printed value with its box and its circle (centre, radius), in page pixels.
VALUES = """() => [...document.querySelectorAll('#network svg .neuron')].map((g) => {
  const text = g.querySelector('text.value'), body = g.querySelector('.body');
  if (!text || !text.textContent.trim()) return null;
  const t = text.getBoundingClientRect(), c = body.getBoundingClientRect();
  return {text: text.textContent, size: +text.getAttribute('font-size'),
          l: t.left, r: t.right, t: t.top, b: t.bottom,
          cx: c.left + c.width / 2, cy: c.top + c.height / 2, radius: c.width / 2};
}).filter(Boolean)"""

PHONES = {"phone 390x844": (390, 844), "small phone 360x640": (360, 640)}


def outside(v: dict[str, Any]) -> float:
    """How far the label's farthest box corner lies outside its circle (px; ≤ 0: inside)."""
    dx = max(abs(v["l"] - v["cx"]), abs(v["r"] - v["cx"]))
    dy = max(abs(v["t"] - v["cy"]), abs(v["b"] - v["cy"]))
    return float((dx * dx + dy * dy) ** 0.5 - v["radius"])


def step_phases(page: Any, n: int) -> None:
    for _ in range(n):
        frames = page.evaluate("() => window.bpviz.frames")
        page.click("[data-step=phase]")
        page.wait_for_function(f"() => window.bpviz.frames > {frames}")
        page.wait_for_function(IDLE)


def assert_values_inside(page: Any, label: str) -> int:
    values = page.evaluate(VALUES)
    out = [(v["text"], round(outside(v), 2)) for v in values if outside(v) > 0.25]
    assert out == [], f"{label}: values cross their circles (label, px outside): {out}"
    return len(values)


@pytest.mark.parametrize("phone", list(PHONES))
def test_values_fit_their_circles_on_a_phone(
    new_page: Any, base_url: str, phone: str, screenshot: Any
) -> None:
    w, h = PHONES[phone]
    for locale in ("en-US", "zh-CN"):
        page = new_page(locale=locale, viewport={"width": w, "height": h})
        page.goto(f"{base_url}/")
        page.wait_for_function(READY)
        label = f"{phone} {locale}"
        # A forward pass prints the hidden layers' activations, negative ones too.
        step_phases(page, 4)
        printed = assert_values_inside(page, f"{label}, forward")
        assert printed >= 9, f"{label}: only {printed} values printed"
        screenshot(page, f"values-{w}x{h}-{locale[:2]}")
    # Other data and networks, forward: y = x², a regression on a plane, XOR (a circle
    # under the size that prints a value prints none).
    printed = 0
    for hash_ in ("#data=square&seed=3", "#data=plane&hidden=3:tanh&seed=2", "#data=xor&seed=5"):
        n = page.evaluate("() => window.bpviz.topologies")
        page.evaluate("(h) => { location.hash = h; }", hash_)
        page.wait_for_function(f"() => window.bpviz.topologies > {n}")
        page.wait_for_function(IDLE)
        step_phases(page, 3)
        printed += assert_values_inside(page, f"{phone} {hash_}")
    assert printed >= 8, f"{phone}: only {printed} values printed in the other networks"


def test_the_larger_diagram_keeps_its_type(new_page: Any, base_url: str) -> None:
    """A laptop's diagram prints every value at the main style's size (11.5 px)."""
    page = new_page(viewport={"width": 1280, "height": 720})
    page.goto(f"{base_url}/")
    page.wait_for_function(READY)
    step_phases(page, 4)
    values = page.evaluate(VALUES)
    assert values and {v["size"] for v in values} == {11.5}, values
    assert_values_inside(page, "1280x720")
