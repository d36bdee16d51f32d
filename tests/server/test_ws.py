"""The websocket session through Starlette's TestClient: every message type and error."""

from __future__ import annotations

import json
import os
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from bpviz.server.frames import RESET_POINTS
from bpviz.server.protocol import PROTOCOL_VERSION
from bpviz.server.settings import Settings

from .conftest import Conn

UNITS = ["phase", "forward", "backward", "update", "step", "epoch"]


def test_connect_sends_hello_topology_frame_grid(client: TestClient) -> None:
    with client.websocket_connect("/ws") as ws:
        c = Conn(ws)
        hello = c.recv()
        assert hello["type"] == "hello" and hello["protocol"] == PROTOCOL_VERSION == 2
        assert hello["pid"] == os.getpid()  # the process the session lives in
        assert hello["limits"]["max_message_bytes"] == 65536
        topo = c.recv()
        assert topo["type"] == "topology"
        assert [p["kind"] for p in topo["phases"]] == [
            "forward", "forward", "forward", "loss", "backward", "backward", "backward", "update"
        ]  # fmt: skip
        assert [layer["units"] for layer in topo["layers"]] == [4, 2, 1]
        assert topo["layers"][-1]["activation"] == "sigmoid"
        assert topo["data"]["name"] == "circle"
        frame = c.recv()
        assert frame["type"] == "frame" and frame["step"] == 0
        assert frame["cursor"] == {"index": 0, "kind": "forward", "layer": 1}
        assert frame["history"]["reset"] is True
        grid = c.recv()
        assert grid["type"] == "grid" and grid["kind"] == "2d"
        assert len(grid["neurons"]) == 2 and len(grid["neurons"][0]) == 4


def test_phase_by_phase_fills_the_trace_in_order(conn: Conn) -> None:
    kinds = []
    for _ in range(8):
        conn.send(type="step", unit="phase")
        frame = conn.until("frame")
        kinds.append(frame["last_phase"]["kind"])
        layers = frame["layers"]
        if frame["last_phase"] == {"index": 0, "kind": "forward", "layer": 1}:
            assert layers[0]["a"] is not None and layers[1]["a"] is None
            assert frame["loss"] is None
        if frame["last_phase"]["kind"] == "loss":
            assert frame["loss"] > 0 and layers[2]["delta"] is not None
            assert layers[1]["delta"] is None
        if frame["last_phase"]["kind"] == "update":
            assert layers[0]["dW_update"] is not None and frame["step"] == 1
    assert kinds == ["forward"] * 3 + ["loss"] + ["backward"] * 3 + ["update"]
    assert frame["cursor"]["index"] == 0


@pytest.mark.parametrize("unit", UNITS)
def test_every_step_unit(conn: Conn, unit: str) -> None:
    conn.send(type="step", unit=unit)
    frame = conn.until("frame")
    expected_cursor = {"phase": 1, "forward": 3, "backward": 7, "update": 0, "step": 0, "epoch": 0}
    assert frame["cursor"]["index"] == expected_cursor[unit]
    if unit in ("update", "step"):
        assert frame["step"] == 1
    if unit == "epoch":
        assert frame["step"] == 28  # 280 training examples / batch 10
        assert frame["epoch"] == pytest.approx(1.0)


def test_configure_rebuilds_and_invalid_configure_changes_nothing(conn: Conn) -> None:
    conn.send(
        type="configure",
        config={
            "data": {"name": "xor"},
            "network": {"hidden": [{"units": 3, "activation": "relu"}]},
        },
    )
    topo = conn.until("topology")
    assert [layer["units"] for layer in topo["layers"]] == [3, 1]
    assert topo["config"]["data"]["name"] == "xor"
    conn.send(
        type="configure", config={"network": {"hidden": [{"units": 100000, "activation": "relu"}]}}
    )
    err = conn.until("error")
    assert err["code"] == "invalid_config" and err["field"] == "network.hidden.0.units"
    conn.send(type="step", unit="step")
    frame = conn.until("frame")
    assert len(frame["layers"]) == 2  # still the xor network


