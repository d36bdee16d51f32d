"""The values printed inside the diagram's neurons stay inside their circles, in every style.

A circle's size depends on the canvas and the network, a label's width on its value: a label
too wide for its circle is set in smaller type, just small enough for its box to lie inside
(value-fit.js), and one that would need type under 7 px is not printed. The compact diagram
(a canvas under 520 px: a phone held upright) sets its values in smaller type to begin with.
And the output's target labels ("y=0.864") end before the loss box: the right margin keeps
room for the output circles' right half, their δ glow, the labels and the loss box.
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


def press_step(page: Any, unit: str, n: int) -> None:
    """Press the ``unit`` step button (``phase``, ``step``) ``n`` times, each time until its
    frame arrived and the diagram is idle."""
    for _ in range(n):
        frames = page.evaluate("() => window.bpviz.frames")
        page.click(f"[data-step={unit}]")
        page.wait_for_function(f"() => window.bpviz.frames > {frames}")
        page.wait_for_function(IDLE)


def switch_to(page: Any, hash_: str) -> None:
    """Load another network and data set by the address's hash, as a shared link does."""
    n = page.evaluate("() => window.bpviz.topologies")
    page.evaluate("(h) => { location.hash = h; }", hash_)
    page.wait_for_function(f"() => window.bpviz.topologies > {n}")
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
        press_step(page, "phase", 4)
        printed = assert_values_inside(page, f"{label}, forward")
        assert printed >= 9, f"{label}: only {printed} values printed"
        screenshot(page, f"values-{w}x{h}-{locale[:2]}")
    # Other data and networks, forward: y = x², a regression on a plane, XOR (a circle
    # under the size that prints a value prints none).
    printed = 0
    for hash_ in ("#data=square&seed=3", "#data=plane&hidden=3:tanh&seed=2", "#data=xor&seed=5"):
        switch_to(page, hash_)
        press_step(page, "phase", 3)
        printed += assert_values_inside(page, f"{phone} {hash_}")
    assert printed >= 8, f"{phone}: only {printed} values printed in the other networks"


SCREENS = {
    "projector 1024x768": (1024, 768),
    "laptop 1280x720": (1280, 720),
    "full HD 1920x1080": (1920, 1080),
    "1440p 2560x1440": (2560, 1440),
}
# After the default network (2-4-2-1): two hidden layers of 8, and a deep one.
NETWORKS = ("#hidden=8:relu,8:relu", "#hidden=4:tanh,4:tanh,4:tanh,4:tanh,4:tanh,4:tanh")
MIN_PX = 7  # SIZES.valueTextMinPx: no value is printed in smaller type
CLEAR = 1.5  # value-fit.js: px of the circle kept clear around a label's box


def assert_shrunk_only_as_needed(page: Any, label: str) -> list[float]:
    """Every value is printed in type of at least 7 px, and one smaller than the diagram's
    largest only as small as its circle needs: its box touches the circle's clear ring."""
    values = page.evaluate(VALUES)
    size = max((v["size"] for v in values), default=0)
    tiny = [(v["text"], v["size"]) for v in values if v["size"] < MIN_PX]
    assert tiny == [], f"{label}: values in type under {MIN_PX} px: {tiny}"
    loose = [
        (v["text"], v["size"], round(outside(v), 2))
        for v in values
        if v["size"] < size - 0.01 and outside(v) < -(CLEAR + 1)
    ]
    assert loose == [], f"{label}: values smaller than their circles need: {loose}"
    return [v["size"] for v in values]


@pytest.mark.parametrize("present", [False, True], ids=["", "presenting"])
@pytest.mark.parametrize("screen", list(SCREENS))
def test_values_fit_their_circles_on_larger_screens(
    new_page: Any, base_url: str, screen: str, present: bool, screenshot: Any
) -> None:
    """The main diagram, its larger twin on a large canvas and presentation mode's, after a
    step of the default network, of two layers of 8 and of a deep one, in both languages."""
    w, h = SCREENS[screen]
    for locale in ("en-US", "zh-CN"):
        page = new_page(locale=locale, viewport={"width": w, "height": h})
        page.goto(f"{base_url}/{'?present' if present else ''}")
        page.wait_for_function(READY)
        page.select_option("#anim-speed", "off")
        assert page.evaluate("() => document.body.classList.contains('present')") == present
        label = f"{screen}{' presenting' if present else ''} {locale}"
        press_step(page, "step", 2)
        assert_values_inside(page, f"{label}, default network")
        sizes = assert_shrunk_only_as_needed(page, f"{label}, default network")
        assert len(sizes) >= 9, f"{label}: only {len(sizes)} values printed"
        if locale == "en-US":
            screenshot(page, f"values-{w}x{h}{'-present' if present else ''}")
        for hash_ in NETWORKS:
            switch_to(page, hash_)
            press_step(page, "step", 2)
            assert_values_inside(page, f"{label} {hash_}")
            assert_shrunk_only_as_needed(page, f"{label} {hash_}")


