"""How an imported run is refused: :class:`RunError` and the reasons it gives.

Every refusal of a run file (``runs.py``; a config itself is refused by a
:class:`~.config.ConfigError`) is a :class:`RunError` (``invalid_run`` on the websocket)
naming the field, with ``params`` (``reason`` says which check refused it:
:data:`RUN_REASONS`) and every problem as a :class:`~.errors.FieldError` with its own
code and params.
"""

from __future__ import annotations

from typing import Any

from .errors import FieldError

__all__ = ["RUN_REASONS", "RunError", "reasons_table"]


RUN_REASONS: dict[str, str] = {
    "format": "the file does not have the run format (the problems say where and why)",
    "array": "a packed array is not base64 of an array of its dtype and shape",
    "hash": "the CSV's text does not match its hash",
    "rng": "a random generator's state is not JSON",
    "data": "the CSV it carries is refused by the loader (the problem has its code)",
    "mismatch": (
        "weights, state, BatchNorm statistics or history do not fit its network or its steps"
    ),
}
"""What ``RunError.params["reason"]`` (and an ``invalid_run`` problem's) may be."""


def reasons_table() -> str:
    """The table of :data:`RUN_REASONS` in docs/config.md."""
    lines = ["| reason | when |", "|---|---|"]
    lines += [f"| `{reason}` | {when} |" for reason, when in RUN_REASONS.items()]
    return "\n".join(lines) + "\n"


class RunError(ValueError):
    """An imported run is malformed; ``field`` names where (``run.state.pos`` …), and
    ``problems`` lists every problem found (the first is ``field``'s), each a
    :class:`FieldError` with its code and params (``invalid_run`` with a ``reason`` for
    the checks of the run format, ``runs.py``; a config error's code for a value out of
    range; a loader's code for the CSV it carries).

    Attributes:
        code: ``"invalid_run"``.
        params: ``{"field", "reason"}`` (:data:`RUN_REASONS`) and, for a problem of
            the run format's checks, its ``detail``.
    """

    code = "invalid_run"

    def __init__(
        self,
        message: str,
        field: str | None = None,
        problems: list[FieldError] | None = None,
        reason: str = "format",
        **params: Any,
    ) -> None:
        super().__init__(message)
        self.field = field
        self.params: dict[str, Any] = {"field": field or "run", "reason": reason, **params}
        self.problems = problems or [
            FieldError(field or "run", message, "invalid_run", dict(self.params))
        ]

    @property
    def message(self) -> str:
        return str(self)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready ``{"code", "message", "field", "params", "problems": [FieldError
        dicts]}``, to send as it is."""
        return {
            "code": self.code,
            "message": str(self),
            "field": self.field,
            "params": dict(self.params),
            "problems": [p.to_dict() for p in self.problems],
        }


def refused(message: str, field: str, errors: list[FieldError]) -> RunError:
    """The RunError of the problems pydantic found; its reason is the first problem's
    when that is one of the run format's checks (``invalid_run``), else ``format``."""
    first = errors[0]
    reason = first.params.get("reason", "format") if first.code == "invalid_run" else "format"
    return RunError(message, field, errors, reason=reason, count=len(errors))
