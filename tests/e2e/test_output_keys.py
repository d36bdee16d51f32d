"""The output plot without a mouse (see conftest.py and test_chart_keys.py): the decision
boundary's data points (2-D) or the fitted curve's points (1-D) read one by one. The plot is
a tab stop; ← → move a cursor, Home and End go to the first and the last point, Esc removes
it; Plotly's label shows the point and the live region says the same strings: the point's
inputs, its label y and the network's ŷ there, in English and in Chinese.
"""

from __future__ import annotations

import math
import re
from typing import Any

from .test_chart_keys import LIVE, named_chart, open_page, said
from .test_operation import tap_the_map

CIRCLE = "/#data=circle&hidden=4:tanh&batch=10&seed=3"
SQUARE = "/#data=square&hidden=8:tanh&loss=mse&batch=10&seed=3"
LABEL = "() => document.querySelector('#output-plot .hoverlayer')?.textContent ?? ''"
NUM = r"(−?[\d.]+(?:e−?\d+)?)"
EN_POINT = rf"^(train set|test set), point (\d+) of (\d+): x₁={NUM}, x₂={NUM}, y={NUM}, ŷ={NUM}$"
ZH_POINT = rf"^(训练集|测试集)，第 (\d+) 个点（共 (\d+) 个）：x₁={NUM}，x₂={NUM}，y={NUM}，ŷ={NUM}$"
GRID = 48  # the server's grid_resolution (settings.py): ŷ is read from the map's nearest cell


def steps(page: Any, n: int) -> None:
    """``n`` full steps (a click that leaves the focus where it is)."""
    for _ in range(n):
        before = page.evaluate("() => window.bpviz.frame.step")
        page.evaluate("() => document.querySelector('[data-step=step]').click()")
        page.wait_for_function(f"() => window.bpviz.frame.step > {before}")
    page.wait_for_function("() => !window.bpviz.animating")


def tab_to_plot(page: Any) -> None:
    """Tab from the example list above the plot: the plot is the next stop, its ring drawn."""
    page.focus("#focus-example")
    page.keyboard.press("Tab")
    page.wait_for_function("() => document.activeElement?.id === 'output-plot'")
    assert page.evaluate("() => document.querySelector('#output-plot').matches(':focus-visible')")
    assert page.eval_on_selector("#output-plot", "(e) => getComputedStyle(e).outlineStyle") == (
        "solid"
    )


def num(text: str) -> float:
    return float(text.replace("−", "-"))


def close(text: str, value: float, digits: int = 4) -> bool:
    return abs(num(text) - value) <= 5 * 10.0**-digits * abs(value) + 1e-12


def labelled(page: Any, words: str, sep: str, name: str) -> None:
    """Plotly's label shows the spoken strings: the set's name and each line of the label."""
    lines = words.split(sep)
    page.wait_for_function(
        "([lines, name]) => { const t = document.querySelector('#output-plot .hoverlayer')"
        "?.textContent ?? ''; return t.includes(name) && t.includes(lines.join('')); }",
        arg=[lines, name],
        timeout=5_000,
    )


def network(page: Any) -> dict[str, Any]:
    """The frame's weights (today's) and the data's domain, for ŷ by hand."""
    return page.evaluate(
        """() => ({layers: window.bpviz.frame.layers.map((l) => ({W: l.W, b: l.b})),
                  domain: window.bpviz.topology.data.domain})"""
    )


def forward(net: dict[str, Any], x: list[float]) -> float:
    """ŷ of the tanh–sigmoid network at x."""
    a = x
    last = len(net["layers"]) - 1
    for i, layer in enumerate(net["layers"]):
        z = [
            sum(w * v for w, v in zip(row, a, strict=True)) + b
            for row, b in zip(layer["W"], layer["b"], strict=True)
        ]
        a = [1 / (1 + math.exp(-v)) for v in z] if i == last else [math.tanh(v) for v in z]
    return a[0]


def cell(net: dict[str, Any], x: list[float]) -> list[float]:
    """The map's grid point nearest to x (the cell whose ŷ the read-out gives)."""
    out = []
    for v, (lo, hi) in zip(x, net["domain"], strict=True):
        k = round((v - lo) / (hi - lo) * (GRID - 1))
        out.append(lo + (hi - lo) * k / (GRID - 1))
    return out


