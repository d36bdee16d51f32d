"""The chain-rule graph page (/graph) in a real browser.

Type an expression, step it forward and backward, read the gradients beside their
finite-difference checks; a parse error points at its character; a neuron link opens
that neuron's graph and goes back; the Chinese page speaks Chinese; the page fits a
projector and a tablet, and a phone, where the graph flows down. The fixtures (tests/e2e/conftest.py) fail a test whose page asked
for anything outside the server or logged an error.
"""

from __future__ import annotations

import json
import urllib.parse
from pathlib import Path
from typing import Any

import pytest

from .conftest import WATCH_PULSES, pulses_placed

SHOTS = Path("/tmp")


def open_graph(page: Any, base_url: str, hash_: str = "") -> None:
    page.goto(f"{base_url}/graph{hash_}")
    page.wait_for_selector("#graph-canvas svg .gnode")
    page.wait_for_function("() => window.bpvizGraph && window.bpvizGraph.total > 0")


def cursor(page: Any) -> int:
    return int(page.evaluate("window.bpvizGraph.cursor"))


def total(page: Any) -> int:
    return int(page.evaluate("window.bpvizGraph.total"))


def check_rows(page: Any) -> dict[str, list[str]]:
    rows = page.eval_on_selector_all(
        "#checks tbody tr", "rows => rows.map(r => [...r.cells].map(c => c.textContent))"
    )
    return {r[0]: r[1:] for r in rows}


def expected_refusal(page: Any, count: int) -> None:
    """Drop the browser's own log line of each 422 the test asked for (only those)."""
    line = "console.error: Failed to load resource: the server responded with a status of 422"
    refusals = [e for e in page.watch.errors if e.startswith(line)]
    assert len(refusals) == count, page.watch.errors
    page.watch.errors[:] = [e for e in page.watch.errors if not e.startswith(line)]


def neuron_hash(body: dict[str, Any]) -> str:
    return "#neuron=" + urllib.parse.quote(json.dumps(body))


def test_type_an_expression_and_step_it(new_page: Any, base_url: str, screenshot: Any) -> None:
    page = new_page()
    open_graph(page, base_url)
    page.fill("#expr", "L = (w*x + b - y)^2 / 2")
    page.wait_for_selector('#leaves input[data-leaf="w"]')
    for name, value in {"w": "2", "x": "3", "b": "1", "y": "4"}.items():
        page.fill(f'#leaves input[data-leaf="{name}"]', value)
    # w·x + b − y = 3, L = 4.5, ∂L/∂w = 3·x = 9, ∂L/∂x = 3·w = 6, ∂L/∂b = 3, ∂L/∂y = −3.
    page.wait_for_function(
        "() => window.bpvizGraph.report?.graph?.nodes.at(-1).value === 4.5 && window.bpvizGraph.cursor === 0"
    )
    assert page.is_disabled("#g-backward") and page.is_enabled("#g-forward")
    n = total(page)
    forward = page.evaluate("bpvizGraph.report.steps.filter(s => s.phase === 'forward').length")
    while page.is_enabled("#g-forward"):
        page.click("#g-forward")
    page.wait_for_function(f"() => window.bpvizGraph.cursor === {forward}")
    assert "4.5" in page.text_content("#graph-canvas")  # the loss, after the forward pass
    assert all(r[0] == "…" for r in check_rows(page).values())  # no gradient yet
    assert "loss computed" in page.text_content("#g-count")

    page.click("#g-backward")
    page.wait_for_function(f"() => window.bpvizGraph.cursor === {forward + 1}")
    assert "∂L/∂L = 1" in page.text_content("#explain")
    screenshot(page, "graph-mid-backward")
    while page.is_enabled("#g-backward"):
        page.click("#g-backward")
    page.wait_for_function(f"() => window.bpvizGraph.cursor === {n}")
    rows = check_rows(page)
    assert (
        rows["w"][0] == "9" and rows["x"][0] == "6" and rows["b"][0] == "3" and rows["y"][0] == "−3"
    )
    assert all(r[3] == "✓" for r in rows.values()), rows
    assert "agree with finite differences" in page.text_content("#checks-summary")
    assert "∇ 9" in page.text_content("#graph-canvas")
    page.screenshot(path=str(SHOTS / "graph-1280x720-done.png"))

    page.click("#g-undo")
    assert cursor(page) == n - 1 and rows["y"][0] == "−3"
    page.click("#g-reset")
    assert cursor(page) == 0
    assert "Step 0" in page.text_content("#g-count")
    # The expression and its values are in the link.
    assert "expr=L%20%3D%20(w*x%20%2B%20b%20-%20y)%5E2%20%2F%202" in page.url
    assert "values=w%3A2%2Cx%3A3%2Cb%3A1%2Cy%3A4" in page.url


