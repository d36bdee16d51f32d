"""A standalone HTML report of a run: opens offline, with no server (plotly.js embedded).

Built from a run file (``bpviz train --out`` or the page's export): loss curves, accuracy,
per-layer gradient norms, the decision boundary (or fitted curve) recomputed from the
saved weights, and the config as a table.
"""

from __future__ import annotations

import html
import json
from datetime import UTC, datetime
from typing import Any

import numpy as np

from bpviz.core.experiment import config as core_config
from bpviz.server.runs import import_run, run_config

_CSS = """
body { font: 15px/1.5 system-ui, sans-serif; color: #1f2933; margin: 0; background: #f5f7fa; }
main { max-width: 1100px; margin: 0 auto; padding: 24px; }
h1 { font-size: 26px; margin: 0 0 4px; } h2 { font-size: 18px; margin: 28px 0 8px; }
.sub { color: #52606d; margin: 0 0 16px; }
.grid { display: grid; grid-template-columns: 1fr 1fr; gap: 16px; }
.card { background: #fff; border: 1px solid #d9e2ec; border-radius: 8px; padding: 12px; }
.chart { height: 340px; }
table { border-collapse: collapse; width: 100%; background: #fff; }
td, th { border: 1px solid #d9e2ec; padding: 4px 10px; text-align: left; }
th { background: #f0f4f8; } td.num { font-variant-numeric: tabular-nums; }
.metrics { display: flex; gap: 16px; flex-wrap: wrap; }
.metric { background: #fff; border: 1px solid #d9e2ec; border-radius: 8px; padding: 8px 14px; }
.metric b { display: block; font-size: 20px; }
"""

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


def _output_figure(run: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
    """Decision boundary (2-D data) or fitted curve (1-D), from the saved weights."""
    exp = import_run(run)
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
        out = exp.network.predict(np.column_stack([gx.ravel(), gy.ravel()]))[:, 0]
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
    out = exp.network.predict(xs[:, None])[:, 0]
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


def build_report(run: dict[str, Any], plotly_js: str) -> str:
    """The report as one HTML document. ``plotly_js`` is the text of plotly.min.js."""
    config = core_config.to_dict(run_config(run))
    figs = _figures(run)
    output = _output_figure(run)
    if output is not None:
        figs.insert(0, output)
    metrics = run.get("metrics")
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
            text = f"{value:,}" if isinstance(value, int) else f"{value:.4g}"
            cards.append(f'<div class="metric">{html.escape(label)}<b>{text}</b></div>')
    if metrics.get("diverged"):
        cards.append('<div class="metric">state<b>diverged 发散</b></div>')
    divs = "\n".join(
        f'<div class="card"><div id="fig-{name}" class="chart" '
        f'style="height:{fig["layout"]["height"]}px"></div></div>'
        for name, fig in figs
    )
    specs = json.dumps({name: fig for name, fig in figs}, allow_nan=False).replace("</", "<\\/")
    rows = "\n".join(
        f"<tr><th>{html.escape(k)}</th><td class='num'>{html.escape(v)}</td></tr>"
        for k, v in _config_rows(config)
    )
    hidden = " → ".join(str(h["units"]) for h in config["network"]["hidden"])
    title = f"bpviz run: {config['data']['name']}, hidden {hidden or 'none'}"
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title><style>{_CSS}</style>
<script>{plotly_js}</script></head>
<body><main>
<h1>{html.escape(title)}</h1>
<p class="sub">Report of a bpviz run · 训练报告 · made {stamp} · opens offline</p>
<div class="metrics">{"".join(cards)}</div>
<h2>Charts 图表</h2>
<div class="grid">{divs}</div>
<h2>Config 配置</h2>
<table>{rows}</table>
</main>
<script>
const figures = {specs};
for (const [name, fig] of Object.entries(figures)) {{
  Plotly.newPlot("fig-" + name, fig.data, fig.layout, {{responsive: true, displaylogo: false}});
}}
</script>
</body></html>
"""
