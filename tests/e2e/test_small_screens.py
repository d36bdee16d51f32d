"""Small and short screens: phones, a tablet held upright, and a 1280×720 or 1920×1080
projector at 150–200 % zoom (a zoomed window is a smaller viewport in CSS pixels). The
gradient-check dialog, the inspector while playing, the standalone report on a phone, the
data card in its row, and the lab's first screen, each measured in the page.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bpviz.server.cli import main

from .conftest import overlap

READY = "() => window.bpviz && window.bpviz.connected && window.bpviz.topologies >= 2 && window.bpviz.frames >= 2"
IDLE = "() => !window.bpviz.animating"
LAB_READY = """() => window.bpvizLab && window.bpvizLab.connected
    && ['a', 'b'].every((k) => window.bpvizLab.side(k).topologies >= 2 && window.bpvizLab.side(k).frame)"""

# The boxes of the given selectors (null where absent), with their scroll and client widths.
RECTS = """(sels) => Object.fromEntries(sels.map((s) => {
  const e = document.querySelector(s);
  if (!e) return [s, null];
  const r = e.getBoundingClientRect();
  return [s, {l: r.left, r: r.right, t: r.top, b: r.bottom, w: r.width, h: r.height,
              sw: e.scrollWidth, cw: e.clientWidth}];
}))"""


def rects(page: Any, *sels: str) -> dict[str, Any]:
    return page.evaluate(RECTS, list(sels))


def open_main(new_page: Any, base_url: str, w: int, h: int, locale: str = "en-US") -> Any:
    page = new_page(locale=locale, viewport={"width": w, "height": h})
    page.goto(base_url)
    page.wait_for_function(READY)
    page.wait_for_function(IDLE)
    return page


# ---------------------------------------------------------------- defect: gradient check


@pytest.mark.parametrize("size", [(390, 844), (360, 640), (768, 1024), (640, 360), (1280, 720)])
def test_gradient_check_dialog_fits(
    new_page: Any, base_url: str, size: tuple[int, int], screenshot: Any
) -> None:
    """The table shows all its columns (the relative error too) and the charts fit the
    dialog; where the two columns do not fit side by side, the charts go under the table."""
    w, h = size
    for locale in ("en-US", "zh-CN"):
        label = f"{w}x{h} {locale}"
        page = open_main(new_page, base_url, w, h, locale)
        page.click("#open-gradcheck")
        page.wait_for_function(
            "() => window.bpviz.gradcheck !== null && window.bpviz.gradcheck !== undefined"
        )
        page.wait_for_selector("#gc-heat .main-svg")
        page.wait_for_timeout(300)
        m = rects(
            page, "#gc-dialog", ".gc-table-wrap", "#gc-table", ".gc-right", "#gc-heat .main-svg"
        )
        dialog, wrap, table, right, heat = (
            m["#gc-dialog"],
            m[".gc-table-wrap"],
            m["#gc-table"],
            m[".gc-right"],
            m["#gc-heat .main-svg"],
        )
        assert dialog["sw"] <= dialog["cw"] + 1, f"{label}: the dialog scrolls sideways: {dialog}"
        assert dialog["r"] <= w and dialog["l"] >= 0, f"{label}: the dialog is off screen: {dialog}"
        # Every column of the table is visible: no sideways scrolling inside its box.
        assert wrap["cw"] >= table["sw"] - 1, f"{label}: the table is cut: {wrap} vs {table}"
        assert wrap["w"] >= 300, f"{label}: the table is squeezed: {wrap}"
        error_head = page.evaluate(
            "() => { const r = document.querySelector('#gc-table th:nth-child(4)').getBoundingClientRect();"
            " return [r.left, r.right, r.width]; }"
        )
        assert error_head[2] > 20 and error_head[1] <= wrap["r"] + 0.5, (
            f"{label}: the relative error column is hidden: {error_head} vs {wrap}"
        )
        # The charts stay inside their column, and the column inside the dialog.
        assert right["r"] <= dialog["r"] + 0.5 and right["l"] >= dialog["l"], f"{label}: {right}"
        assert heat["w"] <= right["w"] + 0.5, f"{label}: the heat map is wider than its column"
        side_by_side = abs(right["t"] - wrap["t"]) < 1
        if w >= 1024:
            assert side_by_side, f"{label}: the charts left the table's side on a wide screen"
        else:
            assert not overlap(wrap, right), f"{label}: the table and the charts overlap"
        screenshot(page, f"small-gradcheck-{w}x{h}-{locale[:2]}")
        page.close()


# ---------------------------------------------------------------- defect: playing


def inspector_text(page: Any) -> str:
    return page.evaluate("() => document.querySelector('#inspector-body').innerText")


@pytest.mark.parametrize(
    "locale,sent,not_yet",
    [
        ("en-US", "Not sent while playing", "Not computed yet"),
        ("zh-CN", "播放时不发送", "本步尚未计算"),
    ],
)
def test_inspector_says_what_playing_leaves_out(
    new_page: Any, base_url: str, locale: str, sent: str, not_yet: str
) -> None:
    """While playing, frames carry no dW, db, ΔW (docs/protocol.md): the inspector says
    so, instead of "not computed yet"; paused, it shows the numbers; mid-step, it says
    the step has not computed them yet."""
    page = open_main(new_page, base_url, 1024, 768, locale)
    page.locator("#network .edge-hit").nth(2).dispatch_event("click")
    page.wait_for_timeout(300)
    page.click("#play")
    page.wait_for_function("() => window.bpviz.frame.playing && window.bpviz.frame.step > 5")
    page.wait_for_timeout(500)
    text = inspector_text(page)
    assert text.count(sent) == 2, f"edge while playing: {text}"
    assert not_yet not in text, f"edge while playing: {text}"
    page.click("#network .neuron[data-layer='1'][data-neuron='0']")
    page.wait_for_timeout(500)
    text = inspector_text(page)
    assert sent in text and not_yet not in text, f"neuron while playing: {text}"

    page.click("#play")
    page.wait_for_function(
        "() => !window.bpviz.frame.playing && window.bpviz.frame.layers[0].dW !== null"
    )
    page.wait_for_function(IDLE)
    page.wait_for_timeout(300)
    text = inspector_text(page)
    assert sent not in text and not_yet not in text, f"neuron paused: {text}"

    page.locator("#network .edge-hit").nth(2).dispatch_event("click")
    page.click('[data-step="phase"]')  # forward through layer 1: no gradient yet
    page.wait_for_function("() => window.bpviz.frame.layers[0].dW === null")
    page.wait_for_function(IDLE)
    page.wait_for_timeout(300)
    text = inspector_text(page)
    assert text.count(not_yet) == 2 and sent not in text, f"edge mid-step: {text}"


# ---------------------------------------------------------------- defect: the report


@pytest.fixture(scope="module")
def report_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("report")
    config = folder / "c.json"
    config.write_text(json.dumps({"data": {"name": "circle"}}))
    run, report = folder / "run.json", folder / "report.html"
    assert main(["train", str(config), "--steps", "60", "--out", str(run)]) == 0
    assert main(["report", str(run), "--out", str(report)]) == 0
    return report


CHARTS = """() => [...document.querySelectorAll('.chart')].map((c) => {
  const r = c.getBoundingClientRect(); const t = c.querySelector('.gtitle')?.getBoundingClientRect();
  return {l: r.left, r: r.right, t: r.top, w: r.width, titleL: t?.left, titleR: t?.right,
          modebar: Boolean(c.querySelector('.modebar'))};
})"""


@pytest.mark.parametrize("size", [(390, 844), (360, 640), (1280, 900)])
def test_report_is_one_column_on_a_phone(
    browser: Any, report_file: Path, size: tuple[int, int], screenshot: Any
) -> None:
    w, h = size
    context = browser.new_context(viewport={"width": w, "height": h}, offline=True)
    try:
        page = context.new_page()
        page.goto(report_file.as_uri())
        page.wait_for_function("() => document.querySelectorAll('.main-svg').length >= 4")
        page.wait_for_timeout(300)
        charts = page.evaluate(CHARTS)
        assert len(charts) == 4
        assert page.evaluate("() => document.documentElement.scrollWidth") <= w
        tops = sorted({round(c["t"]) for c in charts})
        if w < 700:
            assert len(tops) == 4, f"{w}x{h}: charts share a row: {charts}"
            for c in charts:
                assert c["w"] >= w - 60, f"{w}x{h}: a chart is narrow: {c}"
                assert c["titleL"] >= c["l"] and c["titleR"] <= c["r"], f"{w}x{h}: title cut: {c}"
                assert not c["modebar"], f"{w}x{h}: the mode bar covers the title: {c}"
            screenshot(page, f"small-report-{w}x{h}")
        else:
            assert len(tops) == 2, f"{w}x{h}: the report should keep two columns: {charts}"
    finally:
        context.close()


# ---------------------------------------------------------------- defect: the data card


@pytest.mark.parametrize("size", [(853, 480), (960, 540), (683, 384), (1280, 720), (1920, 1080)])
def test_data_card_stays_in_its_row(
    new_page: Any, base_url: str, size: tuple[int, int], screenshot: Any
) -> None:
    """After a few phases the example selector shows: the data card stays in the layout's
    row (scrolling inside it where short) and never lies over the charts under it."""
    w, h = size
    page = open_main(new_page, base_url, w, h)
    for _ in range(3):
        page.click('[data-step="phase"]')
        page.wait_for_function(IDLE)
    page.wait_for_timeout(500)
    m = rects(
        page, ".layout", "#panel-output", "#panel-inspector", "#panel-loss", "#panel-accuracy"
    )
    out = m["#panel-output"]
    assert out["b"] <= m[".layout"]["b"] + 0.5, f"{w}x{h}: the data card leaves its row: {m}"
    assert out["h"] >= 150, f"{w}x{h}: the data card is squashed: {out}"
    assert m["#panel-inspector"]["h"] >= 110, f"{w}x{h}: the inspector is squashed"
    for chart in ("#panel-loss", "#panel-accuracy"):
        assert not overlap(out, m[chart]), f"{w}x{h}: the data card lies over {chart}: {m}"
    page.evaluate("() => document.querySelector('#panel-output').scrollIntoView({block: 'end'})")
    page.wait_for_timeout(200)
    inside = page.evaluate(
        "() => { const c = document.querySelector('#panel-output'); const r = c.getBoundingClientRect();"
        " const e = document.elementFromPoint(r.left + r.width / 2, r.bottom - 4); return c.contains(e); }"
    )
    assert inside, f"{w}x{h}: something covers the bottom of the data card"
    screenshot(page, f"small-data-card-{w}x{h}")


# ---------------------------------------------------------------- defect: the lab


@pytest.mark.parametrize("locale,more", [("en-US", "More"), ("zh-CN", "展开")])
def test_lab_bars_on_the_first_screen(
    new_page: Any, base_url: str, locale: str, more: str, screenshot: Any
) -> None:
    """At 1280×720 and 150 % (853×480) the presets take one row and the guide two lines
    (its button opens it), so both sides' gradient bars start on the first screen."""
    w, h = 853, 480
    page = new_page(locale=locale, viewport={"width": w, "height": h})
    page.goto(f"{base_url}/lab")
    page.wait_for_function(LAB_READY)
    page.wait_for_timeout(300)
    m = rects(
        page,
        "#lab-presets",
        "#lab-guide",
        "#side-a .lab-chart.bars",
        "#side-b .lab-chart.bars",
        ".lab-compare select",
    )
    for side in ("#side-a .lab-chart.bars", "#side-b .lab-chart.bars"):
        assert m[side]["t"] <= h - 100, f"{locale}: {side} starts below the first screen: {m[side]}"
    assert m["#lab-presets"]["h"] <= 48, f"{locale}: the presets take more than one row"
    assert m[".lab-compare select"]["r"] <= w, f"{locale}: the compare select is off screen"
    assert page.evaluate("() => document.documentElement.scrollWidth") <= w
    closed = m["#lab-guide"]["h"]
    button = page.locator("#lab-guide .lab-guide-more")
    assert button.text_content() == more and button.get_attribute("aria-expanded") == "false"
    screenshot(page, f"small-lab-853x480-{locale[:2]}")
    button.click()
    page.wait_for_timeout(200)
    opened = rects(page, "#lab-guide")["#lab-guide"]
    assert opened["h"] > closed + 20, f"{locale}: the guide does not open: {closed} → {opened}"
    assert page.locator("#lab-guide .lab-guide-more").get_attribute("aria-expanded") == "true"


def test_lab_guide_whole_on_a_tall_screen(new_page: Any, base_url: str) -> None:
    """At 1024×768 and larger nothing is clamped: the guide is whole, without a button."""
    page = new_page(viewport={"width": 1024, "height": 768})
    page.goto(f"{base_url}/lab")
    page.wait_for_function(LAB_READY)
    assert not page.is_visible("#lab-guide .lab-guide-more")
    clipped = page.evaluate(
        "() => { const p = document.querySelector('#lab-guide p'); return p.scrollHeight > p.clientHeight + 1; }"
    )
    assert not clipped
    bars = rects(page, "#side-a .lab-chart.bars")["#side-a .lab-chart.bars"]
    assert bars["t"] < 768 - 100
