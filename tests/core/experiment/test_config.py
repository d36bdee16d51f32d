"""Tests of bpviz.core.experiment.config: defaults, round trip, every validation rule, schema, docs."""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from bpviz.core.engine import registry
from bpviz.core.experiment import config as cfgmod
from bpviz.core.experiment.config import (
    LIMITS,
    Config,
    ConfigError,
    DataConfig,
    FieldError,
    LayerConfig,
    NetworkConfig,
    TrainingConfig,
    TrainingPatch,
    default_config,
    from_dict,
    json_schema,
    n_params,
    to_dict,
    validate,
    validate_training_patch,
)
from bpviz.core.experiment.config_docs import Key, codes_table, keys
from bpviz.core.experiment.errors import CODES

FIELDS = keys()
FIELD_BY_PATH = {f.path: f for f in FIELDS}

ROOT = Path(__file__).resolve().parents[3]

# The config JSON as docs/design.md fixes it, plus the lab's BatchNorm/residual switches.
DESIGN_DEFAULT: dict[str, Any] = {
    "seed": 1,
    "data": {"name": "circle", "samples": 400, "noise": 0.1, "test_fraction": 0.3},
    "network": {
        "hidden": [{"units": 4, "activation": "tanh"}, {"units": 2, "activation": "tanh"}],
        "loss": "bce",
        "init": "xavier_normal",
        "dropout": 0.0,
        "dtype": "float64",
        "batchnorm": False,
        "residual": False,
    },
    "training": {
        "optimizer": "sgd",
        "learning_rate": 0.03,
        "batch_size": 10,
        "momentum": 0.9,
        "rho": 0.9,
        "beta1": 0.9,
        "beta2": 0.999,
        "eps": 1e-8,
        "weight_decay": 0.01,
        "l1": 0.0,
        "l2": 0.0,
        "clip_norm": 0.0,
    },
}

LIST_KINDS = ("layers", "weights", "table", "numbers", "names")
LEAF_FIELDS = [f for f in FIELDS if f.kind not in LIST_KINDS]
# the keys of a lesson written by hand (docs/lessons.md), left out of the design JSON
LESSON_KEYS = ("data.x", "data.y", "data.features", "network.output_activation", "network.weights")
NUMERIC_FIELDS = [f for f in LEAF_FIELDS if f.kind in ("int", "float")]
CHOICE_FIELDS = [f for f in LEAF_FIELDS if f.choices]
BOOL_FIELDS = [f for f in LEAF_FIELDS if f.kind == "bool"]
SCHEMA_TYPES = {"int": "integer", "float": "number", "str": "string", "bool": "boolean"}


def nested(path: str, value: Any) -> dict[str, Any]:
    """A partial config setting one dotted path; `*` becomes layer 0 of one layer."""
    parts = path.split(".")
    if parts[:2] == ["network", "hidden"] and len(parts) == 4:
        return {"network": {"hidden": [{parts[3]: value}]}}
    if parts[:2] == ["network", "weights"] and len(parts) == 4:
        return {"network": {"weights": [{"W": [[0.0]], "b": [0.0], parts[3]: value}]}}
    out: Any = value
    for key in reversed(parts):
        out = {key: out}
    result: dict[str, Any] = out
    return result


def concrete(path: str) -> str:
    return path.replace("*", "0")


def errors_of(obj: object) -> list[FieldError]:
    with pytest.raises(ConfigError) as info:
        validate(obj)
    errors: list[FieldError] = info.value.errors
    return errors


def one_error(obj: object) -> FieldError:
    errs = errors_of(obj)
    assert len(errs) == 1, errs
    return errs[0]


# --------------------------------------------------------------------- defaults


def test_default_config_is_the_design_json() -> None:
    assert to_dict(default_config()) == DESIGN_DEFAULT


def test_default_config_values() -> None:
    cfg = default_config()
    assert cfg == Config(
        seed=1,
        data=DataConfig(name="circle", samples=400, noise=0.1, test_fraction=0.3),
        network=NetworkConfig(
            hidden=(LayerConfig(4, "tanh"), LayerConfig(2, "tanh")),
            loss="bce",
            init="xavier_normal",
            dropout=0.0,
            dtype="float64",
        ),
        training=TrainingConfig(
            optimizer="sgd",
            learning_rate=0.03,
            batch_size=10,
            momentum=0.9,
            rho=0.9,
            beta1=0.9,
            beta2=0.999,
            eps=1e-8,
            weight_decay=0.01,
            l1=0.0,
            l2=0.0,
            clip_norm=0.0,
        ),
    )


def test_empty_object_gives_defaults() -> None:
    assert validate({}) == default_config()
    assert validate({"data": {}, "network": {}, "training": {}}) == default_config()