def check_point(page: Any, m: re.Match[str], part: str, order: int) -> None:
    """The words are the data's point ``order`` of the set, left to right, and ŷ the map's."""
    data = page.evaluate(f"() => window.bpviz.topology.data.{part}")
    xs, ys = data["X"], [y[0] if isinstance(y, list) else y for y in data["y"]]
    ranked = sorted(range(len(xs)), key=lambda k: (xs[k][0], xs[k][1]))
    k = ranked[order]
    assert int(m.group(3)) == page.evaluate(
        "() => window.bpviz.topology.data.train.X.length + window.bpviz.topology.data.test.X.length"
    )
    assert close(m.group(4), xs[k][0]) and close(m.group(5), xs[k][1]), (m.group(0), xs[k])
    assert num(m.group(6)) == ys[k]
    # ŷ: the network's output at the map's cell under the point (bytes: ±1/510 of its range).
    net = network(page)
    want = forward(net, cell(net, xs[k]))
    assert abs(num(m.group(7)) - want) < 0.004, (m.group(0), want)


def test_the_decision_boundary_by_keyboard(page: Any, base_url: str, screenshot: Any) -> None:
    open_page(page, base_url, CIRCLE)
    steps(page, 3)
    tab_to_plot(page)
    hint = named_chart(page, "#output-plot", "Decision boundary and data (chart)")
    assert "←" in hint and "Esc" in hint and "last point" in hint
    before = page.evaluate("() => [window.bpviz.frame.step, window.bpviz.frame.phase]")
    n_train = page.evaluate("() => window.bpviz.topology.data.train.X.length")
    # → the leftmost training point, → the next.
    page.keyboard.press("ArrowRight")
    m = said(page, EN_POINT)
    assert m.group(1) == "train set" and m.group(2) == "1"
    check_point(page, m, "train", 0)
    page.keyboard.press("ArrowRight")
    m = said(page, EN_POINT.replace(r"(\d+)", "(2)", 1))
    check_point(page, m, "train", 1)
    words = m.group(0).split(": ", 1)[1]
    labelled(page, words, ", ", "train set")
    screenshot(page, "output-keys-circle")
    # End: the last test point; ← the one before it.
    page.keyboard.press("End")
    m = said(page, EN_POINT)
    assert m.group(1) == "test set" and m.group(2) == m.group(3)
    n_test = int(m.group(3)) - n_train
    check_point(page, m, "test", n_test - 1)
    page.keyboard.press("ArrowLeft")
    m = said(page, EN_POINT.replace(r"(\d+)", f"({n_train + n_test - 1})", 1))
    check_point(page, m, "test", n_test - 2)
    labelled(page, m.group(0).split(": ", 1)[1], ", ", "test set")
    # Home: the first point again.
    page.keyboard.press("Home")
    m = said(page, EN_POINT.replace(r"(\d+)", "(1)", 1))
    check_point(page, m, "train", 0)
    # The plot's keys are its own: the network did not step (→ is the next phase).
    page.wait_for_timeout(300)
    assert page.evaluate("() => [window.bpviz.frame.step, window.bpviz.frame.phase]") == before
    # A step: the cursor stays on its point, its ŷ the new map's, in the label too.
    first = page.evaluate(LIVE)
    steps(page, 6)
    page.wait_for_function(f"() => ({LABEL})().includes('x₁=')")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowLeft")
    m = said(page, EN_POINT.replace(r"(\d+)", "(1)", 1))
    check_point(page, m, "train", 0)
    assert m.group(4, 5, 6) == re.search(EN_POINT, first).group(4, 5, 6)  # type: ignore[union-attr]
    labelled(page, m.group(0).split(": ", 1)[1], ", ", "train set")
    # Esc removes the cursor, the focus stays.
    page.keyboard.press("Escape")
    page.wait_for_function(f"() => ({LABEL})() === ''")
    assert page.evaluate("() => document.activeElement.id") == "output-plot"


