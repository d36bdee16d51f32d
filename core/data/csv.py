"""The user's own data: an uploaded CSV, checked and turned into a :class:`Dataset`.

``inspect_csv`` describes a file for the page's target/task pickers (with each column's
kind, and the bad cells of a numeric column with a typo); ``load_csv`` turns it into a
``Dataset`` or raises :class:`DataError` with a stable ``code``, the 1-based spreadsheet
row (the header is row 1), the column name and ``params`` (see :mod:`.errors`). Both
take the text, or the file's bytes (decoded by :func:`~.encoding.decode_csv_bytes`). A
config names an uploaded file by its content hash (:func:`csv_hash`); the server keeps
the texts as :class:`CsvFile` records.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

import numpy as np

from .dataset import Dataset, FloatArray, IntArray, Task, assemble, mean_std, n_test
from .encoding import decode_csv_bytes
from .errors import plural
from .table import (
    DATA_ERROR_CODES,
    DataError,
    cell_error,
    cell_problem,
    column_kind,
    read_table,
)

__all__ = [
    "DATA_ERROR_CODES",
    "CsvFile",
    "DataError",
    "csv_hash",
    "decode_csv_bytes",
    "inspect_csv",
    "load_csv",
]

#: A target with at most this many distinct integer values (or text labels) is a class label.
MAX_CLASSES = 20
#: A CSV needs at least this many data rows.
MIN_ROWS = 4
#: The tasks ``load_csv`` accepts (a config's ``data.task`` is one of the first four).
TASKS = ("auto", "binary", "multiclass", "regression", "classification")


@dataclass(frozen=True)
class CsvFile:
    """One uploaded CSV: ``hash`` (:func:`csv_hash` of the text), the file's ``name`` and
    its ``text``."""

    hash: str
    name: str
    text: str

    def to_dict(self) -> dict[str, str]:
        return {"hash": self.hash, "name": self.name, "text": self.text}


def csv_hash(text: str) -> str:
    """The content hash a config names a CSV by: the first 16 hex digits of the SHA-256 of
    its UTF-8 text."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def _is_integer_valued(values: FloatArray) -> bool:
    return bool(np.all(np.abs(values) < 2**53) and np.all(values == np.round(values)))


def _is_text(cells: Sequence[str]) -> bool:
    """True for a column of text (labels); False for numbers, with a few typos or not."""
    kind: str = column_kind(list(cells), "", 0, list(range(len(cells))))["kind"]
    return kind == "text"


def _detect_task(cells: Sequence[str]) -> Task:
    """The ``task="auto"`` rule for a target column's cells.

    Text labels → classification. Numbers (a column with a few non-numeric cells, typos,
    counts as numbers) → classification when they are all integers with at most two
    distinct values, or at most ``MAX_CLASSES`` with at least two rows per value on
    average (so five rows of five different integer prices stay a regression);
    otherwise regression. Classification with ≤ 2 classes is binary.
    """
    present = [c for c in cells if cell_problem(c) not in ("empty_cell", "missing_value")]
    if _is_text(cells):
        distinct = len(set(present))
        return "binary" if distinct <= 2 else "multiclass"
    values = np.array([float(c) for c in present if cell_problem(c) is None], dtype=np.float64)
    n_distinct = np.unique(values).shape[0]
    few = n_distinct <= 2 or n_distinct <= min(MAX_CLASSES, values.shape[0] / 2)
    if few and _is_integer_valued(values):
        return "binary" if n_distinct <= 2 else "multiclass"
    return "regression"


