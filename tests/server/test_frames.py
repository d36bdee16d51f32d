"""Frames, grids, topologies and inspections: pure functions of an experiment and a view."""

from __future__ import annotations

import base64
import json
from typing import Any

import numpy as np
import pytest
from pydantic import TypeAdapter

from bpviz.core.experiment import config as core_config
from bpviz.core.experiment.build import build
from bpviz.core.experiment.experiment import Experiment
from bpviz.server import encode, frames
from bpviz.server.frames import (
    LARGE_LAYER,
    RESET_POINTS,
    HistoryFeed,
    MetricsFeed,
    View,
)
from bpviz.server.protocol import Hyper, Metrics, server_adapter

RANGE = {"first": 0, "last": 0, "count": 1}


def experiment(**config: Any) -> Experiment:
    return build(core_config.validate(config))


def wire(message: Any) -> dict[str, Any]:
    """The message as the client gets it, checked against its model."""
    out: dict[str, Any] = json.loads(encode.dumps(message))
    server_adapter.validate_python(out)
    return out


def frame(exp: Experiment, view: View | None = None) -> dict[str, Any]:
    return wire(frames.frame(exp, view or View(), None, exp.metrics(), RANGE))


def test_before_the_first_step_a_frame_has_weights_and_nothing_computed() -> None:
    exp = experiment()
    f = frame(exp)
    assert f["step"] == 0 and f["batch"] == [] and f["x"] is None and f["loss"] is None
    assert f["cursor"] == {"index": 0, "kind": "forward", "layer": 1}
    assert f["last_phase"] is None
    for got, layer in zip(f["layers"], exp.layers, strict=True):
        assert got["W"] == encode.jsonable(layer.W)
        assert got["z"] is None and got["dW"] is None and got["fprime_hist"] is None
        assert got["norms"] == {"delta": None, "dW": None, "dW_over_W": None}


def test_phase_by_phase_the_frame_shows_what_the_trace_holds() -> None:
    exp = experiment()
    exp.step_phase()
    f = frame(exp)
    assert f["last_phase"] == {"index": 0, "kind": "forward", "layer": 1}
    assert f["layers"][0]["a"] is not None and f["layers"][1]["a"] is None
    while exp.cursor != 0:
        exp.step_phase()
    f = frame(exp)
    assert f["last_phase"]["kind"] == "update" and f["step"] == 1
    trace = exp.trace
    assert trace is not None
    assert f["batch"] == trace.batch.tolist()
    assert f["layers"][-1]["delta"] == encode.jsonable(trace.layers[-1].delta[0])
    assert f["layers"][0]["dW_update"] == encode.jsonable(trace.layers[0].dW_update)


def test_focus_is_clamped_to_the_batch() -> None:
    exp = experiment()
    exp.step()
    trace = exp.trace
    assert trace is not None
    f = frame(exp, View(focus=10_000))
    assert f["example"] == len(trace.batch) - 1
    assert f["x"] == encode.jsonable(trace.x[-1])


def test_playing_frames_carry_weights_but_not_gradients() -> None:
    exp = experiment()
    exp.step()
    f = frame(exp, View(playing=True, steps_per_second=123.0))
    layer = f["layers"][0]
    assert layer["W"] is not None and layer["z"] is not None
    assert layer["dW"] is layer["db"] is layer["dW_update"] is layer["db_update"] is None
    assert f["playing"] is True and f["steps_per_second"] == 123.0
    assert frame(exp, View(steps_per_second=123.0))["steps_per_second"] is None


def test_large_layers_leave_their_matrices_out() -> None:
    exp = experiment(network={"hidden": [{"units": 64}, {"units": 64}]})
    exp.step()
    f = frame(exp)
    assert exp.layers[1].W.size > LARGE_LAYER
    assert f["layers"][1]["large"] is True and f["layers"][1]["W"] is None
    assert f["layers"][1]["dW"] is None and f["layers"][1]["db"] is not None
    assert f["layers"][0]["large"] is False and f["layers"][0]["W"] is not None


