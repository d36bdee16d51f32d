"""Tests of bpviz.core.data.builtin: the built-in sets, their shapes and their listing."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest

from bpviz.core.data import builtin
from bpviz.core.data.builtin import TEXTS, listing, make_dataset
from bpviz.core.data.dataset import Dataset
from bpviz.core.data.digits import load_digits
from bpviz.core.engine.registry import DATASETS, LOSSES
from bpviz.core.experiment.config import LIMITS
from bpviz.core.experiment.config_docs import keys

TWO_D_BINARY = ["circle", "xor", "gauss", "spiral", "moons"]
ALL = list(DATASETS)


def original_x(ds: Dataset, X: np.ndarray) -> np.ndarray:
    """Network-space inputs ``(n, d)`` in the set's original units."""
    return X * ds.feature_std + ds.feature_mean


def original_y(ds: Dataset, Y: np.ndarray) -> np.ndarray:
    """Network-space regression targets ``(n, 1)`` in original units."""
    assert ds.target_mean is not None and ds.target_std is not None
    return Y * ds.target_std + ds.target_mean


def _arrays(ds: Dataset) -> list[np.ndarray]:
    out = [ds.X_train, ds.Y_train, ds.X_test, ds.Y_test]
    if ds.labels_train is not None and ds.labels_test is not None:
        out += [ds.labels_train, ds.labels_test]
    return out


def test_the_product_sets_are_listed_in_both_languages() -> None:
    assert list(TEXTS) == list(DATASETS) == [
        "circle", "xor", "gauss", "spiral", "moons", "plane", "multigauss", "square", "house",
        "digits",
    ]  # fmt: skip
    for text in TEXTS.values():
        assert text.title_en and text.title_zh and text.description_en and text.description_zh
        assert any("\u4e00" <= ch <= "\u9fff" for ch in text.title_zh + text.description_zh)
    listed = listing()
    assert [d["name"] for d in listed] == list(DATASETS)
    assert listed[0]["title"] == {"en": "Circle", "zh": "圆形"}
    for d in listed:
        info = DATASETS[d["name"]]
        assert (d["n_in"], d["n_out"], d["task"], d["max_samples"]) == (
            info.n_in, info.n_out, info.task, info.max_samples
        )  # fmt: skip
        assert (d["n_features"], d["n_outputs"]) == (info.n_in, info.n_out)  # the older names
        assert LOSSES[d["default_loss"]].task == info.task
        assert set(d) >= {"name", "task", "default_loss", "title", "description"}
    json.dumps(listed)


def test_the_registry_s_shapes_are_the_data_s() -> None:
    """The registry writes each set's shape once; the generators must produce it."""
    for name, info in DATASETS.items():
        ds = make_dataset(name, samples=info.max_samples, test_fraction=0.0)
        assert (ds.n_features, ds.n_outputs, ds.task) == (info.n_in, info.n_out, info.task)
        assert ds.n_train == info.max_samples  # digits: every one of its 1797 examples
    assert DATASETS["digits"].max_samples == load_digits()[1].shape[0]
    # the config's limits stay within what make_dataset accepts
    assert LIMITS["min_samples"] >= builtin.MIN_SAMPLES
    assert LIMITS["max_samples"] <= builtin.MAX_SAMPLES
    assert LIMITS["max_test_fraction"] <= builtin.MAX_TEST_FRACTION
    noise = next(k for k in keys() if k.path == "data.noise")
    assert noise.maximum is not None and noise.maximum <= builtin.MAX_NOISE


