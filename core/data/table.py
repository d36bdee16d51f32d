"""A CSV text as a checked table: encoding, size, header, ragged rows and cell checks.

Every problem is a :class:`~.errors.DataError` with a stable ``code``, the 1-based
spreadsheet row (the header is row 1), the column name and the ``params`` its message
was made of, so the page can point at the bad cell in either language. Bytes are decoded
by :func:`~.encoding.decode_csv_bytes`. :mod:`.csv` turns the table into a
:class:`~.dataset.Dataset`.
"""

from __future__ import annotations

import csv
import io
import math
import re
from dataclasses import dataclass
from typing import Any

from .encoding import decode_csv_bytes
from .errors import DATA_ERROR_CODES, DataError, clip, plural

__all__ = [
    "DATA_ERROR_CODES",
    "DataError",
    "Table",
    "cell_error",
    "cell_problem",
    "column_kind",
    "read_table",
]

#: A column is numeric but for a few bad cells (typos) when at most this share of its
#: cells (at least one cell, never all) are not finite numbers.
TYPO_SHARE = 0.1
#: Bad cells :func:`column_kind` lists per column.
MAX_BAD_CELLS = 20


_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_MISSING = {"na", "n/a", "nan", "null", "none", "nil", "?", "-", "#n/a"}
_INFINITE = {"inf", "+inf", "-inf", "infinity", "+infinity", "-infinity"}


@dataclass
class Table:
    header: list[str]
    rows: list[list[str]]  # stripped cells, all of header length
    row_numbers: list[int]  # spreadsheet row of each entry of rows


def _too_large(size: int, max_bytes: int) -> DataError:
    return DataError(
        f"The file is {plural(size, 'byte')}; the limit is {plural(max_bytes, 'byte')}.",
        "too_large",
        params={"size": size, "max": max_bytes},
    )


def _decode(text: str | bytes, max_bytes: int) -> str:
    """The file's text: bytes decoded (:func:`decode_csv_bytes`), a BOM dropped; refused
    when too large or when it holds U+FFFD, the mark of bytes decoded with the wrong
    encoding before they got here."""
    if isinstance(text, bytes | bytearray):
        if len(text) > max_bytes:
            raise _too_large(len(text), max_bytes)
        content, encoding = decode_csv_bytes(bytes(text))
    else:
        size = len(text.encode("utf-8", "surrogatepass"))
        if size > max_bytes:
            raise _too_large(size, max_bytes)
        content, encoding = text.removeprefix("\ufeff"), None
    bad = content.find("\ufffd")
    if bad >= 0:
        row = content.count("\n", 0, bad) + 1
        raise DataError(
            f"Row {row} holds “\ufffd”, the mark of a character that could not be read: the "
            "file was decoded with the wrong encoding before it was sent. Save it from the "
            "spreadsheet as “CSV UTF-8”, or send the file's bytes.",
            "encoding",
            row=row,
            params={"reason": "replacement", "encoding": encoding},
        )
    return content


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
                    f"Row {row_no} has {plural(len(cells), 'field')}, but the header has "
                    f"{len(header)}.",
                    "ragged_row",
                    row=row_no,
                    params={"count": len(cells), "expected": len(header)},
                )
            if len(rows) >= max_rows:
                raise DataError(
                    f"The file has more than {plural(max_rows, 'data row')} (row {row_no} is "
                    "past the limit).",
                    "too_many_rows",
                    row=row_no,
                    params={"max": max_rows},
                )
            rows.append(cells)
            numbers.append(row_no)
    except csv.Error as exc:
        row = max(row_no + 1, 1)
        raise DataError(
            f"Row {row} could not be read as CSV: {exc}.",
            "bad_csv",
            row=row,
            params={"detail": str(exc)},
        ) from None
    if header is None:  # pragma: no cover - content.strip() was non-empty
        raise DataError("The file is empty.", "empty")
    if not rows:
        raise DataError(
            f"The file has a header row (row {header_row}) but no data rows.",
            "no_rows",
            row=header_row + 1,
            params={"header_row": header_row},
        )
    return Table(header, rows, numbers)


def _check_header(cells: list[str], row_no: int, max_cols: int) -> list[str]:
    if len(cells) > max_cols:
        raise DataError(
            f"The file has {plural(len(cells), 'column')}; the limit is {max_cols}.",
            "too_many_columns",
            row=row_no,
            params={"count": len(cells), "max": max_cols},
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
                params={"first_index": seen[name]},
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


def cell_error(
    code: str, cell: str, row: int, column: str, j: int, role: str = "feature"
) -> DataError:
    """The error of a cell that is not a finite number: ``code`` from :func:`cell_problem`,
    the cell's text, its row, column name and 1-based index ``j``. ``role``: ``"feature"``
    (features must be numeric), ``"target"`` (a regression target, or a target whose
    other cells are numbers: a typo)."""
    where = f"row {row}, column “{column}”"
    shown = clip(cell)
    if role == "feature":
        fix = "feature columns must be numeric (use a dot as the decimal separator)"
    else:
        fix = (
            "the other cells of this target column are numbers: correct the cell, or "
            "choose a classification task if the column holds class names"
        )
    messages = {
        "empty_cell": f"The cell at {where} is empty; every cell needs a value.",
        "missing_value": f"The cell at {where} is a missing value (“{shown}”); "
        "fill it in or remove the row.",
        "not_finite": f"The cell at {where} is not a finite number (“{shown}”).",
        "not_numeric": f"The cell at {where} is not a number (“{shown}”); {fix}.",
    }
    return DataError(
        messages[code],
        code,
        row=row,
        column=column,
        column_index=j,
        params={"value": clip(cell, 100), "role": role},
    )


def column_kind(cells: list[str], name: str, j: int, row_numbers: list[int]) -> dict[str, Any]:
    """How one column reads: ``{"name", "index" (1-based), "kind", "n_bad", "bad_cells"}``.

    ``kind`` is ``"numeric"`` (every cell a finite number), ``"mostly_numeric"`` (numbers
    but for at most ``TYPO_SHARE`` of the cells, at least one: typos, or missing values)
    or ``"text"``. ``n_bad`` counts the cells that are not finite numbers; for a mostly
    numeric column ``bad_cells`` lists the first ``MAX_BAD_CELLS`` of them as
    ``{"row", "column", "column_index", "value", "code"}`` (``code`` as in
    :func:`cell_problem`), else it is empty.
    """
    bad = [
        (row, cell, problem)
        for cell, row in zip(cells, row_numbers, strict=True)
        if (problem := cell_problem(cell)) is not None
    ]
    n = len(cells)
    if not bad:
        kind = "numeric"
    elif len(bad) < n and len(bad) <= max(1, int(TYPO_SHARE * n)):
        kind = "mostly_numeric"
    else:
        kind = "text"
    listed = bad[:MAX_BAD_CELLS] if kind == "mostly_numeric" else []
    return {
        "name": name,
        "index": j,
        "kind": kind,
        "n_bad": len(bad),
        "bad_cells": [
            {"row": row, "column": name, "column_index": j, "value": clip(cell, 100), "code": code}
            for row, cell, code in listed
        ],
    }
