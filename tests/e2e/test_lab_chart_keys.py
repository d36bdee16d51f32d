"""The lab's charts without a mouse (see conftest.py and test_chart_keys.py): each of the lab's
charts is a named tab stop whose arrow keys move a cursor over its points; Plotly's own hover
label shows them and the page's polite live region says the same strings, in English and in
Chinese. The numbers said are checked against the chart's data and the frames; the lab's →
(a step of both networks) is not also pressed.
"""

from __future__ import annotations

import re
from typing import Any

from .test_chart_keys import named_chart

READY = """() => window.bpvizLab && window.bpvizLab.connected
    && ['a', 'b'].every((k) => window.bpvizLab.side(k).topologies >= 2 && window.bpvizLab.side(k).frame)
    && window.bpvizLab.steps.every((s) => s === 0)"""
LIVE = "() => document.querySelector('#chart-live')?.textContent.trim() ?? ''"
LABEL = "(sel) => document.querySelector(`${sel} .hoverlayer`)?.textContent ?? ''"
NUMBER = r"[\d.e−]+"

BARS_A, LINES_A = "#side-a .lab-chart.bars", "#side-a .lab-chart.lines"
BARS_B, LINES_B = "#side-b .lab-chart.bars", "#side-b .lab-chart.lines"
LOSS = "#lab-loss"
HIST_A, HIST_B, DEAD_A, DEAD_B = "#sat-hist-a", "#sat-hist-b", "#sat-dead-a", "#sat-dead-b"
# Every chart of preset (1), sigmoid against ReLU, in the order Tab reaches them, and its name.
NAMES_EN = {
    BARS_A: "Left (sigmoid): gradient size per layer (chart)",
    LINES_A: "Left (sigmoid): speed of learning per layer over time (chart)",
    BARS_B: "Right (ReLU): gradient size per layer (chart)",
    LINES_B: "Right (ReLU): speed of learning per layer over time (chart)",
    LOSS: "Loss of both networks (chart)",
    HIST_A: "Left (sigmoid): f′(z) per layer (chart)",
    HIST_B: "Right (ReLU): f′(z) per layer (chart)",
    DEAD_A: "Left (sigmoid): dead units per layer (chart)",
    DEAD_B: "Right (ReLU): dead units per layer (chart)",
}
NAMES_ZH = {
    BARS_A: "左侧（sigmoid）：各层梯度大小（图表）",
    LINES_A: "左侧（sigmoid）：各层学习速度随时间的变化（图表）",
    BARS_B: "右侧（ReLU）：各层梯度大小（图表）",
    LINES_B: "右侧（ReLU）：各层学习速度随时间的变化（图表）",
    LOSS: "两个网络的损失（图表）",
    HIST_A: "左侧（sigmoid）：各层 f′(z) 分布（图表）",
    HIST_B: "右侧（ReLU）：各层 f′(z) 分布（图表）",
    DEAD_A: "左侧（sigmoid）：各层死神经元比例（图表）",
    DEAD_B: "右侧（ReLU）：各层死神经元比例（图表）",
}


def open_lab(page: Any, base_url: str) -> None:
    page.goto(f"{base_url}/lab")
    page.wait_for_function(READY)


def steps(page: Any, n: int, button: str = "#lab-step") -> None:
    """``n`` clicks on ``button`` (Step, or +10), each answered by both sides; then the charts
    drawn with the last step."""
    for _ in range(n):
        before = page.evaluate("() => Math.max(...window.bpvizLab.steps)")
        page.click(button)
        page.wait_for_function(f"() => window.bpvizLab.steps.every((s) => s > {before})")
    page.wait_for_function(
        """() => { const s = window.bpvizLab.steps[0]; const d = document.querySelector('#lab-loss').data;
            return window.bpvizLab.settled && d && d[0].x.at(-1) === s
                && document.querySelector('#sat-dead-b').data; }"""
    )


def said(page: Any, pattern: str) -> re.Match[str]:
    """Wait for the live region to say something matching ``pattern``; its match."""
    page.wait_for_function(f"() => new RegExp({pattern!r}).test(({LIVE})())", timeout=5_000)
    m = re.search(pattern, page.evaluate(LIVE))
    assert m is not None
    return m


def number(text: str) -> float:
    return float(text.replace("−", "-"))


def close(text: str, value: float, digits: int) -> bool:
    """A number as the page prints it (``digits`` significant digits) against the value."""
    return abs(number(text) - value) <= 5 * 10.0**-digits * abs(value) + 1e-12


def pairs(text: str) -> list[tuple[str, str]]:
    """ "layer 1 1.2e−5, layer 2 3e−4" → [("layer 1", "1.2e−5"), ("layer 2", "3e−4")]."""
    out = []
    for part in re.split(r", |，", text):
        m = re.fullmatch(rf"(.+) ({NUMBER})", part)
        assert m is not None, (part, text)
        out.append((m.group(1), m.group(2)))
    return out