def test_set_changes_training_live(conn: Conn) -> None:
    conn.send(type="step", unit="step")
    w_before = conn.until("frame")["layers"][0]["W"]
    conn.send(type="set", training={"learning_rate": 0.5, "optimizer": "adam"})
    assert conn.until("state")["type"] == "state"
    conn.send(type="export")
    run = conn.until("export")["run"]
    assert run["config"]["training"]["learning_rate"] == 0.5
    assert run["config"]["training"]["optimizer"] == "adam"
    assert run["weights"][0]["W"] == w_before  # weights kept
    conn.send(type="set", training={"learning_rate": -1})
    err = conn.until("error")
    assert err["code"] == "invalid_config" and err["field"] == "training.learning_rate"


def test_play_streams_frames_and_pause_stops(conn: Conn) -> None:
    conn.send(type="play", speed=None, fps=30)
    assert conn.until("state")["playing"] is True
    steps = [conn.until("frame")["step"] for _ in range(5)]
    assert steps == sorted(steps) and steps[-1] > steps[0]
    conn.send(type="pause")
    state = conn.until("state")
    assert state["playing"] is False
    final = conn.until("frame")
    assert final["playing"] is False
    conn.send(type="ping", id="after")
    for _ in range(50):
        msg = conn.recv()
        if msg["type"] == "pong":
            break
        assert msg["type"] != "frame" or msg["step"] == final["step"]
    assert msg == {"type": "pong", "id": "after"}


def test_play_at_a_fixed_speed(conn: Conn) -> None:
    conn.send(type="play", speed=20, fps=10)
    conn.until("state")
    first = conn.until("frame")
    for _ in range(5):
        last = conn.until("frame")
    conn.send(type="pause")
    # 5 frames at 10 fps is ~0.5 s: about 10 steps at 20 steps/s, far from "as fast as possible"
    assert 2 <= last["step"] - first["step"] <= 40


def test_focus_and_inspect(conn: Conn) -> None:
    conn.send(type="step", unit="step")
    f0 = conn.until("frame")
    conn.send(type="focus", example=3)
    f3 = conn.until("frame")
    assert f3["example"] == 3 and f3["x"] != f0["x"]
    conn.send(type="inspect", layer=1, neuron=2)
    ins = conn.until("inspect")
    assert ins["W"] == f3["layers"][0]["W"][2]
    assert ins["dW"] == f3["layers"][0]["dW"][2]
    # the answer names the frame it belongs to
    assert (ins["step"], ins["cursor"], ins["example"]) == (
        f3["step"],
        f3["cursor"]["index"],
        f3["example"],
    )
    conn.send(type="step", unit="phase")
    f4 = conn.until("frame")
    conn.send(type="inspect", layer=1, neuron=2)
    ins = conn.until("inspect")
    assert (ins["step"], ins["cursor"]) == (f4["step"], f4["cursor"]["index"]) != (1, 0)
    conn.send(type="inspect", layer=9, neuron=0)
    err = conn.until("error")
    assert err["field"] == "layer" and "no layer 9" in err["message"]
    conn.send(type="inspect", layer=1, neuron=99)
    err = conn.until("error")
    assert err["field"] == "neuron" and "no neuron 99 in layer 1" in err["message"]


def test_gradcheck(conn: Conn) -> None:
    conn.send(type="gradcheck", max_examples=8)
    result = conn.until("gradcheck")["result"]
    assert result["n_params"] == 25
    assert result["max_rel_error"] < 1e-6
    assert result["time_backprop_s"] > 0 and result["time_numeric_s"] > 0


def test_export_import_round_trip(conn: Conn) -> None:
    conn.send(type="step", unit="step", count=5)
    conn.until("frame")
    conn.send(type="export")
    run = conn.until("export")["run"]
    assert run["format"] == "bpviz-run" and run["metrics"]["steps_done"] == 5
    conn.send(type="reset")
    conn.until("topology")
    conn.send(type="import", run=run)
    conn.until("topology")
    frame = conn.until("frame")
    np.testing.assert_allclose(frame["layers"][0]["W"], run["weights"][0]["W"], rtol=1e-5)
    conn.send(type="import", run={"format": "bpviz-run", "version": 1, "weights": [{"W": [[1]]}]})
    err = conn.until("error")
    assert err["code"] == "invalid_run"


