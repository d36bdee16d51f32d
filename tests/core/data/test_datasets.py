"""Tests of bpviz.core.data.datasets: the built-in sets and the CSV loader."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest

from bpviz.core.data.datasets import (
    DATA_ERROR_CODES,
    DATASETS,
    DataError,
    Dataset,
    inspect_csv,
    load_csv,
    load_digits,
    make_dataset,
    registry_info,
)

TWO_D_BINARY = ["circle", "xor", "gauss", "spiral", "moons"]
ALL = list(DATASETS)


def _arrays(ds: Dataset) -> list[np.ndarray]:
    out = [ds.X_train, ds.Y_train, ds.X_test, ds.Y_test]
    if ds.labels_train is not None and ds.labels_test is not None:
        out += [ds.labels_train, ds.labels_test]
    return out


# ---------------------------------------------------------------------------------------
# Built-in sets
# ---------------------------------------------------------------------------------------


def test_registry_lists_the_product_sets() -> None:
    assert set(DATASETS) == {
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
    }
    for name, info in DATASETS.items():
        assert info.name == name
        assert info.title_en and info.title_zh and info.description_en and info.description_zh
        assert info.noise_en and info.noise_zh
        d = info.to_dict()
        assert d["default_loss"] == {"binary": "bce", "multiclass": "softmax_ce"}.get(
            info.task, "mse"
        )
        json.dumps(d)
    assert DATASETS["circle"].title_zh == "圆形"
    listed = registry_info()
    assert [d["name"] for d in listed] == list(DATASETS)
    assert listed[0]["title"] == {"en": "Circle", "zh": "圆形"}
    json.dumps(listed)


@pytest.mark.parametrize("name", ALL)
def test_shapes_task_and_registry_agree(name: str) -> None:
    info = DATASETS[name]
    ds = make_dataset(name, samples=200, noise=0.1, test_fraction=0.25, seed=3)
    assert ds.name == name
    assert ds.task == info.task
    assert ds.n_train + ds.n_test == 200
    assert ds.n_test == 50
    assert ds.X_train.shape == (150, info.n_features)
    assert ds.X_test.shape == (50, info.n_features)
    assert ds.Y_train.shape == (150, info.n_outputs)
    assert ds.Y_test.shape == (50, info.n_outputs)
    assert ds.n_features == info.n_features
    assert ds.n_outputs == info.n_outputs
    assert ds.default_loss == info.default_loss
    assert len(ds.feature_names) == info.n_features
    for a in _arrays(ds):
        assert np.all(np.isfinite(a))
    assert ds.X_train.dtype == np.float64 and ds.Y_train.dtype == np.float64
    assert ds.feature_mean.shape == ds.feature_std.shape == (info.n_features,)
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
    if info.n_features <= 2:
        assert ds.domain is not None and len(ds.domain) == info.n_features
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
    np.testing.assert_allclose(ds.targets_to_original(ds.Y_train)[:, 0], ds.X_train[:, 0] ** 2)


def test_house_keeps_original_units_and_standardizes() -> None:
    ds = make_dataset("house", samples=1000, noise=0.1)
    assert ds.target_mean is not None and ds.target_std is not None
    np.testing.assert_allclose(ds.X_train.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(ds.X_train.std(axis=0), 1.0)
    np.testing.assert_allclose(ds.Y_train.mean(), 0.0, atol=1e-12)
    orig = ds.features_to_original(ds.X_train)
    area, rooms = orig[:, 0], orig[:, 1]
    assert area.min() >= 40.0 and area.max() <= 200.0
    np.testing.assert_allclose(rooms, np.round(rooms), atol=1e-9)
    assert rooms.min() >= 1 and rooms.max() <= 6
    price = ds.targets_to_original(ds.Y_train)[:, 0]
    assert price.min() > 0
    # price rises with area: a plausible, mostly linear relation
    assert np.corrcoef(area, price)[0, 1] > 0.9
    np.testing.assert_allclose(ds.features_to_network(orig), ds.X_train)
    assert ds.feature_names == ("area (m²)", "rooms")


def _image_keys(images: np.ndarray) -> list[bytes]:
    return sorted(row.tobytes() for row in np.round(images).astype(np.uint8))


def test_digits_full_set() -> None:
    pixels, labels = load_digits()
    assert pixels.shape == (1797, 64) and labels.shape == (1797,)
    assert set(labels.tolist()) == set(range(10))
    assert pixels.min() == 0 and pixels.max() == 16
    ds = make_dataset("digits", samples=5000, noise=0.0, test_fraction=0.2)
    assert ds.n_train + ds.n_test == 1797
    assert ds.input_shape == (8, 8)
    assert ds.labels_train is not None and ds.labels_test is not None
    assert set(np.concatenate([ds.labels_train, ds.labels_test]).tolist()) == set(range(10))
    for X in (ds.X_train, ds.X_test):
        assert X.min() >= 0.0 and X.max() <= 1.0
    assert ds.X_train.max() == 1.0
    # original units (0..16) come back
    np.testing.assert_allclose(ds.features_to_original(ds.X_train), np.round(ds.X_train * 16))
    # every image of the full set appears exactly once
    got = np.concatenate([ds.X_train, ds.X_test]) * 16
    assert _image_keys(got) == _image_keys(pixels)


def test_digits_subset_is_class_balanced() -> None:
    ds = make_dataset("digits", samples=300, noise=0.0, test_fraction=0.0)
    assert ds.n_train == 300 and ds.n_test == 0
    assert ds.labels_train is not None
    np.testing.assert_array_equal(np.bincount(ds.labels_train, minlength=10), 30)


def test_digits_noise_stays_in_unit_range() -> None:
    clean = make_dataset("digits", samples=100, noise=0.0, seed=1)
    noisy = make_dataset("digits", samples=100, noise=0.3, seed=1)
    assert not np.array_equal(clean.X_train, noisy.X_train)
    assert noisy.X_train.min() >= 0.0 and noisy.X_train.max() <= 1.0


def test_load_digits_returns_copies() -> None:
    pixels, _ = load_digits()
    pixels[0, 0] = 99
    assert load_digits()[0][0, 0] != 99


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


def test_to_dict_is_json_ready_and_holds_points_for_2d() -> None:
    ds = make_dataset("circle", samples=50)
    d = json.loads(json.dumps(ds.to_dict()))
    assert d["name"] == "circle" and d["task"] == "binary" and d["default_loss"] == "bce"
    assert d["n_train"] == 35 and d["n_test"] == 15
    assert len(d["train"]["X"]) == 35 and len(d["train"]["X"][0]) == 2
    assert ds.labels_train is not None
    assert d["train"]["y"] == ds.labels_train.tolist()
    x0 = d["train"]["X"][0][0]
    assert x0 == round(x0, 4)
    reg = make_dataset("square", samples=20).to_dict()
    assert isinstance(reg["train"]["y"][0], float)
    digits = make_dataset("digits", samples=50).to_dict()
    assert "train" not in digits and digits["input_shape"] == [8, 8]
    json.dumps(digits)
    assert "280 train / 120 test" in make_dataset("circle").summary()


# ---------------------------------------------------------------------------------------
# CSV: happy paths
# ---------------------------------------------------------------------------------------

IRIS_LIKE = """sepal,petal,species
5.1,1.4,setosa
4.9,1.5,setosa
6.3,4.7,versicolor
6.1,4.5,versicolor
7.2,6.0,virginica
7.7,6.7,virginica
5.0,1.3,setosa
"""


def test_csv_text_labels_make_multiclass() -> None:
    ds = load_csv(IRIS_LIKE, test_fraction=0.3, seed=1)
    assert ds.task == "multiclass" and ds.default_loss == "softmax_ce"
    assert ds.class_names == ("setosa", "versicolor", "virginica")
    assert ds.feature_names == ("sepal", "petal")
    assert ds.n_train + ds.n_test == 7 and ds.n_test == 2
    assert ds.Y_train.shape == (5, 3)
    # the rows survive, in original units, with their labels
    X = np.concatenate([ds.features_to_original(ds.X_train), ds.features_to_original(ds.X_test)])
    assert ds.labels_train is not None and ds.labels_test is not None
    labels = np.concatenate([ds.labels_train, ds.labels_test])
    rows = sorted(zip(np.round(X, 6)[:, 0].tolist(), labels.tolist(), strict=True))
    assert rows[0] == (4.9, 0) and rows[-1] == (7.7, 2)
    np.testing.assert_allclose(ds.X_train.mean(axis=0), 0.0, atol=1e-12)


def test_csv_binary_text_labels_positive_is_second_sorted() -> None:
    text = "x,ok\n1,no\n2,yes\n3,no\n4,yes\n5,yes\n"
    ds = load_csv(text, test_fraction=0.0)
    assert ds.task == "binary" and ds.class_names == ("no", "yes")
    X = ds.features_to_original(ds.X_train)[:, 0]
    np.testing.assert_array_equal(ds.Y_train[:, 0], np.isin(X, [2, 4, 5]).astype(float))


def test_csv_integer_target_is_classification_sorted_numerically() -> None:
    text = "a,b,c\n" + "".join(f"{i},{i % 3},{[2, 10, 1][i % 3]}\n" for i in range(9))
    ds = load_csv(text)
    assert ds.task == "multiclass" and ds.class_names == ("1", "2", "10")


def test_csv_regression_target_and_chosen_target_column() -> None:
    # integer prices, all different: the auto rule must still call it a regression
    rows = [
        (a, r, 30 + 2.5 * a + 15 * r) for a, r in [(50, 1), (80, 2), (120, 3), (60, 2), (150, 4)]
    ]
    text = "price,area,rooms\n" + "".join(f"{p},{a},{r}\n" for a, r, p in rows)
    ds = load_csv(text, target="price", test_fraction=0.2)
    assert ds.task == "regression" and ds.default_loss == "mse"
    assert ds.feature_names == ("area", "rooms") and ds.class_names == ("price",)
    assert ds.labels_train is None
    assert ds.target_mean is not None
    Y = np.concatenate([ds.targets_to_original(ds.Y_train), ds.targets_to_original(ds.Y_test)])
    assert sorted(np.round(Y[:, 0], 6).tolist()) == sorted(p for _, _, p in rows)
    assert ds.domain is not None and len(ds.domain) == 2


def test_csv_forced_regression_on_integer_target() -> None:
    text = "x,y\n1,1\n2,2\n3,1\n4,2\n5,3\n6,3\n"
    assert load_csv(text).task == "multiclass"
    assert load_csv(text, task="regression").task == "regression"
    # integers that never repeat are values, not classes
    assert load_csv("x,y\n1,1\n2,2\n3,3\n4,4\n").task == "regression"
    assert load_csv("x,y\n1,1\n2,2\n3,3\n4,4\n", task="multiclass").n_classes == 4
    assert load_csv("x,y\n1,0\n2,1\n3,0\n4,1\n", task="classification").task == "binary"


def test_csv_bom_crlf_quotes_blank_lines_bytes() -> None:
    text = '\ufeff"size, m²",label\r\n"1.5",a\r\n\r\n2,b\r\n3,a\r\n4,b\r\n\r\n\r\n'
    for data in (text, text.encode("utf-8")):
        ds = load_csv(data)
        assert ds.feature_names == ("size, m²",)
        assert ds.class_names == ("a", "b")
        assert ds.n_train + ds.n_test == 4
        assert ds.domain is not None and len(ds.domain) == 1


def test_csv_same_seed_same_split() -> None:
    a, b, c = load_csv(IRIS_LIKE, seed=4), load_csv(IRIS_LIKE, seed=4), load_csv(IRIS_LIKE, seed=5)
    np.testing.assert_array_equal(a.X_train, b.X_train)
    assert not np.array_equal(a.X_train, c.X_train)


def test_inspect_csv() -> None:
    info = inspect_csv(IRIS_LIKE)
    assert info["columns"] == ["sepal", "petal", "species"]
    assert info["n_rows"] == 7
    assert info["numeric_columns"] == ["sepal", "petal"]
    assert info["suggested_target"] == "species"
    assert info["suggested_task"] == "multiclass"
    assert len(info["preview"]) == 5
    assert inspect_csv("a,b\n1,0.5\n2,0.25\n3,0.1\n")["suggested_task"] == "regression"
    assert inspect_csv("a,b\n1,0\n2,1\n3,1\n")["suggested_task"] == "binary"
    # cell problems are reported by load_csv, not inspect_csv
    assert inspect_csv("a,b\n1,x\n,1\n")["numeric_columns"] == []
    with pytest.raises(DataError) as exc:
        inspect_csv("a,b\n1,2\n3\n")
    assert exc.value.code == "ragged_row"


# ---------------------------------------------------------------------------------------
# CSV: every refusal, with its code, row and column
# ---------------------------------------------------------------------------------------

GOOD_ROWS = "1,2,0\n3,4,1\n5,6,0\n7,8,1\n"


def _error(text: str | bytes, **kwargs: Any) -> DataError:
    with pytest.raises(DataError) as exc:
        load_csv(text, **kwargs)
    err = exc.value
    assert err.code in DATA_ERROR_CODES
    assert str(err) == err.message and err.message
    json.dumps(err.to_dict())
    return err


@pytest.mark.parametrize("text", ["", "   ", "\n\n\r\n", b"", "\ufeff"])
def test_empty_file(text: str | bytes) -> None:
    assert _error(text).code == "empty"


def test_header_only() -> None:
    err = _error("a,b,c\n\n")
    assert (err.code, err.row) == ("no_rows", 2)


def test_not_utf8() -> None:
    data = b"a,b\n1,2\n3,4\n" + "5,café\n".encode("latin-1")
    err = _error(data)
    assert (err.code, err.row) == ("not_utf8", 4)
    assert "row 4" in err.message
    err = _error("a,b\n1,2\n".encode("utf-16"))
    assert err.code == "not_utf8"


def test_too_large_bytes_and_text() -> None:
    text = "a,b,c\n" + GOOD_ROWS * 10
    assert _error(text.encode(), max_bytes=50).code == "too_large"
    assert _error(text, max_bytes=50).code == "too_large"


def test_too_many_rows() -> None:
    text = "a,b,c\n" + GOOD_ROWS * 3  # 12 data rows
    err = _error(text, max_rows=10)
    assert (err.code, err.row) == ("too_many_rows", 12)  # header is row 1; 11th data row
    assert load_csv(text, max_rows=12).n_train > 0


def test_too_many_columns() -> None:
    text = ",".join(f"c{i}" for i in range(5)) + "\n" + "1,2,3,4,5\n" * 4
    err = _error(text, max_cols=4)
    assert (err.code, err.row) == ("too_many_columns", 1)


def test_ragged_rows() -> None:
    err = _error("a,b,c\n1,2,0\n3,4,1\n5,6\n7,8,1\n")
    assert (err.code, err.row, err.column) == ("ragged_row", 4, None)
    assert "Row 4 has 2 fields" in err.message and "header has 3" in err.message
    err = _error("a,b,c\n1,2,0\n3,4,1,9\n5,6,0\n7,8,1\n")
    assert (err.code, err.row) == ("ragged_row", 3)


def test_ragged_row_counts_blank_lines_like_a_spreadsheet() -> None:
    err = _error("a,b,c\n1,2,0\n\n3,4,1\n5,6\n7,8,1\n")
    assert (err.code, err.row) == ("ragged_row", 5)


def test_text_in_numeric_feature_column() -> None:
    err = _error("a,b,c\n1,2,0\n3,4,1\n5,six,0\n7,8,1\n")
    assert (err.code, err.row, err.column, err.column_index) == ("not_numeric", 4, "b", 2)
    assert "row 4" in err.message and "“b”" in err.message and "six" in err.message


def test_decimal_comma_is_not_numeric() -> None:
    err = _error('a,b,c\n1,2,0\n3,"4,5",1\n5,6,0\n7,8,1\n')
    assert (err.code, err.row, err.column) == ("not_numeric", 3, "b")


@pytest.mark.parametrize(
    ("cell", "code"),
    [
        ("", "empty_cell"),
        ("NaN", "missing_value"),
        ("NA", "missing_value"),
        ("null", "missing_value"),
        ("inf", "not_finite"),
        ("-Infinity", "not_finite"),
        ("1e999", "not_finite"),
    ],
)
def test_missing_and_non_finite_cells(cell: str, code: str) -> None:
    err = _error(f"a,b,c\n1,2,0\n3,4,1\n5,6,0\n{cell},8,1\n")
    assert (err.code, err.row, err.column, err.column_index) == (code, 5, "a", 1)


@pytest.mark.parametrize(("cell", "code"), [("", "empty_cell"), ("NaN", "missing_value")])
def test_missing_target_cell(cell: str, code: str) -> None:
    err = _error(f"a,b,c\n1,2,0\n3,4,{cell}\n5,6,0\n7,8,1\n")
    assert (err.code, err.row, err.column) == (code, 3, "c")


def test_first_bad_cell_in_reading_order_is_reported() -> None:
    err = _error("a,b,c\n1,2,0\n3,x,1\ny,6,0\n7,8,1\n")
    assert (err.row, err.column) == (3, "b")


def test_text_in_target_when_regression_is_forced() -> None:
    err = _error("a,b\n1,0.5\n2,0.7\n3,high\n4,0.1\n", task="regression")
    assert (err.code, err.row, err.column) == ("not_numeric", 4, "b")


def test_duplicate_column_names() -> None:
    err = _error("a,b,a\n" + GOOD_ROWS)
    assert (err.code, err.row, err.column, err.column_index) == ("duplicate_column", 1, "a", 3)


def test_empty_column_name() -> None:
    err = _error("a,,c\n" + GOOD_ROWS)
    assert (err.code, err.row, err.column_index) == ("empty_column_name", 1, 2)


def test_header_missing() -> None:
    err = _error("1,2,0\n" + GOOD_ROWS)
    assert (err.code, err.row) == ("no_header", 1)


def test_unknown_target() -> None:
    err = _error("a,b,c\n" + GOOD_ROWS, target="price")
    assert (err.code, err.column) == ("unknown_target", "price")
    assert "price" in err.message and "a, b, c" in err.message


def test_target_with_one_class() -> None:
    err = _error("a,b,label\n1,2,cat\n3,4,cat\n5,6,cat\n7,8,cat\n")
    assert (err.code, err.column) == ("one_class", "label")
    err = _error("a,b,c\n1,2,1\n3,4,1\n5,6,1\n7,8,1\n")
    assert err.code == "one_class"


def test_constant_regression_target() -> None:
    err = _error("a,b\n1,2.5\n3,2.5\n5,2.5\n7,2.5\n", task="regression")
    assert (err.code, err.column) == ("constant_target", "b")


def test_binary_task_needs_two_classes() -> None:
    assert _error(IRIS_LIKE, task="binary").code == "not_binary"


def test_too_many_classes() -> None:
    text = "x,name\n" + "".join(f"{i},person{i}\n" for i in range(30))
    err = _error(text)
    assert (err.code, err.column) == ("too_many_classes", "name")


def test_too_few_rows() -> None:
    err = _error("a,b,c\n1,2,0\n3,4,1\n5,6,0\n")
    assert (err.code, err.row) == ("too_few_rows", 4)


def test_no_feature_columns() -> None:
    err = _error("label\n0\n1\n0\n1\n")
    assert (err.code, err.column) == ("no_features", "label")


def test_unclosed_quote_is_bad_csv() -> None:
    err = _error('a,b,c\n1,2,0\n3,"4,1\n5,6,0\n7,8,1\n')
    assert err.code == "bad_csv"
    assert err.row is not None and err.row >= 3


def test_bad_task() -> None:
    assert _error("a,b,c\n" + GOOD_ROWS, task="clustering").code == "bad_task"


def test_constant_feature_is_fine() -> None:
    ds = load_csv("a,b,c\n1,5,0\n3,5,1\n5,5,0\n7,5,1\n")
    assert np.all(np.isfinite(ds.X_train))
    assert ds.feature_std[1] == 1.0


def test_rows_of_empty_cells_are_blank_lines() -> None:
    ds = load_csv("a,b,c\n1,2,0\n,,\n3,4,1\n  \n5,6,0\n7,8,1\n,,\n,,\n")
    assert ds.n_train + ds.n_test == 4
    err = _error("a,b,c\n1,2,0\n,,\n3,4,1\n5,6,0\n7,x,1\n")
    assert (err.code, err.row) == ("not_numeric", 6)


def test_test_size_is_rounded_and_leaves_a_training_example() -> None:
    assert make_dataset("circle", samples=100, test_fraction=0.279).n_test == 28
    tiny = make_dataset("circle", samples=4, test_fraction=0.9)
    assert (tiny.n_train, tiny.n_test) == (1, 3)
    assert load_csv("a,b,c\n" + GOOD_ROWS, test_fraction=0.9).n_train == 1
