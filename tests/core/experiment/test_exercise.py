"""A lesson written by hand: a typed table, the output activation, given weights, input
features, and a weight edited between steps — validated with paths, built, and exact
across a rewind and an export."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from bpviz.core.data.csv import CsvFile, csv_hash
from bpviz.core.engine.edits import ParamError
from bpviz.core.experiment.build import build
from bpviz.core.experiment.config import ConfigError, FieldError, to_dict, validate
from bpviz.core.experiment.experiment import Experiment
from bpviz.core.experiment.rewind import Rewind
from bpviz.core.experiment.runs import export_run, import_run

ROOT = Path(__file__).resolve().parents[3]
TEXTBOOK: dict[str, Any] = json.loads(
    (ROOT / "frontend" / "static" / "presets" / "textbook.json").read_text(encoding="utf-8")
)
TABLE = {"name": "table", "x": [[0.0, 1.0], [1.0, 0.0], [1.0, 1.0]], "y": [[1.0], [1.0], [0.0]]}


def errors_of(obj: object) -> list[FieldError]:
    with pytest.raises(ConfigError) as info:
        validate(obj)
    return info.value.errors


def where(obj: object) -> list[tuple[str, str]]:
    return [(e.field, e.code) for e in errors_of(obj)]


def make(cfg: dict[str, Any]) -> Experiment:
    return build(validate(cfg))


def wire(obj: Any) -> Any:
    return json.loads(json.dumps(obj, default=lambda a: a.tolist()))


# ------------------------------------------------------------------ the config


def test_the_textbook_config_round_trips() -> None:
    cfg = validate(TEXTBOOK)
    assert cfg.data.name == "table" and cfg.network.loss == "mse"
    assert (cfg.network.output_activation, cfg.network.output) == ("sigmoid", "sigmoid")
    assert cfg.network.weights[1].W == ((0.4, 0.45), (0.5, 0.55))
    out = to_dict(cfg)
    assert out["data"]["x"] == [[0.05, 0.1]] and out["network"]["weights"][0]["b"] == [0.35, 0.35]
    assert validate(out) == cfg
    assert validate(json.loads(json.dumps(out))) == cfg


def test_the_new_keys_stay_out_of_a_config_that_does_not_use_them() -> None:
    out = to_dict(validate({"data": {"name": "xor"}}))
    assert set(out["data"]) == {"name", "samples", "noise", "test_fraction"}
    assert "output_activation" not in out["network"] and "weights" not in out["network"]
    assert (
        to_dict(validate({"data": {"name": "xor", "x": [[1]]}}))["data"].keys()
        == out["data"].keys()
    )


def test_a_table_names_no_loss_gets_mse() -> None:
    assert validate({"data": TABLE}).network.loss == "mse"
    assert validate({"data": TABLE, "network": {"loss": "bce"}}).network.output == "sigmoid"


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"name": "table"}, [("data.x", "too_small"), ("data.y", "too_small")]),
        ({"name": "table", "x": [[1, 2], [3], [4, 5, 6]], "y": [[1]] * 3},
         [("data.x.1", "shape"), ("data.x.2", "shape")]),
        ({"name": "table", "x": [[1]] * 3, "y": [[1]] * 2}, [("data.y", "shape")]),
        ({"name": "table", "x": [[1, math.nan]], "y": [[1]]}, [("data.x.0.1", "not_finite")]),
        ({"name": "table", "x": [[1]], "y": [[math.inf]]}, [("data.y.0.0", "not_finite")]),
        ({"name": "table", "x": [[1, "2"]], "y": [[1]]}, [("data.x.0.1", "type")]),
        ({"name": "table", "x": [[1]] * 33, "y": [[1]] * 33},
         [("data.x", "too_large"), ("data.y", "too_large")]),
        ({"name": "table", "x": [[1] * 65], "y": [[1]]}, [("data.x.0", "too_large")]),
        ({"name": "table", "x": [[1]], "y": [[1] * 17]}, [("data.y.0", "too_large")]),
        ({"name": "table", "x": [[]], "y": [[1]]}, [("data.x.0", "too_small")]),
        ({"name": "table", "x": "1 2", "y": [[1]]}, [("data.x", "type")]),
        ({"name": "table", "x": [1, 2], "y": [[1]]}, [("data.x.0", "type"), ("data.x.1", "type")]),
    ],
)  # fmt: skip
def test_a_table_s_shape_and_numbers(data: dict[str, Any], expected: list[tuple[str, str]]) -> None:
    assert where({"data": data}) == expected


def test_targets_must_fit_the_loss() -> None:
    x = [[0.0], [1.0], [2.0]]
    bce = {"data": {"name": "table", "x": x, "y": [[0], [0.5], [2]]}, "network": {"loss": "bce"}}
    assert where(bce) == [("data.y.1.0", "incompatible"), ("data.y.2.0", "incompatible")]
    err = errors_of(bce)[0]
    assert err.params == {
        "field": "data.y.1.0",
        "loss": "bce",
        "dataset": "table",
        "allowed": ["mse"],
    }
    two = {"data": {"name": "table", "x": x, "y": [[0, 1]] * 3}, "network": {"loss": "bce"}}
    assert where(two) == [("data.y", "incompatible")]
    sm = {"network": {"loss": "softmax_ce"}}
    one_hot = {"name": "table", "x": x, "y": [[0, 1, 0], [1, 1, 0], [0, 0, 0]]}
    assert where({"data": one_hot, **sm}) == [
        ("data.y.1", "incompatible"),
        ("data.y.2", "incompatible"),
    ]
    classes = {"name": "table", "x": x, "y": [[0], [-1], [1.5]]}
    assert where({"data": classes, **sm}) == [
        ("data.y.1.0", "incompatible"),
        ("data.y.2.0", "incompatible"),
    ]
    assert where({"data": {"name": "table", "x": x, "y": [[16]] * 3}, **sm}) == [
        ("data.y.0.0", "incompatible"), ("data.y.1.0", "incompatible"), ("data.y.2.0", "incompatible")
    ]  # fmt: skip
    assert validate({"data": {"name": "table", "x": x, "y": [[0], [2], [1]]}, **sm})
    # mse takes any finite targets
    assert validate({"data": {"name": "table", "x": x, "y": [[-7.5], [1e6], [0]]}})


def test_the_output_activation_must_fit_the_loss() -> None:
    assert validate(
        {"data": {"name": "plane"}, "network": {"loss": "mse", "output_activation": "tanh"}}
    )
    assert validate({"network": {"loss": "bce", "output_activation": "sigmoid"}})
    assert where({"network": {"loss": "bce", "output_activation": "linear"}}) == [
        ("network.output_activation", "incompatible")
    ]
    err = errors_of({"data": {"name": "digits"}, "network": {"output_activation": "tanh"}})[0]
    assert err.params == {
        "field": "network.output_activation",
        "loss": "softmax_ce",
        "allowed": ["auto", "softmax"],
    }
    assert where({"network": {"output_activation": "relu"}}) == [
        ("network.output_activation", "choice")
    ]


def test_given_weights_must_fit_the_network() -> None:
    net = {"hidden": [{"units": 2, "activation": "sigmoid"}]}
    ok = [{"W": [[1, 2], [3, 4]], "b": [0, 0]}, {"W": [[1, 2]], "b": [0]}]
    assert validate({"data": {"name": "xor"}, "network": {**net, "weights": ok}})
    assert where({"network": {**net, "weights": ok[:1]}}) == [("network.weights", "shape")]
    bad = [{"W": [[1, 2], [3]], "b": [0, 0, 0]}, {"W": [[1, 2], [1, 2]], "b": [0]}]
    assert where({"network": {**net, "weights": bad}}) == [
        ("network.weights.0.W.1", "shape"),
        ("network.weights.0.b", "shape"),
        ("network.weights.1.W", "shape"),
    ]
    err = errors_of({"network": {**net, "weights": bad}})[1]
    assert err.params == {"field": "network.weights.0.b", "expected": 2, "got": 3}
    assert where(
        {"network": {**net, "weights": [{"W": [[math.nan, 1], [1, 1]], "b": [0, 0]}, ok[1]]}}
    ) == [("network.weights.0.W.0.0", "not_finite")]
    assert where({"network": {**net, "weights": [{"W": [[1, 1], [1, 1]]}, ok[1]]}}) == [
        ("network.weights.0.b", "missing")
    ]
    assert where({"network": {**net, "weights": [{**ok[0], "c": 1}, ok[1]]}}) == [
        ("network.weights.0.c", "unknown_key")
    ]
    assert where({"network": {**net, "weights": [ok[0]] * 18}}) == [
        ("network.weights", "too_large")
    ]
    # a table's widths; softmax-CE with class numbers has one output per class
    table = {"name": "table", "x": [[1, 2, 3]], "y": [[2]]}
    w3 = [{"W": [[0, 0, 0]] * 2, "b": [0, 0]}, {"W": [[0, 0]] * 3, "b": [0] * 3}]
    assert validate({"data": table, "network": {**net, "loss": "softmax_ce", "weights": w3}})
    assert where({"data": table, "network": {**net, "loss": "softmax_ce", "weights": ok}}) == [
        ("network.weights.0.W.0", "shape"), ("network.weights.0.W.1", "shape"),
        ("network.weights.1.W", "shape"), ("network.weights.1.b", "shape"),
    ]  # fmt: skip


def test_numbers_beyond_float32_are_refused_on_a_float32_network() -> None:
    """Given weights or table cells past float32's range would be ±inf once cast: refused
    at their cell (a configure of such weights was an internal error)."""
    net = {"dtype": "float32", "hidden": [{"units": 1}]}
    weights = [{"W": [[1e39, 0]], "b": [0]}, {"W": [[1]], "b": [-1e39]}]
    assert where({"data": {"name": "xor"}, "network": {**net, "weights": weights}}) == [
        ("network.weights.0.W.0.0", "not_finite"),
        ("network.weights.1.b.0", "not_finite"),
    ]
    table = {"name": "table", "x": [[1.0, 3e38], [1.0, -4e38]], "y": [[1], [0]]}
    assert where({"data": table, "network": {**net, "hidden": []}}) == [
        ("data.x.1.1", "not_finite")
    ]
    assert validate({"data": table, "network": {"hidden": []}})  # float64 holds them
    assert validate({"network": {"hidden": [{"units": 1}], "weights": weights}})


def test_given_weights_count_toward_the_parameter_limit() -> None:
    row = [0.0] * 256
    big = [{"W": [row] * 256, "b": [0.0] * 256}] * 5
    assert ("network.weights", "too_many_parameters") in where({"network": {"weights": big}})


def test_features() -> None:
    cfg = validate({"data": {"name": "xor", "features": ["sin_x2", "x1", "x1sq", "x1"]}})
    assert cfg.data.features == ("x1", "x1sq", "sin_x2")  # the registry's order, once each
    assert to_dict(cfg)["data"]["features"] == ["x1", "x1sq", "sin_x2"]
    assert validate(to_dict(cfg)) == cfg
    assert where({"data": {"name": "square", "features": ["x1", "x1sq"]}}) == [
        ("data.features", "shape")
    ]
    assert where({"data": {"name": "digits", "features": ["x1"]}}) == [("data.features", "shape")]
    assert validate({"data": {"name": "digits", "features": ["x1", "x2"]}})  # the default: fine
    assert where({"data": {"name": "xor", "features": []}}) == [("data.features", "too_small")]
    assert where({"data": {"name": "xor", "features": ["x3"]}}) == [("data.features.0", "choice")]
    assert where({"data": {"name": "xor", "features": "x1"}}) == [("data.features", "type")]
    table = {"name": "table", "x": [[1, 2, 3]], "y": [[1]], "features": ["x1sq"]}
    assert where({"data": table}) == [("data.features", "shape")]
    # the network's inputs are the features: given weights and the parameter count see them
    net = {"hidden": [], "weights": [{"W": [[1, 2]], "b": [0]}]}
    assert where({"data": {"name": "xor", "features": ["x1", "x2", "x1x2"]}, "network": net}) == [
        ("network.weights.0.W.0", "shape")
    ]


# ------------------------------------------------------------------ the build


def test_the_textbook_exercise_by_hand() -> None:
    """Matt Mazur's step by step example: the engine's first step equals the hand numbers."""
    exp = make(TEXTBOOK)
    np.testing.assert_array_equal(exp.network.layers[0].W, [[0.15, 0.2], [0.25, 0.3]])
    exp.step()
    assert exp.trace is not None and exp.trace.loss == pytest.approx(0.298371109, abs=1e-9)
    W1, _ = exp.network.get_weights()[0]
    W2, _ = exp.network.get_weights()[1]
    assert W2[0, 0] == pytest.approx(0.35891648, abs=1e-8)
    assert W1[0, 0] == pytest.approx(0.149780716, abs=1e-9)
    exp.reset()  # back to the given weights
    np.testing.assert_array_equal(exp.network.layers[1].b, [0.6, 0.6])


def test_a_table_has_no_test_set_and_is_not_scaled() -> None:
    exp = make(
        {"data": {**TABLE, "samples": 10, "test_fraction": 0.5}, "training": {"batch_size": 5}}
    )
    assert (exp.n_train, exp.dataset.n_test) == (3, 0)
    m = exp.metrics()
    assert m["test_loss"] is None and m["train_r2"] is not None
    exp.run_steps(3)
    assert exp.steps_done == 3  # batch_size 5 on 3 rows: the whole table each step
    cls = make({"data": {**TABLE, "y": [[1], [2], [0]]}, "network": {"loss": "softmax_ce"}})
    assert cls.network.spec.n_out == 3 and cls.metrics()["confusion"] is not None


def test_given_weights_with_batchnorm_set_beta() -> None:
    weights = [{"W": [[1, 2], [3, 4]], "b": [0.5, -0.5]}, {"W": [[1, 1]], "b": [0.25]}]
    exp = make(
        {
            "data": {"name": "xor"},
            "network": {"hidden": [{"units": 2}], "batchnorm": True, "weights": weights},
        }
    )
    layer = exp.network.layers[0]
    assert layer.bn is not None
    np.testing.assert_array_equal(layer.b, [0.5, -0.5])  # β
    np.testing.assert_array_equal(layer.bn.gamma, [1, 1])
    np.testing.assert_array_equal(exp.network.layers[1].b, [0.25])


def test_features_reach_the_network_and_the_grid() -> None:
    feats = ["x1", "x2", "x1sq", "x2sq", "x1x2", "sin_x1", "sin_x2"]
    exp = make({"data": {"name": "circle", "samples": 60, "features": feats}})
    assert (exp.n_features, exp.n_inputs, exp.network.spec.n_in) == (7, 2, 7)
    axes, X = exp.input_grid(5) or (None, None)
    assert axes is not None and X is not None and X.shape == (25, 7)
    gx, gy = np.meshgrid(axes[0], axes[1])
    np.testing.assert_allclose(X[:, 2], gx.ravel() ** 2)
    np.testing.assert_allclose(X[:, 6], np.sin(gy.ravel()))
    summary = exp.data_summary()
    assert (
        summary["features"] == feats
        and summary["n_inputs"] == 2
        and len(summary["train"]["X"][0]) == 2
    )
    exp.run_steps(2)
    hidden = exp.activations(X)[1:-1]
    assert [a.shape for a in hidden] == [(25, 4), (25, 2)]


CSV = "a,b,c,y\n" + "".join(f"{i % 3},{i % 5},{i % 7},{i % 2}\n" for i in range(30))


def test_a_csv_is_checked_once_loaded() -> None:
    file = CsvFile(csv_hash(CSV), "d.csv", CSV)
    files = {file.hash: file}
    cfg = validate({"data": {"name": "csv", "csv": file.hash, "features": ["x1", "x1sq"]}})
    with pytest.raises(ConfigError) as info:
        build(cfg, files)
    assert [(e.field, e.code) for e in info.value.errors] == [("data.features", "shape")]
    net = {"hidden": [], "weights": [{"W": [[1, 2]], "b": [0]}]}
    with pytest.raises(ConfigError) as info:
        build(validate({"data": {"name": "csv", "csv": file.hash}, "network": net}), files)
    assert [(e.field, e.code) for e in info.value.errors] == [("network.weights.0.W.0", "shape")]
    net["weights"] = [{"W": [[1, 2, 3]], "b": [0]}]
    exp = build(validate({"data": {"name": "csv", "csv": file.hash}, "network": net}), files)
    np.testing.assert_array_equal(exp.network.layers[0].W, [[1, 2, 3]])


# ------------------------------------------------------------------ an edit between steps


def edited_run(rw: Rewind | None = None) -> Experiment:
    exp = make(
        {"data": {"name": "xor", "samples": 60}, "training": {"optimizer": "adam", "batch_size": 7}}
    )
    for _ in range(4):
        exp.step()
        if rw is not None:
            rw.maybe_record(exp)
    exp.set_param(1, "W", [2, 1], 0.5)
    exp.set_param(2, "b", [0], -0.25)
    if rw is not None:
        rw.record(exp)  # what the session does after an edit
    return exp


def test_an_edit_is_used_from_the_next_step() -> None:
    exp = edited_run()
    assert exp.network.layers[0].W[2, 1] == 0.5
    exp.step_phase()
    with pytest.raises(ParamError) as info:
        exp.set_param(1, "W", [0, 0], 1.0)
    assert info.value.code == "mid_step"
    with pytest.raises(ParamError):
        exp.set_param(4, "W", [0, 0], 1.0)


@pytest.mark.parametrize("interval", [1, 32])
def test_seek_back_before_the_edit_and_forward_again_is_exact(interval: int) -> None:
    rw = Rewind()
    rw.fast = interval > 1
    exp = edited_run(rw)
    at_edit = exp.network.params.copy()
    for _ in range(5):
        exp.step()
        rw.maybe_record(exp)
    live = exp.network.params.copy()
    rw.record(exp)
    for step in (2, 4, 6, 9):  # before, at and after the edit (step 4 ends on the edit)
        rw.show(exp, step)
        assert exp.steps_done == step
        if step == 4:
            np.testing.assert_array_equal(exp.network.params, at_edit)
    rw.show(exp, 9)
    np.testing.assert_array_equal(exp.network.params, live)
    rw.show(exp, 4)
    rw.branch(exp, 4, 9)  # going on from the edit's step replays the same numbers
    for _ in range(5):
        exp.step()
    np.testing.assert_array_equal(exp.network.params, live)
    rw.show(exp, 3)
    rw.branch(exp, 3, 9)  # from before the edit: a run without it
    exp.step()
    assert exp.network.layers[0].W[2, 1] != 0.5


def used_weights(exp: Experiment, layer: int) -> tuple[np.ndarray, np.ndarray]:
    """W and b as the trace's step used them, the way a frame lets the page work them out:
    as the update left them (``W_updated`` after a hand edit, else today's) minus ΔW."""
    trace = exp.trace
    assert trace is not None
    lt = trace.layers[layer - 1]
    net = exp.network.layers[layer - 1]
    W = net.W if lt.W_updated is None else lt.W_updated
    b = net.b if lt.b_updated is None else lt.b_updated
    assert lt.dW_update is not None and lt.db_update is not None
    return W - lt.dW_update, b - lt.db_update


def z_of(exp: Experiment, layer: int) -> np.ndarray:
    trace = exp.trace
    assert trace is not None and trace.layers[layer - 1].a_prev is not None
    W, b = used_weights(exp, layer)
    out: np.ndarray = trace.layers[layer - 1].a_prev @ W.T + b
    return out


def test_after_an_edit_the_trace_still_says_which_weights_its_step_used() -> None:
    """An edit after a step changes today's weights, not the step's: the trace keeps the
    edited layers as the update left them, so W_updated − ΔW gives the step's z (the page
    once showed edited − ΔW: a weight that never was). Also after a seek to that step."""
    rw = Rewind()
    exp = make({"data": {"name": "xor", "samples": 60}, "training": {"batch_size": 7}})
    for _ in range(4):
        exp.step()
        rw.maybe_record(exp)
    trace = exp.trace
    assert trace is not None
    z1, z2 = (trace.layers[k].z.copy() for k in (0, 1))  # type: ignore[union-attr]
    before = exp.network.layers[0].W.copy()
    exp.set_param(1, "W", [2, 1], 0.5)
    exp.set_param(1, "W", [0, 0], -0.5)  # a second edit keeps the first's "before"
    rw.record(exp)
    lt = trace.layers
    assert lt[0].W_updated is not None and lt[1].W_updated is None  # only the edited layer
    np.testing.assert_array_equal(lt[0].W_updated, before)
    np.testing.assert_allclose(z_of(exp, 1), z1, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(z_of(exp, 2), z2, rtol=1e-12, atol=1e-12)
    for _ in range(3):
        exp.step()
        rw.maybe_record(exp)
    assert exp.trace is not None and exp.trace.layers[0].W_updated is None  # a new step
    rw.show(exp, 4)  # the step before the edit, with the edit's weights from there on
    assert exp.network.layers[0].W[2, 1] == 0.5
    np.testing.assert_allclose(z_of(exp, 1), z1, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(z_of(exp, 2), z2, rtol=1e-12, atol=1e-12)
    rw.show(exp, 3)  # no edit after step 3
    assert exp.trace is not None and exp.trace.layers[0].W_updated is None


def test_export_and_import_after_an_edit_give_the_same_next_steps() -> None:
    exp = edited_run()
    run = wire(export_run(exp))
    again = import_run(run)
    np.testing.assert_array_equal(again.network.params, exp.network.params)
    for e in (exp, again):
        e.run_steps(6)
    np.testing.assert_array_equal(again.network.params, exp.network.params)
    assert run["config"] == to_dict(exp.config)


def test_the_docs_show_the_preset() -> None:
    text = (ROOT / "docs" / "lessons.md").read_text(encoding="utf-8")
    block = text.split("```json\n", 1)[1].split("```", 1)[0]
    assert json.loads(block) == TEXTBOOK