def test_reset_restores_initial_weights(conn: Conn) -> None:
    w0 = conn.seen[2]["layers"][0]["W"]
    conn.send(type="step", unit="epoch")
    assert conn.until("frame")["layers"][0]["W"] != w0
    conn.send(type="reset")
    conn.until("topology")
    frame = conn.until("frame")
    assert frame["layers"][0]["W"] == w0 and frame["step"] == 0


@pytest.mark.parametrize(
    ("text", "code", "field"),
    [
        ("{not json", "bad_json", None),
        ("[1, 2]", "bad_message", None),
        ('{"type": "fly"}', "bad_message", "type"),
        ('{"type": "step", "unit": "sideways"}', "bad_message", "unit"),
        ('{"type": "step", "count": 1e9}', "bad_message", "count"),
        ('{"type": "play", "speed": -3}', "bad_message", "speed"),
        ('{"type": "focus"}', "bad_message", "example"),
        ('{"type": "configure", "config": {"training": {"learning_rate": "fast"}}}', "invalid_config", "training.learning_rate"),
        ('{"type": "configure", "config": {"data": {"name": "mnist"}}}', "invalid_config", "data.name"),
        # the same id back, or none: `true` came back as 1
        ('{"type": "ping", "id": true}', "bad_message", "id"),
        ('{"type": "ping", "id": [1]}', "bad_message", "id"),  # the field, not "id.int"
        ('{"type": "csv_inspect", "name": "a.csv"}', "bad_message", None),  # the message
        # a key too many on the message is named, not the config's own problem as bad_message
        ('{"type": "configure", "config": {"seed": -1}, "x": 1}', "bad_message", "x"),
        ('{"type": "set", "training": {"learning_rate": -1}, "x": 1}', "bad_message", "x"),
        # beyond float32, given weights would be infinite (was an internal error)
        ('{"type": "configure", "config": {"network": {"dtype": "float32", "hidden": [{"units": 1}], "weights": [{"W": [[1e39, 0]], "b": [0]}, {"W": [[1]], "b": [0]}]}}}', "invalid_config", "network.weights.0.W.0.0"),
    ],
)  # fmt: skip
def test_bad_messages_get_a_clear_error_and_the_session_goes_on(
    conn: Conn, text: str, code: str, field: str | None
) -> None:
    conn.ws.send_text(text)
    err = conn.until("error")
    assert err["code"] == code
    assert err["field"] == field
    assert err["message"]
    conn.send(type="ping", id=1)
    assert conn.until("pong")["id"] == 1


def test_binary_frames_are_refused(conn: Conn) -> None:
    conn.ws.send_bytes(b"\x00\x01")
    assert conn.until("error")["code"] == "bad_message"


def test_too_large_message_closes_with_1009(client: TestClient) -> None:
    with client.websocket_connect("/ws") as ws:
        c = Conn(ws)
        c.until("grid")
        c.send(type="ping", id="x" * 70_000)
        err = c.until("error")
        assert err["code"] == "too_large"
        with pytest.raises(WebSocketDisconnect) as info:
            c.recv()
        assert info.value.code == 1009