def test_models_keep_the_documented_keys_in_order() -> None:
    """The attribute names of the dataclasses the models replaced, in the same order."""
    assert list(Config.model_fields) == ["seed", "data", "network", "training"]
    assert list(DataConfig.model_fields) == [
        "name", "samples", "noise", "test_fraction", "csv", "target", "task",
        "x", "y", "features",  # added: a typed table, input features
    ]  # fmt: skip
    assert list(NetworkConfig.model_fields) == [
        "hidden", "loss", "output_activation", "init", "dropout", "dtype", "batchnorm",
        "residual", "weights",  # added: the output activation, given weights
    ]  # fmt: skip
    assert list(LayerConfig.model_fields) == ["units", "activation"]
    assert list(TrainingConfig.model_fields) == [
        "optimizer", "learning_rate", "batch_size", "momentum", "rho", "beta1", "beta2", "eps",
        "weight_decay", "l1", "l2", "clip_norm",
    ]  # fmt: skip
    assert [f.path for f in FIELDS if f.path.count(".") == 1 and f.path.startswith("data.")] == [
        f"data.{k}" for k in DataConfig.model_fields
    ]


def test_configs_are_frozen() -> None:
    cfg = default_config()
    with pytest.raises(ValidationError):
        cfg.seed = 2  # type: ignore[misc]
    with pytest.raises(ValidationError):
        cfg.training.learning_rate = 1.0  # type: ignore[misc]


def test_every_field_has_both_descriptions() -> None:
    for f in FIELDS:
        assert f.en.strip() and f.zh.strip(), f.path
        assert any("\u4e00" <= ch <= "\u9fff" for ch in f.zh), f.path


def test_partial_config_keeps_other_defaults() -> None:
    cfg = validate({"training": {"learning_rate": 0.5}, "data": {"name": "xor"}})
    assert cfg.training.learning_rate == 0.5
    assert cfg.data.name == "xor"
    assert cfg.training.batch_size == 10
    assert cfg.network == default_config().network


def test_layer_missing_keys_take_layer_defaults() -> None:
    cfg = validate({"network": {"hidden": [{"units": 8}, {"activation": "relu"}, {}]}})
    assert cfg.network.hidden == (
        LayerConfig(8, "tanh"),
        LayerConfig(4, "relu"),
        LayerConfig(4, "tanh"),
    )


def test_no_hidden_layer_is_allowed() -> None:
    cfg = validate({"network": {"hidden": []}})
    assert cfg.network.hidden == ()


# ------------------------------------------------------------------- round trip


def test_round_trip_default() -> None:
    cfg = default_config()
    assert from_dict(json.loads(json.dumps(to_dict(cfg)))) == cfg


def test_round_trip_non_default() -> None:
    obj = {
        "seed": 7,
        "data": {"name": "digits", "samples": 1000, "noise": 0.0, "test_fraction": 0.2},
        "network": {
            "hidden": [{"units": 64, "activation": "relu"}] * 3,
            "loss": "softmax_ce",
            "init": "he_normal",
            "dropout": 0.25,
            "dtype": "float32",
            "batchnorm": True,
            "residual": True,
        },
        "training": {
            "optimizer": "adamw",
            "learning_rate": 0.001,
            "batch_size": 32,
            "momentum": 0.5,
            "rho": 0.95,
            "beta1": 0.8,
            "beta2": 0.99,
            "eps": 1e-7,
            "weight_decay": 0.1,
            "l1": 0.001,
            "l2": 0.002,
            "clip_norm": 5.0,
        },
    }
    cfg = validate(obj)
    assert to_dict(cfg) == obj
    assert from_dict(json.loads(json.dumps(to_dict(cfg)))) == cfg


def test_validate_does_not_mutate_input() -> None:
    obj = {"network": {"hidden": [{"units": 3}]}}
    before = copy.deepcopy(obj)
    validate(obj)
    assert obj == before


# ------------------------------------------------------------------ value types


def test_integral_float_accepted_for_integer() -> None:
    cfg = validate({"data": {"samples": 100.0}, "training": {"batch_size": 5.0}})
    assert cfg.data.samples == 100 and type(cfg.data.samples) is int
    assert type(cfg.training.batch_size) is int


def test_fractional_float_rejected_for_integer() -> None:
    err = one_error({"training": {"batch_size": 10.5}})
    assert (err.field, err.code) == ("training.batch_size", "not_integer")
    err = one_error({"network": {"hidden": [{"units": 2}, {"units": 3.5}]}})
    assert (err.field, err.code) == ("network.hidden.1.units", "not_integer")


def test_integer_accepted_for_float() -> None:
    cfg = validate({"training": {"learning_rate": 1}})
    assert cfg.training.learning_rate == 1.0 and type(cfg.training.learning_rate) is float


