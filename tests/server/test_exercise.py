"""A board exercise through the protocol: the textbook example to the hand computation,
editing a weight between steps (``set_param``), input features in the grids, and a
room follower refused."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from .conftest import Conn

ROOT = Path(__file__).resolve().parents[2]
TEXTBOOK: dict[str, Any] = json.loads(
    (ROOT / "frontend" / "static" / "presets" / "textbook.json").read_text(encoding="utf-8")
)


def sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))


def by_hand() -> dict[str, Any]:
    """Matt Mazur's "A Step by Step Backpropagation Example", in plain Python: one
    example, 2-2-2, sigmoid everywhere, E = ½ Σ (ŷ − y)², η = 0.5, biases updated too."""
    x, y = [0.05, 0.10], [0.01, 0.99]
    W1, b1 = [[0.15, 0.20], [0.25, 0.30]], [0.35, 0.35]
    W2, b2 = [[0.40, 0.45], [0.50, 0.55]], [0.60, 0.60]
    eta = 0.5
    h = [sigmoid(W1[i][0] * x[0] + W1[i][1] * x[1] + b1[i]) for i in range(2)]
    o = [sigmoid(W2[k][0] * h[0] + W2[k][1] * h[1] + b2[k]) for k in range(2)]
    loss = sum(0.5 * (o[k] - y[k]) ** 2 for k in range(2))
    d2 = [(o[k] - y[k]) * o[k] * (1 - o[k]) for k in range(2)]  # δ = ∂E/∂out · σ′
    d1 = [sum(W2[k][i] * d2[k] for k in range(2)) * h[i] * (1 - h[i]) for i in range(2)]
    return {
        "loss": loss,
        "W1": [[W1[i][j] - eta * d1[i] * x[j] for j in range(2)] for i in range(2)],
        "b1": [b1[i] - eta * d1[i] for i in range(2)],
        "W2": [[W2[k][i] - eta * d2[k] * h[i] for i in range(2)] for k in range(2)],
        "b2": [b2[k] - eta * d2[k] for k in range(2)],
    }


def close(a: Any, b: Any, tol: float = 1e-9) -> bool:
    if isinstance(a, list):
        return len(a) == len(b) and all(close(u, v, tol) for u, v in zip(a, b, strict=True))
    return abs(a - b) <= tol


def configure(conn: Conn, config: dict[str, Any]) -> dict[str, Any]:
    conn.send(type="configure", config=config)
    topo = conn.until("topology")
    conn.until("grid")
    return topo


def test_the_textbook_exercise_to_the_hand_computation(conn: Conn) -> None:
    hand = by_hand()
    assert close(hand["loss"], 0.298371109) and close(hand["W2"][0][0], 0.35891648, 1e-8)
    assert close(hand["W1"][0][0], 0.149780716)  # the article's numbers
    conn.send(type="options", exact=True)  # every digit, not 6
    conn.until("state")
    topo = configure(conn, TEXTBOOK)
    assert topo["config"]["network"]["output_activation"] == "sigmoid"
    assert [layer["activation"] for layer in topo["layers"]] == ["sigmoid", "sigmoid"]
    assert topo["data"]["name"] == "table" and topo["data"]["n_train"] == 1
    conn.send(type="step", unit="step")
    frame = conn.until("frame")
    assert frame["step"] == 1 and frame["hyper"]["learning_rate"] == 0.5
    assert close(frame["loss"], hand["loss"])
    first, second = frame["layers"]
    assert close(first["W"], hand["W1"]) and close(first["b"], hand["b1"])
    assert close(second["W"], hand["W2"]) and close(second["b"], hand["b2"])
    assert close(frame["x"], [0.05, 0.1]) and close(frame["y"], [0.01, 0.99])
    # and the run file, exactly (its state carries every bit)
    conn.send(type="export")
    run = conn.until("export")["run"]
    assert run["config"]["data"]["x"] == [[0.05, 0.1]]
    assert run["state"]["steps_done"] == 1


def test_frames_keep_six_digits_unless_asked(conn: Conn) -> None:
    configure(conn, TEXTBOOK)
    conn.send(type="step", unit="step")
    loss = conn.until("frame")["loss"]
    assert loss == 0.298371 and not close(loss, by_hand()["loss"])


def test_asking_for_every_digit_sends_the_frame_shown_again(conn: Conn) -> None:
    """A resumed run's first frame comes before the page has seen its config: once it asks
    for every digit, the frame it shows comes again with them (not at the next step)."""
    configure(conn, TEXTBOOK)
    conn.send(type="step", unit="step")
    assert conn.until("frame")["loss"] == 0.298371
    conn.send(type="options", exact=True)
    conn.until("state")
    again = conn.until("frame")
    assert again["step"] == 1 and close(again["loss"], by_hand()["loss"])
    assert again["loss"] != 0.298371
    conn.send(type="options", exact=True)  # no change: only the state
    conn.send(type="ping", id=1)
    assert [conn.recv()["type"] for _ in range(2)] == ["state", "pong"]


def test_set_param_between_steps(conn: Conn) -> None:
    conn.send(type="options", exact=True)
    conn.until("state")
    configure(conn, TEXTBOOK)
    conn.send(type="set_param", layer=2, param="W", index=[0, 0], value=0.35891648)
    frame = conn.until("frame")
    assert frame["layers"][1]["W"][0][0] == 0.35891648 and frame["step"] == 0
    conn.until("grid")  # the picture changes with the weight
    conn.send(type="set_param", layer=1, param="b", index=[1], value=-1)
    assert conn.until("frame")["layers"][0]["b"] == [0.35, -1.0]
    conn.until("grid")
    conn.send(type="step", unit="phase")
    conn.until("frame")
    conn.send(type="set_param", layer=1, param="W", index=[0, 0], value=1)
    err = conn.until("error")
    assert err["code"] == "mid_step"
    conn.send(type="step", unit="update")
    after = conn.until("frame")
    assert after["step"] == 1 and after["layers"][0]["W"][0][0] != 1


@pytest.mark.parametrize(
    ("msg", "code", "field"),
    [
        ({"layer": 3, "param": "W", "index": [0, 0], "value": 1}, "bad_param", "layer"),
        ({"layer": 1, "param": "W", "index": [2, 0], "value": 1}, "bad_param", "index"),
        ({"layer": 1, "param": "b", "index": [0, 0], "value": 1}, "bad_param", "index"),
        ({"layer": 1, "param": "gamma", "index": [0], "value": 1}, "bad_message", "param"),
        ({"layer": 1, "param": "W", "index": [0, 0], "value": "NaN"}, "bad_message", "value"),
        ({"layer": 1, "param": "W", "index": [], "value": 1}, "bad_message", "index"),
        ({"layer": 1, "param": "W", "index": [0, 0]}, "bad_message", "value"),
    ],
)
def test_bad_set_param(conn: Conn, msg: dict[str, Any], code: str, field: str) -> None:
    configure(conn, TEXTBOOK)
    conn.send(type="set_param", **msg)
    err = conn.recv()
    while err["type"] != "error":
        err = conn.recv()
    assert (err["code"], err["field"]) == (code, field)
    conn.send(type="ping", id=1)
    assert conn.until("pong")["id"] == 1  # the session is fine


def test_set_param_after_a_seek_goes_on_from_that_step(conn: Conn) -> None:
    configure(conn, {"data": {"name": "xor"}, "network": {"hidden": [{"units": 3}]}})
    conn.send(type="step", unit="step", count=5)
    conn.until("frame")
    conn.send(type="seek", step=2)
    assert conn.until("frame")["viewing"] == 2
    conn.send(type="set_param", layer=1, param="W", index=[0, 0], value=2.5)
    frame = conn.until("frame")
    assert frame["viewing"] is None and frame["step"] == 2 and frame["rewind"]["last"] == 2
    assert frame["layers"][0]["W"][0][0] == 2.5


def test_input_features_on_the_diagram_and_the_grids(conn: Conn) -> None:
    feats = ["x1", "x2", "x1sq", "x2sq", "x1x2"]
    conn.send(type="configure", config={"data": {"name": "circle", "features": feats}})
    topo = conn.until("topology")
    assert topo["layers"][0]["n_in"] == 5
    data = topo["data"]
    assert data["features"] == feats and data["n_features"] == 5 and data["n_inputs"] == 2
    assert data["feature_names"] == ["x₁", "x₂", "x₁²", "x₂²", "x₁x₂"]
    assert len(data["train"]["X"][0]) == 2  # the points of the plane
    frame = conn.until("frame")
    assert len(frame["layers"][0]["W"][0]) == 5
    grid = conn.until("grid")
    assert grid["kind"] == "2d" and len(grid["domain"]) == 2
    assert [len(layer) for layer in grid["neurons"]] == [4, 2]  # a thumbnail per neuron


def test_a_follower_may_not_edit_a_weight(client: TestClient) -> None:
    with client.websocket_connect("/ws") as a, client.websocket_connect("/ws") as b:
        owner, follower = Conn(a), Conn(b)
        owner.until("grid")
        follower.until("grid")
        owner.send(type="room_open")
        room = owner.until("room")
        if room.get("code") is None:  # pragma: no cover - rooms unavailable
            pytest.skip("no rooms on this server")
        follower.send(type="room_join", code=room["code"])
        assert follower.until("room")["role"] == "follower"
        follower.send(type="set_param", layer=1, param="W", index=[0, 0], value=1)
        err = follower.recv()
        while err["type"] != "error":
            err = follower.recv()
        assert err["code"] == "follower"
