"""Presentation mode on real projectors (see conftest.py). At 1024×768, the common projector,
the diagram's column titles and captions ("Hidden 1", "tanh · 4") read as one phrase where
two stood 6 px apart ("tanh · 2 sigmoid · 1"): they now keep a gap of half the type's size,
in English and in Chinese. At 2560×1440 the type was the 20 px of a 1920×1080 screen, small
from the back of a room: it grows with the screen, the diagram's with it, and still fits.
"""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import overlap
from .test_layout import assert_fits, assert_labels_apart
from .test_sizes import open_main, settled

NETWORKS = {"default": "", "4 hidden": "#hidden=4:tanh,4:tanh,4:tanh,4:tanh"}
LEAST_GAP = 10  # px between two labels of one row: half the type's size, more than a space

# The diagram's column titles and captions shown, with their boxes and type sizes.
COLUMN_LABELS = """() => [...document.querySelectorAll('#network .column-title, #network .column-sub')]
  .filter((t) => t.textContent.trim() && t.getAttribute('display') !== 'none' && t.getClientRects().length)
  .map((t) => { const r = t.getBoundingClientRect();
    return {text: t.textContent, cls: t.getAttribute('class'), px: parseFloat(getComputedStyle(t).fontSize),
            l: r.left, r: r.right, t: r.top, b: r.bottom}; })"""


def too_close(labels: list[dict[str, Any]]) -> list[tuple[str, str, float]]:
    """Pairs of labels that overlap, or stand side by side less than LEAST_GAP apart."""
    close = []
    for i, a in enumerate(labels):
        for b in labels[i + 1 :]:
            one_row = a["t"] < b["b"] and b["t"] < a["b"]
            gap = max(b["l"] - a["r"], a["l"] - b["r"])
            if overlap(a, b) or (one_row and gap < LEAST_GAP):
                close.append((a["text"], b["text"], round(gap, 1)))
    return close


def test_column_labels_keep_apart_at_1024(new_page: Any, base_url: str, screenshot: Any) -> None:
    for locale in ("en-US", "zh-CN"):
        for name, hash_ in NETWORKS.items():
            where = f"1024×768 {locale} {name}"
            page = open_main(new_page, base_url, (1024, 768), f"/?present{hash_}", locale=locale)
            for _ in range(3):  # a few phases: the active column's title is drawn in colour
                settled(page, "[data-step=phase]")
            labels = page.evaluate(COLUMN_LABELS)
            titles = [lab for lab in labels if "column-title" in lab["cls"]]
            assert len(titles) == len(page.evaluate("() => window.bpviz.topology.layers")) + 1, (
                f"{where}: a column without its title: {labels}"
            )
            assert too_close(labels) == [], f"{where}: labels too close: {too_close(labels)}"
            # Still read from the back row: a caption shrinks to 16 px at the least.
            assert min(lab["px"] for lab in labels) >= 16, f"{where}: type too small: {labels}"
            if name == "default":
                assert any(lab["cls"] == "column-sub" for lab in labels), f"{where}: no caption"
            assert_labels_apart(page, where)
            screenshot(page, f"present-projector-1024-{locale[:2]}-{name.replace(' ', '')}")


# Type sizes (px) of the page's read-outs and controls and of the diagram's labels.
TYPE_SIZES = """() => { const px = (sel) => [...document.querySelectorAll(sel)].filter((e) => e.getClientRects().length)
    .map((e) => parseFloat(getComputedStyle(e).fontSize));
  return {body: px('body'), stats: px('.stats'), chips: px('#timeline .phase'),
          buttons: px('.topbar .playback button'), inspector: px('#inspector-body .inspector-note'),
          titles: px('#network .column-title'), captions: px('#network .column-sub'),
          inputs: px('#network .side-label[data-input]'), loss: px('#network .loss-value')}; }"""


@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
def test_type_grows_on_a_large_screen(
    new_page: Any, base_url: str, screenshot: Any, locale: str
) -> None:
    sizes = {}
    for size in ((1920, 1080), (2560, 1440)):
        page = open_main(new_page, base_url, size, "/?present", locale=locale)
        settled(page, "[data-step=phase]")
        sizes[size] = page.evaluate(TYPE_SIZES)
        where = f"{size} {locale}"
        # the presentation diagram (at 1920×1080 PRESENT_DIAGRAM itself, larger beyond)
        assert (
            page.evaluate("() => document.querySelector('#network svg').dataset.present") == "true"
        ), where
        assert_fits(page, where)
        assert_labels_apart(page, where)
        right = page.evaluate(
            """() => Math.max(...[...document.querySelectorAll('.topbar *, .stage *, .side *')]
                 .filter((e) => e.getClientRects().length && !e.closest('.formula'))
                 .map((e) => e.getBoundingClientRect().right))"""
        )
        assert right <= size[0] + 0.5, f"{where}: something reaches past the right edge ({right})"
        screenshot(page, f"present-projector-{size[0]}-{locale[:2]}")
    small, large = sizes[(1920, 1080)], sizes[(2560, 1440)]
    # 1920×1080 keeps the presentation type it had.
    assert small["body"] == [20] and set(small["stats"]) == {19}, small
    for name, values in small.items():
        assert values and large[name], f"no {name} shown: {small} {large}"
        grown = min(large[name]) / max(small[name])
        assert grown >= 1.2, f"{name}: {small[name]} px at 1920×1080, {large[name]} at 2560×1440"
