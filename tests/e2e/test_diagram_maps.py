"""The network diagram's heat maps and input names (issue 14, point 3): for 2-D data each
hidden neuron draws what it computes over the input plane inside its circle (from the
`grid` message, behind the "heat maps" box under the diagram, remembered), none for 1-D
data or a wide layer; the input neurons are named after the data's features.
"""

from __future__ import annotations

from typing import Any

# A fresh page: the server's default run, then the one of the link (two topologies).
READY = (
    "() => window.bpviz && window.bpviz.connected && window.bpviz.topologies >= 2"
    " && window.bpviz.frames >= 2"
)
RELOADED = "() => window.bpviz && window.bpviz.connected && window.bpviz.frames >= 1"
IDLE = "() => !window.bpviz.animating"

# The maps shown in the diagram, per column (data-layer), with their pictures.
MAPS = """() => [...document.querySelectorAll('#network svg .neuron-map')]
  .filter((m) => m.getAttribute('display') !== 'none' && getComputedStyle(m).display !== 'none')
  .map((m) => ({layer: +m.closest('.column').dataset.layer, neuron: +m.closest('.neuron').dataset.neuron,
                href: m.getAttribute('href') || ''}))"""
HIDDEN_MAPS = (
    f"() => ({MAPS})().filter((m) => m.layer < window.bpviz.topology.layers.length).length"
)
SIDE_LABELS = """() => [...document.querySelectorAll('#network svg .side-label[data-input]')]
  .filter((t) => t.getAttribute('display') !== 'none').map((t) => t.textContent)"""
TEXTS = """() => [...document.querySelectorAll('#network svg text')]
  .filter((t) => t.textContent.trim() && t.getAttribute('display') !== 'none' && getComputedStyle(t).display !== 'none')
  .map((t) => { const r = t.getBoundingClientRect(); return {text: t.textContent, l: r.left, r: r.right, t: r.top, b: r.bottom}; })"""


def open_at(page: Any, base_url: str, hash_: str) -> None:
    page.goto(f"{base_url}/{hash_}")
    page.wait_for_function(READY)
    page.wait_for_function(IDLE)


def set_hash(page: Any, hash_: str) -> None:
    n = page.evaluate("() => window.bpviz.topologies")
    page.evaluate("(h) => { location.hash = h; }", hash_)
    page.wait_for_function(f"() => window.bpviz.topologies > {n}")
    page.wait_for_function(IDLE)


def wait_maps(page: Any, count: int) -> None:
    page.wait_for_function(f"() => ({HIDDEN_MAPS})() === {count}")


def labels_apart(page: Any) -> list[tuple[str, str]]:
    texts = page.evaluate(TEXTS)

    def overlap(a: dict[str, float], b: dict[str, float]) -> bool:
        return (
            a["l"] < b["r"] - 0.5
            and b["l"] < a["r"] - 0.5
            and a["t"] < b["b"] - 0.5
            and b["t"] < a["b"] - 0.5
        )

    return [
        (a["text"], b["text"]) for i, a in enumerate(texts) for b in texts[i + 1 :] if overlap(a, b)
    ]