def test_keys_and_play(new_page: Any, base_url: str) -> None:
    page = new_page()
    open_graph(page, base_url)
    page.locator("#graph-canvas").focus()
    for k in range(3):
        page.keyboard.press("ArrowRight")
        page.wait_for_function(f"() => window.bpvizGraph.cursor === {k + 1}")
    page.keyboard.press("ArrowLeft")
    assert cursor(page) == 2
    page.keyboard.press("End")
    assert cursor(page) == total(page)
    page.keyboard.press("Home")
    assert cursor(page) == 0
    page.click("#g-play")
    page.wait_for_function("() => window.bpvizGraph.cursor >= 2")
    page.click("#g-play")  # pause: the step under way ends, no other starts
    page.wait_for_timeout(700)
    paused = cursor(page)
    page.wait_for_timeout(1000)
    assert cursor(page) == paused < total(page)


def test_every_pulse_starts_on_its_edge(new_page: Any, base_url: str) -> None:
    page = new_page()
    open_graph(page, base_url)
    page.evaluate(WATCH_PULSES)
    for _ in range(3):
        before = cursor(page)
        page.click("#g-forward")
        page.wait_for_function(f"() => window.bpvizGraph.cursor > {before}")
    page.wait_for_function("() => !document.querySelector('#graph-canvas .pulse')")
    assert pulses_placed(page) > 0


def test_a_parse_error_points_at_the_character(new_page: Any, base_url: str) -> None:
    page = new_page()
    open_graph(page, base_url)
    page.fill("#expr", "L = (w*x + b) $ 2")
    page.wait_for_selector("#expr-error:not([hidden]) .caret-line mark")
    assert "“$” cannot be used here" in page.text_content("#expr-error")
    assert page.text_content("#expr-error mark") == "$"
    assert page.get_attribute("#expr", "aria-invalid") == "true"
    assert page.is_visible("#graph-empty") and page.is_disabled("#g-forward")
    page.screenshot(path=str(SHOTS / "graph-parse-error.png"))
    page.fill("#expr", "L = (w*x + b")  # ended too soon: the caret at the unclosed "("
    page.wait_for_function(
        "() => document.querySelector('#expr-error .expr-error-text').textContent.includes('never closed')"
    )
    assert page.text_content("#expr-error mark") == "("
    page.fill("#expr", "L = log(w*x)")
    page.wait_for_selector('#leaves input[data-leaf="w"]')
    page.fill('#leaves input[data-leaf="w"]', "-1")
    page.wait_for_function(
        "() => document.querySelector('#expr-error .expr-error-text').textContent.includes('positive number')"
    )
    assert page.locator(".ring.on.blamed").count() == 1  # the node to blame is marked


def test_a_neuron_link_opens_its_graph_and_goes_back(new_page: Any, base_url: str) -> None:
    page = new_page()
    open_graph(page, base_url, "#sizes=2,2,2")
    body = {
        "a_prev": [0.593269992, 0.596884378],
        "w": [0.4, 0.45],
        "b": 0.6,
        "activation": "sigmoid",
        "loss": "mse",
        "y": 0.01,
        "layer": 2,
        "neuron": 0,
    }
    page.goto(f"{base_url}/graph?from=main{neuron_hash(body)}")
    page.wait_for_function("() => window.bpvizGraph && window.bpvizGraph.total > 0")
    assert "Neuron 1 of layer 2" in page.text_content("#neuron-title")
    assert page.is_visible("#graph-back") and page.is_hidden("#expr-form")
    assert page.input_value('#leaves input[data-leaf="w1"]') == "0.4"
    page.click("#g-all")
    rows = check_rows(page)
    assert rows["w1"][0] == "0.082167"  # the worked example's ∂L/∂w5, to its digits
    assert all(r[3] == "✓" for r in rows.values())
    page.screenshot(path=str(SHOTS / "graph-neuron.png"))
    # Edit a weight: the graph follows, the link keeps it.
    before = page.evaluate("bpvizGraph.report.checks[0].analytic")
    page.fill('#leaves input[data-leaf="w1"]', "0.5")
    page.wait_for_function(f"() => window.bpvizGraph.report.checks[0].analytic !== {before!r}")
    assert "%22w%22%3A%5B0.5%2C0.45%5D" in page.url
    page.click("#graph-back")
    page.wait_for_url(lambda url: "sizes=2%2C2%2C2" in url and "neuron" not in url)


