"""Say what happened, in the user's language (issue 12), in a real browser.

Errors come with a code and parameters; the page words them from its dictionaries (config
errors with the field's name from the config schema, CSV errors naming the cell, run-import
errors), in Chinese in 中文 mode. A CSV from Chinese Excel (GBK) or Latin-1 is read, never
garbled. When the server is gone the controls that need it are switched off and say why,
the header keeps one line, and on return the page says plainly what became of the run.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .conftest import free_port, start_server, stop_server

READY = "() => window.bpviz && window.bpviz.connected && window.bpviz.topologies >= 2 && window.bpviz.frames >= 2"
IDLE = "() => !window.bpviz.animating"
ENGLISH = re.compile(r"\b(must|should|got|required|Input|Field|the|not|number|cell|row)\b")


def open_page(page: Any, base_url: str, hash_: str = "") -> None:
    page.goto("about:blank")
    page.goto(f"{base_url}/{hash_}")
    page.wait_for_function(READY)
    page.wait_for_function(IDLE)


def word(
    page: Any, base_url: str, lang: str, messages: list[dict[str, Any]]
) -> list[dict[str, str]]:
    """``wordError`` of each message in ``lang``, with the config's field names."""
    page.route("**/favicon.ico", lambda route: route.fulfill(status=204))
    page.goto(f"{base_url}/healthz")
    return page.evaluate(
        """async ([lang, messages]) => {
            const i18n = await import('/static/js/shared/i18n.js');
            const { wordError } = await import('/static/js/shared/banner.js');
            const { loadChoices } = await import('/static/js/shared/choices.js');
            await i18n.initI18n();
            const choices = await loadChoices();
            i18n.setLanguage(lang);
            return messages.map((m) => wordError(m, choices.fieldLabel));
        }""",
        [lang, messages],
    )


CONFIG_ERROR = {
    "type": "error",
    "code": "invalid_config",
    "message": "training.learning_rate: must be at most 10, got 100.0; network.hidden.0.units: must be at least 1, got 0",
    "field": "training.learning_rate",
    "params": {
        "errors": [
            {
                "field": "training.learning_rate",
                "code": "too_large",
                "message": "must be at most 10, got 100.0",
                "params": {
                    "field": "training.learning_rate",
                    "max": 10,
                    "exclusive": False,
                    "value": 100,
                },
            },
            {
                "field": "network.hidden.0.units",
                "code": "too_small",
                "message": "must be at least 1, got 0",
                "params": {
                    "field": "network.hidden.0.units",
                    "min": 1,
                    "exclusive": False,
                    "value": 0,
                },
            },
        ]
    },
}
CELL_ERROR = {
    "type": "error",
    "code": "not_numeric",
    "message": "The cell at row 7, column “rooms” is not a number (“three”); feature columns must be numeric.",
    "field": "csv",
    "row": 7,
    "column": "rooms",
    "params": {"row": 7, "column": "rooms", "column_index": 2, "value": "three", "role": "feature"},
}


def test_errors_are_worded_from_their_codes(page: Any, base_url: str) -> None:
    unknown = {"type": "error", "code": "brand_new", "message": "something new", "params": {"x": 1}}
    zh = word(page, base_url, "zh", [CONFIG_ERROR, CELL_ERROR, unknown])
    assert zh[0]["title"] == "该设置未被接受："
    assert "学习率：最多为 10（收到 100）" in zh[0]["detail"]
    assert "隐藏层 1 · 神经元数：至少为 1（收到 0）" in zh[0]["detail"]
    assert "第 7 行“rooms”列的单元格不是数字（“three”）" in zh[1]["detail"]
    for w in zh[:2]:
        assert not ENGLISH.search(w["detail"]), w
    assert zh[2]["detail"] == "something new"  # an unknown code: the server's words
    en = word(page, base_url, "en", [CONFIG_ERROR, CELL_ERROR])
    assert "training.learning_rate: must be at most 10 (got 100)" in en[0]["detail"]
    assert "row 7, column “rooms”" in en[1]["detail"] and "three" in en[1]["detail"]


