"""Run files: export, the exact import, and every refusal of a crafted run as a RunError
naming its field — never an internal error."""

from __future__ import annotations

import copy
import json
import math
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bpviz.core.data.csv import CsvFile, csv_hash
from bpviz.core.experiment.build import build
from bpviz.core.experiment.config import ConfigError, to_dict, validate
from bpviz.core.experiment.config_docs import inline_refs
from bpviz.core.experiment.runs import (
    PackedArray,
    RunError,
    RunFile,
    current_config,
    export_run,
    import_run,
    parse_run,
    run_csv,
)

CONFIG = {
    "seed": 3,
    "data": {"name": "xor", "samples": 120},
    "network": {"hidden": [{"units": 5, "activation": "tanh"}], "batchnorm": True},
    "training": {"optimizer": "adam", "learning_rate": 0.05, "batch_size": 8},
}


def wire(obj: Any) -> Any:
    """Through JSON, as the page or a file carries it (numpy arrays as lists)."""

    def default(o: Any) -> Any:
        return o.tolist()

    return json.loads(json.dumps(obj, default=default))


@pytest.fixture(scope="module")
def run() -> dict[str, Any]:
    exp = build(validate(CONFIG))
    exp.run_steps(13)
    exp.set_training(exp.training.model_copy(update={"learning_rate": 0.02}))
    exp.run_steps(4)
    out: dict[str, Any] = wire(export_run(exp))
    return out


def test_export_names_the_live_config(run: dict[str, Any]) -> None:
    assert run["format"] == "bpviz-run" and run["version"] == 1
    assert run["config"]["training"]["learning_rate"] == 0.02
    assert run["state"]["steps_done"] == 17 and "data_csv" not in run
    assert RunFile.model_validate(run).state is not None


def test_import_is_exact(run: dict[str, Any]) -> None:
    exp = import_run(run)
    assert exp.steps_done == 17 and exp.training.learning_rate == 0.02
    assert current_config(exp) == exp.config == validate(run["config"])
    original = build(validate(CONFIG))
    original.run_steps(13)
    original.set_training(original.training.model_copy(update={"learning_rate": 0.02}))
    original.run_steps(4)
    np.testing.assert_array_equal(exp.network.params, original.network.params)
    exp.run_steps(5)
    original.run_steps(5)
    np.testing.assert_array_equal(exp.network.params, original.network.params)
    assert wire(export_run(exp))["state"] == wire(export_run(original))["state"]


def test_keys_the_run_file_does_not_name_are_ignored(run: dict[str, Any]) -> None:
    """A later version's run, with more in it, still imports (docs/protocol.md, export);
    its config is still a config: an unknown key there is refused."""
    later = copy.deepcopy(run)
    later["notes"] = "from a later version"
    later["state"]["later"] = 1
    later["weights"][0]["later"] = [1, 2]
    assert import_run(later).steps_done == 17
    later["config"]["later"] = 1
    with pytest.raises(ConfigError, match="unknown key 'later'"):
        import_run(later)


def test_a_run_without_state_loads_its_weights(run: dict[str, Any]) -> None:
    light = {k: v for k, v in run.items() if k != "state"}
    exp = import_run(light)
    assert exp.steps_done == 0
    W = np.asarray(run["weights"][0]["W"])
    np.testing.assert_array_equal(exp.network.get_weights()[0][0], W)


def refused(run: Any) -> RunError:
    with pytest.raises(RunError) as info:
        import_run(run)
    assert info.value.field and info.value.field.startswith("run")
    assert info.value.problems and str(info.value)
    return info.value


def with_(run: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    out = copy.deepcopy(run)
    node = out
    *parents, last = path.split(".")
    for key in parents:
        node = node[int(key)] if isinstance(node, list) else node[key]
    if isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return out


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("format", "x"),
        ("version", 2),
        ("weights", 3),
        ("weights.0", {"W": [[1.0]]}),
        ("weights.0.W", [["a"]]),
        ("batchnorm", "x"),
        ("state.steps_done", -1),
        ("state.steps_done", 2.5),
        ("state.steps_done", 10**400),
        ("state.steps_done", 2**53),
        ("state.steps_done", "3"),
        ("state.steps_done", True),
        ("state.current_epoch", 1e300),
        ("state.current_epoch", math.nan),
        ("state.pos", -3),
        ("state.optimizer.t", 10**30),
        ("state.optimizer.t", 0.5),
        ("state.optimizer.name", "lbfgs"),
        ("state.perm.0", 10**400),
        ("state.params.data", "not base64!"),
        ("state.params.shape", [10**12]),
        ("state.params.dtype", "int8"),
        ("state.order_rng", "{"),
        ("state.diverged", "yes"),
        ("data_csv", {"hash": "x", "name": "a", "text": "a,b\n1,2\n"}),
    ],
)
def test_crafted_fields_are_refused_with_their_path(
    run: dict[str, Any], path: str, value: Any
) -> None:
    err = refused(with_(run, path, value))
    top = path.split(".")[0]
    assert err.field is not None and err.field.startswith(f"run.{top}"), err.field


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("state.pos", 10**6),  # beyond the training set
        ("state.perm", [0, 0, 1]),  # not a permutation
        ("state.params", PackedArray.pack(np.zeros(3))),  # the wrong size for this network
        ("state.order_rng", json.dumps({"bit_generator": "nope"})),
        ("weights.0.W", [[1.0, 2.0]]),  # the wrong shape
        ("weights.0.W", [[1e308 * 10]]),  # not finite
        ("batchnorm", [None, None]),  # BatchNorm state of another network
        ("history", {"points": {"step": "x"}}),
    ],
)
def test_what_does_not_fit_the_network_is_refused(
    run: dict[str, Any], path: str, value: Any
) -> None:
    err = refused(with_(run, path, value))
    assert err.field in ("run.state", "run.weights", "run.batchnorm", "run.history")