def label_shows(page: Any, chart: str, strings: list[str]) -> None:
    """Plotly's hover label on ``chart`` shows each of ``strings``."""
    page.wait_for_function(
        f"([sel, want]) => {{ const text = ({LABEL})(sel); return want.every((w) => text.includes(w)); }}",
        arg=[chart, strings],
        timeout=5_000,
    )


def series_at(page: Any, chart: str, x: float) -> dict[str, float]:
    """The chart's data at ``x``: each shown trace's value, by the words its label gives it."""
    return page.evaluate(
        """([sel, x]) => Object.fromEntries(document.querySelector(sel).data.flatMap((t) => {
            const k = t.x.indexOf(x);
            return k >= 0 && t.y[k] !== null ? [[t.meta ?? t.name, t.y[k]]] : [];
        }))""",
        [chart, x],
    )


def test_every_lab_chart_is_a_named_tab_stop(page: Any, base_url: str, screenshot: Any) -> None:
    open_lab(page, base_url)
    # Before the first step: the loss chart says it has nothing yet, in words and on the chart.
    page.wait_for_function("() => document.querySelector('#lab-loss').data")
    assert "No loss yet" in page.text_content("#lab-loss .annotation")
    page.focus(LOSS)
    page.keyboard.press("End")
    said(page, r"^Loss of both networks: no values yet$")
    steps(page, 3)
    assert page.is_visible("#lab-saturation")
    for chart, name in NAMES_EN.items():
        hint = named_chart(page, chart, name)
        assert page.get_attribute(chart, "tabindex") == "0", chart
        assert "Arrow keys" in hint and "Esc" in hint, (chart, hint)
    assert page.get_attribute("#chart-live", "aria-live") == "polite"
    # Tab reaches them in the page's order, each with its focus ring.
    page.focus("#side-a .lab-value")
    reached = []
    for _ in range(20):
        page.keyboard.press("Tab")
        label = page.evaluate("() => document.activeElement.getAttribute('aria-label') ?? ''")
        if label.endswith("(chart)"):
            assert page.evaluate("() => document.activeElement.matches(':focus-visible')")
            ring = page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle")
            assert ring == "solid", label
            reached.append(label)
        if label == NAMES_EN[DEAD_B]:
            break
    assert reached == list(NAMES_EN.values())


def test_the_loss_chart_by_keyboard(page: Any, base_url: str, screenshot: Any) -> None:
    open_lab(page, base_url)
    steps(page, 5)
    page.focus(LINES_B)
    page.keyboard.press("Tab")
    page.wait_for_function("() => document.activeElement?.id === 'lab-loss'")
    before = page.evaluate("() => window.bpvizLab.steps")

    def check(step: int) -> None:
        m = said(page, rf"^step {step}: (.+)$")
        spoken = pairs(m.group(1))
        data = series_at(page, LOSS, step)
        assert [name for name, _ in spoken] == list(data), (spoken, data)
        assert {"sigmoid · train", "ReLU · train"} <= set(data)
        for name, text in spoken:
            assert close(text, data[name], 4), (name, text, data)
        label_shows(page, LOSS, [str(step)] + [f"{name}: {text}" for name, text in spoken])

    page.keyboard.press("End")
    check(5)
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("ArrowLeft")
    check(3)
    page.keyboard.press("ArrowRight")
    check(4)
    screenshot(page, "lab-chart-keys-loss")
    page.keyboard.press("Home")
    first = page.evaluate("() => document.querySelector('#lab-loss').data[0].x[0]")
    check(first)
    # The chart's arrows are its own: the lab's → (a step of both networks) did not act.
    page.wait_for_timeout(300)
    assert page.evaluate("() => window.bpvizLab.steps") == before
    # Esc removes the cursor, leaving the chart removes it too.
    page.keyboard.press("Escape")
    page.wait_for_function(f"(s) => ({LABEL})(s) === ''", arg=LOSS)
    assert page.evaluate("() => document.activeElement.id") == "lab-loss"
    page.keyboard.press("End")
    page.wait_for_function(f"(s) => ({LABEL})(s) !== ''", arg=LOSS)
    page.keyboard.press("Tab")
    page.wait_for_function(f"(s) => ({LABEL})(s) === ''", arg=LOSS)