def inspect_csv(
    text: str | bytes,
    max_bytes: int = 1_048_576,
    max_rows: int = 10_000,
    max_cols: int = 64,
) -> dict[str, Any]:
    """Look at a CSV before loading it, to fill the page's target/task pickers.

    Returns ``{"columns": [names], "n_rows": int, "numeric_columns": [names whose
    cells are all finite numbers], "column_kinds": [one :func:`~.table.column_kind`
    per column: its ``kind`` "numeric", "mostly_numeric" (a few bad cells, listed in
    ``bad_cells`` with row, column and value) or "text"], "suggested_target": the one
    text column if there is exactly one, else the last column, "suggested_task":
    "binary" | "multiclass" | "regression" (what ``task="auto"`` gives for it),
    "preview": first 5 data rows as strings}``. A column that is numeric but for a typo
    is never suggested as the target: loading the file names the bad cell.

    Raises:
        DataError: for problems of the file as a whole (encoding, size, header,
            ragged rows); cell-level problems are left to :func:`load_csv`.
    """
    table = read_table(text, max_bytes, max_rows, max_cols)
    columns = table.header
    kinds = [
        column_kind([row[j] for row in table.rows], name, j + 1, table.row_numbers)
        for j, name in enumerate(columns)
    ]
    text_columns = [k["name"] for k in kinds if k["kind"] == "text"]
    target = text_columns[0] if len(text_columns) == 1 else columns[-1]
    t_col = columns.index(target)
    return {
        "columns": list(columns),
        "n_rows": len(table.rows),
        "numeric_columns": [k["name"] for k in kinds if k["kind"] == "numeric"],
        "column_kinds": kinds,
        "suggested_target": target,
        "suggested_task": _detect_task([row[t_col] for row in table.rows]),
        "preview": [list(row) for row in table.rows[:5]],
    }


