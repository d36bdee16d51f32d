"""The digits' class probabilities without a mouse (see test_output_keys.py): the output plot
shows one example's ŷ as bars, the target y over them. ← → move the cursor from bar to bar;
Plotly's label and the live region name the bar's class, say which class is the target and
which the network's highest ŷ (its prediction), then give ŷ and y, in English and in Chinese.
"""

from __future__ import annotations

import re
from typing import Any

from .test_chart_keys import open_page, said
from .test_output_keys import LABEL, NUM, num, steps, tab_to_plot

DIGITS = "/#data=digits&hidden=16:tanh&batch=10&seed=3"
WORDS = {
    "en": {
        "caption": "Prediction for this example (chart)",
        "point": r"^ŷ, point {k} of 10: ",
        "class": "class {k}",
        "notes": " ({notes})",
        "target": "target",
        "predicted": "predicted",
        "and": ", ",
        "sep": ", ",
    },
    "zh": {
        "caption": "该样本的预测（图表）",
        "point": r"^ŷ，第 {k} 个点（共 10 个）：",
        "class": "类别 {k}",
        "notes": "（{notes}）",
        "target": "目标",
        "predicted": "预测",
        "and": "、",
        "sep": "，",
    },
}


def bars(page: Any) -> tuple[list[float], list[float]]:
    """The bars drawn: ŷ and the target y of the example shown."""
    return page.evaluate(
        """() => { const d = document.querySelector('#output-plot .output-graph').data;
            return [d[0].y, d[1].y]; }"""
    )


def argmax(v: list[float]) -> int:
    return max(range(len(v)), key=lambda k: (v[k], -k))


def name_of(k: int, yhat: list[float], y: list[float], w: dict[str, str]) -> str:
    """Class k's name as the label gives it, with its notes: the target, the prediction."""
    notes = [w["target"]] * (argmax(y) == k) + [w["predicted"]] * (argmax(yhat) == k)
    name = w["class"].format(k=k)
    return name + w["notes"].format(notes=w["and"].join(notes)) if notes else name


def read_bar(page: Any, lang: str, k: int) -> None:
    """The cursor is on bar k: the live region says its class, ŷ and y; the label shows them."""
    w = WORDS[lang]
    yhat, y = bars(page)
    name = name_of(k, yhat, y, w)
    head = w["point"].format(k=k + 1)
    m = said(page, head + re.escape(name) + re.escape(w["sep"]) + rf"ŷ={NUM}{w['sep']}y={NUM}$")
    assert abs(num(m.group(1)) - yhat[k]) <= 0.0005, (m.group(0), yhat[k])
    assert num(m.group(2)) == y[k]
    # Plotly's label: the same lines (the class and its notes, ŷ, y), nothing else.
    want = f"{name}ŷ={m.group(1)}y={m.group(2)}"
    page.wait_for_function(f"(want) => ({LABEL})() === want", arg=want, timeout=5_000)


def walk(page: Any, lang: str) -> None:
    """→ the first bar, then the target's and the prediction's, End the last."""
    assert page.get_attribute("#output-plot", "aria-label") == WORDS[lang]["caption"]
    yhat, y = bars(page)
    assert len(yhat) == len(y) == 10 and y.count(1) == 1
    page.keyboard.press("ArrowRight")
    read_bar(page, lang, 0)
    at = 0
    for k in sorted({argmax(y), argmax(yhat)}):
        for _ in range(k - at):
            page.keyboard.press("ArrowRight")
        at = k
        read_bar(page, lang, k)
    page.keyboard.press("End")
    read_bar(page, lang, 9)


def test_the_digits_bars_name_their_class(page: Any, base_url: str, screenshot: Any) -> None:
    open_page(page, base_url, DIGITS)
    steps(page, 2)
    tab_to_plot(page)
    walk(page, "en")
    screenshot(page, "output-keys-digits")
    # Another example: its own target and prediction.
    page.select_option("#focus-example", "3")
    page.wait_for_function("() => window.bpviz.frame.example === 3")
    tab_to_plot(page)
    walk(page, "en")


def test_the_digits_bars_speak_chinese(new_page: Any, base_url: str, screenshot: Any) -> None:
    page = new_page(locale="zh-CN")
    open_page(page, base_url, DIGITS)
    steps(page, 2)
    tab_to_plot(page)
    walk(page, "zh")
    screenshot(page, "output-keys-digits-zh")
