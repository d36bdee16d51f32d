"""The charts without a mouse (see conftest.py): each chart is a tab stop whose arrow keys move
a cursor over its points; Plotly's own hover label shows them and a polite live region says
the same strings in words, in English and in Chinese. The cursor keeps its step while the run
plays (End follows the newest); Esc removes it; the page's → (next phase) is not also pressed;
a tap shows the same strings.
"""

from __future__ import annotations

import re
from typing import Any

READY = "() => window.bpviz && window.bpviz.connected && window.bpviz.topologies >= 2 && window.bpviz.frames >= 2"
XOR = "/#data=xor&hidden=4:tanh&batch=4&seed=3"
LIVE = "() => document.querySelector('#chart-live')?.textContent.trim() ?? ''"
# Plotly's hover label on a chart: the unified box of a step ("3", then "name : value" per
# trace), or one box per trace ("name" beside "value").
LABEL = "(sel) => document.querySelector(`${sel} .hoverlayer`)?.textContent ?? ''"
# Whether the label shows each [name, value] (and, when given, the step as the box's title).
SHOWS = f"""([sel, pairs, step]) => {{
    const text = ({LABEL})(sel);
    if (step !== null && !text.startsWith(`${{step}}`)) return false;
    return pairs.every(([name, value]) => text.includes(`${{name}} : ${{value}}`) || text.includes(`${{name}}${{value}}`));
}}"""


def open_page(page: Any, base_url: str, path: str) -> None:
    page.goto(f"{base_url}{path}")
    page.wait_for_function(READY)
    page.wait_for_function("() => !window.bpviz.animating")


def steps(page: Any, n: int) -> None:
    """``n`` full steps, and the loss chart drawn with all of them."""
    for _ in range(n):
        before = page.evaluate("() => window.bpviz.frame.step")
        page.click("[data-step=step]")
        page.wait_for_function(f"() => window.bpviz.frame.step > {before}")
    page.wait_for_function(
        """() => { const h = window.bpviz.history.step; const d = document.querySelector('#chart-loss').data;
            return d && d[0].x.length === h.length && h.at(-1) === window.bpviz.frame.step; }"""
    )


def tab_to(page: Any, before: str, chart: str) -> None:
    """Focus ``before`` and press Tab: the chart is the next stop, its focus ring drawn."""
    page.focus(before)
    page.keyboard.press("Tab")
    page.wait_for_function(f"() => document.activeElement?.id === '{chart[1:]}'")
    assert page.evaluate(f"() => document.querySelector('{chart}').matches(':focus-visible')")
    ring = page.eval_on_selector(chart, "(e) => getComputedStyle(e).outlineStyle")
    assert ring == "solid"


def said(page: Any, pattern: str) -> re.Match[str]:
    """Wait for the live region to say something matching ``pattern``; its match."""
    page.wait_for_function(f"() => new RegExp({pattern!r}).test(({LIVE})())")
    m = re.search(pattern, page.evaluate(LIVE))
    assert m is not None
    return m


def close(text: str, value: float, digits: int = 4) -> bool:
    """A number as the page prints it (``digits`` significant digits, a real minus) against
    the value."""
    shown = float(text.replace("−", "-"))
    return abs(shown - value) <= 5 * 10.0**-digits * abs(value) + 1e-12


def loss_at(page: Any, step: int) -> dict[str, float]:
    """The step's losses from the history the page got in its frames."""
    return page.evaluate(
        """(s) => { const h = window.bpviz.history; const k = h.step.indexOf(s);
            return {batch: h.batch_loss[k], train: h.train_loss[k], test: h.test_loss[k]}; }""",
        step,
    )


EN_LOSS = (
    r"^step (\d+): batch \(before update\) ([\d.e−]+), train set ([\d.e−]+), test set ([\d.e−]+)$"
)
ZH_LOSS = r"^第 (\d+) 步：本批（更新前） ([\d.e−]+)，训练集 ([\d.e−]+)，测试集 ([\d.e−]+)$"


