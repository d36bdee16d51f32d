"""Hostile input: thousands of generated messages, each answered, none crashing the session.

The count is ``BPVIZ_FUZZ_EXAMPLES`` (10,000 by default, as the reliability issue asks).
"""

from __future__ import annotations

import json
import logging
import os
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bpviz.server.app import create_app
from bpviz.server.protocol import server_adapter
from bpviz.server.settings import Settings

from .conftest import strict_json

EXAMPLES = int(os.environ.get("BPVIZ_FUZZ_EXAMPLES", "10000"))

TYPES = [
    "configure", "reset", "set", "step", "play", "pause", "focus", "inspect",
    "gradcheck", "export", "import", "ping", "nope", "", "STEP",
    "gradcheck_scaling", "csv_inspect", "seek", "options",
]  # fmt: skip
FIELDS = [
    "config", "training", "unit", "count", "speed", "fps", "example", "layer", "neuron",
    "max_examples", "run", "id", "extra", "name", "text", "step", "until", "grids",
]  # fmt: skip

numbers = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0, 1, -1, 0.5, 1e308, -1e-308, 10**6, 2**31, 2**63]),
)
scalars = st.one_of(st.none(), st.booleans(), numbers, st.text(max_size=12))
json_values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)
layer = st.fixed_dictionaries(
    {},
    optional={
        "units": st.one_of(st.integers(-5, 400), json_values),
        "activation": st.one_of(st.sampled_from(["relu", "tanh", "sigmoid", "elu", "x"]), scalars),
    },
)
config = st.fixed_dictionaries(
    {},
    optional={
        "seed": st.one_of(st.integers(-1, 2**40), scalars),
        "data": st.fixed_dictionaries(
            {},
            optional={
                "name": st.sampled_from(
                    ["circle", "xor", "digits", "square", "house", "mnist", ""]
                ),
                "samples": st.one_of(st.integers(0, 10**6), scalars),
                "noise": numbers,
                "test_fraction": numbers,
            },
        ),
        "network": st.fixed_dictionaries(
            {},
            optional={
                "hidden": st.one_of(st.lists(layer, max_size=20), json_values),
                "loss": st.sampled_from(["mse", "bce", "softmax_ce", "hinge"]),
                "init": st.sampled_from(["he_normal", "naive", "zeros"]),
                "dropout": numbers,
                "dtype": st.sampled_from(["float32", "float64", "int8"]),
            },
        ),
        "training": st.dictionaries(
            st.sampled_from(
                ["learning_rate", "batch_size", "optimizer", "clip_norm", "l2", "bogus"]
            ),
            st.one_of(numbers, st.sampled_from(["adam", "sgd", "rmsprop"]), scalars),
            max_size=4,
        ),
    },
)
shaped = st.fixed_dictionaries(
    {"type": st.sampled_from(TYPES)},
    optional={
        f: st.one_of(json_values, st.sampled_from(["phase", "epoch", "step"])) for f in FIELDS
    },
)
messages = st.one_of(
    st.text(max_size=64),  # not JSON at all, mostly
    json_values.map(lambda v: json.dumps(v)),
    shaped.map(lambda v: json.dumps(v)),
    config.map(lambda c: json.dumps({"type": "configure", "config": c})),
    config.map(lambda c: json.dumps({"type": "set", "training": c.get("training", c)})),
    st.binary(max_size=16),
)


def _drain_until_pong(ws: Any, ident: int) -> list[dict[str, Any]]:
    seen = []
    while True:
        text = ws.receive_text()
        msg = strict_json(text)
        server_adapter.validate_python(msg)  # every answer fits its model
        seen.append(msg)
        if msg["type"] == "pong" and msg["id"] == ident:
            return seen


@pytest.mark.filterwarnings("ignore::hypothesis.errors.NonInteractiveExampleWarning")
def test_generated_messages_get_answers_and_never_break_the_session(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = create_app(Settings(message_rate=1e9, message_burst=10**9, max_message_bytes=65536))
    counts = {"sent": 0, "errors": 0}
    with TestClient(app) as client, client.websocket_connect("/ws") as ws:
        _drain_until_pong_after_start(ws)

        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(message=messages)
        def one(message: str | bytes) -> None:
            if isinstance(message, bytes):
                ws.send_bytes(message)
            else:
                ws.send_text(message)
            ws.send_text('{"type": "pause"}')
            counts["sent"] += 1
            ident = counts["sent"]
            ws.send_text(json.dumps({"type": "ping", "id": ident}))
            for msg in _drain_until_pong(ws, ident):
                if msg["type"] == "error":
                    counts["errors"] += 1
                    assert msg["code"] != "internal", (message, msg)
                    assert msg["message"]

        with caplog.at_level(logging.ERROR):
            one()
        # the session still works: configure, a full step, a frame with numbers
        ws.send_text(json.dumps({"type": "configure", "config": {}}))
        ws.send_text(json.dumps({"type": "step", "unit": "step"}))
        ws.send_text(json.dumps({"type": "ping", "id": -1}))
        frames = [m for m in _drain_until_pong(ws, -1) if m["type"] == "frame"]
        assert frames and frames[-1]["loss"] is not None
        assert client.get("/healthz").status_code == 200
    assert counts["sent"] == EXAMPLES
    assert counts["errors"] > EXAMPLES // 4  # most generated messages are wrong
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    print(f"fuzz: {counts['sent']} messages, {counts['errors']} error frames")


def _drain_until_pong_after_start(ws: Any) -> None:
    ws.send_text(json.dumps({"type": "ping", "id": 0}))
    _drain_until_pong(ws, 0)
