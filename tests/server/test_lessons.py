"""Lessons and sharing (issue 7): own CSV data, rewind, the gradient-check scaling panel,
exact export/import, metrics and the play stop condition — through the websocket."""

from __future__ import annotations

import base64
from typing import Any

import numpy as np
from fastapi.testclient import TestClient

from .conftest import Conn

HOUSES = "area,rooms,price\n" + "".join(
    f"{50 + 7 * i},{1 + i % 5},{100 + 3 * (50 + 7 * i) + 20 * (1 + i % 5) + (i * 37) % 11}\n"
    for i in range(60)
)
IRIS_LIKE = "species,a,b\n" + "".join(
    f"{['setosa', 'versicolor', 'virginica'][i % 3]},{i % 3 + 0.1 * (i % 7)},{(i * 13) % 5}\n"
    for i in range(45)
)


def params_of(run: dict[str, Any]) -> np.ndarray:
    """The exact weights of an exported run (its state's base64 float64 vector)."""
    p = run["state"]["params"]
    return np.frombuffer(base64.b64decode(p["data"]), dtype="<" + p["dtype"][0] + "8")


def export(conn: Conn) -> dict[str, Any]:
    conn.send(type="export")
    run: dict[str, Any] = conn.until("export")["run"]
    return run


def step(conn: Conn, count: int) -> dict[str, Any]:
    conn.send(type="step", unit="step", count=count)
    return conn.until("frame")


def configure(conn: Conn, **config: Any) -> dict[str, Any]:
    """Configure and read the answer: topology, frame and (1-D, 2-D data) grid."""
    conn.send(type="configure", config=config)
    topo = conn.until("topology")
    conn.until("frame")
    if topo["data"]["n_features"] <= 2:
        conn.until("grid")
    return topo


def upload(conn: Conn, text: str, name: str = "houses.csv") -> dict[str, Any]:
    conn.send(type="csv_inspect", name=name, text=text)
    return conn.until("csv_info")


# ---------------------------------------------------------------- own data


def test_csv_inspect_describes_the_file_and_configure_uses_it(conn: Conn) -> None:
    info = upload(conn, HOUSES)
    assert len(info["hash"]) == 16 and info["name"] == "houses.csv"
    assert info["columns"] == ["area", "rooms", "price"] and info["n_rows"] == 60
    assert info["suggested_target"] == "price" and info["suggested_task"] == "regression"
    assert info["preview"][0] == ["50", "1", "270"]
    assert info["limits"]["max_rows"] >= 1000
    topo = configure(
        conn, data={"name": "csv", "csv": info["hash"]}, network={"hidden": [{"units": 3}]}
    )
    assert topo["data"]["task"] == "regression" and topo["data"]["n_features"] == 2
    assert topo["config"]["network"]["loss"] == "mse"  # the task's loss, by default
    assert topo["config"]["data"]["csv"] == info["hash"]
    assert topo["data"]["feature_names"] == ["area", "rooms"]
    frame = step(conn, 5)
    assert frame["step"] == 5 and frame["metrics"]["train_r2"] is not None


def test_csv_text_labels_are_the_suggested_target(conn: Conn) -> None:
    info = upload(conn, IRIS_LIKE, "iris.csv")
    assert info["suggested_target"] == "species" and info["suggested_task"] == "multiclass"
    conn.send(
        type="configure",
        config={"data": {"name": "csv", "csv": info["hash"], "target": "species"}},
    )
    topo = conn.until("topology")
    assert topo["data"]["class_names"] == ["setosa", "versicolor", "virginica"]
    assert topo["config"]["network"]["loss"] == "softmax_ce"
    frame = conn.until("frame")
    conn.until("grid")
    confusion = frame["metrics"]["confusion"]
    assert confusion["labels"] == ["setosa", "versicolor", "virginica"]
    assert sum(map(sum, confusion["matrix"])) == topo["data"]["n_test"]