def test_a_hidden_neuron_and_a_bad_link(new_page: Any, base_url: str) -> None:
    page = new_page()
    hidden = {
        "a_prev": [0.5, 0.2],
        "w": [0.3, -0.1],
        "b": 0.0,
        "activation": "relu",
        "upstream": 0.2,
    }
    open_graph(page, base_url, neuron_hash(hidden))
    assert "hidden, relu" in page.text_content("#neuron-title")
    assert "layers above" in page.text_content("#graph-canvas")
    page.goto(f"{base_url}/graph?again=1{neuron_hash({**hidden, 'w': [1.0]})}")
    page.wait_for_selector("#expr-error:not([hidden])")
    assert "not valid" in page.text_content("#expr-error") and "w:" in page.text_content(
        "#expr-error"
    )
    expected_refusal(page, 1)


def test_why_backprop_is_cheap(new_page: Any, base_url: str) -> None:
    page = new_page()
    open_graph(page, base_url, "#sizes=2,4,4,1")
    page.wait_for_selector("#paths-table tbody tr")
    lead = page.text_content("#paths-lead")
    assert (
        "32 input-to-output paths" in lead and "264 multiplications" in lead and "needs 57" in lead
    )
    page.fill("#sizes", "3,8,8,8,2")
    page.press("#sizes", "Enter")
    page.wait_for_function(
        "() => document.querySelector('#paths-lead').textContent.includes('3–8–8–8–2')"
    )
    own = page.text_content("#paths-table tr.own")
    assert "3–8–8–8–2" in own and "3,072" in own  # 3·8·8·8·2 paths
    assert "sizes=3%2C8%2C8%2C8%2C2" in page.url
    page.fill("#sizes", "2,999,1")
    page.press("#sizes", "Enter")
    page.wait_for_selector("#paths-error:not([hidden])")
    assert "at most 256 neurons per layer" in page.text_content("#paths-error")
    # the refused network's error stands alone: not beside the last network's counts
    assert page.text_content("#paths-lead") == "" and page.locator("#paths-table tr").count() == 0
    page.fill("#sizes", "2,3")
    page.press("#sizes", "Enter")
    page.wait_for_selector("#paths-error", state="hidden")


def test_the_chinese_page_speaks_chinese(new_page: Any, base_url: str) -> None:
    page = new_page(locale="zh-CN")
    open_graph(page, base_url)
    assert page.text_content(".graph-title") == "链式法则：一次一个运算"
    assert "前向一步" in page.text_content("#g-forward")
    assert "反向一步" in page.text_content("#g-backward")
    page.click("#g-all")
    assert "一致" in page.text_content("#checks-summary")
    page.fill("#expr", "x ** 2")
    page.wait_for_selector("#expr-error:not([hidden])")
    assert "乘方请用 ^" in page.text_content("#expr-error")
    page.click("#lang-toggle")
    assert "Write powers with ^" in page.text_content("#expr-error")
    assert page.text_content("#lang-toggle") == "中文"


@pytest.mark.parametrize(("width", "height"), [(1280, 720), (1024, 768), (768, 1024)])
def test_the_page_fits_without_sideways_scrolling(
    new_page: Any, base_url: str, width: int, height: int
) -> None:
    page = new_page(viewport={"width": width, "height": height})
    open_graph(page, base_url)
    page.click("#g-all")
    page.wait_for_selector("#paths-table tbody tr")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    box = page.locator("#graph-canvas svg").bounding_box()
    assert box["width"] <= width  # the drawing is on the screen
    assert page.get_attribute("#graph-canvas", "data-flow") != "down"  # left to right
    page.screenshot(path=str(SHOTS / f"graph-{width}x{height}.png"))


PHONES = {"phone 390x844": (390, 844), "small phone 360x640": (360, 640)}

# The page's width, and every box that scrolls sideways (its content wider than it).
SIDEWAYS = """() => ({page: document.documentElement.scrollWidth,
  boxes: [...document.querySelectorAll('*')].filter((el) => {
    const x = getComputedStyle(el).overflowX;
    return (x === 'auto' || x === 'scroll') && el.clientWidth > 0 && el.scrollWidth > el.clientWidth + 1;
  }).map((el) => `${el.id || el.className}: ${el.scrollWidth} > ${el.clientWidth}`)})"""