@pytest.mark.parametrize("field", NUMERIC_FIELDS, ids=lambda f: f.path)
@pytest.mark.parametrize("bad", [True, False, "1", None, [1], {"a": 1}])
def test_numbers_reject_other_types(field: Key, bad: object) -> None:
    err = one_error(nested(field.path, bad))
    assert (err.field, err.code) == (concrete(field.path), "type")


@pytest.mark.parametrize("field", CHOICE_FIELDS, ids=lambda f: f.path)
@pytest.mark.parametrize("bad", [1, True, None, ["tanh"]])
def test_names_reject_other_types(field: Key, bad: object) -> None:
    err = one_error(nested(field.path, bad))
    assert (err.field, err.code) == (concrete(field.path), "type")


@pytest.mark.parametrize(
    "field", [f for f in NUMERIC_FIELDS if f.kind == "float"], ids=lambda f: f.path
)
@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_non_finite_rejected(field: Key, bad: float) -> None:
    err = one_error(nested(field.path, bad))
    assert (err.field, err.code) == (concrete(field.path), "not_finite")


def test_bool_fields_listed() -> None:
    assert [f.path for f in BOOL_FIELDS] == ["network.batchnorm", "network.residual"]
    for f in BOOL_FIELDS:
        assert f.default is False and f.range_text() == "true, false"


@pytest.mark.parametrize("field", BOOL_FIELDS, ids=lambda f: f.path)
@pytest.mark.parametrize("bad", [0, 1, 1.0, "true", "false", None, [True], {"a": True}])
def test_bools_reject_other_types(field: Key, bad: object) -> None:
    err = one_error(nested(field.path, bad))
    assert (err.field, err.code) == (concrete(field.path), "type")
    assert "true or false" in err.message


@pytest.mark.parametrize("field", BOOL_FIELDS, ids=lambda f: f.path)
def test_bools_accept_true_and_false(field: Key) -> None:
    for value in (True, False):
        cfg = validate(nested(field.path, value))
        got = getattr(cfg.network, field.name)
        assert got is value


def test_network_config_switches_default_off() -> None:
    net = NetworkConfig(hidden=(LayerConfig(3, "relu"),), loss="bce", init="he_normal")
    assert net.batchnorm is False and net.residual is False
    assert LayerConfig(3, "relu") == LayerConfig(units=3, activation="relu")  # as the dataclass


def test_batchnorm_counts_gamma_in_parameter_limit() -> None:
    hidden = [LayerConfig(4, "tanh"), LayerConfig(2, "tanh")]
    assert n_params(2, hidden, 1, batchnorm=True) == n_params(2, hidden, 1) + 6
    # a network just at the limit without BatchNorm goes over it with BatchNorm (+ its γ)
    limit = int(LIMITS["max_parameters"])
    base = n_params(2, [LayerConfig(256, "tanh")] * 5, 1)
    units = next(u for u in range(1, 257) if base + 257 * u + u + 1 > limit) - 1
    layers = [{"units": 256}] * 5 + [{"units": units}]
    count = n_params(2, [LayerConfig(256, "tanh")] * 5 + [LayerConfig(units, "tanh")], 1)
    assert count <= limit < count + 5 * 256 + units
    validate({"network": {"hidden": layers}})
    err = one_error({"network": {"hidden": layers, "batchnorm": True}})
    assert err.code == "too_many_parameters"


def test_non_finite_rejected_for_integer() -> None:
    err = one_error({"seed": math.inf})
    assert (err.field, err.code) == ("seed", "not_finite")


@pytest.mark.parametrize("field", NUMERIC_FIELDS, ids=lambda f: f.path)
@pytest.mark.parametrize("huge", [10**400, -(10**400), 1e300])
def test_numbers_beyond_any_range_are_refused_cleanly(field: Key, huge: float) -> None:
    """An integer beyond the float range is refused like any other, never an exception."""
    err = one_error(nested(field.path, huge))
    assert err.field == concrete(field.path)
    assert err.code in ("too_small", "too_large")
    assert len(err.message) < 200


def test_null_for_a_key_is_refused() -> None:
    for f in FIELDS:
        err = one_error(nested(f.path, None))
        assert (err.field, err.code) == (concrete(f.path), "type"), f.path


# ----------------------------------------------------------------------- ranges


def _just_outside(value: float, direction: int, kind: str) -> float:
    if kind == "int":
        return value + direction
    step = max(abs(value) * 1e-6, 1e-9)
    return value + direction * step


@pytest.mark.parametrize("field", NUMERIC_FIELDS, ids=lambda f: f.path)
def test_range_bounds(field: Key) -> None:
    path = concrete(field.path)
    assert field.minimum is not None and field.maximum is not None
    lo, hi = field.minimum, field.maximum
    # inclusive bounds are accepted, exclusive bounds rejected
    for bound, exclusive, code, direction in (
        (lo, field.exclusive_minimum, "too_small", -1),
        (hi, field.exclusive_maximum, "too_large", +1),
    ):
        value: float = int(bound) if field.kind == "int" else float(bound)
        if exclusive:
            err = one_error(nested(field.path, value))
            assert (err.field, err.code) == (path, code)
        else:
            validate(nested(field.path, value))
        outside = _just_outside(value, direction, field.kind)
        err = one_error(nested(field.path, outside))
        assert (err.field, err.code) == (path, code)
        assert path.rsplit(".", 1)[-1] in err.field


