"""Memory budgets: the estimate is an upper bound of what a session allocates; a config,
a training change or an import over the budget is refused before anything is built; the
server's budget and the per-address cap refuse new sessions with 1013."""

from __future__ import annotations

import gc
import json
import tracemalloc
from typing import Any

import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from bpviz.core.data.csv import CsvFile, csv_hash
from bpviz.core.experiment.config import TrainingPatch, default_config, validate
from bpviz.server import budget, encode, owndata
from bpviz.server.jobs import dumps_pieces
from bpviz.server.settings import Settings
from bpviz.server.workspace import Workspace

from .conftest import Conn

CONFIGS = [
    {},
    {
        "data": {"name": "xor"},
        "network": {
            "hidden": [{"units": 8, "activation": "relu"}] * 3,
            "batchnorm": True,
            "dropout": 0.2,
            "residual": True,
        },
        "training": {"optimizer": "adam", "batch_size": 16},
    },
    {
        "data": {"name": "digits"},
        "network": {"hidden": [{"units": 64, "activation": "relu"}] * 2, "loss": "softmax_ce"},
    },
    {
        "data": {"name": "house", "samples": 1000},
        "network": {"hidden": [{"units": 96, "activation": "relu"}] * 2, "dtype": "float32"},
        "training": {"batch_size": 64, "optimizer": "momentum"},
    },
]


def _workflow(work: Workspace, config: dict[str, Any]) -> None:
    """What a session does with its memory: steps (the rewind buffer fills), frames,
    grids, an export written in pieces, a gradient check, another batch size."""
    work.adopt(work.build(validate(config)))
    for _ in range(60):
        work.advance("step", 1)
    work.frame_text()
    work.grid_text()
    text = "".join(dumps_pieces({"type": "export", "run": work.export_snapshot()}))
    run = work.gradcheck_start(1024, 0.02)
    while not run.run(0.05):
        pass
    del run, text
    work.set_training(TrainingPatch.model_validate({"batch_size": 7}))
    work.advance("step", 3)
    work.frame_text()


@pytest.mark.parametrize("config", CONFIGS)
def test_the_estimate_is_an_upper_bound(config: dict[str, Any]) -> None:
    settings = Settings(rewind_bytes=256 * 1024)  # (the rewind buffer fills in few steps)
    work = Workspace(settings)
    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        _workflow(work, config)
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    estimate = work.estimate(work.exp.config, live=True).total
    assert peak <= estimate <= 6 * peak + 3 * 2**20  # an upper bound, not a wild one


def test_the_shape_of_the_data_before_loading_it() -> None:
    shape = budget.data_shape(validate({"data": {"name": "digits", "samples": 1797}}))
    assert (shape.n_in, shape.n_out, shape.n_samples) == (64, 10, 1797)
    text = "a,b,c\n" + "1,2,x\n" * 99
    file = CsvFile(csv_hash(text), "t.csv", text)
    config = validate({"data": {"name": "csv", "csv": file.hash, "test_fraction": 0.2}})
    shape = budget.data_shape(config, {file.hash: file})
    assert (shape.n_samples, shape.n_train, shape.n_in, shape.n_out) == (99, 79, 2, 20)


def test_the_largest_export_fits_an_import() -> None:
    bound = budget.export_bytes_bound(owndata.max_bytes(Settings().max_upload_bytes))
    assert bound <= Settings().max_import_bytes
    work = Workspace(Settings())
    big = {
        "data": {"name": "digits", "samples": 1797},
        "network": {"hidden": [{"units": 256, "activation": "relu"}] * 5, "loss": "softmax_ce"},
        "training": {"optimizer": "adam", "batch_size": 8},
    }
    work.adopt(work.build(validate(big)))
    work.advance("step", 2)
    text = "".join(dumps_pieces({"type": "import", "run": work.export_snapshot()}))
    # the largest network of the limits has 300,000 parameters; this one 282,378
    assert len(text) * 300_000 / work.exp.n_params <= bound


BIG = {"network": {"hidden": [{"units": 256, "activation": "tanh"}] * 3}}


def test_a_config_over_the_session_budget_is_refused(conn: Conn) -> None:
    conn.send(type="configure", config={"data": {"name": "xor"}})
    conn.until("grid")
    big = {**BIG, "data": {"samples": 5000}, "training": {"batch_size": 1024}}
    conn.send(type="configure", config=big)
    err = _error(conn)
    assert err["code"] == "too_much_memory" and err["field"] == "network.hidden"
    params = err["params"]
    assert params["setting"] == "session_memory_bytes" and params["budget"] == 64 * 2**20
    assert params["needed"] > params["budget"] and "64.0 MiB" in err["message"]
    conn.send(type="step", unit="step")
    assert len(conn.until("frame")["layers"]) == 3  # still the xor network


