"""Errors with codes and params: every config error (FieldError), run-import error
(RunError) carries the values its English message was made of, JSON-ready, so that the
page can word it in Chinese; and docs/config.md lists every code with its params."""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError, model_validator

from bpviz.core.experiment.build import build
from bpviz.core.experiment.config import ConfigError, validate, validate_training_patch
from bpviz.core.experiment.errors import (
    CODES,
    PARAMS,
    FieldError,
    coded_error,
    field_errors,
    json_kind,
    json_value,
    params_table,
)
from bpviz.core.experiment.runs import (
    RUN_REASONS,
    RunError,
    export_run,
    import_run,
    reasons_table,
)

ROOT = Path(__file__).resolve().parents[3]


def errors(obj: Any) -> list[FieldError]:
    with pytest.raises(ConfigError) as info:
        validate(obj)
    for e in info.value.errors:
        json.dumps(e.to_dict(), allow_nan=False)
        assert e.params["field"] == e.field
        assert set(e.params) - {"field"} <= set(PARAMS.get(e.code, e.params)), e
    return info.value.errors


def one(obj: Any) -> FieldError:
    errs = errors(obj)
    assert len(errs) == 1, errs
    return errs[0]


@pytest.mark.parametrize(
    ("obj", "code", "params"),
    [
        (
            {"training": {"learning_rate": 12}},
            "too_large",
            {"field": "training.learning_rate", "max": 10.0, "exclusive": False, "value": 12.0},
        ),
        (
            {"training": {"learning_rate": 0}},
            "too_small",
            {"field": "training.learning_rate", "min": 0.0, "exclusive": True, "value": 0.0},
        ),
        (
            {"training": {"momentum": 1}},
            "too_large",
            {"field": "training.momentum", "max": 1.0, "exclusive": True, "value": 1.0},
        ),
        (
            {"network": {"hidden": [{"units": 0}]}},
            "too_small",
            {"field": "network.hidden.0.units", "min": 1, "exclusive": False, "value": 0},
        ),
        (
            {"network": {"loss": "hinge"}},
            "choice",
            {"field": "network.loss", "value": "hinge", "allowed": ["mse", "bce", "softmax_ce"]},
        ),
        ({"seed": math.nan}, "not_finite", {"field": "seed", "value": "NaN"}),
        (
            {"training": {"l2": -math.inf}},
            "not_finite",
            {"field": "training.l2", "value": "-Infinity"},
        ),
        ({"seed": 1.5}, "not_integer", {"field": "seed", "value": 1.5}),
        ({"seed": "1"}, "type", {"field": "seed", "expected": "integer", "got": "string"}),
        ({"seed": None}, "type", {"field": "seed", "expected": "integer", "got": "null"}),
        (
            {"network": {"batchnorm": 1}},
            "type",
            {"field": "network.batchnorm", "expected": "boolean", "got": "number"},
        ),
        ({"data": []}, "type", {"field": "data", "expected": "object", "got": "array"}),
        (
            {"network": {"hidden": {"units": 3}}},
            "type",
            {"field": "network.hidden", "expected": "array", "got": "object"},
        ),
        (
            {"trainig": {}},
            "unknown_key",
            {
                "field": "trainig",
                "key": "trainig",
                "known": ["seed", "data", "network", "training"],
            },
        ),
        (
            {"network": {"hidden": [{"units": 1}] * 17}},
            "too_many_layers",
            {"field": "network.hidden", "count": 17, "max": 16},
        ),
        ({"data": {"name": "csv"}}, "missing", {"field": "data.csv"}),
        (  # an integer past the float range, below the key's range: too_small, its min
            {"data": {"noise": -(10**400)}},
            "too_small",
            {
                "field": "data.noise",
                "min": 0.0,
                "exclusive": False,
                "value": "-1" + "0" * 37 + "…",  # 40 characters
            },
        ),
        (  # an item of a list of names: the names it may be (was [])
            {"data": {"name": "circle", "features": ["x3"]}},
            "choice",
            {
                "field": "data.features.0",
                "value": "x3",
                "allowed": ["x1", "x2", "x1sq", "x2sq", "x1x2", "sin_x1", "sin_x2"],
            },
        ),
        (  # a table's cell: a JSON type (was "value")
            {"data": {"name": "table", "x": [["a"]], "y": [[1]]}},
            "type",
            {"field": "data.x.0.0", "expected": "number", "got": "string"},
        ),
    ],
)
def test_config_errors_carry_params(obj: Any, code: str, params: dict[str, Any]) -> None:
    err = one(obj)
    assert (err.code, err.params) == (code, params)
    assert err.to_dict() == {
        "field": err.field,
        "message": err.message,
        "code": code,
        "params": params,
    }