def test_bad_csv_errors_name_row_and_column(conn: Conn) -> None:
    conn.send(type="csv_inspect", name="bad.csv", text="a,b,y\n1,2,3\n4,5\n6,7,8\n")
    err = conn.recv()
    assert err["type"] == "error" and err["code"] == "ragged_row"
    assert err["field"] == "csv" and err["row"] == 3 and "Row 3" in err["message"]
    conn.send(type="csv_inspect", name="bad.csv", text="a,b,y\n1,x,p\n4,5,q\n6,7,p\n1,1,q\n")
    err = conn.recv()
    assert err["code"] == "not_numeric" and err["column"] == "b" and err["row"] == 2
    assert "column “b”" in err["message"]
    conn.send(type="csv_inspect", name="one.csv", text="a,y\n1,x\n2,x\n3,x\n4,x\n")
    err = conn.recv()
    assert err["code"] == "one_class" and err["column"] == "y"
    conn.send(type="ping", id=1)
    assert conn.recv()["type"] == "pong"  # the session goes on


def test_configure_with_an_unknown_csv_asks_for_it(conn: Conn) -> None:
    conn.send(type="configure", config={"data": {"name": "csv", "csv": "0123456789abcdef"}})
    err = conn.recv()
    assert err["type"] == "error" and err["code"] == "unknown_csv"
    assert err["field"] == "data.csv"
    info = upload(conn, HOUSES)
    conn.send(
        type="configure",
        config={"data": {"name": "csv", "csv": info["hash"], "target": "nope"}},
    )
    err = conn.recv()
    assert err["code"] == "unknown_target" and err["field"] == "data.target"


def test_a_session_keeps_four_csvs(conn: Conn) -> None:
    hashes = [upload(conn, HOUSES + f"{i},{i},{i}\n")["hash"] for i in range(5)]
    conn.send(type="configure", config={"data": {"name": "csv", "csv": hashes[0]}})
    assert conn.recv()["code"] == "unknown_csv"  # the oldest was dropped
    conn.send(type="configure", config={"data": {"name": "csv", "csv": hashes[1]}})
    assert conn.until("topology")["data"]["n_train"] > 0


def test_a_csv_may_be_larger_than_an_ordinary_message(conn: Conn) -> None:
    rows = "".join(f"{i},{(i * 7) % 13 + 0.25},{(i * 31) % 17 + 0.0625}\n" for i in range(4000))
    text = "x1,x2,y\n" + rows
    assert len(text) > 65_536
    info = upload(conn, text, "big.csv")
    assert info["n_rows"] == 4000


def test_csv_run_export_carries_the_csv_and_import_restores_it(
    client: TestClient, conn: Conn
) -> None:
    info = upload(conn, HOUSES)
    configure(conn, data={"name": "csv", "csv": info["hash"]})
    step(conn, 7)
    run = export(conn)
    assert run["data_csv"] == {"hash": info["hash"], "name": "houses.csv", "text": HOUSES}
    step(conn, 3)
    want = params_of(export(conn))
    with client.websocket_connect("/ws") as ws:
        fresh = Conn(ws)
        fresh.until("grid")
        fresh.send(type="import", run=run)
        assert fresh.until("topology")["config"]["data"]["csv"] == info["hash"]
        assert fresh.until("frame")["step"] == 7
        step(fresh, 3)
        assert np.array_equal(params_of(export(fresh)), want)
        # the CSV is now held by this session too
        fresh.send(type="configure", config={"data": {"name": "csv", "csv": info["hash"]}})
        assert fresh.until("topology")["data"]["n_features"] == 2


def test_builtin_configs_do_not_carry_csv_keys(conn: Conn) -> None:
    conn.send(type="configure", config={"data": {"name": "digits", "samples": 300}})
    topo = conn.until("topology")
    assert set(topo["config"]["data"]) == {"name", "samples", "noise", "test_fraction"}


# ---------------------------------------------------------------- rewind


