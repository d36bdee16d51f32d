"""Why user data is refused: :class:`DataError`, its stable codes and their parameters.

Every refusal of an uploaded CSV carries a ``code`` (one of :data:`DATA_ERRORS`), an
English ``message`` naming the row and column, and ``params``: a JSON-ready dict with
the numbers and names the message was made of (``{"row": 7, "column": "rooms",
"value": "three"}``), so the page can word the same error in Chinese. The tables of
docs/config.md are generated from :data:`DATA_ERRORS` (:func:`codes_table`).
"""

from __future__ import annotations

from typing import Any, NamedTuple

__all__ = [
    "DATA_ERRORS",
    "DATA_ERROR_CODES",
    "DataError",
    "ErrorInfo",
    "clip",
    "codes_table",
    "plural",
]


class ErrorInfo(NamedTuple):
    """What a code means and the keys of its ``params``."""

    when: str
    params: tuple[str, ...]


_CELL = ("row", "column", "column_index", "value", "role")

#: Every ``DataError.code`` in the order a file is checked, with its ``params`` keys.
DATA_ERRORS: dict[str, ErrorInfo] = {
    "encoding": ErrorInfo(
        "the bytes cannot be read as text: `reason` `binary` (a spreadsheet, PDF or image "
        "file, or control characters), `invalid` (a byte-order mark, then bytes that do "
        "not decode), `undetected` (not UTF-8/16/32, GB18030/GBK or Windows-1252/Latin-1), "
        "`unsupported` (`encoding` names the one it looks like), `replacement` (text "
        "holding U+FFFD: decoded with the wrong encoding before it was sent)",
        ("reason", "encoding", "row"),
    ),
    "not_utf8": ErrorInfo("(no longer raised: bytes that are not UTF-8 are decoded)", ("row",)),
    "too_large": ErrorInfo("more than `max_bytes`", ("size", "max")),
    "empty": ErrorInfo("nothing but blank lines", ()),
    "bad_csv": ErrorInfo(
        "the csv module could not parse it (e.g. an unclosed quote)", ("row", "detail")
    ),
    "no_header": ErrorInfo("the first row holds numbers, not column names", ("row",)),
    "empty_column_name": ErrorInfo("a header cell is empty", ("row", "column_index")),
    "duplicate_column": ErrorInfo(
        "a column name appears twice", ("row", "column", "column_index", "first_index")
    ),
    "too_many_columns": ErrorInfo("more than `max_cols` columns", ("row", "count", "max")),
    "no_rows": ErrorInfo("a header and nothing else", ("row", "header_row")),
    "too_many_rows": ErrorInfo("more than `max_rows` data rows", ("row", "max")),
    "too_few_rows": ErrorInfo("fewer data rows than needed", ("row", "count", "min")),
    "ragged_row": ErrorInfo(
        "a row with more or fewer fields than the header", ("row", "count", "expected")
    ),
    "unknown_target": ErrorInfo("the target is not a column", ("column", "columns")),
    "no_features": ErrorInfo("only the target column", ("column", "column_index")),
    "bad_task": ErrorInfo(
        "the task is not one of auto/binary/multiclass/regression/classification",
        ("task", "allowed"),
    ),
    "empty_cell": ErrorInfo("an empty cell", _CELL),
    "missing_value": ErrorInfo("a missing value: NA, NaN, null, None, N/A, ?, -", _CELL),
    "not_finite": ErrorInfo("inf, -Infinity, 1e999", _CELL),
    "not_numeric": ErrorInfo(
        "text in a feature column, in a forced-regression target, or in a target whose "
        "other cells are numbers (a typo)",
        _CELL,
    ),
    "one_class": ErrorInfo("the target has a single class", ("column", "column_index", "class")),
    "not_binary": ErrorInfo(
        "task binary, but not exactly two classes", ("column", "column_index", "count")
    ),
    "too_many_classes": ErrorInfo(
        "more classes than the limit", ("column", "column_index", "count", "max")
    ),
    "constant_target": ErrorInfo(
        "a regression target with one value", ("column", "column_index", "value")
    ),
}

#: The codes alone (the page's translations cover each).
DATA_ERROR_CODES = tuple(DATA_ERRORS)


class DataError(ValueError):
    """A CSV (or other user data) the loader refuses, with where and why.

    Attributes:
        message: English sentence naming the row and/or column.
        code: stable identifier the page translates, e.g. ``"ragged_row"``.
        row: 1-based row as a spreadsheet shows it (the header is row 1), or None.
        column: column name, or None.
        column_index: 1-based column position, or None.
        params: JSON-ready values the message was made of (its keys are listed in
            :data:`DATA_ERRORS`); ``row``, ``column`` and ``column_index`` are in it
            whenever they are known.
    """

    def __init__(
        self,
        message: str,
        code: str = "invalid_data",
        row: int | None = None,
        column: str | None = None,
        column_index: int | None = None,
        params: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.row = row
        self.column = column
        self.column_index = column_index
        where = {"row": row, "column": column, "column_index": column_index}
        self.params: dict[str, Any] = {
            **{k: v for k, v in where.items() if v is not None},
            **(params or {}),
        }

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready ``{"code", "message", "row", "column", "column_index", "params"}``."""
        return {
            "code": self.code,
            "message": self.message,
            "row": self.row,
            "column": self.column,
            "column_index": self.column_index,
            "params": dict(self.params),
        }


def plural(n: int, noun: str, nouns: str | None = None) -> str:
    """``"1 row"``, ``"2 rows"``, ``"1,024 rows"`` (``nouns``: an irregular plural)."""
    return f"{n:,} {noun if n == 1 else nouns or noun + 's'}"


def clip(s: str, n: int = 40) -> str:
    """``s`` cut to ``n`` characters (the last one an ellipsis when cut)."""
    return s if len(s) <= n else s[: n - 1] + "…"


def codes_table() -> str:
    """The table of CSV error codes in docs/config.md."""
    lines = ["| code | when | params |", "|---|---|---|"]
    for code, info in DATA_ERRORS.items():
        params = ", ".join(f"`{p}`" for p in info.params) or "—"
        lines.append(f"| `{code}` | {info.when} | {params} |")
    return "\n".join(lines) + "\n"