def check_loss(page: Any, pattern: str, step: int, names: list[str]) -> None:
    """The live region says the step's three losses; the hover label shows the same strings."""
    m = said(page, pattern.replace(r"(\d+)", str(step), 1))
    values = loss_at(page, step)
    for text, key in zip(m.groups(), ["batch", "train", "test"], strict=True):
        assert close(text, values[key]), (text, key, values)
    pairs = [list(p) for p in zip(names, m.groups(), strict=True)]
    page.wait_for_function(SHOWS, arg=["#chart-loss", pairs, step], timeout=5_000)


def named_chart(page: Any, selector: str, name: str | None = None) -> str:
    """The chart at ``selector`` is a tab stop for the keys (role application) named
    ``name``; its key hint (its description), for the caller to read."""
    el = page.locator(selector)
    assert el.get_attribute("role") == "application", selector
    if name is not None:
        assert el.get_attribute("aria-label") == name, selector
    return str(
        page.eval_on_selector(
            selector,
            "(e) => document.getElementById(e.getAttribute('aria-describedby')).textContent",
        )
    )


def test_the_loss_chart_by_keyboard(page: Any, base_url: str, screenshot: Any) -> None:
    open_page(page, base_url, XOR)
    steps(page, 6)
    tab_to(page, "#loss-log", "#chart-loss")
    hint = named_chart(page, "#chart-loss", "Loss (chart)")
    assert "←" in hint and "Esc" in hint
    assert page.get_attribute("#chart-live", "aria-live") == "polite"
    names = ["batch (before update)", "train set", "test set"]
    before = page.evaluate("() => [window.bpviz.frame.step, window.bpviz.frame.phase]")
    page.keyboard.press("End")
    check_loss(page, EN_LOSS, 6, names)
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("ArrowLeft")
    check_loss(page, EN_LOSS, 4, names)
    page.keyboard.press("ArrowRight")
    check_loss(page, EN_LOSS, 5, names)
    screenshot(page, "chart-keys-loss")
    page.keyboard.press("Home")
    check_loss(page, EN_LOSS, 1, names)
    # The chart's arrows are its own: the network did not step (Playback's → is next phase).
    page.wait_for_timeout(300)
    assert page.evaluate("() => [window.bpviz.frame.step, window.bpviz.frame.phase]") == before
    # Esc removes the cursor (and nothing else: presentation mode is not entered or left).
    page.keyboard.press("Escape")
    page.wait_for_function(f"(s) => ({LABEL})(s) === ''", arg="#chart-loss")
    assert page.evaluate("() => document.activeElement.id") == "chart-loss"
    # Leaving the chart removes it too.
    page.keyboard.press("End")
    page.wait_for_function(f"(s) => ({LABEL})(s) !== ''", arg="#chart-loss")
    page.keyboard.press("Tab")
    page.wait_for_function(f"(s) => ({LABEL})(s) === ''", arg="#chart-loss")
    # A click on a chart does not take the focus: → steps the network again for the mouse user.
    page.click("#chart-loss .nsewdrag", position={"x": 20, "y": 20})
    assert page.evaluate("() => document.activeElement.id") != "chart-loss"


def test_the_charts_speak_chinese(new_page: Any, base_url: str, screenshot: Any) -> None:
    page = new_page(locale="zh-CN")
    open_page(page, base_url, XOR)
    steps(page, 4)
    tab_to(page, "#loss-log", "#chart-loss")
    assert page.get_attribute("#chart-loss", "aria-label") == "损失（图表）"
    page.keyboard.press("End")
    page.keyboard.press("ArrowLeft")
    check_loss(page, ZH_LOSS, 3, ["本批（更新前）", "训练集", "测试集"])
    screenshot(page, "chart-keys-zh")
    # The accuracy chart: the next stop, the same words.
    page.keyboard.press("Tab")
    page.wait_for_function("() => document.activeElement?.id === 'chart-accuracy'")
    page.keyboard.press("End")
    m = said(page, r"^第 4 步：训练集 ([\d.e−]+)，测试集 ([\d.e−]+)$")
    acc = page.evaluate(
        "() => { const h = window.bpviz.history; return [h.train_acc.at(-1), h.test_acc.at(-1)]; }"
    )
    assert close(m.group(1), acc[0]) and close(m.group(2), acc[1])