def test_range_message_is_clear() -> None:
    err = one_error({"training": {"learning_rate": 0}})
    assert err.message == "must be greater than 0, got 0.0"
    err = one_error({"data": {"samples": 9}})
    assert "at least 10" in err.message and "9" in err.message


def test_limits_drive_ranges() -> None:
    assert FIELD_BY_PATH["network.hidden.*.units"].maximum == LIMITS["max_units"]
    assert FIELD_BY_PATH["network.hidden"].maximum == LIMITS["max_hidden_layers"]
    assert FIELD_BY_PATH["data.samples"].maximum == LIMITS["max_samples"]
    assert FIELD_BY_PATH["training.batch_size"].maximum == LIMITS["max_batch_size"]
    assert FIELD_BY_PATH["training.learning_rate"].maximum == LIMITS["max_learning_rate"]


# ---------------------------------------------------------------------- choices


@pytest.mark.parametrize("field", CHOICE_FIELDS, ids=lambda f: f.path)
def test_choices(field: Key) -> None:
    err = one_error(nested(field.path, "nope"))
    assert (err.field, err.code) == (concrete(field.path), "choice")
    assert "nope" in err.message and field.choices[0] in err.message
    # names are exact: no case folding, no whitespace
    err = one_error(nested(field.path, field.choices[0].upper()))
    assert err.code == "choice"


def test_all_names_listed() -> None:
    fb = FIELD_BY_PATH
    assert set(fb["network.hidden.*.activation"].choices) == {
        "sigmoid",
        "tanh",
        "relu",
        "leaky_relu",
        "elu",
        "softplus",
        "silu",
        "linear",
    }
    assert set(fb["network.loss"].choices) == {"mse", "bce", "softmax_ce"}
    assert set(fb["network.init"].choices) == {
        "naive",
        "uniform",
        "xavier_normal",
        "xavier_uniform",
        "he_normal",
        "he_uniform",
        "nielsen",
    }
    assert set(fb["training.optimizer"].choices) == {"sgd", "momentum", "rmsprop", "adam", "adamw"}
    assert set(fb["network.dtype"].choices) == {"float64", "float32"}
    assert set(fb["data.name"].choices) == {
        "circle",
        "xor",
        "gauss",
        "spiral",
        "moons",
        "plane",
        "multigauss",
        "square",
        "house",
        "digits",
        "csv",
        "table",
    }


def test_choices_are_the_registry_s() -> None:
    fb = FIELD_BY_PATH
    assert fb["network.hidden.*.activation"].choices == registry.ACTIVATIONS
    assert fb["network.loss"].choices == tuple(registry.LOSSES)
    assert fb["network.init"].choices == registry.INITS
    assert fb["training.optimizer"].choices == tuple(registry.OPTIMIZERS)
    assert fb["network.dtype"].choices == registry.DTYPES
    assert fb["data.name"].choices == (*registry.DATASETS, "csv", "table")
    assert fb["data.features"].choices == tuple(registry.FEATURES)
    outputs = {a for info in registry.LOSSES.values() for a in info.output_activations}
    assert set(fb["network.output_activation"].choices) == {"auto", *outputs}


@pytest.mark.parametrize("activation", registry.ACTIVATIONS)
def test_every_activation_accepted(activation: str) -> None:
    cfg = validate({"network": {"hidden": [{"units": 3, "activation": activation}]}})
    assert cfg.network.hidden[0].activation == activation


# ------------------------------------------------------------ structure / keys


@pytest.mark.parametrize(
    ("obj", "field"),
    [
        ({"sed": 1}, "sed"),
        ({"data": {"noize": 0.1}}, "data.noize"),
        ({"network": {"layers": []}}, "network.layers"),
        ({"training": {"lr": 0.1}}, "training.lr"),
        (
            {"network": {"hidden": [{"units": 2}, {"units": 2, "act": "relu"}]}},
            "network.hidden.1.act",
        ),
    ],
)
def test_unknown_keys(obj: dict[str, Any], field: str) -> None:
    err = one_error(obj)
    assert (err.field, err.code) == (field, "unknown_key")


@pytest.mark.parametrize("bad", [None, [], "config", 3, True])
def test_top_level_must_be_object(bad: object) -> None:
    err = one_error(bad)
    assert (err.field, err.code) == ("", "type")


