"""The page in a real browser against a real server (see conftest.py)."""

from __future__ import annotations

from typing import Any

from .conftest import WATCH_PULSES, pulses_placed

READY = "() => window.bpviz && window.bpviz.connected && window.bpviz.topologies >= 2 && window.bpviz.frames >= 2"
# A reload of the same address resumes the run: one topology, no configure of its own.
RELOADED = "() => window.bpviz && window.bpviz.connected && window.bpviz.topologies >= 1 && window.bpviz.frames >= 1"
IDLE = "() => !window.bpviz.animating"


def open_page(page: Any, base_url: str, hash_: str = "") -> None:
    page.goto(f"{base_url}/{hash_}")
    page.wait_for_function(READY)
    page.wait_for_function(IDLE)


def frame(page: Any) -> dict[str, Any]:
    return page.evaluate("() => window.bpviz.frame")


def fmt(page: Any, value: float | None) -> str:
    """The page's own number formatting (the check is that the numbers are the frame's)."""
    return page.evaluate("async (v) => (await import('/static/js/shared/format.js')).fmt(v)", value)


def inspector_values(page: Any) -> dict[str, tuple[str, str]]:
    return page.evaluate(
        """() => Object.fromEntries([...document.querySelectorAll('#inspector-body td[data-key]')]
              .map((td) => [td.dataset.key, [td.textContent, td.dataset.value]]))"""
    )


def assert_shows(
    page: Any, shown: dict[str, tuple[str, str]], key: str, value: float | None
) -> None:
    text, raw = shown[key]
    assert text == fmt(page, value), f"{key}: shows {text!r}, frame has {value!r}"
    if value is not None:
        assert abs(float(raw) - value) <= 1e-12 * max(1.0, abs(value)), (key, raw, value)


def test_page_loads_clean(page: Any, base_url: str, screenshot: Any) -> None:
    open_page(page, base_url)
    topo = page.evaluate("() => window.bpviz.topology")
    assert page.locator("#timeline button.phase").count() == len(topo["phases"])
    n_neurons = topo["data"]["n_features"] + sum(layer["units"] for layer in topo["layers"])
    assert page.locator("#network .neuron").count() == n_neurons
    assert page.locator("#connection[data-status=open]").count() == 1
    page.wait_for_function("() => document.querySelector('#output-plot .main-svg') !== null")
    screenshot(page, "01-loaded")
    screenshot(page, "01-loaded-full", full_page=True)


def test_phase_by_phase_timeline_network_and_inspector(
    page: Any, base_url: str, screenshot: Any
) -> None:
    open_page(page, base_url, "#data=xor&hidden=3:tanh&batch=4&seed=3")
    topo = page.evaluate("() => window.bpviz.topology")
    phases = topo["phases"]
    n_layers = len(topo["layers"])
    # Finish the step in progress, if any, so the pass starts at forward layer 1.
    if frame(page)["cursor"]["index"] != 0:
        page.click("[data-step=step]")
        page.wait_for_function("() => window.bpviz.frame.cursor.index === 0")
    for i, phase in enumerate(phases):
        before = page.evaluate("() => window.bpviz.frames")
        page.keyboard.press("ArrowRight")
        page.wait_for_function(
            f"() => window.bpviz.frames > {before} && window.bpviz.frame.last_phase?.index === {i}"
        )
        page.wait_for_function(IDLE)
        chip = page.locator(f"#timeline button.phase[data-index='{i}']")
        assert "current" in (chip.get_attribute("class") or ""), f"phase {i} not highlighted"
        assert page.locator("#timeline button.phase.current").count() == 1
        key = f"{phase['kind']}:{phase['layer'] if phase['layer'] is not None else ''}"
        assert page.get_attribute("#network svg", "data-active") == key
        if phase["kind"] in ("forward", "backward"):
            col = page.locator(f"#network g.column[data-layer='{phase['layer']}']")
            assert "active" in (col.get_attribute("class") or "")
            assert page.locator("#network g.column.active").count() == 1
        if phase["kind"] == "backward" and phase["layer"] == n_layers:
            screenshot(page, "02-backward-output")
        if phase["kind"] == "backward" and phase["layer"] == 1:
            # δ of a hidden neuron: every number the inspector prints is the frame's.
            page.click("#network .neuron[data-layer='1'][data-neuron='0']")
            f = frame(page)
            layer = f["layers"][0]
            shown = inspector_values(page)
            for key_, name in (("z", "z"), ("a", "a"), ("fprime", "fprime"), ("delta", "delta")):
                assert_shows(page, shown, key_, layer[name][0])
            assert_shows(page, shown, "db", layer["db"][0])
            assert page.locator("#inspector-body .katex").count() >= 3
            screenshot(page, "03-inspector-neuron-backward")
    # After the update: a weight's gradient, change and new value.
    page.click("#network .edge-hit[data-layer='1'][data-from='1'][data-to='2']")
    f = frame(page)
    layer = f["layers"][0]
    shown = inspector_values(page)
    assert_shows(page, shown, "dW", layer["dW"][2][1])
    assert_shows(page, shown, "dW_update", layer["dW_update"][2][1])
    assert_shows(page, shown, "w", layer["W"][2][1])
    assert page.locator("#timeline button.phase.done").count() == len(phases)
    screenshot(page, "04-inspector-edge-after-update")


