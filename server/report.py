"""A standalone HTML report of a run: opens offline, with no server (plotly.js embedded).

Built from a run file (``bpviz train --out`` or the page's export): loss curves, accuracy,
per-layer gradient norms, the decision boundary (or fitted curve) recomputed from the
saved weights, and the config as a table; ``frontend/templates/report.html`` lays it out.
"""

from __future__ import annotations

import json
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


def _number(v: Any) -> float | None:
    if isinstance(v, bool) or not isinstance(v, int | float) or not np.isfinite(v):
        return None
    return float(v)


def _clean(values: Any) -> list[float | None]:
    """A column of the run file as numbers (anything else, a gap)."""
    return [_number(v) for v in values] if isinstance(values, list) else []


def _points(run: dict[str, Any]) -> dict[str, Any]:
    history = run.get("history")
    points = history.get("points") if isinstance(history, dict) else None
    return points if isinstance(points, dict) else {}


def _train_test(
    points: dict[str, Any], name: str, title: str, ytitle: str, line: dict[str, Any]
) -> dict[str, Any]:
    """A figure of ``train_<name>`` (solid) and ``test_<name>`` (dotted) over the steps."""
    return {
        "data": [
            {**line, "y": _clean(points.get(f"train_{name}")), "name": "train"},
            {
                **line,
                "y": _clean(points.get(f"test_{name}")),
                "name": "test",
                "line": {"dash": "dot"},
            },
        ],
        "layout": _layout(title, ytitle),
    }


def _figures(run: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    points = _points(run)
    line = {"type": "scatter", "mode": "lines", "x": _clean(points.get("step"))}
    figs = [("loss", _train_test(points, "loss", "Loss 损失", "loss", line))]
    if any(v is not None for v in _clean(points.get("train_acc"))):
        figs.append(("accuracy", _train_test(points, "acc", "Accuracy 准确率", "accuracy", line)))
    rows = points.get("grad_norm")
    rows = [r if isinstance(r, list) else [] for r in rows] if isinstance(rows, list) else []
    if any(rows):
        n_layers = max(len(r) for r in rows)
        traces = []
        for layer in range(n_layers):
            ys = [r[layer] if layer < len(r) else None for r in rows]
            label = "output" if layer == n_layers - 1 else f"layer {layer + 1}"
            traces.append({**line, "y": _clean(ys), "name": label})
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
    """Decision boundary (2-D data) or fitted curve (1-D), from the saved weights."""
    ds = exp.dataset
    if ds.domain is None or ds.n_features not in (1, 2):
        return None
    Xtr = np.asarray(ds.X_train)
    ytr = (
        np.asarray(ds.labels_train) if ds.labels_train is not None else np.asarray(ds.Y_train)[:, 0]
    )
    if ds.n_features == 2:
        (x0, x1), (y0, y1) = ds.domain
        res = 80
        xs, ys = np.linspace(x0, x1, res), np.linspace(y0, y1, res)
        gx, gy = np.meshgrid(xs, ys)
        out = exp.predict(np.column_stack([gx.ravel(), gy.ravel()]))[:, 0]
        data = [
            {
                "type": "heatmap",
                "x": xs.round(4).tolist(),
                "y": ys.round(4).tolist(),
                "z": [_clean(row) for row in out.reshape(res, res).tolist()],
                "colorscale": [[0, BLUE], [0.5, "#f7f7f7"], [1, ORANGE]],
                "showscale": True,
                "opacity": 0.8,
            },
            {
                "type": "scatter",
                "mode": "markers",
                "x": Xtr[:, 0].round(4).tolist(),
                "y": Xtr[:, 1].round(4).tolist(),
                "marker": {
                    "color": ytr.astype(float).round(4).tolist(),
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
    ((x0, x1),) = ds.domain
    xs = np.linspace(x0, x1, 200)
    out = exp.predict(xs[:, None])[:, 0]
    data = [
        {"type": "scatter", "mode": "markers", "x": Xtr[:, 0].round(4).tolist(),
         "y": ytr.round(4).tolist(), "name": "data", "marker": {"color": BLUE, "size": 5}},
        {"type": "scatter", "mode": "lines", "x": xs.round(4).tolist(),
         "y": _clean(out.tolist()), "name": "network", "line": {"color": ORANGE, "width": 3}},
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
        value = metrics.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool) and np.isfinite(value):
            cards.append((label, f"{value:,}" if isinstance(value, int) else f"{value:.4g}"))
    if metrics.get("diverged"):
        cards.append(("state", "diverged 发散"))
    return cards


def build_report(run: dict[str, Any], plotly_js: str) -> str:
    """The report as one HTML document. ``plotly_js`` is the text of plotly.min.js.

    Raises:
        RunError, ConfigError: the run cannot be imported (see ``runs.import_run``).
    """
    exp = import_run(run)
    config = to_dict(exp.config)
    figs = _figures(run)
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
