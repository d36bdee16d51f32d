"""The written contract (docs/protocol.md, docs/config.md, docs/reliability.md) checked
from outside: what an independent client or operator sees, one test per mismatch found."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from starlette.websockets import WebSocketDisconnect

from bpviz.server import budget, workers
from bpviz.server.app import create_app
from bpviz.server.protocol import schemas, server_adapter
from bpviz.server.settings import Settings, get_settings

from .conftest import Conn, strict_json

ROOT = Path(__file__).resolve().parents[2]

# ------------------------------------------------------------- settings (BPVIZ_*)


@pytest.fixture
def clean_settings() -> Iterator[None]:
    """No cached settings before or after: the test's environment is read afresh."""
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.mark.parametrize("url", ["http://localhost:6379", "localhost:6379", "redis//x"])
def test_a_redis_url_redis_cannot_open_is_a_settings_error(url: str) -> None:
    # before: accepted, and `bpviz serve` died at startup with a traceback
    with pytest.raises(ValidationError, match="not a Redis URL"):
        Settings(redis_url=url)


@pytest.mark.parametrize("url", ["redis://h:6379/0", "rediss://h:6380", "unix:///tmp/r.sock"])
def test_redis_urls_of_every_scheme_redis_opens_are_accepted(url: str) -> None:
    assert Settings(redis_url=url).redis_url == url


