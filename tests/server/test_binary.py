"""Binary frames (docs/protocol.md, "Binary frames"): a frame or grid as one binary
message holds the same message as its JSON text, to the 6 significant digits shown."""

from __future__ import annotations

import json
import math
import shutil
import struct
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from bpviz.core.experiment import config as core_config
from bpviz.core.experiment.build import build
from bpviz.server import encode, frames
from bpviz.server.protocol import server_adapter

from .conftest import frames_of, strict_json

ROOT = Path(__file__).resolve().parents[2]
WIRE_JS = ROOT / "frontend" / "static" / "js" / "shared" / "wire.js"
DIGITS = {
    "data": {"name": "digits"},
    "network": {"hidden": [{"units": 32, "activation": "relu"}], "loss": "softmax_ce"},
}
CONFIGS = {
    "default": {},
    "xor relu": {
        "data": {"name": "xor"},
        "network": {"hidden": [{"units": 5, "activation": "relu"}]},
    },
    "square 1-D": {"data": {"name": "square"}},
    "digits": DIGITS,
    "deep sigmoid": {"network": {"hidden": [{"units": 6, "activation": "sigmoid"}] * 8}},
}


def round6(value: Any) -> Any:
    """Every float of a parsed message rounded to 6 significant digits."""
    if isinstance(value, float):
        return float(f"{value:.6g}")
    if isinstance(value, list):
        return [round6(v) for v in value]
    if isinstance(value, dict):
        return {k: round6(v) for k, v in value.items()}
    return value


def messages(config: dict[str, Any]) -> list[Any]:
    """Frames (``frames_of``: before any step, mid-step, after steps, while playing) and
    the grid."""
    out: list[Any] = frames_of(config)
    exp = build(core_config.validate(config))
    for _ in range(20):
        exp.step()
    grid = frames.grid(exp, 12, 6)
    if grid is not None:
        out.append(grid)
    return out


@pytest.mark.parametrize("name", CONFIGS)
def test_a_binary_message_holds_the_json_message(name: str) -> None:
    for message in messages(CONFIGS[name]):
        text = encode.dumps(message)
        data = encode.pack(message)
        decoded = encode.unpack(data)
        server_adapter.validate_python(decoded)
        assert round6(decoded) == round6(strict_json(text))
        assert decoded == strict_json(text)  # in fact the very same numbers


