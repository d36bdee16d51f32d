"""Tests of bpviz.core.data.table: a CSV file refused as a whole (encoding, size, header,
ragged rows), with its code and row."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bpviz.core.data.csv import load_csv
from bpviz.core.data.table import DATA_ERROR_CODES, DataError, column_kind

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
    assert err.params == {"row": 2, "header_row": 1}


def test_bytes_that_are_not_utf8_are_decoded_not_refused() -> None:
    data = b"a,b\n1,2\n3,4\n5,6\n" + "7,café\n".encode("latin-1")
    err = _error(data)  # decoded as Windows-1252: the text cell is the error, not the bytes
    assert (err.code, err.row, err.column) == ("not_numeric", 5, "b")
    assert err.params["value"] == "café"
    ds = load_csv("a,b\n1,2\n3,4\n5,6\n7,8\n".encode("utf-16"))
    assert ds.n_train + ds.n_test == 4


def test_text_decoded_with_the_wrong_encoding_is_refused() -> None:
    garbled = "面积,价格\n1,2\n3,4\n".encode("gbk").decode("utf-8", errors="replace")
    err = _error(garbled)
    assert (err.code, err.row) == ("encoding", 1)
    assert err.params["reason"] == "replacement"
    err = _error("a,b\n1,2\n3,\ufffd\n")
    assert (err.code, err.row) == ("encoding", 3)


def test_binary_files_are_refused() -> None:
    err = _error(b"PK\x03\x04" + bytes(range(256)))
    assert (err.code, err.params["reason"]) == ("encoding", "binary")
    err = _error(b"a,b\n1,\x01\n")
    assert (err.code, err.row, err.params["reason"]) == ("encoding", 2, "binary")


def test_too_large_bytes_and_text() -> None:
    text = "a,b,c\n" + GOOD_ROWS * 10
    assert _error(text.encode(), max_bytes=50).code == "too_large"
    err = _error(text, max_bytes=50)
    assert err.code == "too_large" and err.params == {"size": len(text), "max": 50}


def test_too_many_rows() -> None:
    text = "a,b,c\n" + GOOD_ROWS * 3  # 12 data rows
    err = _error(text, max_rows=10)
    assert (err.code, err.row) == ("too_many_rows", 12)  # header is row 1; 11th data row
    assert err.params == {"row": 12, "max": 10}
    assert load_csv(text, max_rows=12).n_train > 0


def test_too_many_columns() -> None:
    text = ",".join(f"c{i}" for i in range(5)) + "\n" + "1,2,3,4,5\n" * 4
    err = _error(text, max_cols=4)
    assert (err.code, err.row) == ("too_many_columns", 1)
    assert err.params == {"row": 1, "count": 5, "max": 4}


def test_ragged_rows() -> None:
    err = _error("a,b,c\n1,2,0\n3,4,1\n5,6\n7,8,1\n")
    assert (err.code, err.row, err.column) == ("ragged_row", 4, None)
    assert "Row 4 has 2 fields" in err.message and "header has 3" in err.message
    assert err.params == {"row": 4, "count": 2, "expected": 3}
    err = _error("a,b,c\n1,2,0\n3,4,1\n5\n7,8,1\n")
    assert "Row 4 has 1 field," in err.message  # not "1 fields"
    err = _error("a,b,c\n1,2,0\n3,4,1,9\n5,6,0\n7,8,1\n")
    assert (err.code, err.row) == ("ragged_row", 3)


def test_ragged_row_counts_blank_lines_like_a_spreadsheet() -> None:
    err = _error("a,b,c\n1,2,0\n\n3,4,1\n5,6\n7,8,1\n")
    assert (err.code, err.row) == ("ragged_row", 5)


def test_duplicate_column_names() -> None:
    err = _error("a,b,a\n" + GOOD_ROWS)
    assert (err.code, err.row, err.column, err.column_index) == ("duplicate_column", 1, "a", 3)
    assert err.params["first_index"] == 1


def test_empty_column_name() -> None:
    err = _error("a,,c\n" + GOOD_ROWS)
    assert (err.code, err.row, err.column_index) == ("empty_column_name", 1, 2)


def test_header_missing() -> None:
    err = _error("1,2,0\n" + GOOD_ROWS)
    assert (err.code, err.row) == ("no_header", 1)


def test_unclosed_quote_is_bad_csv() -> None:
    err = _error('a,b,c\n1,2,0\n3,"4,1\n5,6,0\n7,8,1\n')
    assert err.code == "bad_csv"
    assert err.row is not None and err.row >= 3


def test_rows_of_empty_cells_are_blank_lines() -> None:
    ds = load_csv("a,b,c\n1,2,0\n,,\n3,4,1\n  \n5,6,0\n7,8,1\n,,\n,,\n")
    assert ds.n_train + ds.n_test == 4
    err = _error("a,b,c\n1,2,0\n,,\n3,4,1\n5,6,0\n7,x,1\n")
    assert (err.code, err.row) == ("not_numeric", 6)


def test_column_kind() -> None:
    rows = list(range(2, 12))
    numbers = [str(i) for i in range(10)]
    assert column_kind(numbers, "a", 1, rows)["kind"] == "numeric"
    typo = [*numbers[:6], "sev en", *numbers[7:]]
    kind = column_kind(typo, "a", 2, rows)
    assert kind["kind"] == "mostly_numeric" and kind["n_bad"] == 1
    assert kind["bad_cells"] == [
        {"row": 8, "column": "a", "column_index": 2, "value": "sev en", "code": "not_numeric"}
    ]
    two = [*numbers[:8], "x", "y"]  # 20 % bad: text
    assert column_kind(two, "a", 1, rows)["kind"] == "text"
    assert column_kind(["x"] * 10, "a", 1, rows) | {"n_bad": 0} == {
        "name": "a", "index": 1, "kind": "text", "n_bad": 0, "bad_cells": []
    }  # fmt: skip
    assert column_kind(["1", "x"], "a", 1, [2, 3])["kind"] == "mostly_numeric"  # one of two