def test_the_fitted_curve_by_keyboard(page: Any, base_url: str) -> None:
    """1-D regression (y = x²): the cursor goes along the curve, x and ŷ as the label shows."""
    open_page(page, base_url, SQUARE)
    steps(page, 2)
    tab_to_plot(page)
    assert page.get_attribute("#output-plot", "aria-label") == "Fitted curve (chart)"
    curve = page.evaluate(
        """() => { const d = document.querySelector('#output-plot .output-graph').data;
            const c = d.find((t) => t.mode === 'lines'); return {x: c.x, y: c.y}; }"""
    )
    n = len(curve["x"])
    pattern = rf"^ŷ, point (\d+) of {n}: x={NUM}, ŷ={NUM}$"
    page.keyboard.press("ArrowRight")
    m = said(page, pattern)
    assert (
        m.group(1) == "1" and close(m.group(2), curve["x"][0]) and close(m.group(3), curve["y"][0])
    )
    labelled(page, m.group(0).split(": ", 1)[1], ", ", "")
    page.keyboard.press("PageDown")
    m = said(page, pattern.replace(r"(\d+)", "(11)", 1))
    assert close(m.group(2), curve["x"][10]) and close(m.group(3), curve["y"][10])
    labelled(page, m.group(0).split(": ", 1)[1], ", ", "")
    page.keyboard.press("End")
    m = said(page, pattern.replace(r"(\d+)", f"({n})", 1))
    assert close(m.group(2), curve["x"][-1]) and close(m.group(3), curve["y"][-1])
    # The curve is the network's: ŷ = x² roughly nowhere yet, but the grid's own values.
    page.keyboard.press("Escape")
    page.wait_for_function(f"() => ({LABEL})() === ''")


def test_the_output_plot_speaks_chinese(new_page: Any, base_url: str, screenshot: Any) -> None:
    page = new_page(locale="zh-CN")
    open_page(page, base_url, CIRCLE)
    steps(page, 2)
    tab_to_plot(page)
    assert page.get_attribute("#output-plot", "aria-label") == "决策边界与数据（图表）"
    page.keyboard.press("ArrowLeft")  # ← first: the last point
    m = said(page, ZH_POINT)
    assert m.group(1) == "测试集" and m.group(2) == m.group(3)
    n_test = page.evaluate("() => window.bpviz.topology.data.test.X.length")
    check_point(page, m, "test", n_test - 1)
    labelled(page, m.group(0).split("：", 1)[1], "，", "测试集")
    screenshot(page, "output-keys-zh")


def test_a_tap_still_reads_the_map_and_a_point(new_page: Any, base_url: str) -> None:
    """A tap off the points reads the map (x₁, x₂, ŷ); a tap on a point shows its label, the
    strings the keys say, and the plot does not take the focus."""
    page = new_page(viewport={"width": 1024, "height": 768}, has_touch=True, is_mobile=True)
    open_page(page, base_url, CIRCLE)
    steps(page, 1)
    page.locator("#output-plot").scroll_into_view_if_needed()
    page.wait_for_selector("#output-plot canvas", state="visible")
    page.wait_for_timeout(300)
    tap_the_map(page, 0.05)
    # A training point's place on the screen, tapped: its label is the text the keys say.
    point = page.evaluate(
        """() => { const gd = document.querySelector('#output-plot .output-graph');
            const t = gd.data.find((d) => d.meta === 'train'); const k = 0;
            const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
            const box = gd.getBoundingClientRect();
            return [box.left + xa._offset + xa.l2p(t.x[k]), box.top + ya._offset + ya.l2p(t.y[k])]; }"""
    )
    page.touchscreen.tap(point[0], point[1])
    page.wait_for_function(f"() => ({LABEL})().includes('ŷ=')", timeout=5_000)
    label = page.evaluate(LABEL)
    texts = page.evaluate(
        "() => document.querySelector('#output-plot .output-graph').data.flatMap((d) => d.text)"
    )
    assert any(t.replace("<br>", "") in label for t in texts), (label, texts[:3])
    assert page.evaluate("() => document.activeElement?.id") != "output-plot"