def test_the_cursor_keeps_its_step_while_playing(page: Any, base_url: str) -> None:
    open_page(page, base_url, XOR)
    steps(page, 5)
    tab_to(page, "#loss-log", "#chart-loss")
    page.keyboard.press("End")
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("ArrowLeft")
    said(page, r"^step 3: ")
    spoken = page.evaluate(LIVE)
    # Space still plays with a chart focused (the chart has no use for it).
    page.keyboard.press("Space")
    page.wait_for_function("() => window.bpviz.frame.step >= 40", timeout=30_000)
    page.wait_for_function(
        "() => document.querySelector('#chart-loss').data[0].x.length >= 30", timeout=30_000
    )
    page.wait_for_timeout(800)  # a few redraws while playing
    # Still step 3's values under the cursor (the redraws re-hover it), and nothing more said.
    pairs = page.evaluate(
        """() => { const d = document.querySelector('#chart-loss').data; const k = d[0].x.indexOf(3);
            return d.map((t) => [t.name, t.text[k]]); }"""
    )
    page.wait_for_function(SHOWS, arg=["#chart-loss", pairs, 3])
    assert page.evaluate(LIVE) == spoken
    # End follows the newest point as the data grows.
    page.keyboard.press("End")
    newest = page.evaluate("() => document.querySelector('#chart-loss').data[0].x.at(-1)")
    page.wait_for_function(
        f"""() => document.querySelector('#chart-loss').data[0].x.at(-1) > {newest} + 5""",
        timeout=30_000,
    )
    page.wait_for_function(
        f"""(s) => {{ const d = document.querySelector(s).data;
            const pairs = d.map((t) => [t.name, t.text.at(-1)]).filter(([, v]) => v);
            return ({SHOWS})([s, pairs, null]); }}""",
        arg="#chart-loss",
    )
    page.keyboard.press("Space")
    page.wait_for_function("() => !window.bpviz.frame.playing")


def test_the_bars_and_the_confusion_matrix(page: Any, base_url: str) -> None:
    open_page(page, base_url, XOR)
    steps(page, 2)
    page.locator("#chart-confusion").scroll_into_view_if_needed()  # drawn once in view
    page.wait_for_selector("#chart-confusion .main-svg")
    # The bars: → to the first layer, its two norms from the frame.
    page.focus("#chart-grad-bars")
    page.keyboard.press("ArrowRight")
    m = said(page, r"^layer 1: ‖δ‖ \(error term\) ([\d.e−]+), ‖∂L/∂W‖ \(gradient\) ([\d.e−]+)$")
    norms = page.evaluate("() => window.bpviz.frame.layers[0].norms")
    assert close(m.group(1), norms["delta"], 3) and close(m.group(2), norms["dW"], 3)
    page.keyboard.press("End")
    said(page, r"^output: ")
    # The confusion matrix: cell by cell, the counts of the frame's matrix.
    page.focus("#chart-confusion")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowDown")
    matrix = page.evaluate("() => window.bpviz.frame.metrics?.confusion ?? null")
    if matrix is None:  # the metrics came with an earlier frame
        matrix = page.evaluate("() => document.querySelector('#chart-confusion').data[0].z")
    else:
        matrix = matrix["matrix"]
    m = said(page, r"^true: (.+), predicted: (.+): (\d+)$")
    assert int(m.group(3)) == matrix[1][1]
    # Plotly's label: the same row, column and count.
    page.wait_for_function(
        "(want) => (document.querySelector('#chart-confusion .hoverlayer')?.textContent ?? '') === want",
        arg=f"true: {m.group(1)}predicted: {m.group(2)}{m.group(3)}",
        timeout=5_000,
    )