def test_the_bars_and_the_lines_by_keyboard(page: Any, base_url: str, screenshot: Any) -> None:
    open_lab(page, base_url)
    steps(page, 4)
    # The bars: → the first layer, its two norms from the frame; End the output layer.
    page.focus(BARS_A)
    page.keyboard.press("ArrowRight")
    m = said(page, rf"^layer 1: ‖mean δ‖ ({NUMBER}), ‖∂L/∂W‖ ({NUMBER})$")
    layers = page.evaluate("() => window.bpvizLab.side('a').frame.layers")
    assert close(m.group(1), layers[0]["norms"]["delta"], 3)
    assert close(m.group(2), layers[0]["norms"]["dW"], 3)
    label_shows(page, BARS_A, [f"‖mean δ‖: {m.group(1)}", f"‖∂L/∂W‖: {m.group(2)}"])
    page.keyboard.press("End")
    m = said(page, rf"^output: ‖mean δ‖ ({NUMBER}), ‖∂L/∂W‖ ({NUMBER})$")
    assert close(m.group(2), layers[-1]["norms"]["dW"], 3)
    label_shows(page, BARS_A, ["ŷ", f"‖∂L/∂W‖: {m.group(2)}"])
    # The lines: the newest step first, then back one; every layer's ‖mean δ‖ at that step.
    page.focus(LINES_B)
    page.keyboard.press("End")
    page.keyboard.press("ArrowLeft")
    m = said(page, r"^step 3: (.+)$")
    spoken = pairs(m.group(1))
    n = len(layers)
    assert [name for name, _ in spoken] == [f"layer {i}" for i in range(1, n)] + ["output"]
    data = page.evaluate(
        "(sel) => { const d = document.querySelector(sel).data; const k = d[0].x.indexOf(3); return d.map((t) => t.y[k]); }",
        LINES_B,
    )
    for (_, text), value in zip(spoken, data, strict=True):
        assert close(text, value, 3), (text, value)
    # Each layer's label by its line: the same strings (where the chart is too short for nine,
    # Plotly leaves some out; the live region says them all).
    shorts = [str(i) for i in range(1, n)] + ["ŷ"]
    want = {f"{short}: {text}" for short, (_, text) in zip(shorts, spoken, strict=True)}
    page.wait_for_function(
        """([sel, want]) => {
            const shown = [...document.querySelectorAll(`${sel} .hoverlayer g.hovertext`)];
            return shown.length >= 5 && shown.every((g) => want.includes(g.textContent.trim()));
        }""",
        arg=[LINES_B, sorted(want)],
        timeout=5_000,
    )
    screenshot(page, "lab-chart-keys-lines")
    # A long run: a line's point is the mean of a few steps, said as such.
    steps(page, 9, "#lab-step-10")
    page.focus(LINES_B)
    page.keyboard.press("Home")
    m = said(page, r"^mean of steps (\d+)–(\d+): layer 1 ")
    assert int(m.group(1)) < int(m.group(2))
    label_shows(page, LINES_B, [f"(mean of steps {m.group(1)}–{m.group(2)})"])


def test_the_saturation_charts_by_keyboard(page: Any, base_url: str) -> None:
    open_lab(page, base_url)
    steps(page, 2)
    # The f′(z) histogram, cell by cell: layer 2's first bin, its share of the frame's counts.
    page.locator(HIST_A).scroll_into_view_if_needed()
    page.focus(HIST_A)
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowDown")
    m = said(page, rf"^layer 2, f′=({NUMBER}): ({NUMBER})%$")
    hist = page.evaluate("() => window.bpvizLab.side('a').frame.layers[1].fprime_hist")
    edges, counts = hist["edges"], hist["counts"]
    assert close(m.group(1), (edges[0] + edges[1]) / 2, 3)
    assert abs(number(m.group(2)) - 100 * counts[0] / sum(counts)) <= 0.5
    page.wait_for_function(
        "(want) => document.querySelector('#sat-hist-a .hoverlayer')?.textContent === want",
        arg=f"2f′={m.group(1)}: {m.group(2)}%",
        timeout=5_000,
    )
    # The dead units: the output layer's fraction of the frame.
    page.focus(DEAD_B)
    page.keyboard.press("End")
    page.keyboard.press("ArrowLeft")
    m = said(page, rf"^layer 8: dead units ({NUMBER})%$")
    dead = page.evaluate("() => window.bpvizLab.side('b').frame.layers[7].dead_fraction")
    assert abs(number(m.group(1)) - 100 * dead) <= 0.5
    label_shows(page, DEAD_B, [f"dead units: {m.group(1)}%"])


def test_the_lab_charts_speak_chinese(new_page: Any, base_url: str, screenshot: Any) -> None:
    page = new_page(locale="zh-CN")
    open_lab(page, base_url)
    steps(page, 3)
    for chart, name in NAMES_ZH.items():
        assert page.get_attribute(chart, "aria-label") == name
    hint = named_chart(page, LOSS)
    assert "方向键" in hint and "Esc" in hint
    page.focus(LOSS)
    page.keyboard.press("End")
    page.keyboard.press("ArrowLeft")
    m = said(page, r"^第 2 步：(.+)$")
    spoken = pairs(m.group(1))
    data = series_at(page, LOSS, 2)
    assert [name for name, _ in spoken] == list(data)
    assert "sigmoid · 训练集" in data
    for name, text in spoken:
        assert close(text, data[name], 4)
    screenshot(page, "lab-chart-keys-zh")
    page.focus(BARS_B)
    page.keyboard.press("ArrowRight")
    said(page, rf"^第 1 层：‖δ 均值‖ {NUMBER}，‖∂L/∂W‖ {NUMBER}$")
    # Another language in place: the names follow.
    page.click("#lang-toggle")
    page.wait_for_function(
        "(want) => document.querySelector('#lab-loss').getAttribute('aria-label') === want",
        arg=NAMES_EN[LOSS],
    )
    for chart, name in NAMES_EN.items():
        assert page.get_attribute(chart, "aria-label") == name
