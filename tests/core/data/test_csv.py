"""Tests of bpviz.core.data.csv: an uploaded CSV as a data set, and every refusal of its
cells and target with its code, row and column."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import numpy as np
import pytest

from bpviz.core.data.csv import (
    DATA_ERROR_CODES,
    CsvFile,
    DataError,
    csv_hash,
    inspect_csv,
    load_csv,
)
from bpviz.core.data.dataset import Dataset


def original_x(ds: Dataset, X: np.ndarray) -> np.ndarray:
    """Network-space inputs back in the file's units."""
    return X * ds.feature_std + ds.feature_mean


def test_csv_hash_and_file() -> None:
    text = "a,b\n1,2\n"
    assert csv_hash(text) == hashlib.sha256(text.encode()).hexdigest()[:16] and csv_hash(
        text
    ) != csv_hash(text + "\n")
    file = CsvFile(csv_hash(text), "a.csv", text)
    assert file.to_dict() == {"hash": file.hash, "name": "a.csv", "text": text}


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
    X = np.concatenate([original_x(ds, ds.X_train), original_x(ds, ds.X_test)])
    assert ds.labels_train is not None and ds.labels_test is not None
    labels = np.concatenate([ds.labels_train, ds.labels_test])
    rows = sorted(zip(np.round(X, 6)[:, 0].tolist(), labels.tolist(), strict=True))
    assert rows[0] == (4.9, 0) and rows[-1] == (7.7, 2)
    np.testing.assert_allclose(ds.X_train.mean(axis=0), 0.0, atol=1e-12)


def test_csv_binary_text_labels_positive_is_second_sorted() -> None:
    text = "x,ok\n1,no\n2,yes\n3,no\n4,yes\n5,yes\n"
    ds = load_csv(text, test_fraction=0.0)
    assert ds.task == "binary" and ds.class_names == ("no", "yes")
    X = original_x(ds, ds.X_train)[:, 0]
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
    assert ds.target_std is not None
    Y = np.concatenate([ds.Y_train, ds.Y_test]) * ds.target_std + ds.target_mean
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


GOOD_ROWS = "1,2,0\n3,4,1\n5,6,0\n7,8,1\n"


def _error(text: str | bytes, **kwargs: Any) -> DataError:
    with pytest.raises(DataError) as exc:
        load_csv(text, **kwargs)
    err = exc.value
    assert err.code in DATA_ERROR_CODES
    assert str(err) == err.message and err.message
    json.dumps(err.to_dict())
    return err


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


def test_bad_task() -> None:
    assert _error("a,b,c\n" + GOOD_ROWS, task="clustering").code == "bad_task"


def test_constant_feature_is_fine() -> None:
    ds = load_csv("a,b,c\n1,5,0\n3,5,1\n5,5,0\n7,5,1\n")
    assert np.all(np.isfinite(ds.X_train))
    assert ds.feature_std[1] == 1.0


# ------------------------------------------------------------------ typos and params

HOUSES = "area,rooms,price\n" + "".join(
    f"{40 + 7 * i},{1 + i % 5},{100 + 13 * i}\n" for i in range(20)
)


def _with_cell(text: str, row: int, col: int, value: str) -> str:
    lines = text.splitlines()
    cells = lines[row - 1].split(",")
    cells[col - 1] = value
    lines[row - 1] = ",".join(cells)
    return "\n".join(lines) + "\n"


def test_a_typo_in_a_feature_column_names_the_cell() -> None:
    text = _with_cell(HOUSES, 7, 2, "three")
    info = inspect_csv(text)
    assert info["suggested_target"] == "price"  # the typo column is not taken as the target
    assert info["numeric_columns"] == ["area", "price"]
    kinds = {k["name"]: k for k in info["column_kinds"]}
    assert [k["kind"] for k in info["column_kinds"]] == ["numeric", "mostly_numeric", "numeric"]
    assert kinds["rooms"]["bad_cells"] == [
        {"row": 7, "column": "rooms", "column_index": 2, "value": "three", "code": "not_numeric"}
    ]
    err = _error(text, target=info["suggested_target"])
    assert (err.code, err.row, err.column) == ("not_numeric", 7, "rooms")
    assert err.params == {
        "row": 7, "column": "rooms", "column_index": 2, "value": "three", "role": "feature"
    }  # fmt: skip
    # chosen as the target, it is refused at the typo too, not read as 16 classes
    err = _error(text, target="rooms")
    assert (err.code, err.row, err.column, err.params["role"]) == (
        "not_numeric", 7, "rooms", "target"
    )  # fmt: skip
    assert "correct the cell" in err.message
    # unless the user says it holds class names
    assert load_csv(text, target="rooms", task="multiclass").n_classes == 6


def test_a_text_column_is_still_suggested_as_the_target() -> None:
    text = "x,label,y\n1,cat,2\n3,dog,4\n5,cat,6\n7,dog,8\n"
    info = inspect_csv(text)
    assert info["suggested_target"] == "label" and info["suggested_task"] == "binary"
    assert [k["kind"] for k in info["column_kinds"]] == ["numeric", "text", "numeric"]


def test_a_typo_in_a_label_column_of_numbers() -> None:
    text = "x,y\n" + "".join(f"{i},{i % 2}\n" for i in range(20))
    text = _with_cell(text, 5, 2, "l")  # "1" typed as "l"
    err = _error(text)
    assert (err.code, err.row, err.column) == ("not_numeric", 5, "y")


def test_load_errors_carry_params() -> None:
    err = _error("a,b,c\n" + GOOD_ROWS, target="price")
    assert err.params == {"column": "price", "columns": ["a", "b", "c"]}
    err = _error("a,b,c\n" + GOOD_ROWS, task="clustering")
    assert err.params["task"] == "clustering" and "regression" in err.params["allowed"]
    err = _error("a,b,c\n1,2,0\n")
    assert err.params == {"row": 2, "count": 1, "min": 4}
    assert "1 data row;" in err.message  # not "1 data rows"
    err = _error("a,b,label\n1,2,cat\n3,4,cat\n5,6,cat\n7,8,cat\n")
    assert err.params["class"] == "cat"
    err = _error("a,b\n1,2.5\n3,2.5\n5,2.5\n7,2.5\n", task="regression")
    assert err.params["value"] == 2.5
    err = _error(IRIS_LIKE, task="binary")
    assert err.params["count"] == 3 and "3 classes" in err.message
    text = "x,name\n" + "".join(f"{i},person{i}\n" for i in range(30))
    assert _error(text).params["count"] == 30
    for code in ("empty_cell", "missing_value"):
        cell = "" if code == "empty_cell" else "NA"
        err = _error(f"a,b,c\n1,2,0\n3,4,1\n5,6,0\n{cell},8,1\n")
        assert err.params == {
            "row": 5, "column": "a", "column_index": 1, "value": cell, "role": "feature"
        }  # fmt: skip


def test_description_counts_rows() -> None:
    assert load_csv("a,b\n1,0\n2,1\n3,0\n4,1\n").description.startswith("Uploaded CSV: 4 rows,")