@pytest.mark.parametrize(
    "send",
    [
        lambda c: c.ws.send_bytes(b"\x00" * 70_000),  # binary frames have the same limit
        lambda c: c.ws.send_text(  # 40,000 characters, 80,000 bytes
            json.dumps({"type": "ping", "id": "\u00e9" * 40_000}, ensure_ascii=False)
        ),
        lambda c: c.ws.send_text(  # "import" in a message that is not one: the usual limit
            json.dumps(
                {"type": "configure", "config": {"data": {"csv": "import"}}, "x": "y" * 70_000}
            )
        ),
    ],
    ids=["binary", "utf8-bytes", "import-as-a-value"],
)
def test_the_size_limit_counts_bytes_of_every_frame(client: TestClient, send: Any) -> None:
    with client.websocket_connect("/ws") as ws:
        c = Conn(ws)
        c.until("grid")
        send(c)
        err = c.until("error")
        assert err["code"] == "too_large" and "over the limit of 65,536 bytes" in err["message"]
        with pytest.raises(WebSocketDisconnect) as info:
            c.recv()
        assert info.value.code == 1009


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ('{"type": "import", "run": {}, "note": "' + "a" * 70_000 + '"}', "bad_message"),
        ('{"type": "import", "run": {"p": "' + "a" * 70_000, "bad_json"),  # a file cut short
        ('{"type": "csv_inspect", "text": "a,b", "bogus": "' + "a" * 70_000 + '"}', "bad_message"),
    ],
    ids=["extra-key", "cut-short", "csv-extra-key"],
)
def test_a_large_import_with_a_mistake_is_answered_and_the_session_goes_on(
    conn: Conn, text: str, code: str
) -> None:
    """Over 64 KiB but within an import's limit: its error, and the connection stays (it
    was closed with 1009, "message too large": a damaged export file ended the session)."""
    conn.ws.send_text(text)
    assert conn.until("error")["code"] == code
    conn.send(type="ping", id=5)
    assert conn.until("pong")["id"] == 5


@pytest.mark.parametrize("settings", [Settings(message_rate=1, message_burst=3)])
def test_binary_frames_count_toward_the_rate_limit(conn: Conn) -> None:
    for _ in range(3):
        conn.ws.send_bytes(b"\x00")
    conn.send(type="ping", id=1)
    codes = [conn.recv().get("code") for _ in range(4)]
    assert codes == ["bad_message"] * 3 + ["rate_limited"]


@pytest.mark.parametrize("settings", [Settings(message_rate=1, message_burst=3)])
def test_rate_limit_sends_a_notice(conn: Conn) -> None:
    for i in range(6):
        conn.send(type="ping", id=i)
    kinds = [conn.recv()["type"] for _ in range(6)]
    assert kinds.count("pong") == 3 and kinds.count("error") == 3
    assert conn.seen[-1]["code"] == "rate_limited"


@pytest.mark.parametrize("settings", [Settings(max_sessions=1)])
def test_session_cap(client: TestClient) -> None:
    with client.websocket_connect("/ws") as first:
        Conn(first).until("grid")
        with client.websocket_connect("/ws") as second, pytest.raises(WebSocketDisconnect) as info:
            assert json.loads(second.receive_text())["code"] == "busy"  # then the close
            second.receive_text()
        assert info.value.code == 1013
    assert client.get("/healthz").json()["sessions"] == 0


def test_foreign_origin_is_refused(client: TestClient) -> None:
    for origin in ["http://evil-host", "http://testserver.evil", "ftp://testserver", "null"]:
        with (
            pytest.raises(WebSocketDisconnect),
            client.websocket_connect("/ws", headers={"origin": origin}) as ws,
        ):
            ws.receive_text()
    with client.websocket_connect("/ws", headers={"origin": "http://testserver"}) as ws:
        assert json.loads(ws.receive_text())["type"] == "hello"


def test_divergence_gives_a_diverged_state_and_valid_json(conn: Conn) -> None:
    conn.send(
        type="configure",
        config={
            "network": {"hidden": [{"units": 8, "activation": "sigmoid"}] * 3, "init": "naive"},
            "training": {"learning_rate": 10, "optimizer": "sgd", "batch_size": 1},
            "data": {"name": "square"},
        },
    )
    conn.until("grid")
    conn.send(type="step", unit="epoch", count=5)  # sliced: runs until it diverges
    while conn.until("state")["playing"]:
        pass
    frame = conn.until("frame")
    assert frame["diverged"] is True
    assert all(np.isfinite(w).all() for w in np.asarray(frame["layers"][0]["W"], float))
    conn.send(type="step", unit="step")
    assert conn.until("error")["code"] == "diverged"
    conn.send(type="reset")
    conn.until("topology")
    assert conn.until("frame")["diverged"] is False


def test_sessions_are_freed_on_disconnect(client: TestClient) -> None:
    for _ in range(3):
        with client.websocket_connect("/ws") as ws:
            c = Conn(ws)
            c.until("grid")
            c.send(type="play", speed=None)
            c.until("frame")
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    assert runtime.session_count == 0
    assert runtime.task_count == 0


