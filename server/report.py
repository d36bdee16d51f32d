"""A standalone HTML report of a run: opens offline, with no server (plotly.js embedded).

Built from a run file (``bpviz train --out`` or the page's export): loss curves (train
and test where they were measured, and each step's batch loss), accuracy, per-layer
gradient norms, the decision boundary (or fitted curve) recomputed from the saved weights
over the page's input grid, and the config as a table; ``frontend/templates/report.html``
lays it out. Nothing in the file reaches the page but numbers and the config.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2
import numpy as np

from bpviz.core.experiment.config import to_dict
from bpviz.core.experiment.experiment import Experiment
from bpviz.core.experiment.runs import import_run
from bpviz.server.encode import jsonable


@cache
def _template() -> jinja2.Template:
    folder = Path(str(resources.files("bpviz.frontend"))) / "templates"
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(folder), autoescape=True, keep_trailing_newline=True
    )
    return env.get_template("report.html")


BLUE, ORANGE = "#2166ac", "#e66101"


def _layout(title: str, ytitle: str, log: bool = False) -> dict[str, Any]:
    return {
        "title": {"text": title, "font": {"size": 15}},
        "margin": {"l": 60, "r": 16, "t": 40, "b": 44},
        "xaxis": {"title": {"text": "step"}},
        "yaxis": {"title": {"text": ytitle}, "type": "log" if log else "linear"},
        "legend": {"orientation": "h", "y": -0.22},
        "height": 340,
    }


def _finite(v: Any) -> float | None:
    """A number of the run file as a float, anything else a gap: ``None`` for a
    non-number, a non-finite float, or an integer beyond what a float holds exactly."""
    if isinstance(v, bool) or not isinstance(v, int | float):
        return None
    if isinstance(v, int):
        return float(v) if abs(v) <= 2**53 else None
    return v if math.isfinite(v) else None


def _column(values: Any) -> list[float | None]:
    """A column of the history as numbers (anything else, a gap)."""
    return [_finite(v) for v in values] if isinstance(values, list) else []


def _points(exp: Experiment, run: dict[str, Any]) -> dict[str, Any]:
    """The history's points: those the import loaded and checked (a run with a state),
    else the file's as they are (read through :func:`_column`)."""
    if exp.steps_done > 0:
        points: dict[str, Any] = exp.history_since(0, None)["points"]
        return points
    history = run.get("history")
    raw = history.get("points") if isinstance(history, dict) else None
    return raw if isinstance(raw, dict) else {}


def _train_test(
    points: dict[str, Any], name: str, title: str, ytitle: str, line: dict[str, Any]
) -> dict[str, Any]:
    """A figure of ``train_<name>`` (solid) and ``test_<name>`` (dotted) over the steps:
    measured at some steps only, so markers at the measurements and lines across the
    gaps; for the loss also the loss of each step's own batch (``batch_loss``)."""
    measured = {**line, "mode": "lines+markers", "connectgaps": True, "marker": {"size": 4}}
    data = [
        {**measured, "y": _column(points.get(f"train_{name}")), "name": "train"},
        {
            **measured,
            "y": _column(points.get(f"test_{name}")),
            "name": "test",
            "line": {"dash": "dot"},
        },
    ]
    batch = _column(points.get("batch_loss")) if name == "loss" else []
    if any(v is not None for v in batch):
        data.insert(0, {**line, "y": batch, "name": "batch", "opacity": 0.35})
    return {"data": data, "layout": _layout(title, ytitle)}