def test_huge_and_odd_values_stay_json() -> None:
    err = one({"seed": 10**400})
    assert err.code == "too_large" and isinstance(err.params["value"], str)
    assert len(err.params["value"]) <= 40
    assert json_value(10**5000) == "~1e5000"
    assert json_value("x" * 100) == "x" * 39 + "…"
    assert json_value([1, 2]) == "array" and json_kind({}) == "object"
    assert json_value(math.inf) == "Infinity"


def test_training_patch_errors_carry_params() -> None:
    with pytest.raises(ConfigError) as info:
        validate_training_patch({"batch_size": 2000}, validate({}).training)
    err = info.value.errors[0]
    assert err.params == {"field": "training.batch_size", "max": 1024, "exclusive": False,
                          "value": 2000}  # fmt: skip


def test_config_error_to_dict() -> None:
    with pytest.raises(ConfigError) as info:
        validate({"seed": -1, "training": {"optimizer": "lbfgs"}})
    d = info.value.to_dict()
    assert d["code"] == "invalid_config" and d["field"] == "seed"
    assert [e["code"] for e in d["errors"]] == ["too_small", "choice"]
    json.dumps(d)


def test_unknown_csv_is_a_field_error_with_params() -> None:
    with pytest.raises(ConfigError) as info:
        build(validate({"data": {"name": "csv", "csv": "abc"}}))
    err = info.value.errors[0]
    assert err.code == "unknown_csv" and err.params["field"] == "data.csv"


class _Rule(BaseModel):
    a: int = 0

    @model_validator(mode="after")
    def _check(self) -> _Rule:
        raise ValidationError.from_exception_data(
            "_Rule",
            [
                {
                    "type": coded_error("too_large", "at most {max} {params}", max=3, got=4),
                    "loc": ("a",),
                    "input": None,
                }
            ],
        )


def test_coded_error_params_pass_through_and_braces_stay() -> None:
    with pytest.raises(ValidationError) as info:
        _Rule.model_validate({"a": 1})
    (err,) = field_errors(info.value, model=_Rule)
    assert err.message == "at most {max} {params}"  # no placeholder is filled in
    assert err.params == {"field": "a", "max": 3, "got": 4}


def test_docs_list_every_code_with_its_params() -> None:
    text = (ROOT / "docs" / "config.md").read_text(encoding="utf-8")
    assert set(PARAMS) == set(CODES)
    assert params_table() in text, "docs/config.md is stale: paste errors.params_table()"
    assert reasons_table() in text, "docs/config.md is stale: paste runs.reasons_table()"


# ------------------------------------------------------------------ run files


@pytest.fixture(scope="module")
def run() -> dict[str, Any]:
    exp = build(validate({"data": {"name": "xor", "samples": 60}}))
    exp.run_steps(3)
    out: dict[str, Any] = json.loads(json.dumps(export_run(exp), default=lambda a: a.tolist()))
    return out