def test_every_pulse_starts_on_its_path(page: Any, base_url: str) -> None:
    """The animation's pulses and the error's trails are placed when they are added: once a
    thick trail ran from the diagram's top-left corner to the loss box for a frame."""
    open_page(page, base_url, "#data=house")
    page.evaluate(WATCH_PULSES)
    for _ in range(2):
        before = page.evaluate("() => window.bpviz.frames")
        page.click("[data-step=step]")  # forward, loss, backward and update, animated
        page.wait_for_function(f"() => window.bpviz.frames > {before}")
        page.wait_for_function(IDLE)
    assert pulses_placed(page) > 20


def test_play_grows_loss_chart_and_pause_stops_it(
    page: Any, base_url: str, screenshot: Any
) -> None:
    open_page(page, base_url, "#speed=100")
    page.click("#play")
    page.wait_for_function(
        "() => (document.querySelector('#chart-loss').data?.[0]?.x.length ?? 0) >= 20",
        timeout=20_000,
    )
    assert page.evaluate("() => window.bpviz.playing")
    screenshot(page, "05-playing", full_page=True)
    page.click("#play")
    page.wait_for_function("() => !window.bpviz.playing")
    page.wait_for_timeout(300)
    count = page.evaluate("() => document.querySelector('#chart-loss').data[0].x.length")
    step = frame(page)["step"]
    page.wait_for_timeout(1000)
    assert page.evaluate("() => document.querySelector('#chart-loss').data[0].x.length") == count
    assert frame(page)["step"] == step
    assert page.get_attribute("#play", "aria-pressed") == "false"


def test_language_toggle_changes_labels(new_page: Any, base_url: str, screenshot: Any) -> None:
    page = new_page(locale="en-US")
    open_page(page, base_url)
    assert page.text_content("#play .label") == "Play"
    assert page.text_content(".phase-group[data-kind=forward]") == "Forward"
    page.click("#lang-toggle")
    assert page.text_content("#play .label") == "播放"
    assert page.text_content(".phase-group[data-kind=forward]") == "前向传播"
    assert page.text_content(".phase-group[data-kind=backward]") == "反向传播"
    assert page.get_attribute("#ctl-config-training-learning_rate", "aria-label") == "学习率 η"
    assert page.evaluate("() => document.documentElement.lang") == "zh-CN"
    screenshot(page, "06-chinese")
    page.reload()
    page.wait_for_function(RELOADED)
    assert page.text_content("#play .label") == "播放", "the choice is remembered"
    # A Chinese browser gets Chinese by default.
    zh = new_page(locale="zh-CN")
    open_page(zh, base_url)
    assert zh.text_content("#play .label") == "播放"


def test_url_restores_the_config(page: Any, base_url: str, screenshot: Any) -> None:
    open_page(page, base_url)
    page.select_option("#ctl-config-data-name", "xor")
    page.wait_for_function("() => window.bpviz.topology.config.data.name === 'xor'")
    page.click("button[aria-label='Add a hidden layer']")
    page.wait_for_function("() => window.bpviz.topology.config.network.hidden.length === 3")
    page.select_option("#ctl-config-training-learning_rate", "0.1")
    page.fill("#ctl-config-seed", "42")
    page.press("#ctl-config-seed", "Enter")
    page.wait_for_function("() => window.bpviz.topology.config.seed === 42")
    page.wait_for_function(
        "() => location.hash.includes('seed=42') && location.hash.includes('lr=0.1')"
    )
    url = page.url
    page.goto("about:blank")
    page.goto(url)
    page.wait_for_function(RELOADED)  # the same address in the same tab: the run resumed
    config = page.evaluate("() => window.bpviz.topology.config")
    assert config["data"]["name"] == "xor"
    assert len(config["network"]["hidden"]) == 3
    assert config["seed"] == 42
    assert config["training"]["learning_rate"] == 0.1
    assert page.input_value("#ctl-config-data-name") == "xor"
    assert page.input_value("#ctl-config-training-learning_rate") == "0.1"
    screenshot(page, "07-restored-from-url")


def test_diverging_run_shows_the_banner(page: Any, base_url: str, screenshot: Any) -> None:
    open_page(
        page, base_url, "#data=square&loss=mse&hidden=8:relu,8:relu&init=naive&lr=10&speed=max"
    )
    page.click("#play")
    page.wait_for_selector("#banner-diverged", state="visible", timeout=20_000)
    assert page.text_content("#banner-diverged strong") == "Training diverged."
    screenshot(page, "08-diverged")
    page.click("#banner-diverged button")
    page.wait_for_selector("#banner-diverged", state="hidden")
    page.wait_for_function("() => !window.bpviz.frame.diverged && window.bpviz.frame.step === 0")


