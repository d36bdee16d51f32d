"""Tests of bpviz.core.data.table: a CSV file refused as a whole (encoding, size, header,
ragged rows), with its code and row."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bpviz.core.data.csv import load_csv
from bpviz.core.data.table import DATA_ERROR_CODES, DataError

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


def test_duplicate_column_names() -> None:
    err = _error("a,b,a\n" + GOOD_ROWS)
    assert (err.code, err.row, err.column, err.column_index) == ("duplicate_column", 1, "a", 3)


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