def test_rewind_seek_and_branch_give_the_uninterrupted_numbers(conn: Conn) -> None:
    topo = configure(
        conn,
        data={"name": "spiral"},
        network={"hidden": [{"units": 6, "activation": "relu"}], "dropout": 0.2},
        training={"optimizer": "adam", "batch_size": 7, "learning_rate": 0.01},
    )
    assert topo["rewind"] == {"first": 0, "last": 0, "count": 1}
    frame = step(conn, 30)
    assert frame["rewind"]["last"] == 30 and frame["rewind"]["count"] == 31
    at30 = params_of(export(conn))

    conn.send(type="seek", step=10)
    frame = conn.until("frame")
    assert frame["viewing"] == 10 and frame["step"] == 10
    assert frame["layers"][0]["z"] is not None and frame["layers"][0]["dW"] is not None
    assert frame["loss"] is not None
    assert conn.until("grid")["step"] == 10

    conn.send(type="seek", step=None)  # back to the live end
    frame = conn.until("frame")
    assert frame["viewing"] is None and frame["step"] == 30
    assert np.array_equal(params_of(export(conn)), at30)

    conn.send(type="seek", step=10)
    conn.until("frame")
    frame = step(conn, 20)  # branches from step 10
    assert frame["viewing"] is None and frame["step"] == 30
    assert frame["history"]["reset"] is True and max(frame["history"]["step"]) == 30
    assert frame["rewind"]["last"] == 30
    assert np.array_equal(params_of(export(conn)), at30)


def test_seek_shows_the_same_trace_as_the_original_step(conn: Conn) -> None:
    step(conn, 12)
    original = step(conn, 1)
    step(conn, 5)
    conn.send(type="seek", step=13)
    seen = conn.until("frame")
    for a, b in zip(original["layers"], seen["layers"], strict=True):
        for key in ("z", "a", "delta", "W", "dW", "dW_update"):
            assert a[key] == b[key], key
    assert seen["loss"] == original["loss"] and seen["batch"] == original["batch"]


def test_rewind_spans_500_steps_and_hello_states_the_budget(client: TestClient) -> None:
    with client.websocket_connect("/ws") as ws:
        c = Conn(ws)
        hello = c.recv()
        assert hello["limits"]["rewind_bytes"] == 8 * 1024 * 1024
        c.until("grid")
        topo = configure(c, data={"name": "digits", "samples": 400},
                         network={"hidden": [{"units": 30}]})  # fmt: skip
        assert topo["n_params"] > 2000
        c.send(type="step", unit="step", count=600)
        c.until("state")
        while True:
            frame = c.until("frame")
            if not frame["playing"]:
                break
        rw = frame["rewind"]
        assert rw["last"] == 600 and rw["count"] >= 500
        c.send(type="seek", step=rw["first"])
        assert c.until("frame")["viewing"] == rw["first"]


# ---------------------------------------------------------------- gradient check, export


def test_gradcheck_scaling_shows_backprop_growing_slower(conn: Conn) -> None:
    conn.send(type="gradcheck_scaling")
    points = conn.until("gradcheck_scaling")["points"]
    sizes = [p["n_params"] for p in points]
    assert len(points) >= 4 and sizes == sorted(sizes)
    assert sizes[0] <= 30 and sizes[-1] >= 1000
    first, last = points[0], points[-1]
    growth_bp = last["time_backprop_s"] / first["time_backprop_s"]
    growth_fd = last["time_numeric_s"] / first["time_numeric_s"]
    assert growth_fd > 10 * growth_bp


def imported_then_stepped(client: TestClient, run: dict[str, Any], n: int) -> dict[str, Any]:
    """The export of a fresh session that imported ``run`` and took ``n`` steps."""
    with client.websocket_connect("/ws") as ws:
        fresh = Conn(ws)
        fresh.until("grid")
        fresh.send(type="import", run=run)
        fresh.until("frame")  # a table of three inputs has no grid
        step(fresh, n)
        return export(fresh)


def test_export_import_is_exact(client: TestClient, conn: Conn) -> None:
    configure(
        conn,
        data={"name": "moons"},
        network={"hidden": [{"units": 5}, {"units": 5}], "dropout": 0.1, "batchnorm": True},
        training={"optimizer": "adam", "batch_size": 9},
    )
    step(conn, 17)
    conn.send(type="step", unit="phase", count=3)  # mid-step: exported as its start
    conn.until("frame")
    run = export(conn)
    assert run["state"]["steps_done"] == 17 and run["state"]["optimizer"]["t"] == 17
    step(conn, 1)  # finishes step 18
    step(conn, 12)
    original = export(conn)
    copy = imported_then_stepped(client, run, 13)
    assert np.array_equal(params_of(copy), params_of(original))
    assert copy["state"] == original["state"]
    assert copy["weights"] == original["weights"]