def _figures(points: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    line = {"type": "scatter", "mode": "lines", "x": _column(points.get("step"))}
    figs = [("loss", _train_test(points, "loss", "Loss 损失", "loss", line))]
    if any(v is not None for v in _column(points.get("train_acc"))):
        figs.append(("accuracy", _train_test(points, "acc", "Accuracy 准确率", "accuracy", line)))
    rows = points.get("grad_norm")
    rows = [r if isinstance(r, list) else [] for r in rows] if isinstance(rows, list) else []
    if any(rows):
        n_layers = max(len(r) for r in rows)
        traces = []
        for layer in range(n_layers):
            ys = [r[layer] if layer < len(r) else None for r in rows]
            label = "output" if layer == n_layers - 1 else f"layer {layer + 1}"
            traces.append({**line, "y": _column(ys), "name": label})
        figs.append(
            (
                "gradients",
                {
                    "data": traces,
                    "layout": _layout("Gradient size by layer ‖∂L/∂W‖ 梯度", "norm", log=True),
                },
            )
        )
    return figs


def _output_figure(exp: Experiment) -> tuple[str, dict[str, Any]] | None:
    """Decision boundary (2-D data) or fitted curve (1-D), from the saved weights, over
    the input grid the page draws (``Experiment.input_grid``)."""
    n_features = exp.n_features
    sampled = exp.input_grid(80 if n_features == 2 else 200)
    if sampled is None:
        return None
    axes, X = sampled
    out = exp.predict(X)[:, 0]
    data_set = exp.data_summary()
    train = data_set.get("train") or {}
    Xtr = np.asarray(train.get("X", []), dtype=float).reshape(-1, n_features)
    ytr = np.asarray(train.get("y", []), dtype=float).reshape(-1)
    if n_features == 2:
        res = len(axes[0])
        data = [
            {
                "type": "heatmap",
                "x": jsonable(axes[0].round(4), rounded=False),
                "y": jsonable(axes[1].round(4), rounded=False),
                "z": jsonable(out.reshape(res, res), rounded=False),
                "colorscale": [[0, BLUE], [0.5, "#f7f7f7"], [1, ORANGE]],
                "showscale": True,
                "opacity": 0.8,
            },
            {
                "type": "scatter",
                "mode": "markers",
                "x": jsonable(Xtr[:, 0].round(4), rounded=False),
                "y": jsonable(Xtr[:, 1].round(4), rounded=False),
                "marker": {
                    "color": jsonable(ytr.round(4), rounded=False),
                    "colorscale": [[0, BLUE], [1, ORANGE]],
                    "line": {"width": 1, "color": "#1f2933"},
                    "size": 6,
                },
                "name": "train",
            },
        ]
        layout = _layout("Decision boundary 决策边界", "x₂")
        layout["xaxis"] = {"title": {"text": "x₁"}}
        layout["height"] = 400
        layout["yaxis"]["scaleanchor"] = "x"
        return "boundary", {"data": data, "layout": layout}
    data = [
        {"type": "scatter", "mode": "markers", "x": jsonable(Xtr[:, 0].round(4), rounded=False),
         "y": jsonable(ytr.round(4), rounded=False), "name": "data",
         "marker": {"color": BLUE, "size": 5}},
        {"type": "scatter", "mode": "lines", "x": jsonable(X[:, 0].round(4), rounded=False),
         "y": jsonable(out, rounded=False), "name": "network",
         "line": {"color": ORANGE, "width": 3}},
    ]  # fmt: skip
    layout = _layout("Fitted curve 拟合曲线", "y")
    layout["xaxis"] = {"title": {"text": "x"}}
    return "curve", {"data": data, "layout": layout}


def _config_rows(config: dict[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    for key, value in config.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict):
            rows.extend(_config_rows(value, path + "."))
        elif key == "hidden" and isinstance(value, list):
            text = " → ".join(f"{h['units']} {h['activation']}" for h in value) or "none"
            rows.append((path, text))
        else:
            rows.append((path, json.dumps(value)))
    return rows


def _cards(metrics: Any) -> list[tuple[str, str]]:
    """The headline numbers of the run's metrics (anything not a finite number is left out)."""
    metrics = metrics if isinstance(metrics, dict) else {}
    cards = []
    for key, label in [
        ("steps_done", "steps 步数"),
        ("train_loss", "train loss 训练损失"),
        ("test_loss", "test loss 测试损失"),
        ("train_acc", "train accuracy"),
        ("test_acc", "test accuracy 测试准确率"),
        ("test_r2", "test R²"),
    ]:
        value = _finite(metrics.get(key))
        if value is not None:
            number = metrics[key]
            cards.append((label, f"{number:,}" if isinstance(number, int) else f"{value:.4g}"))
    if metrics.get("diverged"):
        cards.append(("state", "diverged 发散"))
    return cards


def build_report(run: dict[str, Any], plotly_js: str) -> str:
    """The report as one HTML document. ``plotly_js`` is the text of plotly.min.js.

    Raises:
        RunError, ConfigError: the run cannot be imported (see ``runs.import_run``).
    """
    return render_report(import_run(run), run, plotly_js)


def render_report(exp: Experiment, run: dict[str, Any], plotly_js: str) -> str:
    """The report of ``exp``, imported from ``run`` (its history and metrics as the file
    has them)."""
    config = to_dict(exp.config)
    figs = _figures(_points(exp, run))
    output = _output_figure(exp)
    if output is not None:
        figs.insert(0, output)
    hidden = " → ".join(str(h["units"]) for h in config["network"]["hidden"])
    figures = json.dumps({name: fig for name, fig in figs}, allow_nan=False)
    return _template().render(
        title=f"bpviz run: {config['data']['name']}, hidden {hidden or 'none'}",
        stamp=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        plotly_js=plotly_js,
        cards=_cards(run.get("metrics")),
        charts=[(name, fig["layout"]["height"]) for name, fig in figs],
        config_rows=_config_rows(config),
        figures_json=figures.replace("</", "<\\/"),
    )