def _error(conn: Conn) -> dict[str, Any]:
    while (msg := conn.recv())["type"] != "error":
        pass
    return msg


@pytest.mark.parametrize("settings", [Settings(session_memory_bytes=40 * 2**20)])
def test_a_training_change_or_an_import_over_the_budget_is_refused(conn: Conn) -> None:
    config = {"network": {"hidden": [{"units": 64}] * 2}, "data": {"samples": 5000}}
    conn.send(type="configure", config=config)  # about 33 MiB
    conn.until("grid")
    conn.send(type="set", training={"batch_size": 1024, "optimizer": "adam"})
    err = _error(conn)
    assert err["code"] == "too_much_memory" and err["field"] == "training.batch_size"
    conn.send(type="export")
    run = conn.until("export")["run"]
    run["config"]["network"]["hidden"] = [{"units": 256, "activation": "tanh"}] * 3
    conn.send(type="import", run=run)
    err = _error(conn)
    assert err["code"] == "too_much_memory" and err["field"] == "run.config"


@pytest.mark.parametrize("settings", [Settings(total_memory_bytes=16 * 2**20)])
def test_the_server_budget_refuses_new_sessions_with_1013(client: TestClient) -> None:
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    fits = 16 * 2**20 // runtime.default_memory
    with client.websocket_connect("/ws") as first:
        Conn(first).until("grid")
        first_conn = Conn(first)
        first_conn.send(type="configure", config={"network": {"hidden": [{"units": 64}] * 3}})
        err = _error(first_conn)  # more than the server has left for it
        assert err["code"] == "too_much_memory"
        assert err["params"]["setting"] == "total_memory_bytes"
        held = []
        try:
            for _ in range(fits - 1):
                ws = client.websocket_connect("/ws").__enter__()
                held.append(ws)
                Conn(ws).until("grid")
            with (
                pytest.raises(WebSocketDisconnect) as info,
                client.websocket_connect("/ws") as over,
            ):
                assert json.loads(over.receive_text())["code"] == "busy"  # then the close
                over.receive_text()
            assert info.value.code == 1013
        finally:
            for ws in held:
                ws.__exit__(None, None, None)


@pytest.mark.parametrize("settings", [Settings(max_sessions_per_address=2)])
def test_a_cap_per_address_when_configured(client: TestClient) -> None:
    with client.websocket_connect("/ws") as a, client.websocket_connect("/ws") as b:
        Conn(a).until("grid")
        Conn(b).until("grid")
        with pytest.raises(WebSocketDisconnect) as info, client.websocket_connect("/ws") as c:
            assert json.loads(c.receive_text())["code"] == "busy"  # then the close
            c.receive_text()
        assert info.value.code == 1013


def test_every_budget_is_stated(client: TestClient, conn: Conn) -> None:
    limits = client.get("/api/limits").json()
    hello = conn.seen[0]["limits"]
    s = Settings()
    for key in (
        "session_memory_bytes",
        "total_memory_bytes",
        "max_sessions_per_address",
        "outbox_max_bytes",
        "max_import_bytes",
        "gradcheck_seconds",
    ):
        assert limits[key] == hello[key]
    assert limits["session_memory_bytes"] == s.session_memory_bytes
    assert limits["max_import_bytes"] == s.max_import_bytes
    assert json.loads(encode.dumps(hello)) == hello


def test_the_default_session_is_small() -> None:
    config = default_config()
    total = budget.estimate(config, budget.data_shape(config), Settings()).total
    assert total < 4 * 2**20


def test_message_limits_by_kind() -> None:
    s = Settings()
    assert budget.message_limit(s, '{"type": "import", "run": {') == s.max_import_bytes
    csv = budget.message_limit(s, '{"type": "csv_inspect", "data": "')
    assert csv >= 4 * owndata.max_bytes(s.max_upload_bytes) // 3  # a CSV's bytes as base64
    assert budget.message_limit(s, '{"type": "ping", "id": "') == s.max_message_bytes


@pytest.mark.parametrize("settings", [Settings(outbox_max_bytes=64 * 1024)])
def test_an_export_larger_than_the_outbox_is_refused_not_cut_off(conn: Conn) -> None:
    """An export longer than the server sends in one message is answered `too_large`,
    and the session goes on; before, the outbox overflowed and closed the connection."""
    digits = {"data": {"name": "digits"}, "network": {"hidden": [{"units": 64}]}}
    conn.send(type="configure", config=digits)
    conn.until("frame")
    conn.send(type="export")
    err = _error(conn)
    assert err["code"] == "too_large" and "outbox_max_bytes" in err["message"]
    assert err["params"]["limit"] == 64 * 1024 < err["params"]["bytes"]
    conn.send(type="step", unit="step")
    assert conn.until("frame")["step"] == 1