def test_every_hidden_neuron_shows_its_map(page: Any, base_url: str, screenshot: Any) -> None:
    open_at(page, base_url, "#data=circle&hidden=4:tanh,3:tanh&batch=10&seed=1")
    assert page.is_visible("#show-maps")
    assert page.is_checked("#show-maps"), "the heat maps are on by default for 2-D data"
    wait_maps(page, 7)
    maps = page.evaluate(MAPS)
    hidden = sorted((m["layer"], m["neuron"]) for m in maps if m["layer"] < 3)
    assert hidden == [(1, 0), (1, 1), (1, 2), (1, 3), (2, 0), (2, 1), (2, 2)]
    assert all(m["href"].startswith("data:image/png") for m in maps)
    # A value is printed on a map (when stepping) with a halo that keeps it legible.
    page.click("[data-step=forward]")
    page.wait_for_function("() => window.bpviz.frame.step === 0 && window.bpviz.frame.layers[0].a")
    page.wait_for_function(IDLE)
    value = page.evaluate(
        """() => { const v = document.querySelector('#network .column[data-layer="1"] .neuron .value');
             const s = getComputedStyle(v); return {text: v.textContent, order: s.paintOrder, stroke: s.stroke}; }"""
    )
    assert value["text"] and value["order"].startswith("stroke"), value
    assert value["stroke"] == "rgb(255, 255, 255)", value
    screenshot(page, "diagram-maps")

    # A new grid (after a weight update) changes the pictures.
    before = [m["href"] for m in page.evaluate(MAPS)]
    page.click("[data-step=epoch]")
    page.wait_for_function(
        "(before) => { const now = (" + MAPS + ")().map((m) => m.href);"
        " return now.length === before.length && now.some((h, k) => h !== before[k]); }",
        arg=before,
    )

    # The neurons under their maps are still chosen by a click and by the keyboard.
    box = page.evaluate(
        """() => { const r = document.querySelector('#network .column[data-layer="1"] .neuron[data-neuron="2"] .neuron-map').getBoundingClientRect();
             return {x: r.left + r.width / 2, y: r.top + r.height / 2}; }"""
    )
    page.mouse.click(box["x"], box["y"])
    page.wait_for_selector("#network svg .overlay .selection")
    assert (
        page.evaluate(
            "() => document.querySelector('#network .neuron[tabindex=\"0\"]').dataset.neuron"
        )
        == "2"
    )
    page.focus('#network .neuron[tabindex="0"]')
    page.keyboard.press("ArrowDown")
    focused = page.evaluate("() => document.activeElement.dataset.neuron")
    assert focused == "3"

    # The box turns them off and on, and is remembered.
    page.uncheck("#show-maps")
    wait_maps(page, 0)
    assert (
        page.evaluate("() => JSON.parse(localStorage.getItem('bpviz.animation') || '{}').showMaps")
        is False
    )
    screenshot(page, "diagram-maps-off")
    page.check("#show-maps")
    wait_maps(page, 7)


def test_the_choice_is_remembered(new_page: Any, base_url: str) -> None:
    page = new_page()
    open_at(page, base_url, "#data=xor&hidden=3:tanh&seed=2")
    wait_maps(page, 3)
    page.uncheck("#show-maps")
    wait_maps(page, 0)
    page.reload()
    page.wait_for_function(RELOADED)
    assert not page.is_checked("#show-maps")
    assert page.evaluate(HIDDEN_MAPS) == 0
    page.check("#show-maps")
    wait_maps(page, 3)


def test_a_crowded_diagram_starts_without_maps_until_the_reader_chooses(
    new_page: Any, base_url: str
) -> None:
    """More than 32 maps (here 6 × 8 = 48) cost the page frames while playing: the box starts
    unchecked — until the reader ticks it, which is remembered like any choice."""
    page = new_page()
    open_at(page, base_url, "#data=circle&hidden=" + ",".join(["8:tanh"] * 6) + "&seed=1")
    page.wait_for_function("() => window.bpviz.frames >= 2")
    assert not page.is_checked("#show-maps")
    assert page.evaluate(HIDDEN_MAPS) == 0
    page.check("#show-maps")
    wait_maps(page, 48)
    set_hash(page, "#data=circle&hidden=4:tanh,3:tanh&seed=1")
    wait_maps(page, 7)
    set_hash(page, "#data=circle&hidden=" + ",".join(["8:tanh"] * 6) + "&seed=2")
    wait_maps(page, 48)  # chosen: shown on any diagram from now on