@pytest.mark.parametrize("section", ["data", "network", "training"])
@pytest.mark.parametrize("bad", [None, [], "x", 1])
def test_sections_must_be_objects(section: str, bad: object) -> None:
    err = one_error({section: bad})
    assert (err.field, err.code) == (section, "type")


def test_non_string_keys_rejected() -> None:
    err = one_error({1: 2})
    assert err.code == "type"


def test_hidden_must_be_list_of_objects() -> None:
    err = one_error({"network": {"hidden": {"units": 2}}})
    assert (err.field, err.code) == ("network.hidden", "type")
    err = one_error({"network": {"hidden": [{"units": 2}, 5]}})
    assert (err.field, err.code) == ("network.hidden.1", "type")


def test_too_many_layers() -> None:
    n = int(LIMITS["max_hidden_layers"])
    validate({"network": {"hidden": [{"units": 4}] * n}})
    err = one_error({"network": {"hidden": [{"units": 4}] * (n + 1)}})
    assert (err.field, err.code) == ("network.hidden", "too_many_layers")


def test_layer_units_path() -> None:
    err = one_error({"network": {"hidden": [{"units": 4}, {"units": 4}, {"units": 0}]}})
    assert (err.field, err.code) == ("network.hidden.2.units", "too_small")
    err = one_error({"network": {"hidden": [{"units": int(LIMITS["max_units"]) + 1}]}})
    assert (err.field, err.code) == ("network.hidden.0.units", "too_large")
    err = one_error({"network": {"hidden": [{"units": 4}, {"activation": "relu6"}]}})
    assert (err.field, err.code) == ("network.hidden.1.activation", "choice")


def test_all_errors_reported_at_once() -> None:
    errs = errors_of(
        {
            "seed": -1,
            "bogus": 1,
            "data": {"name": "mnist"},
            "training": {"learning_rate": math.nan, "batch_size": 0},
            "network": {"hidden": [{"units": 0}, {"activation": "x"}]},
        }
    )
    assert {(e.field, e.code) for e in errs} == {
        ("seed", "too_small"),
        ("bogus", "unknown_key"),
        ("data.name", "choice"),
        ("training.learning_rate", "not_finite"),
        ("training.batch_size", "too_small"),
        ("network.hidden.0.units", "too_small"),
        ("network.hidden.1.activation", "choice"),
    }


def test_config_error_message_and_dict() -> None:
    with pytest.raises(ConfigError) as info:
        validate({"training": {"learning_rate": -1}})
    assert "training.learning_rate" in str(info.value)
    assert issubclass(ConfigError, ValueError)
    assert info.value.errors[0].to_dict() == {
        "field": "training.learning_rate",
        "message": "must be greater than 0, got -1.0",
        "code": "too_small",
        "params": {"field": "training.learning_rate", "min": 0.0, "exclusive": True, "value": -1.0},
    }


# ----------------------------------------------------------- cross-field rules


def test_a_config_without_loss_gets_its_data_set_s() -> None:
    for name, info in registry.DATASETS.items():
        cfg = validate({"data": {"name": name}})
        assert info.task in registry.LOSSES[cfg.network.loss].tasks, name
        assert registry.LOSSES[cfg.network.loss].task == info.task, name
    assert validate({"data": {"name": "csv", "csv": "h", "task": "multiclass"}}).network.loss == (
        "softmax_ce"
    )
    # a CSV whose task is detected on loading: its loss is chosen by build()
    cfg = validate({"data": {"name": "csv", "csv": "h"}})
    assert "loss" not in cfg.network.model_fields_set


@pytest.mark.parametrize(
    ("name", "loss", "ok"),
    [
        ("circle", "bce", True),
        ("circle", "mse", True),
        ("circle", "softmax_ce", False),
        ("spiral", "softmax_ce", False),
        ("digits", "softmax_ce", True),
        ("digits", "bce", False),
        ("digits", "mse", False),
        ("square", "mse", True),
        ("square", "bce", False),
        ("square", "softmax_ce", False),
        ("house", "mse", True),
        ("house", "bce", False),
        ("plane", "mse", True),
        ("multigauss", "mse", True),
        ("multigauss", "bce", False),
    ],
)
def test_loss_must_fit_data(name: str, loss: str, ok: bool) -> None:
    obj = {"data": {"name": name}, "network": {"loss": loss}}
    if ok:
        assert validate(obj).network.loss == loss
    else:
        err = one_error(obj)
        assert (err.field, err.code) == ("network.loss", "incompatible")
        assert loss in err.message and name in err.message


def test_n_params() -> None:
    assert n_params(2, (LayerConfig(4, "tanh"), LayerConfig(2, "tanh")), 1) == 12 + 10 + 3
    assert n_params(2, (), 1) == 3
    assert n_params(64, [LayerConfig(64, "relu")] * 3, 10) == 3 * (64 * 64 + 64) + 650


