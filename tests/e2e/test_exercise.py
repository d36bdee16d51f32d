"""Writing a lesson in a real browser (issue 14): type a table and configure, the textbook
exercise to a student's digits, edit a weight by keyboard and by mouse, input-feature toggles,
the output activation, the printable step, and the diagram exported as SVG and PNG."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import unquote

READY = "() => window.bpviz && window.bpviz.connected && window.bpviz.topologies >= 2 && window.bpviz.frames >= 2"
IDLE = "() => !window.bpviz.animating"


def open_page(page: Any, base_url: str, hash_: str = "") -> None:
    page.goto(f"{base_url}/{hash_}")
    page.wait_for_function(READY)
    page.wait_for_function(IDLE)


def frame(page: Any) -> dict[str, Any]:
    return page.evaluate("() => window.bpviz.frame")


def wait_step(page: Any, step: int) -> None:
    page.wait_for_function(f"() => window.bpviz.frame && window.bpviz.frame.step === {step}")
    page.wait_for_function(IDLE)


def textbook(page: Any) -> None:
    page.select_option("#preset", "textbook")
    page.wait_for_function("() => window.bpviz.topology.config.data.name === 'table'")
    page.wait_for_function(IDLE)


def test_type_a_table_and_configure(page: Any, base_url: str, screenshot: Any) -> None:
    open_page(page, base_url)
    page.click("#open-exercise")
    dialog = page.locator("#exercise-dialog")
    assert dialog.is_visible()
    page.click("button[aria-label='Add a row']")
    page.click("button[aria-label='Add a row']")
    page.click("button[aria-label='Remove the last target column']")  # 2 inputs, 1 target
    assert dialog.locator("tr").count() == 4  # a header and 3 rows
    rows = [([0, 1], 1), ([1, 0], 1), ([1, 1], 0)]
    for r, (x, y) in enumerate(rows):
        for j, v in enumerate(x):
            page.fill(f"[data-field='data.x.{r}.{j}']", str(v))
        page.fill(f"[data-field='data.y.{r}.0']", str(y))
    # a bad cell: the server names it, the dialog marks it
    page.fill("[data-field='data.x.2.1']", "oops")
    page.fill("[data-field='network.hidden']", "2:sigmoid")
    page.click("#exercise-train")
    page.wait_for_selector("[data-field='data.x.2.1'].field-error")
    assert "data.x.2.1" in page.locator(".exercise-error").text_content()
    screenshot(page, "exercise-01-bad-cell")
    page.fill("[data-field='data.x.2.1']", "1")
    page.fill("[data-field='training.learning_rate']", "0.25")
    page.click("#exercise-train")
    page.wait_for_function("() => window.bpviz.topology.config.data.name === 'table'")
    assert not dialog.is_visible()
    topo = page.evaluate("() => window.bpviz.topology")
    assert topo["config"]["data"]["x"] == [[0, 1], [1, 0], [1, 1]]
    assert topo["config"]["data"]["y"] == [[1], [1], [0]]
    assert topo["data"]["n_train"] == 3 and topo["config"]["training"]["learning_rate"] == 0.25
    page.wait_for_function("() => location.hash.includes('x=')")
    assert "y=" in page.evaluate("() => location.hash")
    # the link brings the exercise back
    h = page.evaluate("() => location.hash")
    open_page(page, base_url, h)
    assert page.evaluate("() => window.bpviz.topology.config.data.x") == [[0, 1], [1, 0], [1, 1]]


def test_textbook_first_step_digits_and_print(page: Any, base_url: str, screenshot: Any) -> None:
    open_page(page, base_url)
    textbook(page)
    assert page.locator("#ctl-config-network-output_activation").input_value() == "sigmoid"
    page.click("[data-step=step]")
    wait_step(page, 1)
    digits = page.locator(".preset-digits")
    digits.wait_for()
    text = digits.text_content()
    assert "L = 0.298371109" in text
    assert "0.35891648" in text and "0.149780716" in text  # w₅ and w₁, the article's numbers
    f = frame(page)
    assert abs(f["loss"] - 0.298371109) < 1e-9  # options exact: every digit
    assert abs(f["layers"][1]["W"][0][0] - 0.35891648) < 1e-8
    screenshot(page, "exercise-02-textbook")
    page.click("#print-step-open")
    sheet = page.locator("#print-step")
    assert sheet.is_visible()
    # a row per neuron: 2 hidden and 2 output neurons
    assert sheet.locator(".print-neurons tbody tr").count() == 4
    assert sheet.locator(".print-weights tbody tr").count() == 8
    assert "0.35891648" in sheet.text_content()
    page.emulate_media(media="print")
    screenshot(page, "exercise-03-print", full_page=True)
    assert not page.locator(".topbar").is_visible()
    page.emulate_media(media="screen")


def test_edit_a_weight_by_keyboard_and_mouse(page: Any, base_url: str, screenshot: Any) -> None:
    open_page(page, base_url)
    textbook(page)
    # keyboard: the edge w₁₁ of the output layer, type in the inspector, Enter
    page.click("#network .edge-hit[data-layer='2'][data-from='0'][data-to='0']", force=True)
    box = page.locator(".param-edit-input").first
    box.wait_for()
    assert float(box.input_value()) == 0.4
    box.focus()
    page.keyboard.press("Control+A")
    page.keyboard.type("0.7")
    page.keyboard.press("Enter")
    page.wait_for_function("() => window.bpviz.frame.layers[1].W[0][0] === 0.7")
    # mouse: a bias of a hidden neuron, typed and the Set button clicked
    page.click("#network .neuron[data-layer='1'][data-neuron='1']")
    box = page.locator(".param-edit-input").first
    box.wait_for()
    box.fill("-0.25")
    page.click(".param-edit-set")
    page.wait_for_function("() => window.bpviz.frame.layers[0].b[1] === -0.25")
    # mid-step: refused, then "finish this step first" does both
    page.click("[data-step=phase]")
    page.wait_for_function("() => window.bpviz.frame.cursor.index === 1")
    page.wait_for_function(IDLE)
    box = page.locator(".param-edit-input").first
    box.fill("0.5")
    box.press("Enter")
    page.wait_for_selector(".param-edit-finish")
    screenshot(page, "exercise-05-edit-mid-step")
    page.click(".param-edit-finish")
    page.wait_for_function(
        "() => window.bpviz.frame.step === 1 && window.bpviz.frame.layers[0].b[1] === 0.5"
    )


def test_an_edit_after_a_step_leaves_the_step_s_numbers_as_they_were(
    page: Any, base_url: str, screenshot: Any
) -> None:
    """The textbook's step 1 used w₁₁⁽²⁾ = 0.4, and its update made it 0.35891648. Edited to
    0.45 afterwards, the inspector, the printed step and the sums still say 0.4 and
    0.35891648 for that step (they once said 0.4911 = 0.45 − Δw, a weight that never was)."""
    open_page(page, base_url)
    textbook(page)
    page.click("[data-step=step]")
    wait_step(page, 1)
    page.click("#network .edge-hit[data-layer='2'][data-from='0'][data-to='0']", force=True)
    box = page.locator(".param-edit-input").first
    box.wait_for()
    box.fill("0.45")
    box.press("Enter")
    page.wait_for_function("() => window.bpviz.frame.layers[1].W[0][0] === 0.45")
    page.wait_for_function(IDLE)
    values = page.evaluate(
        """() => Object.fromEntries([...document.querySelectorAll('#inspector-body td[data-key]')]
              .map((td) => [td.dataset.key, Number(td.dataset.value)]))"""
    )
    assert abs(values["w_old"] - 0.4) < 1e-12, values
    assert abs(values["w"] - 0.35891648) < 1e-8 and values["w_edited"] == 0.45, values
    assert "Edited by hand after this step" in page.inner_text("#inspector-body")
    screenshot(page, "exercise-06-edited-after-step")
    # the output neuron's z = Σ w·a + b adds up with the weights the step used
    page.click("#network .neuron[data-layer='2'][data-neuron='0']")
    page.wait_for_function(IDLE)
    f = frame(page)
    out, hidden = f["layers"][1], f["layers"][0]
    used = [out["W_updated"][0][i] - out["dW_update"][0][i] for i in range(2)]
    assert abs(used[0] - 0.4) < 1e-12
    z_tex = page.eval_on_selector(
        "#inspector-body .formula[data-tex^='\\\\begin{aligned}z^{(2)}']", "(e) => e.dataset.tex"
    )
    assert "0.4\\cdot" in z_tex and "0.4911" not in z_tex, z_tex
    z = (
        sum(w * a for w, a in zip(used, hidden["a"], strict=True))
        + out["b"][0]
        - out["db_update"][0]
    )
    assert abs(z - out["z"][0]) < 1e-9
    # the printed step: w before 0.4, after the update 0.35891648
    page.click("#print-step-open")
    sheet = page.locator("#print-step")
    sheet.wait_for()
    text = sheet.text_content() or ""
    assert "0.35891648" in text and "0.49108" not in text, text


def test_a_reload_keeps_every_digit(page: Any, base_url: str) -> None:
    """The run comes back after a reload (resume) in a new session, whose options are the
    defaults: the page asks for every digit again, and gets the frame shown with them."""
    open_page(page, base_url)
    textbook(page)
    page.click("[data-step=step]")
    wait_step(page, 1)
    assert abs(frame(page)["layers"][1]["W"][0][0] - 0.35891648) < 1e-8
    page.reload()
    page.wait_for_function("() => window.bpviz && window.bpviz.connected && window.bpviz.frame")
    page.wait_for_function(
        "() => Math.abs(window.bpviz.frame.layers[1].W[0][0] - 0.35891648) < 1e-8", timeout=30_000
    )
    assert frame(page)["step"] == 1


def test_feature_toggles_change_the_inputs(page: Any, base_url: str, screenshot: Any) -> None:
    open_page(page, base_url)
    toggles = page.locator(".feature-toggles input")
    assert toggles.count() == 7
    page.check(".feature-toggles input[value='x1sq']")
    page.wait_for_function("() => window.bpviz.topology.data.n_features === 3")
    page.wait_for_function(IDLE)
    assert page.locator("#network .neuron[data-layer='0']").count() == 3
    assert page.evaluate("() => window.bpviz.topology.data.feature_names")[2] == "x₁²"
    page.wait_for_function(
        "() => decodeURIComponent(location.hash).includes('features=x1,x2,x1sq')"
    )
    screenshot(page, "exercise-04-features")
    page.uncheck(".feature-toggles input[value='x2']")
    page.wait_for_function("() => window.bpviz.topology.config.data.features.join() === 'x1,x1sq'")
    # a data set without two inputs hides them
    page.select_option("#ctl-config-data-name", "square")
    page.wait_for_function("() => window.bpviz.topology.config.data.name === 'square'")
    assert not page.locator(".feature-toggles").is_visible()


def test_output_activation_select(page: Any, base_url: str) -> None:
    open_page(page, base_url)
    select = page.locator("#ctl-config-network-output_activation")
    assert not select.is_visible()  # bce: sigmoid only
    page.select_option("#ctl-config-network-loss", "mse")
    page.wait_for_function("() => window.bpviz.topology.config.network.loss === 'mse'")
    assert select.is_visible()
    page.select_option("#ctl-config-network-output_activation", "tanh")
    page.wait_for_function("() => window.bpviz.topology.layers.at(-1).activation === 'tanh'")
    page.wait_for_function("() => location.hash.includes('out=tanh')")


def test_export_the_diagram(page: Any, base_url: str, tmp_path: Path) -> None:
    open_page(page, base_url)
    with page.expect_download() as info:
        page.click("#export-svg")
    svg = tmp_path / "d.svg"
    info.value.save_as(svg)
    text = svg.read_text()
    assert text.startswith("<svg") and "circle" in text and "style=" in text
    assert info.value.suggested_filename.endswith(".svg")
    with page.expect_download() as info:
        page.click("#export-png")
    png = tmp_path / "d.png"
    info.value.save_as(png)
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 2000


def test_chain_rule_link(page: Any, base_url: str) -> None:
    open_page(page, base_url)
    assert page.locator("#graph-link").get_attribute("href") == "/graph"
    assert page.locator("#graph-link").text_content().strip() == "Chain rule"


def test_in_chinese(new_page: Any, base_url: str, screenshot: Any) -> None:
    page = new_page(locale="zh-CN")
    open_page(page, base_url)
    assert page.locator("#graph-link").text_content().strip() == "链式法则"
    page.click("#open-exercise")
    assert page.locator("#exercise-title").text_content() == "输入练习"
    screenshot(page, "exercise-06-zh")


def test_weight_shape_errors_are_in_the_page_s_language(new_page: Any, base_url: str) -> None:
    """A row of given weights of the wrong length, in Chinese: in Chinese (it was the server's
    English, "layer 1 is 2 → 2: a row of W needs 2 numbers, got 3")."""
    page = new_page(locale="zh-CN")
    open_page(page, base_url)
    text = page.evaluate(
        """async () => (await import('/static/js/shared/banner.js')).errorDetail({
            code: 'invalid_config', message: 'x',
            params: {errors: [{field: 'network.weights.0.W.0', code: 'shape',
                               message: 'layer 1 is 2 → 2: a row of W needs 2 numbers, got 3',
                               params: {field: 'network.weights.0.W.0', expected: 2, got: 3}}]}})"""
    )
    assert "长度不对" in text and "layer" not in text, text


def test_the_edit_box_takes_decimal_numbers_only(page: Any, base_url: str) -> None:
    """ "0x10" is not 16 here: a weight is typed as a decimal number (Number() reads hex)."""
    open_page(page, base_url)
    textbook(page)
    page.click("#network .edge-hit[data-layer='2'][data-from='0'][data-to='0']", force=True)
    box = page.locator(".param-edit-input").first
    box.wait_for()
    for bad in ("0x10", "0b1", "Infinity", "1e400", "1,5"):
        box.fill(bad)
        box.press("Enter")
        page.wait_for_function(
            "() => document.querySelector('#inspector-body').textContent.includes('Type a number')"
        )
        assert frame(page)["layers"][1]["W"][0][0] == 0.4, bad
    box = page.locator(".param-edit-input").first
    box.fill("−.5e-1")
    box.press("Enter")
    page.wait_for_function("() => window.bpviz.frame.layers[1].W[0][0] === -0.05")


def test_a_hidden_neuron_s_chain_rule_link_carries_the_example_s_loss(
    page: Any, base_url: str
) -> None:
    """With one example in the batch, the frame's loss is the example's: the link gives it
    to /graph, which showed L = "?" beside a hidden neuron."""
    open_page(page, base_url)
    textbook(page)
    page.click("[data-step=step]")
    wait_step(page, 1)
    page.click("#network .neuron[data-layer='1'][data-neuron='0']")
    link = page.locator("#inspector-body a[href^='/graph#neuron=']")
    link.wait_for()
    href = link.get_attribute("href") or ""
    body = json.loads(unquote(href.split("neuron=", 1)[1].split("&", 1)[0]))
    assert abs(body["loss_value"] - 0.298371109) < 1e-8, body