def test_a_tap_shows_the_same_strings(new_page: Any, base_url: str, screenshot: Any) -> None:
    """A finger gets Plotly's label by a tap (its touch events hover): the strings the
    keyboard says, and the chart does not keep the focus."""
    page = new_page(viewport={"width": 1024, "height": 768}, has_touch=True, is_mobile=True)
    open_page(page, base_url, XOR)
    steps(page, 6)
    page.locator("#chart-loss").scroll_into_view_if_needed()
    box = page.locator("#chart-loss .nsewdrag").bounding_box()
    assert box is not None
    page.touchscreen.tap(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.5)
    page.wait_for_function(
        "() => document.querySelector('#chart-loss .hoverlayer')?.textContent.length > 0"
    )
    screenshot(page, "chart-keys-tap")
    label = page.evaluate("() => document.querySelector('#chart-loss .hoverlayer').textContent")
    texts = page.evaluate("() => document.querySelector('#chart-loss').data.map((t) => t.text)")
    assert all(isinstance(t, list) and len(t) == 6 for t in texts), texts
    assert any(all(t[k] and t[k] in label for t in texts) for k in range(6)), (label, texts)


def test_esc_removes_the_cursor_before_it_leaves_presentation_mode(
    page: Any, base_url: str
) -> None:
    """keys.js leaves presentation mode on Esc: with a cursor shown, Esc removes it first."""
    open_page(page, base_url, "/?present=loss#data=xor&hidden=4:tanh&seed=3")
    steps(page, 3)
    page.focus("#chart-loss")
    page.keyboard.press("End")
    said(page, r"^step 3: ")
    page.keyboard.press("Escape")
    page.wait_for_function(f"(s) => ({LABEL})(s) === ''", arg="#chart-loss")
    assert page.evaluate("() => document.body.classList.contains('present')")
    page.keyboard.press("Escape")
    page.wait_for_function("() => !document.body.classList.contains('present')")


def test_the_gradient_check_charts_by_keyboard(page: Any, base_url: str) -> None:
    open_page(page, base_url, XOR)
    page.click("#open-gradcheck")
    page.wait_for_selector("#gc-heat .main-svg")
    # The heatmap after the table: cell by cell, its own hover text said.
    tab_to(page, ".gc-table-wrap", "#gc-heat")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    want = page.evaluate("() => document.querySelector('#gc-heat').data[0].text[0][1]")
    assert re.match(r"^W₁\[\d+,\d+\]: [\d.e−]+$", want), want
    said(page, "^" + re.escape(want) + "$")
    page.wait_for_function(
        "(want) => document.querySelector('#gc-heat .hoverlayer')?.textContent === want",
        arg=want,
        timeout=5_000,
    )
    page.keyboard.press("Escape")  # the cursor goes; the dialog stays open
    page.wait_for_function(
        "() => document.querySelector('#gc-heat .hoverlayer')?.textContent === ''"
    )
    assert page.evaluate("() => document.querySelector('#gc-dialog').open")
    # The timings against the network size, point by point, as the table prints them.
    page.click("#gc-scale")
    page.wait_for_selector("#gc-scaling .main-svg", timeout=60_000)
    page.focus("#gc-scaling")
    page.keyboard.press("ArrowRight")
    m = said(
        page,
        r"^parameters P = (\d+): Backprop ([\d.]+ (?:µs|ms|s)), Finite differences ([\d.]+ (?:µs|ms|s))$",
    )
    first = page.evaluate(
        "() => document.querySelector('#gc-scaling').data.map((t) => [t.x[0], t.text[0]])"
    )
    assert [int(m.group(1))] * 2 == [first[0][0], first[1][0]]
    assert [m.group(2), m.group(3)] == [first[0][1], first[1][1]]
