"""Own data on the server: the uploaded CSV texts a session keeps by content hash, and the
``csv_info`` answer to a ``csv_inspect`` (the file's bytes, or its text). A config uses a
kept CSV with ``data.name`` "csv" and ``data.csv`` its hash; ``build.build`` loads it from
the session's store."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator, Mapping
from typing import Any

from bpviz.core.data.csv import CsvFile, csv_hash, inspect_csv, load_csv
from bpviz.core.data.encoding import decode_csv_bytes
from bpviz.core.experiment import build as core_build

__all__ = ["MAX_COLS", "MAX_CSVS", "MAX_ROWS", "CsvFile", "CsvStore", "csv_hash", "inspect"]

MAX_CSVS = 4  # CSV texts a session keeps (the least recently used is dropped)
MAX_ROWS = core_build.MAX_CSV_ROWS
MAX_COLS = core_build.MAX_CSV_COLS


def max_bytes(max_upload_bytes: int) -> int:
    """The largest CSV text: the upload limit less room for the message's JSON escaping
    (a newline travels as two characters)."""
    return max_upload_bytes * 15 // 16


def limits(max_bytes: int) -> dict[str, int]:
    """What an uploaded CSV may be."""
    return {"max_bytes": max_bytes, "max_rows": MAX_ROWS, "max_cols": MAX_COLS}


class CsvStore(Mapping[str, CsvFile]):
    """The CSV texts of one session, by hash (at most ``max_files``, the least recently
    used dropped first; reading one counts as a use)."""

    def __init__(self, max_files: int = MAX_CSVS) -> None:
        self.max_files = max_files
        self._files: OrderedDict[str, CsvFile] = OrderedDict()

    def add(self, file: CsvFile) -> None:
        self._files[file.hash] = file
        self._files.move_to_end(file.hash)
        while len(self._files) > self.max_files:
            self._files.popitem(last=False)

    def __getitem__(self, key: str) -> CsvFile:
        file = self._files[key]
        self._files.move_to_end(key)
        return file

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._files))

    def __len__(self) -> int:
        return len(self._files)


def inspect(name: str, data: str | bytes, max_bytes: int) -> tuple[CsvFile, dict[str, Any]]:
    """Check an uploaded CSV and describe it (the ``csv_info`` message).

    ``data`` is the file's bytes (its encoding detected: ``decode_csv_bytes``) or its
    text. Besides the file-level checks of :func:`inspect_csv`, the file is loaded once
    with the suggested target and task, so a bad cell or an unusable target is reported
    now, naming its row and column. The suggested target is :func:`inspect_csv`'s: the
    one text column if there is exactly one, else the last column.

    Raises:
        DataError: what is wrong, where.
    """
    encoding = None
    text: str | bytes = data
    limit = max_bytes
    if isinstance(data, bytes) and len(data) <= max_bytes:  # (too large: refused below)
        text, encoding = decode_csv_bytes(data)
        limit = 2 * max_bytes  # the bytes fit; their text in UTF-8 may take more (GBK)
    info = inspect_csv(text, max_bytes=limit, max_rows=MAX_ROWS, max_cols=MAX_COLS)
    assert isinstance(text, str)
    target = info["suggested_target"]
    ds = load_csv(text, target, "auto", max_bytes=limit, max_rows=MAX_ROWS, max_cols=MAX_COLS)
    file = CsvFile(csv_hash(text), name, text)
    return file, {
        "type": "csv_info",
        "hash": file.hash,
        "name": name,
        "columns": info["columns"],
        "n_rows": info["n_rows"],
        "numeric_columns": info["numeric_columns"],
        "suggested_target": target,
        "suggested_task": ds.task,
        "preview": info["preview"],
        "limits": limits(max_bytes),
        "encoding": encoding,
        "column_kinds": info["column_kinds"],
    }