def test_server_error_is_shown(page: Any, base_url: str, screenshot: Any) -> None:
    open_page(page, base_url)
    page.evaluate("() => { location.hash = 'hidden=4:tanh&dropout=5'; }")
    page.wait_for_selector("#banner-error", state="visible")
    assert "dropout" in page.text_content("#banner-error .banner-detail")
    # The page keeps showing the experiment that really runs.
    assert page.evaluate("() => window.bpviz.state.config.network.dropout") == 0
    screenshot(page, "09-server-error")


def test_choice_lists_come_from_the_server(page: Any, base_url: str) -> None:
    """Every select of a choice offers the server's list (/api/schema → choices), no copy."""
    open_page(page, base_url)
    choices = page.evaluate("async () => (await (await fetch('/api/schema')).json()).choices")

    def values(selector: str) -> list[str]:
        return page.eval_on_selector_all(f"{selector} option", "(os) => os.map((o) => o.value)")

    assert values("#ctl-config-network-init") == choices["inits"]
    assert "nielsen" in choices["inits"]
    assert values("#ctl-ui-all_activation") == ["", *choices["activations"]]
    assert values(".layer-row select") == choices["activations"] * 2  # two hidden layers
    assert values("#ctl-config-training-optimizer") == [o["name"] for o in choices["optimizers"]]
    binary = [loss["name"] for loss in choices["losses"] if "binary" in loss["tasks"]]
    assert values("#ctl-config-network-loss") == binary
    # A link to the digits: the loss that fits its task, and no more examples than it has.
    digits = choices["datasets"]["digits"]
    page.evaluate("() => { location.hash = 'data=digits&samples=5000'; }")
    page.wait_for_function("() => window.bpviz.topology.config.data.name === 'digits'")
    config = page.evaluate("() => window.bpviz.topology.config")
    multiclass = [loss["name"] for loss in choices["losses"] if "multiclass" in loss["tasks"]]
    assert config["network"]["loss"] in multiclass
    assert config["data"]["samples"] == digits["max_samples"]
    assert values("#ctl-config-network-loss") == multiclass
    counts = [int(v) for v in values("#ctl-config-data-samples")]
    assert max(counts) == digits["max_samples"]


def test_inspector_shows_the_eta_of_the_step_it_shows(
    page: Any, base_url: str, screenshot: Any
) -> None:
    """The update formula plugs in the learning rate the step used, also after a rewind."""
    open_page(page, base_url, "#data=xor&hidden=3:tanh&batch=4&seed=3&opt=sgd&lr=0.03")

    def full_steps(n: int) -> None:
        step = frame(page)["step"]
        for _ in range(n):
            page.click("[data-step=step]")
        page.wait_for_function(f"() => window.bpviz.frame.step === {step + n}")
        page.wait_for_function(IDLE)

    def update_formula() -> str:
        """The inspector's formulas for weight w⁽²⁾₁₂ (selected by the first call)."""
        if page.locator("#inspector-body td[data-key=dW_update]").count() == 0:
            page.click("#network .edge-hit[data-layer='2'][data-from='1'][data-to='0']", force=True)
        page.wait_for_selector("#inspector-body td[data-key=dW_update]")
        return page.eval_on_selector_all(
            "#inspector-body .formula", "(fs) => fs.map((f) => f.textContent).join(' | ')"
        )

    full_steps(3)
    page.select_option("#ctl-config-training-learning_rate", "0.1")
    page.wait_for_function("() => location.hash.includes('lr=0.1')")
    full_steps(2)
    assert frame(page)["hyper"]["learning_rate"] == 0.1
    assert "0.1⋅" in update_formula()
    # Back to step 2, run with η = 0.03: the inspector shows 0.03, not today's 0.1.
    page.evaluate(
        """() => { const s = document.querySelector('#rewind-slider'); s.value = '2';
                   s.dispatchEvent(new Event('input')); s.dispatchEvent(new Event('change')); }"""
    )
    page.wait_for_function("() => window.bpviz.frame.viewing === 2")
    page.wait_for_function(IDLE)
    f = frame(page)
    assert f["hyper"]["learning_rate"] == 0.03
    assert page.evaluate("() => window.bpviz.state.config.training.learning_rate") == 0.1
    shown = update_formula()
    assert "0.03⋅" in shown and "0.1⋅" not in shown, shown
    dW, dWu = f["layers"][1]["dW"][0][1], f["layers"][1]["dW_update"][0][1]
    assert abs(dWu + 0.03 * dW) <= 1e-5 * abs(dWu)  # SGD: Δw = −η ∂L/∂w (6 digits on the wire)
    page.eval_on_selector(".card.inspector", "(el) => { el.scrollTop = el.scrollHeight; }")
    screenshot(page, "10-inspector-eta-of-a-past-step")


def test_inspector_loss_formula_sums_over_outputs(page: Any, base_url: str) -> None:
    """Binary cross-entropy is summed over the outputs, like every loss (docs/math.md)."""
    open_page(page, base_url, "#data=circle&loss=bce")
    text = page.text_content("#inspector-body .formula")
    assert "∑" in text and "log" in text, text