def test_no_maps_for_1d_data_or_a_wide_layer(page: Any, base_url: str, screenshot: Any) -> None:
    open_at(page, base_url, "#data=circle&hidden=4:tanh&seed=1")
    wait_maps(page, 4)
    # 1-D data: thumbnails (curves) below the output plot (a grid came), no maps, no box.
    set_hash(page, "#data=square&hidden=4:tanh&seed=1")
    page.wait_for_function("() => document.querySelectorAll('#thumbs figure').length === 4")
    assert page.evaluate(HIDDEN_MAPS) == 0
    assert not page.is_visible("#show-maps")
    # A wide layer is a block of cells: no map in it.
    set_hash(page, "#data=circle&hidden=32:tanh&seed=1")
    page.wait_for_function("() => document.querySelectorAll('#thumbs figure').length === 32")
    assert (
        page.evaluate(
            "() => document.querySelectorAll('#network .column[data-layer=\"1\"] .neuron-map').length"
        )
        == 0
    )
    assert page.evaluate(HIDDEN_MAPS) == 0
    # Beside a wide layer, a narrow one keeps its maps.
    set_hash(page, "#data=circle&hidden=32:tanh,4:tanh&seed=1")
    wait_maps(page, 4)
    assert {m["layer"] for m in page.evaluate(MAPS) if m["layer"] < 3} == {2}
    screenshot(page, "diagram-maps-wide")


def test_inputs_named_after_the_features(new_page: Any, base_url: str, screenshot: Any) -> None:
    page = new_page()
    open_at(page, base_url, "#data=circle&features=x1,x2,x1x2&hidden=4:tanh,3:tanh&seed=1")
    assert page.evaluate(SIDE_LABELS)[:3] == ["x₁", "x₂", "x₁x₂"]
    wait_maps(page, 7)  # the maps are over the plane of the two inputs, whatever the features
    tip = page.evaluate(
        '() => document.querySelector(\'#network .column[data-layer="0"] .neuron[data-neuron="2"] title\').textContent'
    )
    assert tip.startswith("x₁x₂ = ")
    assert labels_apart(page) == []
    screenshot(page, "diagram-maps-features")
    # Words in the reader's language, cut to the margin when long (whole in the tooltip).
    for locale, names in (("en-US", ("area (m²)", "rooms")), ("zh-CN", ("面积（m²）", "房间数"))):
        page = new_page(locale=locale)
        open_at(page, base_url, "#data=house&features=x1,x2,x1sq,x1x2&hidden=3:tanh&seed=1")
        tips = page.evaluate(
            """() => [...document.querySelectorAll('#network .column[data-layer="0"] .neuron title')]
                 .map((t) => t.textContent.split(' = ')[0])"""
        )
        area, rooms = names
        assert tips == [area, rooms, f"{area}²", f"{area}·{rooms}"], tips
        labels = page.evaluate(SIDE_LABELS)
        assert len(labels) == 4
        for label, whole in zip(labels, tips, strict=True):
            assert label == whole or (label.endswith("…") and whole.startswith(label[:-1])), (
                label,
                whole,
            )
        clipped = page.evaluate(
            """() => [...document.querySelectorAll('#network svg .side-label')].filter((t) => t.getAttribute('display') !== 'none')
                 .map((t) => t.getBoundingClientRect().left - document.querySelector('#network svg').getBoundingClientRect().left)"""
        )
        assert min(clipped) >= -0.5, f"{locale}: an input's name runs out of the diagram"
        assert labels_apart(page) == [], locale
        screenshot(page, f"diagram-maps-house-{locale[:2]}")


def test_small_screen_and_presentation_mode(new_page: Any, base_url: str, screenshot: Any) -> None:
    page = new_page(viewport={"width": 853, "height": 480})
    open_at(page, base_url, "#data=circle&hidden=4:tanh,3:tanh&seed=1")
    wait_maps(page, 7)
    assert page.is_visible("#show-maps")
    assert labels_apart(page) == []
    assert page.evaluate("() => document.documentElement.scrollWidth <= innerWidth")
    screenshot(page, "diagram-maps-853x480")
    page = new_page()
    open_at(page, base_url, "?present#data=circle&hidden=4:tanh,3:tanh&seed=1")
    page.wait_for_function("() => document.body.classList.contains('present')")
    page.wait_for_function(
        "() => document.querySelector('#network svg').dataset.present === 'true'"
    )
    wait_maps(page, 7)
    page.click("[data-step=step]")
    page.wait_for_function("() => window.bpviz.frame.step >= 1")
    page.wait_for_function(IDLE)
    assert labels_apart(page) == []
    screenshot(page, "diagram-maps-present")
