"""Tests of bpviz.core.data.errors: DataError's params, plurals in messages, and the table
of codes in docs/config.md."""

from __future__ import annotations

import json
from pathlib import Path

from bpviz.core.data.errors import DATA_ERROR_CODES, DATA_ERRORS, DataError, codes_table, plural

ROOT = Path(__file__).resolve().parents[3]


def test_plural() -> None:
    assert plural(1, "row") == "1 row"
    assert plural(0, "row") == "0 rows"
    assert plural(2, "class", "classes") == "2 classes"
    assert plural(1, "class", "classes") == "1 class"
    assert plural(10_000, "data row") == "10,000 data rows"


def test_params_carry_where_and_what() -> None:
    err = DataError("msg", "not_numeric", row=7, column="rooms", column_index=2,
                    params={"value": "three", "role": "feature"})  # fmt: skip
    assert err.params == {
        "row": 7, "column": "rooms", "column_index": 2, "value": "three", "role": "feature"
    }  # fmt: skip
    d = err.to_dict()
    assert d == {
        "code": "not_numeric",
        "message": "msg",
        "row": 7,
        "column": "rooms",
        "column_index": 2,
        "params": err.params,
    }
    json.dumps(d)
    assert DataError("m", "empty").params == {}  # nothing unknown is written as null


def test_every_code_is_listed_with_its_params() -> None:
    assert tuple(DATA_ERRORS) == DATA_ERROR_CODES
    assert "encoding" in DATA_ERRORS and "not_utf8" in DATA_ERRORS  # old codes stay
    text = (ROOT / "docs" / "config.md").read_text(encoding="utf-8")
    assert codes_table() in text, "docs/config.md is stale: paste data.errors.codes_table()"
