"""A CSV text as a checked table: encoding, size, header, ragged rows and cell checks.

Every problem is a :class:`DataError` with a stable ``code``, the 1-based spreadsheet
row (the header is row 1) and the column name, so the page can point at the bad cell in
either language. :mod:`.csv` turns the table into a :class:`~.dataset.Dataset`.
"""

from __future__ import annotations

import csv
import io
import math
import re
from dataclasses import dataclass
from typing import Any

__all__ = ["DATA_ERROR_CODES", "DataError", "Table", "cell_error", "cell_problem", "read_table"]


class DataError(ValueError):
    """A CSV (or other user data) the loader refuses, with where and why.

    Attributes:
        message: English sentence naming the row and/or column.
        code: stable identifier the page translates, e.g. ``"ragged_row"``.
        row: 1-based row as a spreadsheet shows it (the header is row 1), or None.
        column: column name, or None.
        column_index: 1-based column position, or None.
    """

    def __init__(
        self,
        message: str,
        code: str = "invalid_data",
        row: int | None = None,
        column: str | None = None,
        column_index: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.row = row
        self.column = column
        self.column_index = column_index

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready ``{"code", "message", "row", "column", "column_index"}``."""
        return {
            "code": self.code,
            "message": self.message,
            "row": self.row,
            "column": self.column,
            "column_index": self.column_index,
        }


#: Every ``DataError.code`` this module raises, for the page's translations.
DATA_ERROR_CODES = (
    "not_utf8",  # bytes that are not UTF-8 text
    "too_large",  # more than max_bytes
    "empty",  # nothing but blank lines
    "bad_csv",  # the csv module could not parse it (e.g. an unclosed quote)
    "no_header",  # the first row holds numbers, not column names
    "empty_column_name",
    "duplicate_column",
    "too_many_columns",
    "no_rows",  # a header and nothing else
    "too_many_rows",
    "too_few_rows",
    "ragged_row",  # a row with more or fewer fields than the header
    "unknown_target",
    "no_features",  # only the target column
    "bad_task",  # task not one of auto/binary/multiclass/regression/classification
    "empty_cell",
    "missing_value",  # NA, NaN, null, ...
    "not_finite",  # inf, 1e999, ...
    "not_numeric",  # text in a numeric column
    "one_class",  # the target has a single class
    "not_binary",  # task "binary" but not exactly two classes
    "too_many_classes",
    "constant_target",  # regression target with one value
)

_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_MISSING = {"na", "n/a", "nan", "null", "none", "nil", "?", "-", "#n/a"}
_INFINITE = {"inf", "+inf", "-inf", "infinity", "+infinity", "-infinity"}


@dataclass
class Table:
    header: list[str]
    rows: list[list[str]]  # stripped cells, all of header length
    row_numbers: list[int]  # spreadsheet row of each entry of rows


def _decode(text: str | bytes, max_bytes: int) -> str:
    if isinstance(text, bytes | bytearray):
        raw = bytes(text)
        if len(raw) > max_bytes:
            raise DataError(
                f"The file is {len(raw):,} bytes; the limit is {max_bytes:,} bytes.", "too_large"
            )
        try:
            return raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            row = raw[: exc.start].count(b"\n") + 1
            raise DataError(
                f"The file is not UTF-8 text (row {row}, byte {exc.start + 1}). "
                "Save it as “CSV UTF-8” and upload it again.",
                "not_utf8",
                row=row,
            ) from None
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > max_bytes:
        raise DataError(
            f"The file is {size:,} bytes; the limit is {max_bytes:,} bytes.", "too_large"
        )
    return text.removeprefix("\ufeff")


def read_table(text: str | bytes, max_bytes: int, max_rows: int, max_cols: int) -> Table:
    """Parse, and check everything that does not depend on the target: encoding, size,
    header, ragged rows."""
    content = _decode(text, max_bytes)
    if not content.strip():
        raise DataError("The file is empty.", "empty")
    header: list[str] | None = None
    header_row = 1
    rows: list[list[str]] = []
    numbers: list[int] = []
    reader = csv.reader(io.StringIO(content, newline=""), strict=True)
    row_no = 0
    try:
        for record in reader:
            row_no += 1
            cells = [c.strip() for c in record]
            if not any(cells):
                continue  # blank line (or a row of empty cells): skipped, still counted
            if header is None:
                header, header_row = _check_header(cells, row_no, max_cols), row_no
                continue
            if len(cells) != len(header):
                raise DataError(
                    f"Row {row_no} has {len(cells)} fields, but the header has {len(header)}.",
                    "ragged_row",
                    row=row_no,
                )
            if len(rows) >= max_rows:
                raise DataError(
                    f"The file has more than {max_rows:,} data rows (row {row_no} is past the "
                    "limit).",
                    "too_many_rows",
                    row=row_no,
                )
            rows.append(cells)
            numbers.append(row_no)
    except csv.Error as exc:
        row = max(row_no + 1, 1)
        raise DataError(f"Row {row} could not be read as CSV: {exc}.", "bad_csv", row=row) from None
    if header is None:  # pragma: no cover - content.strip() was non-empty
        raise DataError("The file is empty.", "empty")
    if not rows:
        raise DataError(
            f"The file has a header row (row {header_row}) but no data rows.",
            "no_rows",
            row=header_row + 1,
        )
    return Table(header, rows, numbers)


def _check_header(cells: list[str], row_no: int, max_cols: int) -> list[str]:
    if len(cells) > max_cols:
        raise DataError(
            f"The file has {len(cells)} columns; the limit is {max_cols}.",
            "too_many_columns",
            row=row_no,
        )
    if all(_NUMBER.fullmatch(c) for c in cells):
        raise DataError(
            f"Row {row_no} holds numbers, not column names: the first row must be a header "
            "naming each column.",
            "no_header",
            row=row_no,
        )
    seen: dict[str, int] = {}
    for j, name in enumerate(cells, start=1):
        if not name:
            raise DataError(
                f"Column {j} of the header (row {row_no}) has no name.",
                "empty_column_name",
                row=row_no,
                column_index=j,
            )
        if name in seen:
            raise DataError(
                f"Column name “{name}” appears twice in the header (columns {seen[name]} and {j}).",
                "duplicate_column",
                row=row_no,
                column=name,
                column_index=j,
            )
        seen[name] = j
    return cells


def cell_problem(cell: str) -> str | None:
    """The error code of a cell that is not a finite number, or None if it is one."""
    if cell == "":
        return "empty_cell"
    low = cell.lower()
    if low in _MISSING:
        return "missing_value"
    if low in _INFINITE:
        return "not_finite"
    if not _NUMBER.fullmatch(cell):
        return "not_numeric"
    if not math.isfinite(float(cell)):
        return "not_finite"
    return None


def cell_error(code: str, cell: str, row: int, column: str, j: int) -> DataError:
    where = f"row {row}, column “{column}”"
    messages = {
        "empty_cell": f"The cell at {where} is empty; every cell needs a value.",
        "missing_value": f"The cell at {where} is a missing value (“{cell}”); "
        "fill it in or remove the row.",
        "not_finite": f"The cell at {where} is not a finite number (“{cell}”).",
        "not_numeric": f"The cell at {where} is not a number (“{_clip(cell)}”); "
        "feature columns must be numeric (use a dot as the decimal separator).",
    }
    return DataError(messages[code], code, row=row, column=column, column_index=j)


def _clip(s: str, n: int = 40) -> str:
    return s if len(s) <= n else s[: n - 1] + "…"