@pytest.mark.parametrize(
    "change",
    [
        lambda h: h["points"]["step"].__setitem__(0, -5),
        lambda h: h["points"]["step"].reverse(),  # out of order
        lambda h: h["points"]["grad_norm"].__setitem__(0, [0.5]),  # not one per layer
        lambda h: h["points"]["delta_norm"].__setitem__(0, [0.1] * 9),
        lambda h: h.__setitem__("stride", 10**30),
        lambda h: h.__setitem__("stride", True),
    ],
    ids=["step-negative", "steps-reversed", "grad-narrow", "delta-wide",
         "stride-huge", "stride-true"],
)  # fmt: skip
def test_a_history_no_run_could_record_is_refused(run: dict[str, Any], change: Any) -> None:
    assert len(run["history"]["points"]["step"]) > 2
    assert len(run["history"]["points"]["grad_norm"][0]) == len(run["weights"])
    import_run(run)  # as exported, it loads
    bad = copy.deepcopy(run)
    change(bad["history"])
    assert refused(bad).field == "run.history"


@pytest.mark.parametrize("history", ["x", 3, [1, 2], True])
def test_a_history_that_is_not_an_object_is_refused(run: dict[str, Any], history: Any) -> None:
    """It was taken as no history at all; ``null`` still is (a run without one)."""
    assert refused({**run, "history": history}).field == "run.history"
    assert import_run({**run, "history": None}).history.columns["step"] == []


def test_history_points_past_the_steps_done_are_left_out(run: dict[str, Any]) -> None:
    """A run exported while an earlier step was viewed carries the later points too."""
    steps = run["history"]["points"]["step"]
    done = run["state"]["steps_done"]
    assert steps[-1] == done
    later = copy.deepcopy(run)
    for values in later["history"]["points"].values():
        values.append(values[-1])
    later["history"]["points"]["step"][-1] = 10**30
    exp = import_run(later)
    assert exp.history.columns["step"] == import_run(run).history.columns["step"]
    assert exp.history.columns["step"][-1] == done


def test_a_run_file_version_is_a_number_not_true(run: dict[str, Any]) -> None:
    assert refused(with_(run, "version", True)).field == "run.version"


@pytest.mark.parametrize("bad", [None, [], "run", 3])
def test_a_run_is_an_object(bad: Any) -> None:
    assert refused(bad).field == "run"


def test_the_config_is_checked_as_a_config(run: dict[str, Any]) -> None:
    with pytest.raises(ConfigError) as info:
        import_run(with_(run, "config.seed", -1))
    assert info.value.errors[0].field == "seed"


def test_every_problem_is_listed(run: dict[str, Any]) -> None:
    bad = with_(with_(run, "version", 9), "state.pos", -1)
    err = refused(bad)
    assert {p.field for p in err.problems} == {"run.version", "run.state.pos"}


CSV = "a,b,y\n" + "".join(f"{i},{i * i % 5},{i % 2}\n" for i in range(10))


def test_a_csv_run_carries_its_csv() -> None:
    file = CsvFile(csv_hash(CSV), "mine.csv", CSV)
    cfg = validate({"data": {"name": "csv", "csv": file.hash}})
    exp = build(cfg, {file.hash: file})
    exp.run_steps(3)
    run = wire(export_run(exp, file))
    assert run["data_csv"] == file.to_dict()
    assert run_csv(run) == file
    again = import_run(run)
    np.testing.assert_array_equal(again.network.params, exp.network.params)
    assert to_dict(again.config) == run["config"]
    # without its CSV the run names the file it needs
    with pytest.raises(ConfigError) as info:
        import_run({k: v for k, v in run.items() if k != "data_csv"})
    assert info.value.errors[0].code == "unknown_csv"
    with pytest.raises(RunError) as err:
        run_csv({"data_csv": {**file.to_dict(), "text": CSV + "\n"}})
    assert err.value.field == "run.data_csv"
    assert run_csv({}) is None


def test_the_run_schema_is_generated() -> None:
    schema = inline_refs(RunFile.model_json_schema())
    assert "$defs" not in json.dumps(schema)
    state = schema["properties"]["state"]["anyOf"][0]["properties"]
    assert state["steps_done"] == {"maximum": 2**53 - 1, "minimum": 0, "type": "integer"}
    assert state["params"]["properties"]["dtype"]["enum"] == ["float64", "float32"]


def test_parse_run_reports_fields() -> None:
    with pytest.raises(RunError) as info:
        parse_run({"format": "bpviz-run", "version": 1})
    assert info.value.field == "run.weights"


junk = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=5)
    | st.sampled_from([10**400, -1, 2**53, 1e300, "AAAA", "{}"]),
    lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=8), c, max_size=3),
    max_leaves=8,
)
STATE_KEYS = [
    "steps_done", "current_epoch", "perm", "pos", "order_rng", "dropout_rng", "params", "bn",
    "optimizer", "diverged",
]  # fmt: skip


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(key=st.sampled_from(STATE_KEYS), value=junk)
def test_junk_in_the_state_is_a_run_error(run: dict[str, Any], key: str, value: Any) -> None:
    try:
        import_run(with_(run, f"state.{key}", value))
    except RunError as exc:
        assert exc.field is not None and exc.field.startswith("run.state")