def test_lesson_sized_networks_fit() -> None:
    validate(
        {
            "data": {"name": "digits"},
            "network": {"loss": "softmax_ce", "hidden": [{"units": 64, "activation": "relu"}] * 3},
        }
    )
    validate({"network": {"hidden": [{"units": 64, "activation": "sigmoid"}] * 10}})
    validate({"network": {"hidden": [{"units": 128}] * 12}})
    validate(
        {
            "data": {"name": "digits"},
            "network": {"loss": "softmax_ce", "hidden": [{"units": 256}] * 4},
        }
    )


def test_too_many_parameters() -> None:
    hidden = [{"units": int(LIMITS["max_units"])}] * 6
    count = n_params(2, [LayerConfig(256, "tanh")] * 6, 1)
    assert count > LIMITS["max_parameters"]
    err = one_error({"network": {"hidden": hidden}})
    assert (err.field, err.code) == ("network.hidden", "too_many_parameters")
    assert f"{count:,}" in err.message and f"{int(LIMITS['max_parameters']):,}" in err.message


def test_parameter_count_uses_data_shape() -> None:
    # 256×5 then 128 fits with 2 inputs and 1 output, not with 64 inputs and 10 outputs
    hidden = [{"units": 256}] * 5 + [{"units": 128}]
    layers = [LayerConfig(256, "tanh")] * 5 + [LayerConfig(128, "tanh")]
    count2 = n_params(2, layers, 1)
    count64 = n_params(64, layers, 10)
    assert count2 <= LIMITS["max_parameters"] < count64
    validate({"network": {"hidden": hidden}})
    err = one_error(
        {"data": {"name": "digits"}, "network": {"loss": "softmax_ce", "hidden": hidden}}
    )
    assert err.code == "too_many_parameters"


def test_digits_sample_count() -> None:
    base = {"network": {"loss": "softmax_ce"}}
    validate({**base, "data": {"name": "digits", "samples": 1797}})
    err = one_error({**base, "data": {"name": "digits", "samples": 1798}})
    assert (err.field, err.code) == ("data.samples", "too_large")
    assert "1797" in err.message


# --------------------------------------------------------------- training patch


def test_training_patch_changes_only_given_keys() -> None:
    current = default_config().training.model_copy(update={"optimizer": "adam", "batch_size": 32})
    new = validate_training_patch({"learning_rate": 0.1}, current)
    assert new == current.model_copy(update={"learning_rate": 0.1})
    assert current.learning_rate == 0.03
    assert validate_training_patch({}, current) == current


def test_training_patch_model() -> None:
    patch = TrainingPatch.model_validate({"learning_rate": 0.1, "batch_size": 4.0})
    assert patch.changes == {"learning_rate": 0.1, "batch_size": 4}
    assert TrainingPatch.model_validate(patch) is patch
    assert patch.apply(default_config().training).batch_size == 4
    schema = TrainingPatch.model_json_schema()
    assert set(schema["properties"]) == set(TrainingConfig.model_fields)
    assert schema["additionalProperties"] is False
    assert not any("default" in p for p in schema["properties"].values())
    with pytest.raises(ValidationError) as info:
        TrainingPatch.model_validate({"momentum": 2, "lr": 1})
    assert {e["loc"] for e in info.value.errors()} == {("momentum",), ("lr",)}


def test_training_patch_integral_float() -> None:
    new = validate_training_patch({"batch_size": 4.0}, default_config().training)
    assert new.batch_size == 4 and type(new.batch_size) is int


@pytest.mark.parametrize(
    ("patch", "field", "code"),
    [
        ({"learning_rate": math.nan}, "training.learning_rate", "not_finite"),
        ({"learning_rate": 11}, "training.learning_rate", "too_large"),
        ({"batch_size": True}, "training.batch_size", "type"),
        ({"optimizer": "lbfgs"}, "training.optimizer", "choice"),
        ({"hidden": []}, "training.hidden", "unknown_key"),
        ({"momentum": 1.0}, "training.momentum", "too_large"),
    ],
)
def test_training_patch_errors(patch: dict[str, Any], field: str, code: str) -> None:
    with pytest.raises(ConfigError) as info:
        validate_training_patch(patch, default_config().training)
    assert [(e.field, e.code) for e in info.value.errors] == [(field, code)]


@pytest.mark.parametrize("bad", [None, [], "lr", 1])
def test_training_patch_must_be_object(bad: object) -> None:
    with pytest.raises(ConfigError) as info:
        validate_training_patch(bad, default_config().training)
    assert [(e.field, e.code) for e in info.value.errors] == [("training", "type")]


# ------------------------------------------------------------------ JSON Schema