def load_csv(
    text: str | bytes,
    target: str | None = None,
    task: str = "auto",
    test_fraction: float = 0.3,
    seed: int = 1,
    max_bytes: int = 1_048_576,
    max_rows: int = 10_000,
    max_cols: int = 64,
    name: str = "csv",
) -> Dataset:
    """Turn an uploaded CSV into a :class:`Dataset`.

    The first non-blank row is the header. ``target`` names the column to predict
    (default: the last column); every other column is a numeric feature. ``task``
    is ``"auto"`` (text labels, or at most ``MAX_CLASSES`` distinct integers that
    repeat, make a classification — binary for two classes — else regression), ``"binary"``,
    ``"multiclass"``, ``"classification"`` (binary or multiclass by class count) or
    ``"regression"``. With ``"auto"``, a target column that is numeric but for a few
    cells is taken as numbers, and its first non-numeric cell is refused (a typo), not
    read as a class name. Classes are sorted (numerically, or as text); for a binary
    task the second one is the positive class (``Y = 1``).

    The rows are shuffled with ``seed`` and split by ``test_fraction``; features
    (and a regression target) are standardized with the training rows' mean and
    std, kept in the Dataset so values can be shown in original units. Blank lines
    are skipped; a BOM, CRLF line ends and quoted fields are fine; bytes are decoded by
    :func:`~.encoding.decode_csv_bytes`.

    Returns:
        A Dataset with ``X_train (n_train, n_columns - 1)``.

    Raises:
        DataError: with ``code``, ``row`` (1-based, header = row 1) and ``column``;
            see :data:`DATA_ERROR_CODES`.
    """
    if task not in TASKS:
        raise DataError(
            f"Unknown task “{task}”; use one of {', '.join(TASKS)}.",
            "bad_task",
            column=target,
            params={"task": task, "allowed": list(TASKS)},
        )
    table = read_table(text, max_bytes, max_rows, max_cols)
    header, rows, row_numbers = table.header, table.rows, table.row_numbers
    if len(rows) < MIN_ROWS:
        raise DataError(
            f"The file has {plural(len(rows), 'data row')}; at least {MIN_ROWS} are needed.",
            "too_few_rows",
            row=row_numbers[-1],
            params={"count": len(rows), "min": MIN_ROWS},
        )
    target_name = header[-1] if target is None else target.strip()
    if target_name not in header:
        raise DataError(
            f"There is no column named “{target_name}”; the columns are {', '.join(header)}.",
            "unknown_target",
            column=target_name,
            params={"columns": list(header)},
        )
    t_col = header.index(target_name)
    if len(header) < 2:
        raise DataError(
            f"The file has only the target column “{target_name}”; at least one feature "
            "column is needed.",
            "no_features",
            column=target_name,
            column_index=t_col + 1,
        )
    f_cols = [j for j in range(len(header)) if j != t_col]

    # Cell checks in reading order, so the first bad cell is the one reported.
    target_cells = [row[t_col] for row in rows]
    # With task "auto", text in a numeric target is a typo, not a class name.
    typo_is_error = task == "auto" and not _is_text(target_cells)
    chosen: Task
    if task == "auto":
        chosen = _detect_task(target_cells)
    elif task == "classification":
        chosen = "binary" if len(set(target_cells)) <= 2 else "multiclass"
    else:
        chosen = cast(Task, task)
    X = np.empty((len(rows), len(f_cols)), dtype=np.float64)
    for i, (row, row_no) in enumerate(zip(rows, row_numbers, strict=True)):
        for j, cell in enumerate(row):
            problem = cell_problem(cell)
            if j == t_col:
                if problem in ("empty_cell", "missing_value", "not_finite") or (
                    problem is not None and (chosen == "regression" or typo_is_error)
                ):
                    raise cell_error(problem, cell, row_no, header[j], j + 1, "target")
                continue
            if problem is not None:
                raise cell_error(problem, cell, row_no, header[j], j + 1)
        X[i] = [float(row[j]) for j in f_cols]

    order = np.random.default_rng(seed).permutation(len(rows))
    k = n_test(len(rows), test_fraction)
    test_idx, train_idx = order[:k], order[k:]
    X_tr, X_te = X[train_idx], X[test_idx]
    f_mean, f_std = mean_std(X_tr)
    common: dict[str, Any] = {
        "feature_names": tuple(header[j] for j in f_cols),
        "feature_mean": f_mean,
        "feature_std": f_std,
        "description": f"Uploaded CSV: {plural(len(rows), 'row')}, target “{target_name}”.",
    }
    X_tr_net, X_te_net = (X_tr - f_mean) / f_std, (X_te - f_mean) / f_std

    if chosen == "regression":
        y = np.array([float(c) for c in target_cells], dtype=np.float64)[:, None]
        if np.ptp(y) == 0:
            raise DataError(
                f"The target column “{target_name}” has the same value in every row; "
                "there is nothing to learn.",
                "constant_target",
                column=target_name,
                column_index=t_col + 1,
                params={"value": float(y[0, 0])},
            )
        y_tr, y_te = y[train_idx], y[test_idx]
        t_mean, t_std = mean_std(y_tr)
        return assemble(
            name,
            "regression",
            X_tr_net,
            X_te_net,
            (y_tr - t_mean) / t_std,
            (y_te - t_mean) / t_std,
            t_mean,
            t_std,
            class_names=(target_name,),
            **common,
        )

    class_names, labels = _classes(target_cells)
    n_classes = len(class_names)
    if n_classes < 2:
        raise DataError(
            f"The target column “{target_name}” has only one class (“{class_names[0]}”); "
            "classification needs at least two.",
            "one_class",
            column=target_name,
            column_index=t_col + 1,
            params={"class": class_names[0]},
        )
    if n_classes > MAX_CLASSES:
        raise DataError(
            f"The target column “{target_name}” has {plural(n_classes, 'class', 'classes')}; "
            f"the limit is {MAX_CLASSES}. For a numeric target choose the task “regression”.",
            "too_many_classes",
            column=target_name,
            column_index=t_col + 1,
            params={"count": n_classes, "max": MAX_CLASSES},
        )
    if chosen == "binary" and n_classes != 2:
        raise DataError(
            f"The task is binary, but the target column “{target_name}” has "
            f"{plural(n_classes, 'class', 'classes')}; choose “multiclass”.",
            "not_binary",
            column=target_name,
            column_index=t_col + 1,
            params={"count": n_classes},
        )
    return assemble(
        name,
        chosen,
        X_tr_net,
        X_te_net,
        labels[train_idx],
        labels[test_idx],
        None,
        None,
        class_names=class_names,
        **common,
    )


def _classes(cells: Sequence[str]) -> tuple[tuple[str, ...], IntArray]:
    """Sorted class names and each cell's class index ``(n,)``.

    Numeric labels sort by value (``"2" < "10"``) and are named without a trailing
    ``.0``; any text label makes all labels text, sorted as strings.
    """
    if all(cell_problem(c) is None for c in cells):
        values = np.array([float(c) for c in cells], dtype=np.float64)
        distinct, labels = np.unique(values, return_inverse=True)
        names = tuple(str(int(v)) if v == round(v) else f"{v:g}" for v in distinct.tolist())
        return names, labels.astype(np.int64)
    text_names = sorted(set(cells))
    index = {c: i for i, c in enumerate(text_names)}
    return tuple(text_names), np.array([index[c] for c in cells], dtype=np.int64)
