"""The one path from a config to an experiment: load the data it names, check what only
the loaded data can tell, build.

A validated :class:`~.config.Config` already fits a built-in data set (its shape and
task are the registry's) and a typed table (its shape is in the config). An uploaded CSV
is known only once loaded: its task (for ``data.task`` "auto") picks the loss when the
config names none, and the loss, the parameter count, the input features (2 columns)
and given weights are checked against the real columns here, with the same field paths
as :func:`~.config.validate` gives. Input features (``data.features``) are applied to
the loaded data (:meth:`~bpviz.core.data.dataset.Dataset.with_features`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..data.builtin import make_dataset
from ..data.csv import CsvFile, load_csv
from ..data.dataset import Dataset
from ..data.table_data import make_table
from ..engine import registry
from .config import Config, ConfigError, FieldError, fit_problems
from .exercise import class_count, feature_problems
from .experiment import Experiment
from .limits import LIMITS
from .sections import TASK_LOSS

__all__ = ["MAX_CSV_COLS", "MAX_CSV_ROWS", "build", "load_data"]

MAX_CSV_ROWS = int(LIMITS["max_samples"])  # data rows of an uploaded CSV
MAX_CSV_COLS = 64  # columns of an uploaded CSV


def load_data(config: Config, csv: Mapping[str, CsvFile] | None = None) -> Dataset:
    """The data set ``config.data`` names, split with ``config.seed`` (a typed table is
    not split), with its input features; an uploaded CSV comes from ``csv`` (by its hash).

    Raises:
        ConfigError: code ``unknown_csv`` (field ``data.csv``) when ``csv`` lacks it;
            ``shape`` (``data.features``) for features of a CSV without 2 columns.
        DataError: the CSV cannot serve the configured target or task.
    """
    dataset = _load(config, csv)
    problems = feature_problems(config.data.features, dataset.n_features, dataset.name)
    if problems:
        raise ConfigError(
            [_field_error(("data", *loc), code, msg, params) for loc, code, msg, params in problems]
        )
    return dataset.with_features(config.data.features)


def _field_error(
    loc: tuple[str | int, ...], code: str, message: str, params: dict[str, Any]
) -> FieldError:
    return FieldError(".".join(str(p) for p in loc), message, code, params)


def _load(config: Config, csv: Mapping[str, CsvFile] | None) -> Dataset:
    data = config.data
    if data.name == "table":
        loss = config.network.loss
        n = class_count(data.y) if loss == "softmax_ce" else 2
        return make_table(data.x, data.y, registry.task_of(loss), n)
    if data.name != "csv":
        return make_dataset(
            data.name,
            samples=data.samples,
            noise=data.noise,
            test_fraction=data.test_fraction,
            seed=config.seed,
        )
    file = csv.get(data.csv) if csv is not None else None
    if file is None:
        message = f"no CSV with hash {data.csv!r} is loaded; send it first (csv_inspect)"
        raise ConfigError([FieldError("data.csv", message, "unknown_csv", {"hash": data.csv})])
    return load_csv(
        file.text,
        data.target or None,
        data.task,
        test_fraction=data.test_fraction,
        seed=config.seed,
        max_bytes=max(len(file.text.encode("utf-8", "surrogatepass")), 1),
        max_rows=MAX_CSV_ROWS,
        max_cols=MAX_CSV_COLS,
        name="csv",
    )


def fitted(config: Config, dataset: Dataset) -> Config:
    """``config`` checked against the loaded ``dataset``: a config that names no loss
    gets the one of the data's task; then the loss must fit that task and the network
    (with the data's real inputs and outputs) stay under the parameter limit.

    Raises:
        ConfigError: codes ``incompatible`` (``network.loss``) and
            ``too_many_parameters`` (``network.hidden``).
    """
    if "loss" not in config.network.model_fields_set:
        network = config.network.model_copy(update={"loss": TASK_LOSS[dataset.task]})
        config = config.model_copy(update={"network": network})
    problems = fit_problems(config, dataset.n_features, dataset.n_outputs, dataset.task)
    if problems:
        raise ConfigError(
            [_field_error(loc, code, msg, params) for loc, code, msg, params in problems]
        )
    return config


def build(config: Config, csv: Mapping[str, CsvFile] | None = None) -> Experiment:
    """The experiment of ``config``: its data loaded (an uploaded CSV from ``csv``, by
    hash), checked against the config (:func:`fitted`), and a fresh network.

    Raises:
        ConfigError: ``unknown_csv``, ``incompatible`` or ``too_many_parameters``, with
            their field paths.
        DataError: the CSV cannot serve the configured target or task.
    """
    dataset = load_data(config, csv)
    return Experiment(fitted(config, dataset), dataset)