def test_the_frame_carries_the_hyper_parameters_of_its_step() -> None:
    exp = experiment(training={"learning_rate": 0.25, "optimizer": "adam"})
    hyper = frame(exp)["hyper"]
    assert list(hyper) == list(Hyper.__annotations__)
    assert hyper["learning_rate"] == 0.25 and hyper["optimizer"] == "adam"
    exp.step()
    assert frame(exp)["hyper"]["learning_rate"] == 0.25


def test_metrics_fit_their_model() -> None:
    exp = experiment()
    TypeAdapter(Metrics).validate_python(exp.metrics())  # nothing missing, nothing unknown


def test_topology() -> None:
    exp = experiment(network={"hidden": [{"units": 3}] * 3, "batchnorm": True, "residual": True})
    t = wire(frames.topology(exp, RANGE))
    assert [(x["batchnorm"], x["residual"]) for x in t["layers"]] == [
        (True, False), (True, True), (True, True), (False, False)
    ]  # fmt: skip
    assert [p["kind"] for p in t["phases"]] == ["forward"] * 4 + ["loss"] + ["backward"] * 4 + [
        "update"
    ]
    assert t["n_params"] == exp.n_params and t["data"]["name"] == "circle"
    assert t["rewind"] == RANGE


def test_a_2d_grid_is_quantized_output_and_thumbnails() -> None:
    exp = experiment()
    g = wire(frames.grid(exp, 8, 4))
    assert g["kind"] == "2d" and g["resolution"] == 8
    assert len(base64.b64decode(g["output"]["data"])) == 64
    assert [len(layer) for layer in g["neurons"]] == [4, 2]
    assert len(base64.b64decode(g["neurons"][0][0]["data"])) == 16
    out = exp.predict(exp.input_grid(8)[1])[:, 0]  # type: ignore[index]
    lo, hi = g["output"]["min"], g["output"]["max"]
    decoded = lo + (hi - lo) * np.frombuffer(base64.b64decode(g["output"]["data"]), np.uint8) / 255
    np.testing.assert_allclose(decoded, out, atol=(hi - lo) / 255)


def test_a_1d_grid_is_curves_and_other_data_has_none() -> None:
    g = wire(frames.grid(experiment(data={"name": "square"}), 48, 20))
    assert g["kind"] == "1d" and g["resolution"] == frames.CURVE_POINTS
    assert len(g["output"]["x"]) == len(g["neurons"][0][0]["y"]) == frames.CURVE_POINTS
    digits = experiment(data={"name": "digits", "samples": 100}, network={"loss": "softmax_ce"})
    assert frames.grid(digits, 48, 20) is None


def test_quantize_survives_non_finite_values() -> None:
    q = frames.quantize(np.array([0.0, np.nan, 1.0, np.inf]))
    assert q["min"] == 0.0 and q["max"] == 1.0
    assert list(base64.b64decode(q["data"]))[::2] == [0, 255]
    assert frames.quantize(np.array([np.nan]))["data"] == ""


def test_inspected() -> None:
    exp = experiment()
    exp.step()
    trace = exp.trace
    assert trace is not None
    got = wire(frames.inspected(exp, 2, 1, 3))
    assert got["W"] == encode.jsonable(exp.layers[0].W[3])
    assert got["a_prev"] == encode.jsonable(trace.layers[0].a_prev[2])
    assert got["W_next"] == encode.jsonable(exp.layers[1].W[:, 3])
    assert got["delta_next"] == encode.jsonable(trace.layers[1].delta[2])
    assert got["W_next_update"] == encode.jsonable(trace.layers[1].dW_update[:, 3])
    last = wire(frames.inspected(exp, 0, 3, 0))
    assert last["W_next"] is None and last["delta_next"] is None
    assert last["W_next_update"] is None
    assert frames.inspected(exp, 0, 1, 4) is None and frames.inspected(exp, 0, 4, 0) is None


