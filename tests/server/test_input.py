"""Bad input never reaches an internal error: numbers beyond any range, non-finite
values and crafted counters in a config, a `set`, an import and a report are refused
with their field path (and params); no 500, headers on every answer."""

from __future__ import annotations

import base64
import copy
import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from .conftest import Conn

HUGE = 2**70  # beyond int64, and beyond a float's exact integers

BAD_CONFIGS = [
    ('{"seed": HUGE}', "seed", "too_large"),
    ('{"training": {"learning_rate": 1e999}}', "training.learning_rate", "not_finite"),
    ('{"data": {"samples": -1e999}}', "data.samples", "not_finite"),
    ('{"network": {"hidden": [{"units": HUGE}]}}', "network.hidden.0.units", "too_large"),
    ('{"network": {"dropout": NaN}}', "network.dropout", "not_finite"),
]


def _error(conn: Conn) -> dict[str, Any]:
    while (msg := conn.recv())["type"] != "error":
        pass
    return msg


@pytest.mark.parametrize(("config", "field", "code"), BAD_CONFIGS)
def test_a_bad_number_in_a_config_is_invalid_config(
    conn: Conn, config: str, field: str, code: str
) -> None:
    text = config.replace("HUGE", str(HUGE))
    conn.ws.send_text(f'{{"type": "configure", "config": {text}}}')
    err = _error(conn)
    assert err["code"] == "invalid_config" and err["field"] == field
    assert err["params"]["errors"][0]["code"] == code
    assert err["params"]["errors"][0]["field"] == field


@pytest.mark.parametrize(
    ("training", "field"),
    [
        (f'{{"batch_size": {HUGE}}}', "training.batch_size"),
        ('{"clip_norm": 1e999}', "training.clip_norm"),
        ('{"momentum": -Infinity}', "training.momentum"),
        ('{"bogus": 1}', "training.bogus"),
    ],
)
def test_a_bad_set_is_invalid_config_at_its_training_path(
    conn: Conn, training: str, field: str
) -> None:
    conn.ws.send_text(f'{{"type": "set", "training": {training}}}')
    err = _error(conn)
    assert err["code"] == "invalid_config" and err["field"] == field
    conn.send(type="set", training={"learning_rate": 0.1})
    assert conn.until("state")["type"] == "state"  # the session goes on


@pytest.fixture
def run(conn: Conn) -> dict[str, Any]:
    conn.send(type="step", unit="step", count=3)
    conn.until("frame")
    conn.send(type="export")
    out: dict[str, Any] = conn.until("export")["run"]
    return out


@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        (("state", "steps_done"), HUGE, "run.state.steps_done"),
        (("state", "steps_done"), 10**13, "run.state.steps_done"),
        (("state", "current_epoch"), 10**6, "run.state.current_epoch"),
        (("state", "optimizer", "t"), 10**6, "run.state.optimizer.t"),
        (("state", "pos"), -1, "run.state.pos"),
        (("history", "stride"), HUGE, "run.history.stride"),
        (("config", "seed"), HUGE, "seed"),
    ],
)
def test_crafted_counters_in_an_import_are_refused(
    conn: Conn, run: dict[str, Any], path: tuple[str, ...], value: Any, field: str
) -> None:
    bad = copy.deepcopy(run)
    node = bad
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    conn.send(type="import", run=bad)
    err = _error(conn)
    assert err["code"] in ("invalid_run", "invalid_config") and err["field"] == field
    assert err["params"]
    conn.send(type="step", unit="step")
    assert conn.until("frame")["step"] == 4  # nothing changed


@pytest.mark.parametrize("slots", [{"0": "short"}, {"7": "whole"}])
def test_an_import_with_optimizer_moments_of_another_shape_is_refused(
    conn: Conn, slots: dict[str, str]
) -> None:
    """Once accepted, such a run failed every step after it with `internal`."""
    conn.send(type="configure", config={"training": {"optimizer": "adam"}})
    conn.until("grid")
    conn.send(type="step", unit="step", count=3)
    conn.until("frame")
    conn.send(type="export")
    run = conn.until("export")["run"]
    moments = run["state"]["optimizer"]["slots"]["0"]
    short = {"dtype": "float64", "shape": [3], "data": base64.b64encode(bytes(24)).decode()}
    bad = copy.deepcopy(run)
    key, kind = next(iter(slots.items()))
    bad["state"]["optimizer"]["slots"] = {key: [moments[0], short] if kind == "short" else moments}
    conn.send(type="import", run=bad)
    err = _error(conn)
    assert err["code"] == "invalid_run" and err["field"] == "run.state", err
    assert "optimizer slot" in err["message"]
    conn.send(type="step", unit="step")
    assert conn.until("frame")["step"] == 4  # the run before the import goes on


def test_a_report_never_answers_500(client: TestClient, run: dict[str, Any]) -> None:
    for path, value in [
        (("metrics", "train_loss"), HUGE),
        (("metrics", "steps_done"), -HUGE),
        (("history", "points", "train_loss"), [HUGE, "x", None]),
        (("config", "training", "learning_rate"), 1e999),
        (("weights", 0, "W", 0, 0), HUGE),
    ]:
        bad: Any = copy.deepcopy(run)
        node = bad
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value
        body = json.dumps(bad).replace("Infinity", "1e999")
        r = client.post("/api/report", content=body)
        assert r.status_code in (200, 422), (path, r.status_code)
        assert r.headers["x-content-type-options"] == "nosniff"
        if r.status_code == 422:
            assert all("params" in p or p["type"] == "bad_json" for p in r.json()["detail"])


def test_a_csv_error_always_has_its_row_and_column(conn: Conn) -> None:
    """protocol.md: a CSV error carries row and column, either may be null (an empty
    file's had neither key)."""
    conn.send(type="csv_inspect", name="x.csv", text="")
    err = _error(conn)
    assert err["code"] == "empty" and err["row"] is None and err["column"] is None
    assert "row" in err and "column" in err


def test_a_csv_sent_as_bytes_is_decoded_and_described(conn: Conn) -> None:
    text = "面积,房间,价格\n50,1,270\n57,2,311\n64,3,352\n71,4,393\n78,5,434\n"
    data = base64.b64encode(text.encode("gb18030")).decode()
    conn.send(type="csv_inspect", name="房价.csv", data=data)
    info = conn.until("csv_info")
    assert info["encoding"] == "gb18030" and info["columns"] == ["面积", "房间", "价格"]
    assert [k["kind"] for k in info["column_kinds"]] == ["numeric"] * 3
    typo = base64.b64encode(text.replace("434", "43x").encode("gb18030")).decode()
    conn.send(type="csv_inspect", name="房价.csv", data=typo)
    err = _error(conn)
    assert err["code"] == "not_numeric" and (err["row"], err["column"]) == (6, "价格")
    assert err["params"]["value"] == "43x"
    conn.send(type="csv_inspect", name="x.csv", data="%%%")
    err = _error(conn)
    assert err["code"] == "bad_message" and err["field"] == "data"
    conn.send(
        type="csv_inspect", name="x.csv", data=base64.b64encode(b"PK\x03\x04\x00\x00").decode()
    )
    err = _error(conn)
    assert err["code"] == "encoding" and err["field"] == "csv"
    assert err["params"]["reason"] == "binary"
    conn.ws.send_text('{"type": "csv_inspect", "name": "x.csv"}')  # neither data nor text
    assert _error(conn)["code"] == "bad_message"
