"""The HTML report: from the CLI and from POST /api/report, and robust to bad run files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bpviz.server.cli import main
from bpviz.server.report import build_report
from bpviz.server.settings import Settings

from .conftest import Conn


@pytest.fixture
def run(conn: Conn) -> dict[str, Any]:
    conn.send(type="step", unit="step", count=20)
    conn.until("frame")
    conn.send(type="export")
    result: dict[str, Any] = conn.until("export")["run"]
    return result


def test_report_from_an_exported_run(run: dict[str, Any]) -> None:
    html = build_report(run, "/* plotly */")
    assert html.startswith("<!doctype html>") and "/* plotly */" in html
    assert 'id="fig-boundary"' in html and 'id="fig-loss"' in html
    assert "xavier_normal" in html and "Config 配置" in html
    assert "http://" not in html and "https://" not in html


def test_post_report(client: TestClient, run: dict[str, Any]) -> None:
    r = client.post("/api/report", json=run)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    assert "attachment" in r.headers["content-disposition"]
    assert "Plotly.newPlot" in r.text and len(r.text) > 1_000_000  # plotly.js inside


@pytest.mark.parametrize(
    ("body", "loc", "code"),
    [
        (b"not json", ["body"], "bad_json"),
        (b"[1, 2]", ["body"], "invalid_run"),
        (
            json.dumps(
                {"format": "bpviz-run", "version": 1, "config": {"seed": -1}, "weights": []}
            ).encode(),
            ["body", "config", "seed"],
            "too_small",
        ),
        (json.dumps({"format": "x"}).encode(), ["body", "format"], "literal_error"),
    ],
)
def test_post_report_rejects_bad_runs(
    client: TestClient, body: bytes, loc: list[str], code: str
) -> None:
    r = client.post("/api/report", content=body)
    assert r.status_code == 422
    first = r.json()["detail"][0]
    assert first["loc"] == loc and first["msg"] and first["type"] == code


@pytest.mark.parametrize(
    ("path", "value", "loc"),
    [
        ("steps_done", -1, ["body", "state", "steps_done"]),
        ("current_epoch", 2.5, ["body", "state", "current_epoch"]),
        ("pos", 10**30, ["body", "state", "pos"]),
        ("params", {"dtype": "float64", "shape": [2], "data": "%%"}, ["body", "state", "params"]),
        ("perm", [0, 0], ["body", "state"]),
    ],
)
def test_post_report_names_a_crafted_state_field(
    client: TestClient, run: dict[str, Any], path: str, value: Any, loc: list[str]
) -> None:
    bad = {**run, "state": {**run["state"], path: value}}
    r = client.post("/api/report", json=bad)
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == loc


@pytest.mark.parametrize("settings", [Settings(max_import_bytes=2048)])
def test_post_report_refuses_large_bodies(client: TestClient) -> None:
    r = client.post("/api/report", content=b" " * 5000)
    assert r.status_code == 413


junk = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=5), c, max_size=3),
    max_leaves=10,
)


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(history=junk, metrics=junk)
def test_report_survives_junk_history_and_metrics(history: Any, metrics: Any) -> None:
    run = {
        "format": "bpviz-run",
        "version": 1,
        "config": {"data": {"name": "square"}, "network": {"hidden": [{"units": 4}]}},
        "weights": [{"W": [[0.1]] * 4, "b": [0.0] * 4}, {"W": [[0.2] * 4], "b": [0.0]}],
        "history": history,
        "metrics": metrics,
    }
    assert build_report(run, "").startswith("<!doctype html>")


def test_cli_report_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", str(tmp_path / "missing.json")]) == 2
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "bpviz-run", "version": 1, "weights": 3}')
    assert main(["report", str(bad)]) == 2
    assert "bpviz: error:" in capsys.readouterr().err