def test_a_refused_config_is_said_in_chinese(new_page: Any, base_url: str, screenshot: Any) -> None:
    page = new_page(locale="zh-CN")
    open_page(page, base_url, "#data=xor&hidden=4:tanh")
    page.evaluate("() => { location.hash = '#data=xor&hidden=4:tanh&lr=100'; }")
    page.wait_for_selector("#banner-error:not([hidden])")
    detail = page.text_content("#banner-error .banner-detail") or ""
    assert "学习率" in detail and "10" in detail, detail
    assert not ENGLISH.search(detail), detail
    screenshot(page, "messages-01-config-zh")


HOUSES_TYPO = "area,rooms,price\n" + "".join(
    f"{50 + 7 * i},{'three' if i == 5 else 1 + i % 5},{100 + 3 * i}\n" for i in range(30)
)


def drop(page: Any, data: bytes, name: str) -> None:
    """Drop a file of these bytes on the CSV dialog's drop zone."""
    page.evaluate(
        """([bytes, name]) => {
            const dt = new DataTransfer();
            dt.items.add(new File([new Uint8Array(bytes)], name, { type: "text/csv" }));
            const zone = document.querySelector("#csv-drop");
            zone.dispatchEvent(new DragEvent("drop", { dataTransfer: dt, bubbles: true, cancelable: true }));
        }""",
        [list(data), name],
    )


def test_csv_typo_is_named_and_worded_in_chinese(
    new_page: Any, base_url: str, screenshot: Any
) -> None:
    """A typo in a numeric feature column: its cell is named (row, column, value), in Chinese —
    as the file's problem when the server's trial load stops at it, or beside the target
    choice when it reports the column as mostly numeric; never is that column the target."""
    page = new_page(locale="zh-CN")
    open_page(page, base_url)
    page.click("#open-csv")
    drop(page, HOUSES_TYPO.encode(), "houses.csv")
    page.wait_for_selector("#csv-info:not([hidden]), #csv-error:not([hidden])")
    if page.is_visible("#csv-error"):
        shown = page.text_content("#csv-error") or ""
        detail = page.text_content("#csv-error .csv-error-detail") or ""
        assert "第 7 行“rooms”列" in detail and "three" in detail, detail
        assert not ENGLISH.search(detail), detail
    else:
        assert page.input_value("#csv-target") == "price"
        shown = page.text_content(".csv-typos") or ""
        assert "rooms" in shown and "第 7 行" in shown and "three" in shown, shown
    assert "price" not in shown or "rooms" in shown
    screenshot(page, "messages-02-csv-typo-zh")


def test_csv_in_gbk_and_latin1_is_read_not_garbled(new_page: Any, base_url: str) -> None:
    page = new_page(locale="zh-CN")
    open_page(page, base_url)
    page.click("#open-csv")
    text = "面积,房间数,价格\n" + "".join(
        f"{50 + 7 * i},{1 + i % 5},{100 + 3 * i}\n" for i in range(30)
    )
    drop(page, text.encode("gbk"), "房价.csv")
    page.wait_for_selector("#csv-info:not([hidden])")
    columns = page.eval_on_selector_all("#csv-target option", "(os) => os.map((o) => o.value)")
    assert columns == ["面积", "房间数", "价格"]
    assert "\ufffd" not in (page.text_content("#csv-dialog") or "")
    latin = "café,größe,label\n" + "".join(
        f"{i},{i % 3},{'oui' if i % 2 else 'non'}\n" for i in range(30)
    )
    drop(page, latin.encode("latin-1"), "cafe.csv")
    page.wait_for_function(
        "() => [...document.querySelectorAll('#csv-target option')].some((o) => o.value === 'café')"
    )
    columns = page.eval_on_selector_all("#csv-target option", "(os) => os.map((o) => o.value)")
    assert columns == ["café", "größe", "label"]


def test_an_import_error_is_said_in_chinese(new_page: Any, base_url: str, tmp_path: Path) -> None:
    page = new_page(locale="zh-CN")
    open_page(page, base_url)
    bad = tmp_path / "run.json"
    bad.write_text(json.dumps({"format": "something-else", "config": {}}))
    page.set_input_files("#import-file", str(bad))
    page.wait_for_selector("#banner-error:not([hidden])")
    assert page.text_content("#banner-error .banner-title") == "无法载入该运行记录："
    detail = page.text_content("#banner-error .banner-detail") or ""
    assert detail and not re.search(r"Input should|Field required", detail), detail


# ---------------------------------------------------------------- the server gone


