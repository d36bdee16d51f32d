"""Record the golden transcript: scripted sessions through the websocket protocol.

Run once on the code whose numbers are the reference:
    python tests/golden/record.py > tests/golden/transcript.json
`test_golden.py` replays the same script and requires every number to be equal bit
for bit (keys added to a message since are ignored; keys removed are an error).
"""

from __future__ import annotations

import json
import sys
from typing import Any

from fastapi.testclient import TestClient

from bpviz.server.app import create_app
from bpviz.server.settings import Settings

# Fields that depend on wall-clock time, not on the numbers.
VOLATILE = {
    "history",
    "elapsed",
    "time",
    "seconds",
    "timing",
    "analytic_seconds",
    "numeric_seconds",
    "session",
    "server",
    "points",
}

CONFIGS: list[dict[str, Any]] = [
    {
        "seed": 3,
        "data": {"name": "xor"},
        "network": {
            "hidden": [{"units": 4, "activation": "tanh"}, {"units": 3, "activation": "relu"}]
        },
    },
    {
        "seed": 5,
        "data": {"name": "spiral", "noise": 0.2},
        "network": {
            "hidden": [
                {"units": 6, "activation": "sigmoid"},
                {"units": 6, "activation": "sigmoid"},
                {"units": 6, "activation": "sigmoid"},
            ],
            "loss": "bce",
            "init": "naive",
            "batchnorm": True,
            "residual": True,
            "dropout": 0.2,
        },
        "training": {
            "optimizer": "adam",
            "learning_rate": 0.01,
            "batch_size": 8,
            "l2": 0.001,
            "clip_norm": 1.0,
        },
    },
    {
        "seed": 7,
        "data": {"name": "digits", "samples": 300},
        "network": {
            "hidden": [{"units": 16, "activation": "elu"}],
            "loss": "softmax_ce",
            "init": "he_uniform",
        },
        "training": {
            "optimizer": "momentum",
            "learning_rate": 0.05,
            "batch_size": 16,
            "l1": 0.0005,
        },
    },
    {
        "seed": 11,
        "data": {"name": "square", "samples": 100},
        "network": {"hidden": [{"units": 2, "activation": "relu"}], "loss": "mse"},
        "training": {"optimizer": "rmsprop", "learning_rate": 0.01, "batch_size": 1},
    },
    {
        "seed": 13,
        "data": {"name": "house", "samples": 200},
        "network": {
            "hidden": [{"units": 5, "activation": "silu"}, {"units": 5, "activation": "softplus"}],
            "loss": "mse",
            "dtype": "float32",
        },
        "training": {
            "optimizer": "adamw",
            "learning_rate": 0.003,
            "batch_size": 32,
            "weight_decay": 0.05,
        },
    },
]


def strip(msg: Any) -> Any:
    if isinstance(msg, dict):
        return {k: strip(v) for k, v in msg.items() if k not in VOLATILE}
    if isinstance(msg, list):
        return [strip(v) for v in msg]
    return msg


def script(cfg: dict[str, Any]) -> list[dict[str, Any]]:
    n_phases = 2 * (len(cfg["network"]["hidden"]) + 1) + 2
    cmds: list[dict[str, Any]] = [
        {"type": "options", "grids": False},
        {"type": "configure", "config": cfg},
    ]
    cmds += [{"type": "step", "unit": "phase"}] * n_phases
    cmds += [
        {"type": "step", "unit": "forward"},
        {"type": "step", "unit": "backward"},
        {"type": "inspect", "layer": 1, "neuron": 0},
        {"type": "step", "unit": "update"},
    ]
    cmds += [
        {"type": "step", "unit": "step", "count": 3},
        {"type": "focus", "example": 1},
        {"type": "set", "training": {"learning_rate": 0.02}},
        {"type": "step", "unit": "step", "count": 5},
        {"type": "inspect", "layer": 1, "neuron": 1},
        {"type": "seek", "step": 4},
        {"type": "seek", "step": None},
        {"type": "step", "unit": "epoch"},
    ]
    return cmds


WAIT = {
    "options": None,
    "configure": "frame",
    "step": "frame",
    "inspect": "inspect",
    "focus": "frame",
    "set": None,
    "seek": "frame",
}


def run() -> list[Any]:
    out: list[Any] = []
    with TestClient(create_app(Settings())) as client:
        for cfg in CONFIGS:
            with client.websocket_connect("/ws") as ws:

                def recv() -> dict[str, Any]:
                    return json.loads(ws.receive_text())

                msg = recv()
                while msg["type"] != "frame":
                    msg = recv()
                for cmd in script(cfg):
                    ws.send_text(json.dumps(cmd))
                    want = WAIT[cmd["type"]]
                    if want is None:
                        ws.send_text(json.dumps({"type": "ping", "id": 1}))
                        want = "pong"
                    got: list[Any] = []
                    while True:
                        m = recv()
                        if m["type"] == "error":
                            raise SystemExit(f"error on {cmd}: {m}")
                        if m["type"] in ("frame", "inspect", "topology"):
                            got.append(strip(m))
                        if m["type"] == want:
                            break
                    out.append({"cmd": cmd, "msgs": got})
    return out


if __name__ == "__main__":
    json.dump(run(), sys.stdout, allow_nan=False)
