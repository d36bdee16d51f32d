"""A real uvicorn server on a free port, driven by the ``websockets`` client."""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
from typing import Any

import numpy as np
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from bpviz.core.experiment import config as core_config
from bpviz.core.experiment.build import build

from .conftest import LiveServer, strict_json

CONFIG = {
    "seed": 7,
    "data": {"name": "moons", "samples": 200},
    "network": {"hidden": [{"units": 5, "activation": "tanh"}, {"units": 3, "activation": "relu"}]},
    "training": {"learning_rate": 0.1, "batch_size": 4, "optimizer": "momentum"},
}


async def _until(ws: Any, kind: str) -> dict[str, Any]:
    while True:
        text = await asyncio.wait_for(ws.recv(), timeout=10)
        msg: dict[str, Any] = strict_json(text)
        if msg["type"] == "error":
            raise AssertionError(msg)
        if msg["type"] == kind:
            return msg


def _close(frame_value: Any, core_value: np.ndarray) -> None:
    np.testing.assert_allclose(np.asarray(frame_value, float), core_value, rtol=2e-5, atol=1e-9)


async def _walk(url: str) -> None:
    reference = build(core_config.validate(CONFIG))
    async with connect(url, max_size=2**24) as ws:
        await _until(ws, "hello")
        await ws.send(json.dumps({"type": "configure", "config": CONFIG}))
        topo = await _until(ws, "topology")
        while topo["config"]["seed"] != CONFIG["seed"]:
            topo = await _until(ws, "topology")
        n_phases = len(topo["phases"])
        assert n_phases == 3 + 1 + 3 + 1
        await _until(ws, "grid")
        for step in range(2):
            for _ in range(n_phases):
                await ws.send(json.dumps({"type": "step", "unit": "phase"}))
                frame = await _until(ws, "frame")
                reference.step_phase()
                trace = reference.trace
                assert trace is not None
                assert frame["batch"] == trace.batch.tolist()
                for got, lt, layer in zip(
                    frame["layers"], trace.layers, reference.network.layers, strict=True
                ):
                    _close(got["W"], layer.W)
                    for key in ("z", "a", "fprime", "delta"):
                        value = getattr(lt, key)
                        if value is None:
                            if key != "delta" or not layer.is_output or trace.output_delta is None:
                                assert got[key] is None, key
                        else:
                            _close(got[key], value[0])
                    for key in ("dW", "db", "dW_update", "db_update"):
                        value = getattr(lt, key)
                        if value is None:
                            assert got[key] is None, key
                        else:
                            _close(got[key], value)
                if trace.loss is not None:
                    assert frame["loss"] == pytest.approx(trace.loss, rel=1e-5)
            assert frame["step"] == step + 1
        await ws.send(json.dumps({"type": "play", "speed": None, "fps": 20}))
        first = await _until(ws, "frame")
        for _ in range(3):
            frame = await _until(ws, "frame")
        assert frame["step"] > first["step"] > 2
        await ws.send(json.dumps({"type": "pause"}))
        state = await _until(ws, "state")
        assert state["playing"] is False


def test_walk_a_pass_phase_by_phase_then_play_and_pause(live: LiveServer) -> None:
    asyncio.run(_walk(live.url))


def test_a_burst_from_a_client_that_reads_gets_every_answer(live: LiveServer) -> None:
    """Messages sent in one burst wait in the server's buffer: the replies to each go
    out before the next is read, so a client that reads is never closed as too slow for
    more replies than the outbox holds (pongs up to the burst, then rate_limited)."""

    async def burst() -> dict[str, int]:
        async with connect(live.url) as ws:
            await _until(ws, "grid")
            for i in range(600):
                await ws.send(json.dumps({"type": "ping", "id": i}))
            await ws.send(b"\x00")  # binary: refused, and counted by the rate limit too
            kinds: dict[str, int] = {}
            for _ in range(601):
                msg = strict_json(await asyncio.wait_for(ws.recv(), timeout=20))
                kind = f"{msg['type']}:{msg.get('code', '')}"
                kinds[kind] = kinds.get(kind, 0) + 1
            await ws.send(json.dumps({"type": "ping", "id": "after"}))  # still open
            return kinds

    kinds = asyncio.run(burst())
    assert set(kinds) == {"pong:", "error:rate_limited"}, kinds
    assert kinds["pong:"] >= 200