@pytest.fixture
def own_server(tmp_path: Path, browser: Any) -> Iterator[dict[str, Any]]:
    """A server of this test's own, to stop and start again on the same port, and
    ``page(locale)``: a page of it (console errors collected in ``errors``)."""
    info: dict[str, Any] = {"port": free_port(), "procs": [], "errors": [], "contexts": []}
    info["start"] = lambda name: info["procs"].append(
        start_server(
            info["port"], tmp_path / "server.log", {"BPVIZ_DATA_DIR": str(tmp_path / name)}
        )
    )

    def page(locale: str = "en-US") -> Any:
        context = browser.new_context(locale=locale, viewport={"width": 1280, "height": 720})
        info["contexts"].append(context)
        p = context.new_page()
        p.on("pageerror", lambda e: info["errors"].append(f"uncaught: {e}"))
        p.set_default_timeout(15_000)
        return p

    info["page"] = page
    yield info
    for context in info["contexts"]:
        context.close()
    for proc in info["procs"]:
        if proc.poll() is None:
            stop_server(proc)
    assert not info["errors"], info["errors"]


def test_server_gone_and_back(own_server: dict[str, Any], screenshot: Any) -> None:
    own_server["start"]("store-a")
    url = f"http://127.0.0.1:{own_server['port']}"
    page = own_server["page"]()
    open_page(page, url, "#data=xor&hidden=4:tanh&batch=4")
    page.click("[data-step=step]")
    page.wait_for_function("() => window.bpviz.frame.step === 1")
    header = page.eval_on_selector(".topbar", "(h) => h.getBoundingClientRect().height")
    stop_server(own_server["procs"][-1])
    page.wait_for_selector("#connection[data-status=closed]", timeout=15_000)
    screenshot(page, "messages-03-offline")
    # The header keeps one line: a short status, the long one as its tooltip.
    assert page.text_content("#connection .label") == "Offline"
    assert page.eval_on_selector("#connection .label", "(l) => l.getClientRects().length") == 1
    assert page.eval_on_selector(".topbar", "(h) => h.getBoundingClientRect().height") == header
    assert page.eval_on_selector("#connection", "(c) => c.getBoundingClientRect().right") <= 1280
    # What cannot work is switched off, and the banner says why.
    page.wait_for_selector("#banner-connection:not([hidden])")
    assert "cannot be reached" in (page.text_content("#banner-connection") or "")
    for sel in (
        "#play",
        "[data-step=step]",
        "#ctl-config-data-name",
        "#ctl-config-training-learning_rate",
        "#open-csv",
    ):
        assert page.is_disabled(sel), sel
    # Back, with its run store gone: a new session; the page says the run restarted.
    own_server["start"]("store-b")
    page.wait_for_selector("#connection[data-status=open]", timeout=30_000)
    page.wait_for_function("() => window.bpviz.frame && window.bpviz.frame.step === 0")
    page.wait_for_function(
        "() => /new session|new run/.test(document.querySelector('#banner-connection').textContent)"
    )
    assert "step 0" in (page.text_content("#banner-connection") or "")
    for sel in ("#play", "[data-step=step]", "#ctl-config-data-name", "#open-csv"):
        assert page.is_enabled(sel), sel
    assert page.evaluate("() => window.bpviz.topology.config.data.name") == "xor"
    screenshot(page, "messages-04-back")
    # Back with its store: the run goes on where it was (the resume token).
    page.click("[data-step=step]")
    page.wait_for_function("() => window.bpviz.frame.step === 1")
    page.wait_for_timeout(1000)  # the snapshot of the step
    stop_server(own_server["procs"][-1])
    page.wait_for_selector("#connection[data-status=closed]", timeout=15_000)
    own_server["start"]("store-b")
    page.wait_for_selector("#connection[data-status=open]", timeout=30_000)
    page.wait_for_function(
        "() => /goes on where it was/.test(document.querySelector('#banner-connection').textContent)"
    )
    page.wait_for_function("() => window.bpviz.frame && window.bpviz.frame.step === 1")


def test_offline_words_in_chinese(own_server: dict[str, Any]) -> None:
    own_server["start"]("store")
    page = own_server["page"]("zh-CN")
    open_page(page, f"http://127.0.0.1:{own_server['port']}")
    stop_server(own_server["procs"][-1])
    page.wait_for_selector("#banner-connection:not([hidden])", timeout=15_000)
    assert page.text_content("#connection .label") == "已断开"
    assert "无法连接服务器" in (page.text_content("#banner-connection") or "")