def test_long_step_commands_train_in_slices_and_pause_stops_them(conn: Conn) -> None:
    conn.send(type="configure", config={"training": {"batch_size": 1}})
    conn.until("grid")
    conn.send(type="step", unit="epoch", count=50)  # 50 × 280 steps: sliced, like play
    assert conn.until("state")["playing"] is True
    conn.until("frame")
    conn.send(type="pause")
    assert conn.until("state")["playing"] is False
    frame = conn.until("frame")
    assert 0 < frame["step"] < 50 * 280
    # the rest of this pass and one more (> 280 steps): sliced, and ends by itself
    conn.send(type="step", unit="epoch", count=2)
    assert conn.until("state")["playing"] is True
    assert conn.until("state")["playing"] is False
    final = conn.until("frame")
    assert final["step"] == (frame["step"] // 280 + 2) * 280
    assert final["epoch"] == pytest.approx(final["step"] / 280)


def test_too_much_work_in_one_command_is_refused(conn: Conn) -> None:
    conn.send(type="configure", config={"data": {"samples": 5000}, "training": {"batch_size": 1}})
    conn.until("grid")
    conn.send(type="step", unit="epoch", count=1000)
    err = conn.recv()
    while err["type"] != "error":
        err = conn.recv()
    assert err["code"] == "too_much_work" and err["field"] == "count"
    conn.send(type="ping", id=2)
    assert conn.until("pong")["id"] == 2


def test_options_turn_grids_off(conn: Conn) -> None:
    conn.send(type="options", grids=False)
    conn.until("state")
    conn.send(type="step", unit="step")
    conn.until("frame")
    conn.send(type="ping", id="g")
    kinds = []
    while (msg := conn.recv())["type"] != "pong":
        kinds.append(msg["type"])
    assert "grid" not in kinds
    conn.send(type="options", grids=True)
    conn.send(type="step", unit="step")
    conn.until("grid")


def test_batchnorm_residual_frames_and_export(conn: Conn) -> None:
    hidden = [{"units": 4, "activation": "relu"}] * 3
    conn.send(
        type="configure",
        config={"network": {"hidden": hidden, "batchnorm": True, "residual": True}},
    )
    topo = conn.until("topology")
    assert [(x["batchnorm"], x["residual"]) for x in topo["layers"]] == [
        (True, False), (True, True), (True, True), (False, False)
    ]  # fmt: skip
    conn.send(type="step", unit="step", count=3)
    frame = conn.until("frame")
    while frame["step"] != 3:
        frame = conn.until("frame")
    layer = frame["layers"][1]
    assert len(layer["z_bn"]) == 4 and len(layer["delta_z"]) == 4 and len(layer["grad_a"]) == 4
    hist = layer["fprime_hist"]
    assert len(hist["edges"]) == 21 and sum(hist["counts"]) + hist["below"] + hist["above"] == 40
    assert 0.0 <= layer["dead_fraction"] <= 1.0
    conn.send(type="export")
    run = conn.until("export")["run"]
    assert run["batchnorm"][0]["gamma"] and run["batchnorm"][3] is None
    conn.send(type="reset")
    conn.until("topology")
    conn.send(type="import", run=run)
    conn.until("topology")
    conn.send(type="export")
    again = conn.until("export")["run"]
    assert again["batchnorm"] == run["batchnorm"] and again["weights"] == run["weights"]


def test_a_history_reset_stays_small(conn: Conn) -> None:
    conn.send(type="step", unit="step", count=900)  # sliced: frames while it runs
    while conn.until("state")["playing"]:
        pass
    conn.send(type="reset")
    conn.until("topology")
    conn.send(type="step", unit="epoch", count=100)  # 2,800 steps: the history decimates
    while conn.until("state")["playing"]:
        pass
    conn.send(type="export")
    full = conn.until("export")["run"]["history"]["points"]["step"]
    conn.send(type="reset")
    conn.until("topology")
    for msg in conn.seen:
        hist = msg.get("history") if msg["type"] == "frame" else None
        if hist and hist["reset"]:
            assert len(hist["step"]) <= RESET_POINTS
    assert len(full) > RESET_POINTS