@pytest.mark.parametrize("name", ALL)
def test_shapes_task_and_registry_agree(name: str) -> None:
    info = DATASETS[name]
    ds = make_dataset(name, samples=200, noise=0.1, test_fraction=0.25, seed=3)
    assert ds.name == name
    assert ds.task == info.task
    assert ds.n_train + ds.n_test == 200
    assert ds.n_test == 50
    assert ds.X_train.shape == (150, info.n_in)
    assert ds.X_test.shape == (50, info.n_in)
    assert ds.Y_train.shape == (150, info.n_out)
    assert ds.Y_test.shape == (50, info.n_out)
    assert ds.n_features == info.n_in
    assert ds.n_outputs == info.n_out
    assert LOSSES[ds.default_loss].task == info.task
    assert len(ds.feature_names) == info.n_in
    for a in _arrays(ds):
        assert np.all(np.isfinite(a))
    assert ds.X_train.dtype == np.float64 and ds.Y_train.dtype == np.float64
    assert ds.feature_mean.shape == ds.feature_std.shape == (info.n_in,)
    if info.task == "regression":
        assert ds.labels_train is None and ds.labels_test is None
        assert ds.target_mean is not None and ds.target_std is not None
        assert ds.target_mean.shape == (1,)
        assert len(ds.class_names) == 1
    else:
        assert ds.labels_train is not None and ds.labels_test is not None
        assert ds.labels_train.dtype == np.int64
        assert ds.target_mean is None
        n_classes = len(ds.class_names)
        assert n_classes == (2 if info.task == "binary" else 10)
        if info.task == "binary":
            np.testing.assert_array_equal(ds.Y_train[:, 0], ds.labels_train)
        else:
            np.testing.assert_array_equal(ds.Y_train.argmax(axis=1), ds.labels_train)
            np.testing.assert_array_equal(ds.Y_train.sum(axis=1), 1.0)
    if info.n_in <= 2:
        assert ds.domain is not None and len(ds.domain) == info.n_in
        X_all = np.concatenate([ds.X_train, ds.X_test])
        for j, (lo, hi) in enumerate(ds.domain):
            assert lo < X_all[:, j].min() and X_all[:, j].max() < hi  # padded
    else:
        assert ds.domain is None


@pytest.mark.parametrize("name", ALL)
def test_same_seed_same_arrays_other_seed_other_arrays(name: str) -> None:
    a = make_dataset(name, samples=120, seed=7)
    b = make_dataset(name, samples=120, seed=7)
    c = make_dataset(name, samples=120, seed=8)
    for x, y in zip(_arrays(a), _arrays(b), strict=True):
        np.testing.assert_array_equal(x, y)
    assert not np.array_equal(a.X_train, c.X_train)


def test_no_global_random_state_used() -> None:
    np.random.seed(0)
    before = np.random.random()
    np.random.seed(0)
    make_dataset("spiral", seed=5)
    make_dataset("digits", seed=5)
    assert np.random.random() == before


@pytest.mark.parametrize("name", TWO_D_BINARY)
def test_two_d_classes_roughly_balanced(name: str) -> None:
    ds = make_dataset(name, samples=400, noise=0.1, seed=2)
    assert ds.labels_train is not None and ds.labels_test is not None
    labels = np.concatenate([ds.labels_train, ds.labels_test])
    assert 0.4 <= labels.mean() <= 0.6


@pytest.mark.parametrize("name", TWO_D_BINARY)
def test_train_and_test_both_hold_both_classes(name: str) -> None:
    ds = make_dataset(name, samples=400, seed=4)
    assert ds.labels_train is not None and ds.labels_test is not None
    assert set(ds.labels_train.tolist()) == {0, 1}
    assert set(ds.labels_test.tolist()) == {0, 1}


def test_xor_without_noise_is_separated_by_quadrant() -> None:
    ds = make_dataset("xor", samples=500, noise=0.0, seed=9)
    assert ds.labels_train is not None
    X, labels = ds.X_train, ds.labels_train
    np.testing.assert_array_equal(labels, (X[:, 0] * X[:, 1] > 0).astype(np.int64))
    assert np.all(np.abs(X) >= 0.3)  # the Playground's gap around the axes


def test_xor_with_noise_mislabels_some_points() -> None:
    ds = make_dataset("xor", samples=500, noise=0.5, seed=9)
    assert ds.labels_train is not None
    quadrant = (ds.X_train[:, 0] * ds.X_train[:, 1] > 0).astype(np.int64)
    assert 0 < np.sum(quadrant != ds.labels_train) < 0.5 * ds.n_train