def test_a_regression_on_a_projector_prints_its_values(new_page: Any, base_url: str) -> None:
    """Presenting on a 1024×768 projector, with the panel beside the diagram, a regression's
    target labels ("y=0.972") and the feature names take width from the circles: those of
    house price's 2-4-2-1 have a radius of 19 px, and under 27 px the presentation style
    printed no value at all. Now its every value is printed, inside its circle."""
    page = new_page(viewport={"width": 1024, "height": 768})
    page.goto(f"{base_url}/?present#data=house")
    page.wait_for_function(READY)
    page.select_option("#anim-speed", "off")
    for hash_, least in (("#data=house", 9), ("#data=house&hidden=4:relu", 7)):
        if hash_ != "#data=house":
            switch_to(page, hash_)
        press_step(page, "step", 2)
        printed = assert_values_inside(page, f"projector presenting {hash_}")
        assert printed >= least, f"{hash_}: only {printed} values printed"
        assert_shrunk_only_as_needed(page, f"projector presenting {hash_}")


TARGET_ROOMS = {
    "small phone 360x640": (360, 640),
    "phone 390x844": (390, 844),
    "tablet 768x1024": (768, 1024),
    "projector 1024x768": (1024, 768),
    "laptop 1280x720": (1280, 720),
}
# A regression (house price: "y=−1.47"), two classes ("y=1"), ten ("9 y=0").
TARGET_DATA = ("#data=house", "#data=circle&seed=1", "#data=digits&hidden=16:relu&batch=10")

# The output's target labels, the loss box and the diagram, in page pixels.
TARGETS = """() => {
  const svg = document.querySelector('#network svg');
  const box = (e) => { const r = e.getBoundingClientRect(); return {l: r.left, r: r.right, t: r.top, b: r.bottom}; };
  return {svg: box(svg), loss: box(svg.querySelector('.loss-node rect')),
          labels: [...svg.querySelectorAll('text.side-label:not([data-input])')]
            .filter((t) => t.textContent.trim()).map((t) => ({text: t.textContent, ...box(t)}))};
}"""


def apart(a: dict[str, float], b: dict[str, float], clear: float) -> bool:
    """Whether box `a`, grown by `clear` px on every side, misses box `b`."""
    return (
        a["r"] + clear <= b["l"]
        or b["r"] <= a["l"] - clear
        or a["b"] + clear <= b["t"]
        or b["b"] <= a["t"] - clear
    )


@pytest.mark.parametrize("room", list(TARGET_ROOMS))
def test_target_labels_clear_of_the_loss_box(
    new_page: Any, base_url: str, room: str, screenshot: Any
) -> None:
    """The output's target labels ("y=0.864") end before the loss box, which lies inside the
    diagram, for a regression and a classification, presenting or not."""
    w, h = TARGET_ROOMS[room]
    page = new_page(viewport={"width": w, "height": h})
    page.goto(f"{base_url}/{TARGET_DATA[0]}")
    page.wait_for_function(READY)
    page.select_option("#anim-speed", "off")
    page.evaluate("() => document.activeElement.blur()")
    for present in (False, True):
        if present:
            page.keyboard.press("p")
            page.wait_for_function("() => document.body.classList.contains('present')")
        for k, hash_ in enumerate(TARGET_DATA):
            if present or k > 0:
                switch_to(page, hash_)
            press_step(page, "step", 1)
            label = f"{room}{' presenting' if present else ''} {hash_}"
            got = page.evaluate(TARGETS)
            assert got["labels"], f"{label}: no target label printed"
            # The labels' white outline reaches 1.5 px past their boxes.
            hits = [t["text"] for t in got["labels"] if not apart(t, got["loss"], 1.5)]
            assert hits == [], f"{label}: target labels over the loss box: {hits} {got['loss']}"
            assert got["loss"]["r"] <= got["svg"]["r"], f"{label}: the loss box is cut: {got}"
            if k == 0:
                screenshot(page, f"target-{w}x{h}{'-present' if present else ''}")
