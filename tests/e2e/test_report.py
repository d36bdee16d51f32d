"""The standalone HTML report renders its charts in Chromium with networking off."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bpviz.server.cli import main


def test_report_renders_offline(browser: Any, tmp_path: Path, screenshot: Any) -> None:
    config = tmp_path / "c.json"
    config.write_text(json.dumps({"data": {"name": "xor"}, "training": {"learning_rate": 0.3}}))
    run, report = tmp_path / "run.json", tmp_path / "report.html"
    assert main(["train", str(config), "--steps", "400", "--out", str(run)]) == 0
    assert main(["report", str(run), "--out", str(report)]) == 0
    context = browser.new_context(viewport={"width": 1280, "height": 900}, offline=True)
    try:
        page = context.new_page()
        requests: list[str] = []
        errors: list[str] = []
        page.on("request", lambda r: requests.append(r.url))
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.goto(report.as_uri())
        page.wait_for_function("() => document.querySelectorAll('.main-svg').length >= 4")
        charts = page.evaluate("() => document.querySelectorAll('.js-plotly-plot').length")
        assert charts == 4  # boundary, loss, accuracy, gradient norms
        heat = page.evaluate("() => document.getElementById('fig-boundary').data[0].z.length")
        assert heat == 80
        assert "xor" in page.title()
        screenshot(page, "report-offline", full_page=True)
    finally:
        context.close()
    assert [r for r in requests if not r.startswith("file://")] == []
    assert errors == []