# The keyboard's points near the ring on the example shown, in the cursor's order (the
# training set, then the test set, each from left to right): the place of each in that order,
# nearest first.
BESIDE_RING = """() => {
  const gd = document.querySelector('#output-plot .output-graph');
  const ring = document.querySelector('#output-plot .output-focus');
  const rb = ring.getBoundingClientRect();
  const [rx, ry] = [rb.left + rb.width / 2, rb.top + rb.height / 2];
  const box = gd.getBoundingClientRect();
  const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
  const order = [];
  for (const part of ['train', 'test']) gd.data.forEach((tr, c) => {
    if (tr.meta !== part) return;
    const ks = tr.x.map((_, k) => k).sort((a, b) => tr.x[a] - tr.x[b] || tr.y[a] - tr.y[b]);
    for (const k of ks) order.push([c, k]);
  });
  const near = [];
  order.forEach(([c, k], i) => {
    const dx = Math.abs(rx - box.left - xa._offset - xa.l2p(gd.data[c].x[k]));
    const dy = Math.abs(ry - box.top - ya._offset - ya.l2p(gd.data[c].y[k]));
    if (dx >= 12 && dx <= 60 && dy <= 25) near.push([dx + dy, i]);
  });
  return near.sort((a, b) => a[0] - b[0]).map(([, i]) => i);
}"""
# Where Plotly's label and the ring overlap (the middle of their common box), or null.
OVERLAP = """() => {
  const label = document.querySelector('#output-plot .hoverlayer .hovertext');
  const ring = document.querySelector('#output-plot .output-focus');
  if (!label || ring.hidden) return null;
  const a = label.getBoundingClientRect(), b = ring.getBoundingClientRect();
  const [l, r] = [Math.max(a.left, b.left), Math.min(a.right, b.right)];
  const [t, u] = [Math.max(a.top, b.top), Math.min(a.bottom, b.bottom)];
  return r - l >= 4 && u - t >= 4 ? [(l + r) / 2, (t + u) / 2] : null;
}"""
# What is drawn on top at (x, y): the label, the ring or a data point (none of which takes
# the pointer, so each is made to for the test).
ON_TOP = """([x, y]) => {
  const e = document.elementFromPoint(x, y);
  return e?.closest('.hoverlayer') ? 'label' : e?.closest('.output-focus') ? 'ring' : e?.closest('.point') ? 'point' : e?.tagName;
}"""
HIT_TEST = (
    "#output-plot .output-focus, #output-plot .hoverlayer *, #output-plot .scatterlayer .point"
    " { pointer-events: auto !important; }"
)


def test_the_label_beside_the_example_shown_is_on_top(
    page: Any, base_url: str, screenshot: Any
) -> None:
    """The ring on the example shown is over the points and under Plotly's label: the label of
    a point beside it (the cursor's, or the mouse's) is read whole."""
    open_page(page, base_url, CIRCLE)
    steps(page, 3)
    page.locator("#output-plot").scroll_into_view_if_needed()
    page.add_style_tag(content=HIT_TEST)
    where = None
    for example in range(5):  # an example with points beside its ring
        if example:
            page.select_option("#focus-example", str(example))
            page.wait_for_function(f"() => window.bpviz.frame.example === {example}")
        page.wait_for_selector("#output-plot .output-focus:not([hidden])")
        tab_to_plot(page)
        page.keyboard.press("Home")
        said(page, EN_POINT.replace(r"(\d+)", "(1)", 1))
        at = 0
        for i in page.evaluate(BESIDE_RING)[:12]:
            move = i - at
            for _ in range(abs(move) // 10):
                page.keyboard.press("PageDown" if move > 0 else "PageUp")
            for _ in range(abs(move) % 10):
                page.keyboard.press("ArrowRight" if move > 0 else "ArrowLeft")
            at = i
            m = said(page, EN_POINT.replace(r"(\d+)", f"({i + 1})", 1))
            labelled(page, m.group(0).split(": ", 1)[1], ", ", m.group(1))
            where = page.evaluate(OVERLAP)
            if where:
                break
        if where:
            break
    assert where, "no point beside the ring has a label over it"
    assert page.evaluate(ON_TOP, where) == "label"
    screenshot(page, "output-keys-ring")
    # Without a label, the ring is on top of the points around it.
    page.keyboard.press("Escape")
    page.wait_for_function(f"() => ({LABEL})() === ''")
    ring = page.locator("#output-plot .output-focus").bounding_box()
    assert ring is not None
    cx, cy = ring["x"] + ring["width"] / 2, ring["y"] + ring["height"] / 2
    for dx, dy in ((0, -7.5), (7.5, 0), (0, 7.5), (-7.5, 0)):  # on its 3 px line
        assert page.evaluate(ON_TOP, [cx + dx, cy + dy]) == "ring"