def test_the_layout_byte_by_byte() -> None:
    message = {"type": "frame", "n": [1, 2], "a": np.array([[1.5, np.nan], [0.25, -2.0]])}
    data = encode.pack(message)
    version, kind, reserved, n = struct.unpack_from("<BBHI", data)
    assert (version, kind, reserved) == (1, 1, 0)
    head = json.loads(data[8 : 8 + n])
    assert head == {
        "message": {"type": "frame", "n": [1, 2], "a": None},
        "arrays": [[["a"], [2, 2]]],
    }
    start = 8 + n
    assert data[start : (start + 7) // 8 * 8] == b" " * ((start + 7) // 8 * 8 - start)
    numbers = np.frombuffer(data[(start + 7) // 8 * 8 :], dtype="<f4")
    assert numbers[[0, 2, 3]].tolist() == [1.5, 0.25, -2.0] and math.isnan(numbers[1])
    assert encode.unpack(data) == {"type": "frame", "n": [1, 2], "a": [[1.5, None], [0.25, -2.0]]}


def test_lists_of_floats_go_binary_and_integers_stay_json() -> None:
    message = {
        "type": "frame",
        "history": {"step": [1_234_567, 1_234_568], "loss": [0.123456789, None, 2.5]},
        "grad_norm": [[0.5, 0.25], [None, 1e-3]],
        "counts": np.array([3, 4]),
    }
    data = encode.pack(message)
    n = struct.unpack_from("<I", data, 4)[0]
    head = json.loads(data[8 : 8 + n])
    assert head["message"]["history"]["step"] == [1_234_567, 1_234_568]  # never rounded
    assert [path for path, _ in head["arrays"]] == [["history", "loss"], ["grad_norm"]]
    assert encode.unpack(data) == json.loads(encode.dumps(message))


def test_out_of_float32_range_and_exact_numbers_go_as_float64() -> None:
    tiny = {"type": "frame", "a": np.array([1.23456789e-40, 3.0]), "b": np.array([1e300])}
    data = encode.pack(tiny)
    assert data[1] == encode.FLOAT64
    assert encode.unpack(data) == json.loads(encode.dumps(tiny))
    assert round6(encode.unpack(data)) == {"type": "frame", "a": [1.23457e-40, 3.0], "b": [1e300]}
    exact = {"type": "frame", "a": np.array([0.1234567891234, np.inf]), "s": 0.98765432101}
    data = encode.pack(exact, rounded=False)
    assert data[1] == encode.FLOAT64
    assert (
        encode.unpack(data)
        == json.loads(encode.dumps(exact, rounded=False))
        == {
            "type": "frame",
            "a": [0.1234567891234, None],
            "s": 0.98765432101,
        }
    )
    assert encode.message(exact, binary=False) == encode.dumps(exact)
    assert encode.message(exact, binary=True, rounded=False) == data


def test_a_malformed_binary_message_is_refused() -> None:
    data = encode.pack({"type": "frame", "a": np.ones(3)})
    with pytest.raises(ValueError):
        encode.unpack(b"\x02" + data[1:])
    with pytest.raises(ValueError):
        encode.unpack(data + b"\0\0\0\0")  # one number too many


def test_binary_frames_are_smaller_for_a_larger_network() -> None:
    frame = next(m for m in messages(DIGITS) if m.step > 1 and not m.playing)  # 20 steps on
    assert len(encode.pack(frame)) < 0.7 * len(encode.dumps(frame).encode())


# ---------------------------------------------------------------- the page's decoder


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_the_pages_decoder_gives_the_json_message(tmp_path: Path) -> None:
    """``wire.js`` (run by node) decodes every message to what ``JSON.parse`` gives."""
    cases = []
    for i, message in enumerate(m for config in CONFIGS.values() for m in messages(config)):
        (tmp_path / f"{i}.json").write_text(encode.dumps(message))
        (tmp_path / f"{i}.bin").write_bytes(encode.pack(message))
        cases.append(str(i))
    weird = {"type": "frame", "a": np.array([-0.0, np.nan, -np.inf, 1e-40]), "e": np.zeros((2, 0))}
    (tmp_path / "w.json").write_text(encode.dumps(weird))
    (tmp_path / "w.bin").write_bytes(encode.pack(weird))
    cases.append("w")
    script = f"""
        import {{ readFileSync }} from "node:fs";
        import {{ isDeepStrictEqual }} from "node:util";
        import {{ decode }} from {json.dumps(WIRE_JS.as_uri())};
        const differ = [];
        for (const name of {json.dumps(cases)}) {{
          const want = JSON.parse(readFileSync(`{tmp_path}/${{name}}.json`, "utf8"));
          const buf = readFileSync(`{tmp_path}/${{name}}.bin`);
          const got = decode(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
          if (!isDeepStrictEqual(got, want)) differ.push(name);
        }}
        let refused = 0;
        for (const bad of [new ArrayBuffer(4), new Uint8Array([9, 1, 0, 0, 0, 0, 0, 0]).buffer]) {{
          try {{ decode(bad); }} catch {{ refused++; }}
        }}
        console.log(JSON.stringify({{ differ, refused }}));
    """
    (tmp_path / "check.mjs").write_text(script)
    out = subprocess.run(
        ["node", str(tmp_path / "check.mjs")], capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == {"differ": [], "refused": 2}


# ---------------------------------------------------------------- over the websocket


class Raw:
    """A connection that keeps text and binary messages apart."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws

    def send(self, **msg: Any) -> None:
        self.ws.send_text(json.dumps(msg))

    def recv(self) -> tuple[str, dict[str, Any]]:
        """(``"text"`` or ``"bytes"``, the message)."""
        got = self.ws.receive()
        if got.get("bytes") is not None:
            message = encode.unpack(got["bytes"])
            kind = "bytes"
        else:
            message = strict_json(got["text"])
            kind = "text"
        server_adapter.validate_python(message)
        assert message["type"] != "error", message
        return kind, message

    def until(self, want: str) -> tuple[str, dict[str, Any]]:
        for _ in range(200):
            kind, message = self.recv()
            if message["type"] == want:
                return kind, message
        raise AssertionError(f"no {want!r}")


SCRIPT: list[dict[str, Any]] = [
    {"type": "configure", "config": CONFIGS["xor relu"]},
    {"type": "step", "unit": "phase"},
    {"type": "step", "unit": "forward"},
    {"type": "step", "unit": "step", "count": 3},
    {"type": "focus", "example": 2},
    {"type": "seek", "step": 1},
    {"type": "seek", "step": None},
]


def transcript(c: Raw) -> list[tuple[str, dict[str, Any]]]:
    """The frames (and grids) the script gives, with how each came."""
    c.until("grid")
    out = []
    for cmd in SCRIPT:
        c.send(**cmd)
        out.append(c.until("frame"))
        if cmd["type"] in ("configure", "seek") or cmd.get("unit") == "step":
            out.append(c.until("grid"))
    return out


def test_the_same_frames_both_ways(client: TestClient) -> None:
    """A JSON client and a binary one, same commands: the same frames (6 digits)."""
    with client.websocket_connect("/ws") as a, client.websocket_connect("/ws") as b:
        plain, packed = Raw(a), Raw(b)
        packed.send(type="options", frames="binary")
        json_side = transcript(plain)
        kind, _ = packed.until("state")
        assert kind == "text"  # control messages stay JSON text
        binary_side = transcript(packed)
    assert {k for k, _ in json_side} == {"text"}
    assert {k for k, _ in binary_side} == {"bytes"}
    for (_, want), (_, got) in zip(json_side, binary_side, strict=True):
        assert round6(got) == round6(want)


def test_frames_go_back_to_json_when_asked_and_options_set_what_they_name(
    client: TestClient,
) -> None:
    with client.websocket_connect("/ws") as ws:
        c = Raw(ws)
        c.until("grid")
        c.send(type="options", grids=False)
        c.until("state")
        c.send(type="options", frames="binary")  # grids stay off
        c.until("state")
        c.send(type="step", unit="step")
        kind, _ = c.until("frame")
        assert kind == "bytes"
        c.send(type="ping", id=1)
        kind, pong = c.until("pong")  # no grid came in between
        assert kind == "text" and pong == {"type": "pong", "id": 1}
        c.send(type="options", frames="json")
        c.until("state")
        c.send(type="step", unit="step")
        assert c.until("frame")[0] == "text"
        c.send(type="options")  # none named: the defaults (grids on, JSON)
        c.until("state")
        c.send(type="step", unit="step")
        assert c.until("frame")[0] == "text"
        assert c.until("grid")[0] == "text"