def schema_errors(schema: dict[str, Any], value: Any, path: str = "") -> list[str]:
    """A tiny validator for the subset of JSON Schema that json_schema() uses.

    (jsonschema is not installed in the venv.)
    """
    errs: list[str] = []
    kind = schema.get("type")
    is_num = isinstance(value, int | float) and not isinstance(value, bool)
    checks = {
        "object": isinstance(value, dict),
        "array": isinstance(value, list),
        "string": isinstance(value, str),
        "boolean": isinstance(value, bool),
        "number": is_num,
        "integer": is_num and float(value).is_integer(),
        None: True,
    }
    if not checks[kind]:
        return [f"{path}: not {kind}"]
    if "enum" in schema and value not in schema["enum"]:
        errs.append(f"{path}: not in enum")
    if is_num:
        if "minimum" in schema and value < schema["minimum"]:
            errs.append(f"{path}: < minimum")
        if "maximum" in schema and value > schema["maximum"]:
            errs.append(f"{path}: > maximum")
        if "exclusiveMinimum" in schema and value <= schema["exclusiveMinimum"]:
            errs.append(f"{path}: <= exclusiveMinimum")
        if "exclusiveMaximum" in schema and value >= schema["exclusiveMaximum"]:
            errs.append(f"{path}: >= exclusiveMaximum")
    if kind == "object":
        props = schema.get("properties", {})
        for key, sub in value.items():
            if key in props:
                errs += schema_errors(props[key], sub, f"{path}.{key}".lstrip("."))
            elif schema.get("additionalProperties") is False:
                errs.append(f"{path}.{key}: additional property")
    if kind == "array":
        if len(value) < schema.get("minItems", 0):
            errs.append(f"{path}: too few items")
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            errs.append(f"{path}: too many items")
        for i, item in enumerate(value):
            errs += schema_errors(schema["items"], item, f"{path}.{i}")
    return errs


def schema_at(schema: dict[str, Any], path: str) -> dict[str, Any]:
    for key in path.split("."):
        schema = schema["items"] if key == "*" else schema["properties"][key]
    return schema


def test_schema_header() -> None:
    schema = json_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["type"] == "object"
    assert schema["additionalProperties"] is False
    json.dumps(schema)  # serialisable


def test_schema_accepts_default_and_its_own_defaults() -> None:
    schema = json_schema()
    assert schema_errors(schema, DESIGN_DEFAULT) == []
    for f in FIELDS:
        node = schema_at(schema, f.path)
        if f.path.startswith("network.weights.*."):
            assert "default" not in node  # W and b of a given layer are required
            continue
        default = node["default"]
        if f.kind == "layers":
            assert default == DESIGN_DEFAULT["network"]["hidden"]
        elif f.path in LESSON_KEYS:
            assert default == {"data.features": ["x1", "x2"]}.get(
                f.path, "auto" if f.kind == "str" else []
            )
        elif "*" not in f.path and f.path not in ("data.csv", "data.target", "data.task"):
            section, _, key = f.path.rpartition(".")
            expected = DESIGN_DEFAULT[section][key] if section else DESIGN_DEFAULT[key]
            assert default == expected, f.path
        assert schema_errors(node, default) == [], f.path


def test_schema_rejects_what_validate_rejects() -> None:
    schema = json_schema()
    for bad in (
        {"bogus": 1},
        {"training": {"learning_rate": 0}},
        {"training": {"momentum": 1}},
        {"training": {"batch_size": 1.5}},
        {"network": {"hidden": [{"units": 0}]}},
        {"network": {"hidden": [{"units": 4}] * 17}},
        {"network": {"loss": "hinge"}},
        {"data": {"samples": "400"}},
        {"network": {"batchnorm": 1}},
        {"network": {"residual": "yes"}},
    ):
        assert schema_errors(schema, bad), bad
        with pytest.raises(ConfigError):
            validate(bad)


@pytest.mark.parametrize("field", LEAF_FIELDS, ids=lambda f: f.path)
def test_schema_leaf_matches_field(field: Key) -> None:
    node = schema_at(json_schema(), field.path)
    assert node["type"] == SCHEMA_TYPES[field.kind]
    assert node["description"] == field.en
    assert node["x-description-zh"] == field.zh
    if field.choices:
        assert node["enum"] == list(field.choices)
    if field.kind == "bool":
        assert not {"minimum", "maximum", "enum"} & set(node)
    elif field.kind != "str":
        lo = "exclusiveMinimum" if field.exclusive_minimum else "minimum"
        hi = "exclusiveMaximum" if field.exclusive_maximum else "maximum"
        assert node[lo] == field.minimum and node[hi] == field.maximum


def test_schema_hidden_array() -> None:
    node = schema_at(json_schema(), "network.hidden")
    assert node["type"] == "array"
    assert node["maxItems"] == LIMITS["max_hidden_layers"]
    assert node["items"]["additionalProperties"] is False


# ------------------------------------------------------------------------- docs


