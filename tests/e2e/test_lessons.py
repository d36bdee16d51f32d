"""Lessons and sharing in a real browser: own data (CSV), rewind, gradient check,
export/import, the HTML report, worked-example presets and metrics (issue 7)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

READY = "() => window.bpviz && window.bpviz.connected && window.bpviz.topologies >= 2 && window.bpviz.frames >= 2"
IDLE = "() => !window.bpviz.animating"
# A reload of the same address resumes the run: one topology, no configure of its own.
RELOADED = "() => window.bpviz && window.bpviz.connected && window.bpviz.topologies >= 1 && window.bpviz.frames >= 1"


def open_page(page: Any, base_url: str, hash_: str = "") -> None:
    page.goto(f"{base_url}/{hash_}")
    page.wait_for_function(READY)
    page.wait_for_function(IDLE)


def frame(page: Any) -> dict[str, Any]:
    return page.evaluate("() => window.bpviz.frame")


HOUSES = "area,rooms,price\n" + "".join(
    f"{50 + 7 * i},{1 + i % 5},{100 + 3 * i + 10 * (i % 5)}\n" for i in range(40)
)
BAD = "a,b,label\n1,2,x\n3,4,y\n5,oops,x\n7,8,y\n"


def wait_step(page: Any, step: int) -> None:
    page.wait_for_function(f"() => window.bpviz.frame && window.bpviz.frame.step === {step}")
    page.wait_for_function(IDLE)


def test_upload_csv_and_train(page: Any, base_url: str, screenshot: Any, tmp_path: Path) -> None:
    open_page(page, base_url)
    page.click("#open-csv")
    limits = page.locator("#csv-limits").text_content()
    assert "5000" in limits and "64" in limits  # shown before any upload
    csv = tmp_path / "houses.csv"
    csv.write_text(HOUSES)
    page.set_input_files("#csv-file", str(csv))
    page.wait_for_selector("#csv-info:not([hidden])")
    assert page.locator("#csv-target").input_value() == "price"
    assert page.locator("#csv-task").input_value() == "regression"
    assert page.locator("#csv-preview tr").count() >= 3
    screenshot(page, "lessons-01-csv-dialog")
    page.click("#csv-train")
    page.wait_for_function("() => window.bpviz.topology.config.data.name === 'csv'")
    topo = page.evaluate("() => window.bpviz.topology")
    assert topo["data"]["n_features"] == 2 and topo["data"]["task"] == "regression"
    page.click("[data-step=epoch]")
    page.wait_for_function("() => window.bpviz.frame.step > 0")
    page.wait_for_function(
        "() => window.bpviz.frame.metrics && window.bpviz.frame.metrics.train_r2 !== null"
    )
    assert page.locator("#stat-metric-box").is_visible()
    page.wait_for_function("() => location.hash.includes('csv=')")
    h = page.evaluate("() => location.hash")
    assert f"csv={topo['config']['data']['csv']}" in h and "target=price" in h
    screenshot(page, "lessons-02-csv-trained")
    # Export carries the CSV text; the report of a CSV run downloads too.
    with page.expect_download() as dl:
        page.click("#export-run")
    run = json.loads(Path(dl.value.path()).read_text())
    assert run["data_csv"]["text"] == HOUSES
    with page.expect_download() as dl2:
        page.click("#report-run")
    assert "<html" in Path(dl2.value.path()).read_text()[:500].lower()
    # A reload resumes the run, CSV and all.
    step = page.evaluate("() => window.bpviz.frame.step")
    page.reload()
    page.wait_for_function(RELOADED)
    page.wait_for_function("() => window.bpviz.topology.config.data.name === 'csv'")
    assert page.evaluate("() => window.bpviz.frame.step") == step
    # The link in a new tab (a new session): the page re-sends the text from localStorage.
    other = page.context.new_page()
    other.goto(page.url)
    other.wait_for_function(READY)
    other.wait_for_function("() => window.bpviz.topology.config.data.name === 'csv'")
    other.close()


def test_csv_error_names_row_and_column(
    page: Any, base_url: str, screenshot: Any, tmp_path: Path
) -> None:
    open_page(page, base_url)
    page.click("#open-csv")
    bad = tmp_path / "bad.csv"
    bad.write_text(BAD)
    page.set_input_files("#csv-file", str(bad))
    page.wait_for_selector("#csv-error:not([hidden])")
    where = page.locator("#csv-error .csv-error-where").text_content()
    assert "row" in where
    assert page.locator("#csv-error .csv-error-title").text_content() != ""
    assert page.locator("#csv-error .csv-error-detail").text_content()
    screenshot(page, "lessons-03-csv-error")


def test_csv_link_without_text_says_so(page: Any, base_url: str) -> None:
    page.goto(f"{base_url}/#data=csv&csv=00000000deadbeef&target=y")
    page.wait_for_selector("#banner-error:not([hidden])")
    assert "00000000deadbeef" in page.locator("#banner-error").text_content()
    page.wait_for_selector("#csv-dialog[open]")


def test_rewind_seek_and_branch(page: Any, base_url: str, screenshot: Any) -> None:
    open_page(page, base_url, "#data=xor&hidden=3:tanh&batch=4&seed=3")
    # 20 full steps
    page.evaluate(
        "() => { for (let i = 0; i < 20; i += 1) document.querySelector('[data-step=step]').click(); }"
    )
    wait_step(page, 20)
    page.wait_for_function(
        "() => window.bpviz.frame.rewind && window.bpviz.frame.rewind.last === 20"
    )
    page.evaluate(
        """() => { const s = document.querySelector('#rewind-slider'); s.value = '5';
                   s.dispatchEvent(new Event('input')); s.dispatchEvent(new Event('change')); }"""
    )
    page.wait_for_function(
        "() => window.bpviz.frame.viewing === 5 && window.bpviz.frame.step === 5"
    )
    page.wait_for_function(IDLE)
    assert page.locator("#rewind-viewing").is_visible()
    assert "5" in page.locator("#rewind-viewing").text_content()
    assert page.locator("#stat-step").text_content() == "5"
    # The status line shows the frame's metrics: step 5's, not the newest. The history holds
    # the same number where step 5 was evaluated (a quick burst of clicks may skip it: the
    # evaluation's time budget).
    shown_loss, kept, newest = page.evaluate(
        """() => { const h = window.bpviz.history, v = h.train_loss[h.step.indexOf(5)];
                   return [Number(window.bpviz.frame.metrics.train_loss).toPrecision(4),
                           v === null || v === undefined ? null : Number(v).toPrecision(4),
                           Number(h.train_loss.at(-1)).toPrecision(4)]; }"""
    )
    assert page.locator("#stat-train").text_content() == shown_loss
    assert kept in (None, shown_loss) and shown_loss != newest, (shown_loss, kept, newest)
    f5 = frame(page)
    live5 = f5["layers"][0]["W"]
    assert live5 is not None
    screenshot(page, "lessons-04-rewind-viewing")
    page.click("[data-step=step]")
    wait_step(page, 6)
    f6 = frame(page)
    assert f6.get("viewing") is None
    assert page.locator("#rewind-viewing").is_hidden()
    assert f6["rewind"]["last"] == 6  # the later steps were discarded (a branch)
    # back to live from a past step
    page.evaluate(
        """() => { const s = document.querySelector('#rewind-slider'); s.value = '2';
                   s.dispatchEvent(new Event('input')); s.dispatchEvent(new Event('change')); }"""
    )
    page.wait_for_function("() => window.bpviz.frame.viewing === 2")
    page.click("#rewind-live")
    page.wait_for_function(
        "() => window.bpviz.frame.viewing == null && window.bpviz.frame.step === 6"
    )


def test_gradcheck_panel(page: Any, base_url: str, screenshot: Any) -> None:
    open_page(page, base_url, "#data=xor&hidden=3:tanh&batch=4&seed=3")
    page.click("#open-gradcheck")
    page.wait_for_function("() => window.bpviz.gradcheck !== null")
    result = page.evaluate("() => window.bpviz.gradcheck")
    assert result["max_rel_error"] < 1e-6
    assert float(page.locator("#gc-max").get_attribute("data-value")) < 1e-6
    assert page.locator(".gc-summary.pass").count() == 1
    assert page.locator("#gc-table tr").count() == len(result["entries"]) + 1
    page.click("#gc-scale")
    page.wait_for_function("() => window.bpviz.scaling !== null", timeout=30_000)
    page.wait_for_selector("#gc-scaling .main-svg")
    assert page.locator("#gc-scaling-note").is_visible()
    page.wait_for_timeout(300)
    screenshot(page, "lessons-05-gradcheck")


def test_export_import_same_weights_and_report(
    page: Any, base_url: str, screenshot: Any, tmp_path: Path
) -> None:
    open_page(page, base_url, "#data=xor&hidden=3:tanh&batch=4&seed=3&opt=adam&lr=0.03")
    page.click("[data-step=epoch]")
    page.wait_for_function("() => window.bpviz.frame.step > 0")
    last = -1
    while frame(page)["step"] != last:  # an epoch may arrive in several frames
        last = frame(page)["step"]
        page.wait_for_timeout(400)
    page.wait_for_function(IDLE)
    before = frame(page)
    with page.expect_download() as dl:
        page.click("#export-run")
    path = tmp_path / "run.json"
    dl.value.save_as(str(path))
    run = json.loads(path.read_text())
    assert run["config"]["data"]["name"] == "xor"
    # Change the session, then import the file: the same weights come back.
    page.click("#reset")
    page.wait_for_function("() => window.bpviz.frame.step === 0")
    n = page.evaluate("() => window.bpviz.topologies")
    page.set_input_files("#import-file", str(path))
    page.wait_for_function(f"() => window.bpviz.topologies > {n}")
    page.wait_for_function(f"() => window.bpviz.frame.step === {before['step']}")
    after = frame(page)
    assert [la["W"] for la in after["layers"]] == [la["W"] for la in before["layers"]]
    # The report: posted to /api/report, downloaded as standalone HTML.
    with page.expect_download() as dl2:
        page.click("#report-run")
    report = tmp_path / "report.html"
    dl2.value.save_as(str(report))
    text = report.read_text()
    assert text.lstrip().lower().startswith("<!doctype html") and "plotly" in text.lower()


def test_preset_link_and_note(new_page: Any, base_url: str, screenshot: Any) -> None:
    page = new_page()
    open_page(page, base_url)
    page.select_option("#preset", "by_hand")
    page.wait_for_function("() => window.bpviz.topology.config.training.batch_size === 1")
    topo = page.evaluate("() => window.bpviz.topology")
    assert [la["units"] for la in topo["layers"]] == [2, 1]
    assert topo["layers"][0]["activation"] == "sigmoid"
    page.wait_for_selector("#preset-note", state="visible")
    page.wait_for_function("() => location.hash.includes('lesson=by_hand')")
    link = page.evaluate("() => location.href")
    screenshot(page, "lessons-06-preset-by-hand")
    # The link, opened in a fresh page (Chinese), brings the same config and note.
    other = new_page(locale="zh-CN")
    other.goto(link)
    other.wait_for_function(READY)
    other.wait_for_function("() => window.bpviz.topology.config.training.batch_size === 1")
    other.wait_for_selector("#preset-note", state="visible")
    other.wait_for_function(
        "() => document.querySelector('#preset-note').textContent.includes('手算')"
    )
    # XOR without a hidden layer, and digits with its confusion matrix.
    page.select_option("#preset", "digits")
    page.wait_for_function("() => window.bpviz.topology.data.name === 'digits'")
    page.click("[data-step=epoch]")
    page.wait_for_function("() => window.bpviz.frame.step > 0")
    page.locator("#panel-confusion").scroll_into_view_if_needed()
    page.wait_for_selector("#chart-confusion .main-svg")
    page.wait_for_function(  # 10 × 10 counts
        "() => document.querySelectorAll('#chart-confusion .annotation-text').length === 100"
    )
    page.wait_for_timeout(300)
    screenshot(page, "lessons-07-digits-confusion")


def test_stop_condition(page: Any, base_url: str, screenshot: Any) -> None:
    open_page(page, base_url, "#data=xor&hidden=4:tanh&seed=3")
    page.fill("#stop-steps", "30")
    page.dispatch_event("#stop-steps", "change")
    page.click("#play")
    page.wait_for_selector("#stopped-note:not([hidden])")
    page.wait_for_function("() => !window.bpviz.playing")
    assert frame(page)["step"] == 30
    assert "30" in page.locator("#stopped-note").text_content()
    assert "until_steps=30" in page.evaluate("() => location.hash")
    screenshot(page, "lessons-08-stopped")


def test_fmt_minus_everywhere_and_no_hidden_layer_xor(page: Any, base_url: str) -> None:
    open_page(page, base_url)
    shown = page.evaluate(
        "async () => (await import('/static/js/shared/format.js')).fmt(-1.019e-6)"
    )
    assert shown == "−1.019e−6"
    page.select_option("#preset", "xor_linear")
    page.wait_for_function("() => window.bpviz.topology.layers.length === 1")
    assert page.evaluate("() => window.bpviz.topology.data.name") == "xor"
    assert "lesson=xor_linear" in page.evaluate(
        "() => new Promise((r) => setTimeout(() => r(location.hash), 600))"
    )


def test_csv_drag_and_drop_classification(page: Any, base_url: str, screenshot: Any) -> None:
    open_page(page, base_url)
    page.click("#open-csv")
    text = "x1,x2,kind\n" + "".join(
        f"{i % 7},{(3 * i) % 5},{'cat' if (i % 7) > 3 else 'dog'}\n" for i in range(30)
    )
    page.evaluate(
        """(text) => {
            const dt = new DataTransfer();
            dt.items.add(new File([text], "pets.csv", { type: "text/csv" }));
            const zone = document.querySelector("#csv-drop");
            zone.dispatchEvent(new DragEvent("dragover", { dataTransfer: dt, bubbles: true, cancelable: true }));
            zone.dispatchEvent(new DragEvent("drop", { dataTransfer: dt, bubbles: true, cancelable: true }));
        }""",
        text,
    )
    page.wait_for_selector("#csv-info:not([hidden])")
    assert page.locator("#csv-target").input_value() == "kind"
    assert page.locator("#csv-task").input_value() == "binary"
    page.click("#csv-train")
    page.wait_for_function("() => window.bpviz.topology.config.data.name === 'csv'")
    assert page.evaluate("() => window.bpviz.topology.data.task") == "binary"
    assert "pets.csv" in page.locator("#ctl-config-data-name option:checked").text_content()
    page.click("[data-step=epoch]")
    page.wait_for_selector("#stat-metric-box:not([hidden])")


def test_csv_link_retries_with_stored_text(page: Any, base_url: str) -> None:
    """A link to a CSV this browser keeps but the session does not: unknown_csv → re-send → train."""
    import hashlib

    open_page(page, base_url)
    digest = hashlib.sha256(HOUSES.encode()).hexdigest()[:16]
    page.evaluate(
        "([h, text]) => localStorage.setItem('bpviz.csv.' + h, JSON.stringify({ name: 'houses.csv', text }))",
        [digest, HOUSES],
    )
    page.evaluate(
        f"() => {{ location.hash = '#data=csv&csv={digest}&target=rooms&task=multiclass'; }}"
    )
    page.wait_for_function("() => window.bpviz.topology.config.data.name === 'csv'")
    topo = page.evaluate("() => window.bpviz.topology")
    assert topo["config"]["data"]["target"] == "rooms" and topo["data"]["task"] == "multiclass"
    assert page.locator("#banner-error").is_hidden()