def test_an_inspection_gives_the_weights_the_step_used() -> None:
    """After the update, ``W`` and ``W_next`` are today's weights; minus ``dW_update`` and
    ``W_next_update`` they are the ones the step's z and δ came from (the page's formulas
    for a large layer: an outside check found them off by a third at learning rate 0.5)."""
    exp = experiment(
        network={
            "hidden": [{"units": 5, "activation": "tanh"}, {"units": 4, "activation": "tanh"}]
        },
        training={"learning_rate": 0.5},
    )
    for after_update in (False, True):
        # forward, loss and backward phases, then the update phase
        for _ in range(1 if after_update else 2 * len(exp.layers) + 1):
            exp.step_phase()
        trace = exp.trace
        assert trace is not None
        k, j = 1, 2
        got = wire(frames.inspected(exp, k, 1, j))
        lt = trace.layers[0]
        W = np.array(got["W"]) - np.array(got["dW_update"] or 0.0)
        b = exp.layers[0].b[j] - (0.0 if lt.db_update is None else lt.db_update[j])
        assert np.dot(W, got["a_prev"]) + b == pytest.approx(lt.z[k, j], rel=2e-5)  # 6 digits
        W_next = np.array(got["W_next"]) - np.array(got["W_next_update"] or 0.0)
        assert np.dot(W_next, got["delta_next"]) == pytest.approx(lt.grad_a[k, j], rel=2e-5)
        assert (got["dW_update"] is None) == (got["W_next_update"] is None) == (not after_update)
    # today's weights alone are off: the test would pass without the update otherwise
    assert np.dot(got["W_next"], got["delta_next"]) != pytest.approx(lt.grad_a[k, j], rel=1e-4)


def test_after_a_hand_edit_frames_and_inspections_carry_the_weights_the_update_left() -> None:
    """Today's W minus ΔW is the step's W only until a hand edit: then the frame (small
    layers) and an inspection (large ones) also carry the edited layer as the update left
    it, and only then (frames without edits keep their bytes)."""
    exp = experiment(network={"hidden": [{"units": 3, "activation": "tanh"}]})
    exp.step()
    assert not {"W_updated", "b_updated"} & frame(exp)["layers"][0].keys()
    W = exp.layers[0].W.copy()
    b = exp.layers[0].b.copy()
    exp.set_param(1, "W", [1, 0], 9.0)
    f = frame(exp)
    got = f["layers"][0]
    assert got["W"][1][0] == 9.0
    np.testing.assert_allclose(got["W_updated"], W, rtol=1e-5)  # 6 digits on the wire
    np.testing.assert_allclose(got["b_updated"], b, rtol=1e-5)
    assert "W_updated" not in f["layers"][1]
    ins = wire(frames.inspected(exp, 0, 1, 1))
    assert ins["W"][0] == 9.0 and ins["W_next_updated"] is None
    np.testing.assert_allclose(ins["W_updated"], W[1], rtol=1e-5)
    exp.step()
    assert "W_updated" not in frame(exp)["layers"][0]


def test_the_history_feed_sends_only_new_points_and_thins_a_reset() -> None:
    exp = experiment()
    feed = HistoryFeed()
    first = feed.next(exp)
    assert first is not None and first["reset"] is True and first["step"] == []
    assert feed.next(exp) is None
    exp.run_steps(3)
    inc = feed.next(exp)
    assert inc is not None and inc["reset"] is False
    assert inc["step"][0] == 1 and inc["step"][-1] == 3
    assert set(inc) == {"reset", "stride"} | set(exp.history_since(0, None)["points"]) - {"seq"}
    exp.run_steps(RESET_POINTS + 50)
    feed.restart()
    whole = feed.next(exp)
    assert whole is not None and len(whole["step"]) == RESET_POINTS
    assert whole["step"][-1] == exp.steps_done


def test_the_metrics_feed_is_throttled_only_while_playing() -> None:
    now = [0.0]
    feed = MetricsFeed(clock=lambda: now[0])
    exp = experiment()
    first = feed.get(exp, playing=True)
    exp.run_steps(20)
    assert feed.get(exp, playing=True) is first
    assert feed.get(exp, playing=False) is not first
    again = feed.get(exp, playing=True)
    now[0] += frames.METRICS_INTERVAL
    assert feed.get(exp, playing=True) is not again


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_a_frame_is_valid_json_when_the_run_diverged(dtype: str) -> None:
    exp = experiment(
        data={"name": "square"},
        network={
            "hidden": [{"units": 8, "activation": "sigmoid"}] * 3,
            "init": "naive",
            "dtype": dtype,
        },
        training={"learning_rate": 10, "batch_size": 1},
    )
    exp.run_steps(5000)
    assert exp.diverged
    f = frame(exp)
    assert f["diverged"] is True