def test_circle_without_noise_is_separated_by_radius() -> None:
    ds = make_dataset("circle", noise=0.0, seed=1)
    assert ds.labels_train is not None
    r = np.linalg.norm(ds.X_train, axis=1)
    assert np.all(r[ds.labels_train == 1] <= 2.5)
    assert np.all(r[ds.labels_train == 0] >= 3.5)


def test_gauss_noise_widens_the_clusters() -> None:
    calm = make_dataset("gauss", samples=1000, noise=0.0, seed=1)
    wild = make_dataset("gauss", samples=1000, noise=0.5, seed=1)
    assert calm.X_train.std() < wild.X_train.std()


def test_plane_without_noise_is_the_plane() -> None:
    ds = make_dataset("plane", noise=0.0)
    np.testing.assert_allclose(ds.Y_train[:, 0], ds.X_train.sum(axis=1) / 10.0)


def test_multigauss_values_in_range() -> None:
    ds = make_dataset("multigauss", noise=0.0, samples=1000)
    assert -1.0 <= ds.Y_train.min() < -0.5 and 0.5 < ds.Y_train.max() <= 1.0


def test_square_is_x_squared() -> None:
    ds = make_dataset("square", noise=0.0)
    assert ds.domain is not None and ds.domain[0][0] < -1.0 and ds.domain[0][1] > 1.0
    assert np.all(np.abs(ds.X_train) <= 1.0)
    np.testing.assert_allclose(original_y(ds, ds.Y_train)[:, 0], ds.X_train[:, 0] ** 2)


def test_house_keeps_original_units_and_standardizes() -> None:
    ds = make_dataset("house", samples=1000, noise=0.1)
    assert ds.target_mean is not None and ds.target_std is not None
    np.testing.assert_allclose(ds.X_train.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(ds.X_train.std(axis=0), 1.0)
    np.testing.assert_allclose(ds.Y_train.mean(), 0.0, atol=1e-12)
    orig = original_x(ds, ds.X_train)
    area, rooms = orig[:, 0], orig[:, 1]
    assert area.min() >= 40.0 and area.max() <= 200.0
    np.testing.assert_allclose(rooms, np.round(rooms), atol=1e-9)
    assert rooms.min() >= 1 and rooms.max() <= 6
    price = original_y(ds, ds.Y_train)[:, 0]
    assert price.min() > 0
    # price rises with area: a plausible, mostly linear relation
    assert np.corrcoef(area, price)[0, 1] > 0.9
    np.testing.assert_allclose((orig - ds.feature_mean) / ds.feature_std, ds.X_train)
    assert ds.feature_names == ("area (m²)", "rooms")


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"name": "nope"}, "Unknown data set"),
        ({"name": "circle", "samples": 2}, "samples"),
        ({"name": "circle", "samples": 10**7}, "samples"),
        ({"name": "circle", "samples": 10.5}, "samples"),
        ({"name": "circle", "noise": -0.1}, "noise"),
        ({"name": "circle", "noise": float("nan")}, "noise"),
        ({"name": "circle", "test_fraction": 0.95}, "test_fraction"),
        ({"name": "circle", "seed": -1}, "seed"),
    ],
)
def test_make_dataset_rejects_bad_arguments(kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        make_dataset(**kwargs)


def test_the_pseudo_data_sets_are_listed_in_both_languages() -> None:
    from bpviz.core.data.builtin import pseudo_listing
    from bpviz.core.engine.registry import PSEUDO_DATASETS

    listed = pseudo_listing(32, 64, 16)
    assert [d["name"] for d in listed] == list(PSEUDO_DATASETS)
    for d in listed:
        assert d["task"] is None and d["title"]["zh"] and d["description"]["en"]
    assert (listed[1]["max_rows"], listed[1]["max_inputs"], listed[1]["max_outputs"]) == (
        32,
        64,
        16,
    )
    json.dumps(listed)