def refused(run: Any) -> RunError:
    with pytest.raises(RunError) as info:
        import_run(run)
    err = info.value
    d = err.to_dict()
    json.dumps(d, allow_nan=False)
    assert d["code"] == err.code == "invalid_run" and d["message"] == str(err)
    assert d["params"]["reason"] in RUN_REASONS and d["params"]["field"] == (err.field or "run")
    assert d["problems"] and all(p["params"]["field"] == p["field"] for p in d["problems"])
    return err


def _with(run: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    out = copy.deepcopy(run)
    node: Any = out
    *parents, last = path.split(".")
    for key in parents:
        node = node[int(key)] if isinstance(node, list) else node[key]
    node[last] = value
    return out


def test_run_errors_carry_reasons_and_params(run: dict[str, Any]) -> None:
    err = refused(_with(run, "format", "x"))
    assert err.params["reason"] == "format" and err.params["count"] == 1
    (p,) = err.problems
    assert (p.field, p.code) == ("run.format", "literal_error")
    assert p.params == {"field": "run.format", "value": "x", "allowed": ["bpviz-run"]}
    err = refused(_with(run, "state.pos", -1))
    assert err.problems[0].code == "too_small" and err.problems[0].params["min"] == 0
    err = refused(_with(run, "state.params.data", "%%"))
    p = err.problems[0]
    assert (p.code, p.params["reason"]) == ("invalid_run", "array")
    assert p.params["dtype"] == "float64" and "detail" in p.params
    assert err.params["reason"] == "array"
    err = refused(_with(run, "state.order_rng", "{"))
    assert err.params["reason"] == "rng" and err.field == "run.state"
    err = refused(_with(run, "weights.0.W", [[1.0, 2.0]]))
    assert err.params["reason"] == "mismatch" and err.problems[0].code == "invalid_run"
    err = refused(3)
    assert err.problems[0].params == {"field": "run", "expected": "object", "got": "number"}


def test_a_run_s_csv_refused_by_the_loader_keeps_the_loader_s_code() -> None:
    from bpviz.core.data.csv import csv_hash

    text = "a,b,y\n1,2,0\n3,x,1\n5,6,0\n7,8,1\n"
    exp = build(validate({"data": {"name": "xor", "samples": 60}}))
    run = json.loads(json.dumps(export_run(exp), default=lambda a: a.tolist()))
    run["config"]["data"] = {"name": "csv", "csv": csv_hash(text), "target": "y"}
    run["data_csv"] = {"hash": csv_hash(text), "name": "t.csv", "text": text}
    del run["state"]
    err = refused(run)
    assert err.params["reason"] == "data" and err.params["code"] == "not_numeric"
    (p,) = err.problems
    assert (p.field, p.code) == ("run.data_csv", "not_numeric")
    assert p.params["row"] == 3 and p.params["column"] == "b" and p.params["value"] == "x"
    bad = dict(run, data_csv={**run["data_csv"], "text": text + "\n"})
    err = refused(bad)
    assert err.params["reason"] == "hash"


def test_cross_field_errors_carry_params() -> None:  # with the config.py/build.py patches
    err = one({"data": {"name": "digits", "samples": 3000}})
    assert err.params == {"field": "data.samples", "max": 1797, "value": 3000, "dataset": "digits"}
    err = one({"data": {"name": "digits"}, "network": {"loss": "bce"}})
    assert err.params == {"field": "network.loss", "loss": "bce", "task": "multiclass",
                          "dataset": "digits", "allowed": ["softmax_ce"]}  # fmt: skip
    err = one({"network": {"hidden": [{"units": 256}] * 6}})
    assert err.code == "too_many_parameters"
    assert err.params == {"field": "network.hidden", "count": 329985, "max": 300000,
                          "widths": "2-256-256-256-256-256-256-1"}  # fmt: skip
    err = one({"data": {"name": "csv", "csv": "x" * 201}})
    assert err.params == {"field": "data.csv", "max_length": 200}
    with pytest.raises(ConfigError) as info:
        build(validate({"data": {"name": "csv", "csv": "abc"}}))
    assert info.value.errors[0].params == {"field": "data.csv", "hash": "abc"}