@pytest.mark.parametrize(
    "origin",
    ["http://evil-host", "http://127.0.0.1.evil", "https://127.0.0.1:{port}", "null", "file://"],
)
def test_foreign_origins_get_http_403(live: LiveServer, origin: str) -> None:
    async def attempt() -> None:
        with pytest.raises(InvalidStatus) as info:
            async with connect(live.url, origin=origin.format(port=live.port)):  # type: ignore[arg-type]
                pass
        assert info.value.response.status_code == 403

    asyncio.run(attempt())


def test_own_origin_and_no_origin_are_accepted(live: LiveServer) -> None:
    async def attempt(origin: str | None) -> str:
        async with connect(live.url, origin=origin) as ws:  # type: ignore[arg-type]
            return str(json.loads(await ws.recv())["type"])

    assert asyncio.run(attempt(f"http://127.0.0.1:{live.port}")) == "hello"
    assert asyncio.run(attempt(None)) == "hello"


def test_http_routes(live: LiveServer) -> None:
    base = f"http://127.0.0.1:{live.port}"
    with urllib.request.urlopen(base + "/healthz") as r:
        assert json.load(r)["status"] == "ok"
    with urllib.request.urlopen(base + "/") as r:
        html = r.read().decode()
        assert "default-src 'self'" in r.headers["Content-Security-Policy"]
        assert r.headers["X-Content-Type-Options"] == "nosniff"
        assert r.headers["Referrer-Policy"] == "no-referrer"
    assert "http://" not in html.replace(base, "") and "https://" not in html
    req = urllib.request.Request(
        base + "/vendor/plotly.min.js", headers={"Accept-Encoding": "gzip"}
    )
    with urllib.request.urlopen(req) as r:
        assert r.headers["Content-Encoding"] == "gzip"
        assert "max-age" in r.headers["Cache-Control"]
        assert len(r.read()) < 2_000_000


def test_internal_error_answers_500_with_security_headers(
    settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """A bug in an HTTP route (docs/reliability.md §11): a plain 500 that still carries
    every security header, and one ERROR line with the traceback."""
    server = LiveServer(settings)

    @server.app.get("/test-boom")
    async def boom() -> None:
        raise ZeroDivisionError("a bug")

    with server, pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(f"http://127.0.0.1:{server.port}/test-boom")
    err = info.value
    assert err.code == 500
    assert err.read() == b"Internal Server Error"  # no traceback to the client
    assert "default-src 'self'" in err.headers["Content-Security-Policy"]
    assert err.headers["X-Content-Type-Options"] == "nosniff"
    assert err.headers["Referrer-Policy"] == "no-referrer"
    assert err.headers["X-Frame-Options"] == "SAMEORIGIN"
    errors = [r for r in caplog.records if r.levelname == "ERROR"]
    assert any("internal error on GET /test-boom" in r.getMessage() for r in errors)


def test_serving_shortens_the_gil_switch_interval(settings: Any) -> None:
    """While the app serves, a worker thread running Python gives the GIL back to the
    event loop within ``SWITCH_INTERVAL`` (not CPython's 5 ms), and the garbage
    collector's young generation waits for ``GC_THRESHOLDS`` allocations (not 700);
    both restored afterwards."""
    import gc
    import sys

    from fastapi.testclient import TestClient

    from bpviz.server.app import GC_THRESHOLDS, SWITCH_INTERVAL, create_app

    before, gc_before = sys.getswitchinterval(), gc.get_threshold()
    with TestClient(create_app(settings)):
        assert sys.getswitchinterval() == pytest.approx(SWITCH_INTERVAL)
        assert gc.get_threshold() == GC_THRESHOLDS
    assert sys.getswitchinterval() == before
    assert gc.get_threshold() == gc_before