def test_a_run_exported_while_a_past_step_is_viewed_imports_at_that_step(
    client: TestClient, conn: Conn
) -> None:
    """The export holds the viewed step's state and the history of the whole run: the
    import takes the state and the history up to that step, and trains on from it as
    the exporting session does."""
    step(conn, 20)
    conn.send(type="seek", step=10)
    assert conn.until("frame")["viewing"] == 10
    run = export(conn)
    assert run["state"]["steps_done"] == 10 and max(run["history"]["points"]["step"]) == 20
    with client.websocket_connect("/ws") as ws:
        fresh = Conn(ws)
        fresh.until("grid")
        fresh.send(type="import", run=run)
        frame = fresh.until("frame")
        assert frame["step"] == 10 and max(frame["history"]["step"]) == 10
        frame = step(fresh, 5)
        assert frame["step"] == 15 and frame["history"]["step"][-1] == 15
        copy = export(fresh)
    step(conn, 5)  # branches from step 10
    assert np.array_equal(params_of(copy), params_of(export(conn)))


def test_a_typed_table_with_every_digit_exports_and_imports_exactly(
    client: TestClient, conn: Conn
) -> None:
    """The run file's config keeps every digit: a table or given weights typed with more
    than 6 significant digits came back rounded, and the import trained on other data."""
    rng = np.random.default_rng(4)
    x = rng.normal(size=(7, 3)).tolist()
    y = rng.normal(size=(7, 1)).tolist()
    weights = [
        {"W": rng.normal(size=(4, 3)).tolist(), "b": rng.normal(size=4).tolist()},
        {"W": rng.normal(size=(1, 4)).tolist(), "b": rng.normal(size=1).tolist()},
    ]
    configure(
        conn,
        data={"name": "table", "x": x, "y": y},
        network={"hidden": [{"units": 4, "activation": "tanh"}], "weights": weights},
        training={"optimizer": "momentum", "batch_size": 3},
    )
    step(conn, 3)
    run = export(conn)
    assert run["config"]["data"]["x"] == x and run["config"]["data"]["y"] == y
    assert run["config"]["network"]["weights"] == weights
    step(conn, 4)
    original = export(conn)
    copy = imported_then_stepped(client, run, 4)
    assert np.array_equal(params_of(copy), params_of(original))


# ---------------------------------------------------------------- metrics, stop condition


def test_frames_carry_metrics(conn: Conn) -> None:
    frame = step(conn, 3)
    m = frame["metrics"]
    assert {
        "train_loss", "test_loss", "train_acc", "test_acc", "train_r2", "test_r2", "confusion"
    } <= set(m)  # fmt: skip
    assert m["train_r2"] is None and 0 <= m["test_acc"] <= 1
    assert m["confusion"]["labels"] == ["outside", "inside"] or len(m["confusion"]["labels"]) == 2
    assert sum(map(sum, m["confusion"]["matrix"])) == 120  # the test set of circle
    conn.send(type="configure", config={"data": {"name": "square"}})
    frame = conn.until("frame")
    conn.until("grid")
    assert frame["metrics"]["confusion"] is None and frame["metrics"]["test_r2"] is not None


def test_play_until_steps_stops_there(conn: Conn) -> None:
    conn.send(type="play", speed=None, until={"steps": 250})
    assert conn.until("state")["playing"] is True
    while (state := conn.until("state"))["playing"]:
        pass
    assert state["stopped"] == "steps"
    frame = conn.until("frame")
    assert frame["step"] == 250 and frame["playing"] is False


def test_play_until_loss_stops_when_reached(conn: Conn) -> None:
    conn.send(type="play", speed=None, until={"loss": 0.69})
    assert conn.until("state")["playing"] is True
    state = conn.until("state", limit=5000)
    assert state["playing"] is False and state["stopped"] == "loss"
    frame = conn.until("frame")
    assert frame["history"] is None or frame["history"]["train_loss"][-1] <= 0.69
    conn.send(type="pause")
    assert conn.until("state")["stopped"] is None