def test_docs_contain_generated_tables() -> None:
    """docs/config.md must carry the current tables (regenerate: bpviz config --markdown)."""
    text = (ROOT / "docs" / "config.md").read_text(encoding="utf-8")
    assert cfgmod.markdown_table() in text, "docs/config.md is stale: run `bpviz config --markdown`"
    for f in FIELDS:
        assert f"`{f.path}`" in text
    for key in LIMITS:
        assert f"`{key}`" in text


def test_docs_example_is_valid() -> None:
    text = (ROOT / "docs" / "config.md").read_text(encoding="utf-8")
    blocks = [b.split("```", 1)[0] for b in text.split("```json\n")[1:]]
    assert blocks, "docs/config.md has no ```json example"
    for block in blocks:
        validate(json.loads(block))


def test_docs_list_every_error_code() -> None:
    text = (ROOT / "docs" / "config.md").read_text(encoding="utf-8")
    assert codes_table() in text, "docs/config.md is stale: paste codes_table()"
    for code in CODES:
        assert f"`{code}`" in text


def test_errors_name_the_known_keys() -> None:
    err = one_error({"network": {"hidden": [{"unit": 3}]}})
    assert (err.field, err.code) == ("network.hidden.0.unit", "unknown_key")
    assert err.message == "unknown key 'unit'; known keys: units, activation"


def test_braces_in_the_input_are_not_placeholders() -> None:
    err = one_error({"network": {"loss": "{names}"}})
    assert err.message.startswith("unknown value '{names}'")


def test_csv_config_checks_what_it_can_before_loading() -> None:
    cfg = validate({"data": {"name": "csv", "csv": "abc123", "target": "price"}})
    assert cfg.data.csv == "abc123" and cfg.data.task == "auto"
    assert to_dict(cfg)["data"]["csv"] == "abc123"
    assert validate(to_dict(cfg)).data == cfg.data
    err = one_error({"data": {"name": "csv"}})
    assert (err.field, err.code) == ("data.csv", "missing")
    err = one_error({"data": {"name": "csv", "csv": "x", "task": "ranking"}})
    assert (err.field, err.code) == ("data.task", "choice")
    err = one_error({"data": {"name": "csv", "csv": "x" * 201}})
    assert (err.field, err.code) == ("data.csv", "too_large")
    err = one_error(
        {"data": {"name": "csv", "csv": "x", "task": "binary"}, "network": {"loss": "softmax_ce"}}
    )
    assert (err.field, err.code) == ("network.loss", "incompatible")
    # the parameter count waits for the CSV's columns (build.build checks it)
    validate({"data": {"name": "csv", "csv": "x"}, "network": {"hidden": [{"units": 256}] * 6}})


junk = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=6)
    | st.sampled_from([10**400, -(10**400), 2**64, 1e308, "{names}", "csv", "digits", "relu"]),
    lambda c: (
        st.lists(c, max_size=4)
        | st.dictionaries(
            st.sampled_from([*(f.name for f in FIELDS), "data", "network", "training", "x"])
            | st.text(max_size=4),
            c,
            max_size=4,
        )
    ),
    max_leaves=12,
)


@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
@given(obj=junk)
def test_any_json_is_a_config_or_a_config_error(obj: Any) -> None:
    try:
        cfg = validate(obj)
    except ConfigError as exc:
        assert exc.errors and all(e.code and e.message for e in exc.errors)
        json.dumps([e.to_dict() for e in exc.errors])
    else:
        assert validate(to_dict(cfg)) == cfg
    try:
        validate_training_patch(obj, default_config().training)
    except ConfigError as exc:
        assert all(e.field.startswith("training") for e in exc.errors)


def test_given_numbers_beyond_float32_are_named_cell_by_cell() -> None:
    """Every given weight, bias and table cell past float32's range is named at its cell,
    in order, also in a ragged matrix (whose shape is reported too)."""
    network = {
        "dtype": "float32",
        "hidden": [{"units": 2}],
        "weights": [
            {"W": [[1e39, 0.5], [0.0, -4e38]], "b": [0.0, 5e38]},
            {"W": [[1.0, 2e39, 0.0], [7e38]], "b": [0.0]},  # ragged, and of the wrong shape
        ],
    }
    table = {"name": "table", "x": [[0.0, 1.0], [3.5e38, 0.0]], "y": [[0.0], [1.0]]}
    fields = [
        e.field for e in errors_of({"network": network, "data": table}) if e.code == "not_finite"
    ]
    assert fields == [
        "data.x.1.0",
        "network.weights.0.W.0.0",
        "network.weights.0.W.1.1",
        "network.weights.0.b.1",
        "network.weights.1.W.0.1",
        "network.weights.1.W.1.0",
    ]
    network["dtype"] = "float64"
    assert not [e for e in errors_of({"network": network, "data": table}) if e.code == "not_finite"]