def test_an_empty_redis_url_is_no_redis(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BPVIZ_REDIS_URL", "")
    assert Settings().redis_url is None


def test_allowed_origins_read_like_the_other_lists(monkeypatch: pytest.MonkeyPatch) -> None:
    # before: a comma-separated value was "error parsing value for field allowed_origins"
    monkeypatch.setenv("BPVIZ_ALLOWED_ORIGINS", "https://a.example, http://b.example:8080")
    assert Settings().allowed_origins == ["https://a.example", "http://b.example:8080"]
    monkeypatch.setenv("BPVIZ_ALLOWED_ORIGINS", '["https://a.example"]')
    assert Settings().allowed_origins == ["https://a.example"]


@pytest.mark.parametrize(
    "name", ["WS_PING_INTERVAL", "WS_PING_TIMEOUT", "SNAPSHOT_TTL", "SNAPSHOT_INTERVAL"]
)
@pytest.mark.parametrize("value", ["inf", "Infinity"])
def test_non_finite_seconds_are_refused(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    # before: "inf" passed gt=0 (a ping that never comes, a snapshot that never expires)
    monkeypatch.setenv(f"BPVIZ_{name}", value)
    with pytest.raises(ValidationError):
        Settings()


def test_serve_names_the_bad_variable_in_one_line(
    monkeypatch: pytest.MonkeyPatch, clean_settings: None
) -> None:
    # `bpviz serve` turns this ValueError into "bpviz: error: …" and exit code 2
    monkeypatch.setenv("BPVIZ_REDIS_URL", "http://:secret@localhost:6379")
    with pytest.raises(ValueError) as caught:
        workers.settings_with([], [])
    text = str(caught.value)
    assert text.startswith("BPVIZ_REDIS_URL: not a Redis URL: it starts with one of redis://")
    assert "secret" not in text  # a URL's password is not printed
    assert "Traceback" not in text and "errors.pydantic.dev" not in text
    monkeypatch.delenv("BPVIZ_REDIS_URL")
    monkeypatch.setenv("BPVIZ_MAX_SESSIONS", "abc")
    with pytest.raises(
        ValueError, match=r"^BPVIZ_MAX_SESSIONS=abc: Input should be a valid integer"
    ):
        workers.settings_with([], [])


# ------------------------------------------------------------- websocket answers

PROTOCOL = (ROOT / "docs" / "protocol.md").read_text(encoding="utf-8")
CONFIG = (ROOT / "docs" / "config.md").read_text(encoding="utf-8")


def row_of(text: str, start: str) -> str:
    """The line of ``text`` that starts with ``start`` (a table row)."""
    return next(line for line in text.splitlines() if line.startswith(start))


def answers(conn: Conn, **msg: Any) -> list[dict[str, Any]]:
    """Every message that answers ``msg``: read until the ``pong`` of a ping sent after it
    (a frame or grid may come after that pong: they take their own slot of the outbox;
    a second ping, sent once the first pong is read, comes after them)."""
    conn.send(**msg)
    out = []
    for tag in ("one", "two"):
        conn.send(type="ping", id=tag)
        while (m := conn.recv()) != {"type": "pong", "id": tag}:
            out.append(m)
    return out


def test_pause_answers_state_frame_and_grid_as_documented(conn: Conn) -> None:
    # the server sends a grid too (also when nothing played); the doc said state and frame
    kinds = [m["type"] for m in answers(conn, type="pause")]
    if kinds == ["state", "frame"]:  # (a grid may come after the pongs: a slot of its own)
        kinds.append(conn.until("grid")["type"])
    assert kinds == ["state", "frame", "grid"]
    row = row_of(PROTOCOL, "| `pause` |")
    assert "`grid`" in row and "nothing was playing" in row


def test_focus_past_the_batch_shows_its_last_example_as_documented(conn: Conn) -> None:
    answers(conn, type="step", unit="step")
    frame = (answers(conn, type="focus", example=50) or [conn.until("frame")])[-1]
    assert frame["type"] == "frame" and frame["example"] == len(frame["batch"]) - 1 == 9
    assert "past the batch's end: its last example" in row_of(PROTOCOL, "| `focus` |")


def test_csv_info_column_kinds_carry_the_documented_fields(conn: Conn) -> None:
    text = "a,b,c\n1,2,x\n2,3,y\n3,4,x\n4,5,y\n5,6,x\n6,7,y\n"
    (info,) = answers(conn, type="csv_inspect", name="t.csv", text=text)
    kinds = info["column_kinds"]
    assert [set(k) for k in kinds] == [{"name", "index", "kind", "n_bad", "bad_cells"}] * 3
    assert [(k["index"], k["kind"], k["n_bad"], k["bad_cells"]) for k in kinds] == [
        (1, "numeric", 0, []),
        (2, "numeric", 0, []),
        (3, "text", 6, []),
    ]
    assert '`{"name", "index", "kind", "n_bad", "bad_cells"}`' in PROTOCOL
    assert '`{"row", "column", "column_index", "value", "code"}`' in PROTOCOL


def test_a_binary_file_is_refused_with_the_listed_code_encoding(conn: Conn) -> None:
    data = base64.b64encode(b"\xd0\xcf\x11\xe0" + bytes(200)).decode()
    (err,) = answers(conn, type="csv_inspect", name="x.xls", data=data)
    assert (err["code"], err["field"]) == ("encoding", "csv")
    codes = PROTOCOL.split("A bad file is answered by an `error` whose `code` is the loader's")[1]
    assert codes.lstrip().startswith("(`encoding`,")


def test_missing_weights_are_code_missing_as_the_code_table_says(conn: Conn) -> None:
    config = {
        "data": {"name": "table", "x": [[0.05, 0.1]], "y": [[0.01, 0.99]]},
        "network": {
            "hidden": [{"units": 2}],
            "weights": [{"W": [[1, 2], [3, 4]], "b": [0, 0]}, {"W": [[1, 2], [3, 4]]}],
        },
    }
    (err,) = answers(conn, type="configure", config=config)
    assert (err["code"], err["field"]) == ("invalid_config", "network.weights.1.b")
    assert err["params"]["errors"][0]["code"] == "missing"
    assert "`W` or `b` of a layer's given weights" in row_of(CONFIG, "| `missing` |")


def test_an_import_whose_history_does_not_rise_names_it_once(conn: Conn) -> None:
    answers(conn, type="step", unit="step", count=3)
    conn.send(type="export")
    run = conn.until("export")["run"]
    run["history"]["points"]["step"][1] = 0  # 1, 0, … : not rising
    (err,) = answers(conn, type="import", run=run)
    assert (err["code"], err["field"]) == ("invalid_run", "run.history")
    assert err["params"]["reason"] == "mismatch"
    # before: "history: history: steps must rise from 0"
    assert err["message"] == "history: steps must rise from 0"


def test_a_config_naming_no_loss_gets_its_data_sets_own_as_documented(conn: Conn) -> None:
    for name, loss in (("digits", "softmax_ce"), ("house", "mse"), ("xor", "bce")):
        got = answers(conn, type="configure", config={"data": {"name": name}})
        topology = next(m for m in got if m["type"] == "topology")
        assert topology["config"]["network"]["loss"] == loss
        assert topology["data"]["default_loss"] == loss
    assert "**A config that names no `network.loss` gets the data set's own**" in CONFIG


def test_csv_names_past_200_characters_are_too_large_as_documented(conn: Conn) -> None:
    config = {"data": {"name": "csv", "csv": "abc", "target": "t" * 201}}
    (err,) = answers(conn, type="configure", config=config)
    problem = err["params"]["errors"][0]
    assert (problem["field"], problem["code"]) == ("data.target", "too_large")
    assert problem["params"]["max_length"] == 200
    assert "`data.csv` and `data.target`\nare at most 200 characters" in CONFIG


def test_a_feature_named_twice_counts_once_as_documented(conn: Conn) -> None:
    config = {"data": {"name": "circle", "features": ["x1sq", "x1", "x1sq"]}}
    topology = answers(conn, type="configure", config=config)[0]
    assert topology["data"]["features"] == ["x1", "x1sq"]
    assert "a name given twice counts once" in CONFIG


# ------------------------------------------------------------- message sizes


def test_an_import_whose_type_is_its_last_key_may_be_large(conn: Conn) -> None:
    # a client that sorts its keys writes {"run": …, "type": "import"}; before: too_large
    answers(conn, type="configure", config={"network": {"hidden": [{"units": 64}] * 2}})
    answers(conn, type="step", unit="step", count=20)
    conn.send(type="export")
    run = conn.until("export")["run"]
    text = json.dumps({"run": run, "type": "import"}, sort_keys=True)
    assert 65_536 < len(text) < 20 * 2**20 and text.endswith('"type": "import"}')
    conn.ws.send_text(text)
    assert conn.until("topology")["type"] == "topology"
    assert "or be the message's last key" in PROTOCOL


def test_a_sorted_csv_inspect_past_the_message_limit_is_read() -> None:
    s = Settings()
    text = json.dumps({"name": "a.csv", "text": "x" * 100_000, "type": "csv_inspect"})
    assert budget.message_limit(s, text[:4096], text[-4096:]) > 100_000
    # a "type" of a nested object, or not the last key, does not count
    nested = json.dumps({"type": "ping", "id": {"x": "y" * 100_000, "type": "import"}})
    assert budget.message_limit(s, nested[:4096], nested[-4096:]) == s.max_message_bytes
    inner = json.dumps({"run": {"x": "y" * 100_000, "type": "import"}, "z": 1})
    assert budget.message_limit(s, inner[:4096], inner[-4096:]) == s.max_message_bytes


def test_the_websocket_layer_limit_is_the_documented_20_mib_and_4_kib() -> None:
    # the doc said 20 MiB + 8 KiB; uvicorn is given the largest limit + 4 KiB
    assert Settings().uvicorn_options()["ws_max_size"] == 20 * 2**20 + 4096
    assert "past 20 MiB + 4 KiB" in PROTOCOL


def test_the_defaults_of_optional_fields_are_documented() -> None:
    # the table named the fields but not what an omitted one means
    schema = schemas()["client"]["$defs"]
    for model, field, default, written in (
        ("Step", "unit", "phase", "(default `phase`)"),
        ("Step", "count", 1, "(1–1000, default 1)"),
        ("Play", "fps", 30, "(1–60, default 30)"),
        ("Play", "speed", None, "`null` = as fast as possible, the default"),
        ("GradCheck", "max_examples", 32, "(1–1024, default 32)"),
        ("CsvInspect", "name", "data.csv", 'default `"data.csv"`'),
    ):
        assert schema[model]["properties"][field].get("default") == default, (model, field)
        tag = schema[model]["properties"]["type"]["const"]
        assert written in row_of(PROTOCOL, f"| `{tag}` |"), (model, field)


# ------------------------------------------------------------- admission


def test_a_session_past_the_cap_gets_error_busy_then_1013(tmp_path: Path) -> None:
    # before: closed with 1013 and its reason, but no `error` `busy` as the codes list says
    settings = Settings(data_dir=tmp_path / "data", max_sessions=1)
    with TestClient(create_app(settings)) as client, client.websocket_connect("/ws") as first:
        assert strict_json(first.receive_text())["type"] == "hello"
        with client.websocket_connect("/ws") as second:
            error = strict_json(second.receive_text())
            server_adapter.validate_python(error)
            assert error == {
                "type": "error",
                "code": "busy",
                "message": "server full, try again later",
                "field": None,
            }
            with pytest.raises(WebSocketDisconnect) as closed:
                second.receive_text()
            assert closed.value.code == 1013
    assert "`busy` (the server's session cap: sent\ninstead of `hello`" in PROTOCOL


# ------------------------------------------------------------- HTTP


def test_graph_paths_calls_a_long_whole_number_too_large(client: TestClient) -> None:
    # before: "must be a whole number" (not_integer) for 99999999999999999999
    r = client.get("/api/graph/paths", params={"sizes": "2,99999999999999999999,1"})
    assert r.status_code == 422
    assert r.json()["detail"] == [
        {"loc": ["query", "sizes", 1], "msg": "must be from 1 to 256", "type": "too_large"}
    ]
    r = client.get("/api/graph/paths", params={"sizes": "2,0000004,1"})
    assert r.status_code == 200 and r.json()["sizes"] == [2, 4, 1]
    r = client.get("/api/graph/paths", params={"sizes": "2,4.0,1"})
    assert r.json()["detail"][0]["type"] == "not_integer"


def test_joining_the_room_it_follows_answers_room_only(client: TestClient) -> None:
    with client.websocket_connect("/ws") as ws_owner, client.websocket_connect("/ws") as ws:
        owner, follower = Conn(ws_owner), Conn(ws)
        owner.until("grid")
        follower.until("grid")
        code = answers(owner, type="room_open")[0]["code"]
        assert answers(follower, type="room_join", code=code)[0]["role"] == "follower"
        again = answers(follower, type="room_join", code=code)
        # (the one frame with the whole history every follower gets soon after a join
        # may come among them: room traffic, not an answer)
        assert [m["code"] for m in again if m["type"] == "room"] == [code]
        assert {m["type"] for m in again} <= {"room", "frame"}
    assert "(the room it follows already: `room` only)" in row_of(PROTOCOL, "| `room_join` |")


def test_topology_config_numbers_are_rounded_as_documented(conn: Conn) -> None:
    config = {"training": {"learning_rate": 0.123456789}}
    topology = answers(conn, type="configure", config=config)[0]
    assert topology["config"]["training"]["learning_rate"] == 0.123457
    conn.send(type="export")
    assert conn.until("export")["run"]["config"]["training"]["learning_rate"] == 0.123456789
    assert "a typed table's `0.123456789` comes\nback as `0.123457`" in PROTOCOL


@pytest.mark.parametrize(
    ("layer", "index", "field"),
    [
        (0, [0, 0], "layer"),
        (-1, [0, 0], "layer"),
        (1001, [0, 0], "layer"),
        (10**30, [0, 0], "layer"),
        (1, [0, -1], "index"),
        (1, [100_001, 0], "index"),
        (1, [0, 10**30], "index"),
    ],
)
def test_set_param_naming_no_layer_or_entry_is_bad_param(
    conn: Conn, layer: int, index: list[int], field: str
) -> None:
    # docs: "no such layer or index: `bad_param` naming the `field`"; before, a layer
    # outside 1..1000 or an index entry outside 0..100,000 was a `bad_message`
    answers(conn, type="step", unit="step")
    msg = {"type": "set_param", "layer": layer, "param": "W", "index": index, "value": 0.5}
    (err,) = answers(conn, **msg)
    assert (err["type"], err["code"], err["field"]) == ("error", "bad_param", field)


def test_play_until_a_step_already_passed_stops_at_once(conn: Conn) -> None:
    answers(conn, type="step", unit="step", count=10)
    got = answers(conn, type="play", until={"steps": 5})
    while not any(m["type"] == "state" and not m["playing"] for m in got):
        got.append(conn.recv())  # (stopping comes in a slice of its own: maybe after)
    if not any(m["type"] == "frame" for m in got):
        got.append(conn.until("frame"))
    states = [m for m in got if m["type"] == "state"]
    assert [s["playing"] for s in states] == [True, False]
    assert states[-1]["stopped"] == "steps"
    assert {m["step"] for m in got if m["type"] == "frame"} == {10}
    assert "(at once, with no step, when the run is at or past `n` already)" in PROTOCOL
