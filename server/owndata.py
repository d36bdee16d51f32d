"""Own data: uploaded CSV texts, kept per session by content hash, and the configs that
use them (``data.name`` "csv", ``data.csv`` the hash)."""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from bpviz.core.data import datasets
from bpviz.core.experiment import config as core_config
from bpviz.core.experiment.experiment import Experiment

MAX_CSVS = 4  # CSV texts a session keeps (the oldest is dropped)
MAX_ROWS = int(core_config.LIMITS["max_samples"])
MAX_COLS = 64


@dataclass(frozen=True)
class CsvFile:
    """One uploaded CSV: ``hash`` (first 16 hex digits of the SHA-256 of the UTF-8 text),
    the file's ``name`` and its ``text``."""

    hash: str
    name: str
    text: str

    def to_dict(self) -> dict[str, str]:
        return {"hash": self.hash, "name": self.name, "text": self.text}


def csv_hash(text: str) -> str:
    """The content hash the config names a CSV by."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def max_bytes(max_upload_bytes: int) -> int:
    """The largest CSV text: the upload limit less room for the message's JSON escaping
    (a newline travels as two characters)."""
    return max_upload_bytes * 15 // 16


def limits(max_bytes: int) -> dict[str, int]:
    """What an uploaded CSV may be."""
    return {"max_bytes": max_bytes, "max_rows": MAX_ROWS, "max_cols": MAX_COLS}


class CsvStore:
    """The CSV texts of one session, by hash (at most ``MAX_CSVS``, least recently used
    dropped first)."""

    def __init__(self, max_files: int = MAX_CSVS) -> None:
        self.max_files = max_files
        self._files: OrderedDict[str, CsvFile] = OrderedDict()

    def add(self, file: CsvFile) -> None:
        self._files[file.hash] = file
        self._files.move_to_end(file.hash)
        while len(self._files) > self.max_files:
            self._files.popitem(last=False)

    def get(self, key: str) -> CsvFile | None:
        file = self._files.get(key)
        if file is not None:
            self._files.move_to_end(key)
        return file

    def __len__(self) -> int:
        return len(self._files)


def inspect(name: str, text: str, max_bytes: int) -> tuple[CsvFile, dict[str, Any]]:
    """Check an uploaded CSV and describe it (the ``csv_info`` message).

    Besides the file-level checks of :func:`datasets.inspect_csv`, the file is loaded
    once with the suggested target and task, so a bad cell or an unusable target is
    reported now, naming its row and column. The suggested target is the last column,
    or the one column that is not numeric (text class labels) if there is exactly one.

    Raises:
        datasets.DataError: what is wrong, where.
    """
    info = datasets.inspect_csv(text, max_bytes=max_bytes, max_rows=MAX_ROWS, max_cols=MAX_COLS)
    columns: list[str] = info["columns"]
    text_columns = [c for c in columns if c not in info["numeric_columns"]]
    target = text_columns[0] if len(text_columns) == 1 else columns[-1]
    ds = datasets.load_csv(
        text, target, "auto", max_bytes=max_bytes, max_rows=MAX_ROWS, max_cols=MAX_COLS
    )
    file = CsvFile(csv_hash(text), name, text)
    return file, {
        "type": "csv_info",
        "hash": file.hash,
        "name": name,
        "columns": columns,
        "n_rows": info["n_rows"],
        "numeric_columns": info["numeric_columns"],
        "suggested_target": target,
        "suggested_task": ds.task,
        "preview": info["preview"],
        "limits": limits(max_bytes),
    }


def _load(file: CsvFile, data: core_config.DataConfig, seed: int) -> datasets.Dataset:
    return datasets.load_csv(
        file.text,
        data.target or None,
        data.task,
        test_fraction=data.test_fraction,
        seed=seed,
        max_bytes=max(len(file.text.encode("utf-8", "surrogatepass")), 1),
        max_rows=MAX_ROWS,
        max_cols=MAX_COLS,
        name="csv",
    )


def build(obj: object, files: dict[str, CsvFile] | CsvStore) -> Experiment:
    """Validate a config and build its experiment; a CSV data set comes from ``files``.

    Raises:
        core_config.ConfigError: a bad config (code ``unknown_csv`` when the CSV's hash
            is not among ``files``).
        datasets.DataError: the CSV cannot serve this target/task.
    """
    loaded: dict[str, datasets.Dataset] = {}

    def data_shape(data: core_config.DataConfig) -> core_config.DatasetInfo | None:
        file = files.get(data.csv)
        if file is None:
            return None
        seed = obj.get("seed", 1) if isinstance(obj, dict) else 1
        ds = _load(file, data, seed if isinstance(seed, int) and not isinstance(seed, bool) else 1)
        loaded["ds"] = ds
        task: core_config.Task = ds.task
        return core_config.DatasetInfo(ds.n_features, ds.n_outputs, task, MAX_ROWS)

    config = core_config.validate(obj, data_shape)
    dataset = loaded.get("ds")
    if config.data.name == "csv":
        assert dataset is not None
        if dataset.extra.get("seed") != config.seed:  # the split uses the validated seed
            file = files.get(config.data.csv)
            assert file is not None
            dataset = _load(file, config.data, config.seed)
        return Experiment.from_config(config, dataset)
    return Experiment.from_config(config)
