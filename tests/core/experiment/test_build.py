"""The one build path: a config (and the CSVs it may name) to an experiment, with the
checks only the loaded data can make."""

from __future__ import annotations

import numpy as np
import pytest

from bpviz.core.data.csv import CsvFile, DataError, csv_hash
from bpviz.core.experiment.build import build, fitted, load_data
from bpviz.core.experiment.config import Config, ConfigError, validate

HOUSES = "area,rooms,price\n" + "".join(
    f"{a},{r},{30 + 2.5 * a + 15 * r}\n"
    for a, r in [(50, 1), (80, 2), (120, 3), (60, 2), (150, 4), (95, 3), (70, 1), (130, 4)]
)
LABELS = "x1,x2,kind\n" + "".join(f"{i},{i % 4},{'ab'[i % 2]}\n" for i in range(12))
WIDE = (
    ",".join(f"f{j}" for j in range(60))
    + ",y\n"
    + "".join(",".join(str((i * j) % 7) for j in range(60)) + f",{i % 2}\n" for i in range(10))
)


def store(*texts: str) -> dict[str, CsvFile]:
    files = [CsvFile(csv_hash(t), "data.csv", t) for t in texts]
    return {f.hash: f for f in files}


def csv_config(text: str, **data: object) -> Config:
    return validate({"data": {"name": "csv", "csv": csv_hash(text), **data}})


def test_a_built_in_set() -> None:
    cfg = validate({"seed": 4, "data": {"name": "moons", "samples": 100, "test_fraction": 0.2}})
    exp = build(cfg)
    assert exp.config == cfg and exp.dataset.name == "moons"
    assert (exp.dataset.n_train, exp.dataset.n_test) == (80, 20)
    assert exp.network.sizes == [2, 4, 2, 1]
    again = build(cfg)  # the same seed: the same data and weights
    np.testing.assert_array_equal(again.dataset.X_train, exp.dataset.X_train)
    np.testing.assert_array_equal(again.network.params, exp.network.params)
    assert build(cfg, store(HOUSES)).dataset.name == "moons"  # the CSVs are not asked


def test_a_csv_is_loaded_from_the_store_and_picks_its_loss() -> None:
    cfg = csv_config(HOUSES, target="price")
    assert "loss" not in cfg.network.model_fields_set
    exp = build(cfg, store(LABELS, HOUSES))
    assert exp.dataset.task == "regression" and exp.config.network.loss == "mse"
    assert exp.config.data == cfg.data and exp.network.sizes == [2, 4, 2, 1]
    exp = build(csv_config(LABELS), store(LABELS))
    assert exp.dataset.task == "binary" and exp.config.network.loss == "bce"
    assert exp.dataset.class_names == ("a", "b")


def test_the_split_follows_the_config_seed() -> None:
    files = store(HOUSES)
    a = load_data(validate({"seed": 1, "data": {"name": "csv", "csv": csv_hash(HOUSES)}}), files)
    b = load_data(validate({"seed": 2, "data": {"name": "csv", "csv": csv_hash(HOUSES)}}), files)
    assert not np.array_equal(a.X_train, b.X_train)


def test_an_unknown_csv_is_asked_for() -> None:
    for files in (None, {}, store(LABELS)):
        with pytest.raises(ConfigError) as info:
            build(csv_config(HOUSES), files)
        [err] = info.value.errors
        assert (err.field, err.code) == ("data.csv", "unknown_csv")
        assert "csv_inspect" in err.message


def test_the_loss_must_fit_the_loaded_task() -> None:
    cfg = validate(
        {"data": {"name": "csv", "csv": csv_hash(HOUSES)}, "network": {"loss": "softmax_ce"}}
    )
    with pytest.raises(ConfigError) as info:
        build(cfg, store(HOUSES))
    [err] = info.value.errors
    assert (err.field, err.code) == ("network.loss", "incompatible")
    assert "regression" in err.message and "mse" in err.message


def test_the_parameter_count_uses_the_real_columns() -> None:
    hidden = [{"units": 256}] * 5 + [{"units": 128}]
    obj = {"data": {"name": "csv", "csv": csv_hash(WIDE)}, "network": {"hidden": hidden}}
    cfg = validate(obj)  # 2 inputs would fit; the file has 60
    with pytest.raises(ConfigError) as info:
        build(cfg, store(WIDE))
    [err] = info.value.errors
    assert (err.field, err.code) == ("network.hidden", "too_many_parameters")
    assert err.message.startswith("the network 60-256-")


def test_what_the_file_cannot_serve_is_a_data_error() -> None:
    with pytest.raises(DataError) as info:
        build(csv_config(HOUSES, target="nope"), store(HOUSES))
    assert info.value.code == "unknown_target"
    with pytest.raises(DataError) as info:
        build(csv_config(HOUSES, target="rooms", task="binary"), store(HOUSES))
    assert info.value.code == "not_binary"


def test_fitted_keeps_a_given_loss() -> None:
    files = store(LABELS)
    cfg = validate({"data": {"name": "csv", "csv": csv_hash(LABELS)}, "network": {"loss": "mse"}})
    assert fitted(cfg, load_data(cfg, files)).network.loss == "mse"
