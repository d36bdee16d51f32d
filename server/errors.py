"""How a refused command becomes the ``error`` message that answers it.

A command may be refused by what it would do (not by its shape, which
``protocol.invalid_message`` answers): a config or a CSV that does not fit, a run file
that does not import, a weight edit out of range, a :class:`CommandError` the server
raises (too much memory, too much work…). :func:`error_of` words each one with its
``code``, ``field`` and ``params`` (``docs/protocol.md`` lists the codes).
"""

from __future__ import annotations

from typing import Any

from bpviz.core.data.csv import DataError
from bpviz.core.engine.edits import ParamError
from bpviz.core.experiment.config import ConfigError
from bpviz.core.experiment.errors import FieldError
from bpviz.core.experiment.runs import RunError

from .messages import Error

__all__ = ["CommandError", "error_of"]


class CommandError(ValueError):
    """A command the server refuses (not a validator): answered by an ``error`` with
    ``code``, ``message``, ``field`` and ``params``."""

    code = "refused"

    def __init__(
        self, message: str, field: str | None = None, code: str | None = None, **params: Any
    ) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        if code is not None:
            self.code = code
        self.params: dict[str, Any] = params


def _error(code: str, message: str, field: str | None, **extra: Any) -> Error:
    fields = {"type": "error", "code": code, "message": message, "field": field}
    return Error.model_validate(fields | extra)


def error_of(exc: Exception, data_field: str | None = None) -> Error | None:
    """The ``error`` that answers a command refused by what it would do, with its
    ``params`` (``None`` for an exception that is a bug): a config's problems
    (``invalid_config``, every one in ``params.errors``; ``unknown_csv`` for a CSV the
    session does not hold), a CSV's (the loader's code, its ``row`` and ``column``;
    ``field`` ``data_field``, else the config key the file cannot serve), a run file's
    (``invalid_run``, ``params.problems``), and a :class:`CommandError` (``too_much_memory``…)."""
    if isinstance(exc, ConfigError):
        unknown = [e for e in exc.errors if e.code == "unknown_csv"]
        if unknown:
            first: FieldError = unknown[0]
            return _error(first.code, first.message, first.field, params=first.params)
        message = "; ".join(f"{e.field}: {e.message}" for e in exc.errors)
        field = exc.errors[0].field if exc.errors else None
        params = {"errors": [e.to_dict() for e in exc.errors]}
        return _error("invalid_config", message, field, params=params)
    if isinstance(exc, DataError):
        field = data_field
        if field is None:  # the configured CSV cannot serve this target or task
            field = "data.task" if exc.code in ("not_binary", "bad_task") else "data.target"
            if exc.column is None and exc.row is not None:
                field = "data.csv"
        # row and column always (null where the problem has none: a file too large)
        return _error(
            exc.code, exc.message, field, params=exc.params, row=exc.row, column=exc.column
        )
    if isinstance(exc, RunError):
        params = {**exc.params, "problems": [p.to_dict() for p in exc.problems]}
        return _error("invalid_run", str(exc), exc.field, params=params)
    if isinstance(exc, CommandError | ParamError):
        return _error(exc.code, exc.message, exc.field, params=exc.params)
    return None