@pytest.mark.parametrize("phone", list(PHONES))
def test_a_phone_shows_the_graph_without_sideways_scrolling(
    new_page: Any, base_url: str, phone: str, screenshot: Any
) -> None:
    """On a phone the graph flows down, as wide as the screen: nothing scrolls sideways (the
    page, the graph's box, the tables), the drawing keeps nearly its size, and a step brings
    its node into view under the step buttons, which stay at hand."""
    w, h = PHONES[phone]
    for locale in ("en-US", "zh-CN"):
        label = f"{phone} {locale}"
        page = new_page(locale=locale, viewport={"width": w, "height": h})
        open_graph(page, base_url)
        page.wait_for_selector("#paths-table tbody tr")
        m = page.evaluate(SIDEWAYS)
        assert m["page"] <= w and m["boxes"] == [], f"{label}: sideways scrolling: {m}"
        assert page.get_attribute("#graph-canvas", "data-flow") == "down", label
        canvas = page.locator("#graph-canvas").bounding_box()
        svg = page.locator("#graph-canvas svg").bounding_box()
        assert canvas["x"] <= svg["x"] and svg["x"] + svg["width"] <= canvas["x"] + canvas["width"]
        assert svg["height"] <= canvas["height"] + 0.5, f"{label}: the graph's box scrolls"
        drawn = page.evaluate("document.querySelector('#graph-canvas svg').viewBox.baseVal.width")
        assert svg["width"] / drawn >= 0.9, (
            f"{label}: the graph is shrunk to {svg['width'] / drawn}"
        )
        # Forward to the loss, at the bottom of the graph: it comes into view.
        forward = page.evaluate("bpvizGraph.report.steps.filter(s => s.phase === 'forward').length")
        for k in range(forward):
            page.click("#g-forward")
            page.wait_for_function(f"() => window.bpvizGraph.cursor === {k + 1}")
        page.wait_for_timeout(900)  # the smooth scroll
        out = page.evaluate("bpvizGraph.report.graph.output")
        node = page.locator(f'#graph-canvas .gnode[data-node="{out}"] .body').bounding_box()
        bar = page.locator(".graph-toolbar").bounding_box()
        assert bar["y"] >= -0.5 and bar["y"] + bar["height"] <= node["y"] + 0.5, (
            f"{label}: the loss node is under the step buttons: {node}, {bar}"
        )
        assert node["y"] + node["height"] <= h, f"{label}: the loss node is off screen: {node}"
        screenshot(page, f"graph-{w}x{h}-forward-{locale[:2]}")
        page.click("#g-all")
        page.wait_for_function("() => window.bpvizGraph.cursor === window.bpvizGraph.total")
        m = page.evaluate(SIDEWAYS)
        assert m["page"] <= w and m["boxes"] == [], f"{label}, all steps: sideways scrolling: {m}"


def test_a_relu_at_its_kink_says_why_the_check_disagrees(new_page: Any, base_url: str) -> None:
    """relu(x) at x = 0: backprop's 0 against the finite difference's 0.5 is the kink, and
    the summary says so (it showed a bare ✗)."""
    page = new_page()
    open_graph(page, base_url)
    page.fill("#expr", "L = relu(x)")
    page.wait_for_selector('#leaves input[data-leaf="x"]')
    page.fill('#leaves input[data-leaf="x"]', "0")
    page.wait_for_function(
        "() => window.bpvizGraph.report?.graph?.nodes.at(-1).value === 0 && window.bpvizGraph.cursor === 0"
    )
    page.click("#g-all")
    page.wait_for_function(f"() => window.bpvizGraph.cursor === {total(page)}")
    summary = page.text_content("#checks-summary") or ""
    assert "disagree" in summary and "kink" in summary, summary
    page.fill('#leaves input[data-leaf="x"]', "0.5")  # away from it: no word of a kink
    page.wait_for_function("() => window.bpvizGraph.report?.graph?.nodes.at(-1).value === 0.5")
    if page.is_enabled("#g-all"):
        page.click("#g-all")
    page.wait_for_function(
        "() => document.querySelector('#checks-summary').textContent.includes('agree with')"
    )
    assert "kink" not in (page.text_content("#checks-summary") or "")
