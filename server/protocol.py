"""The websocket protocol: one pydantic model per message, a ``type`` discriminator.

The client → server messages are here, the server → client ones in
``bpviz.server.messages`` (importable from here too). ``docs/protocol.md`` is the prose;
the JSON Schema served at ``/api/schema`` is derived from these models, and a test
parses every example in the document with them.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, TypeAdapter, ValidationError, model_validator

from bpviz.core.data.csv import DataError
from bpviz.core.engine.edits import ParamError
from bpviz.core.experiment.config import Config, ConfigError, TrainingConfig, TrainingPatch
from bpviz.core.experiment.errors import FieldError, field_errors
from bpviz.core.experiment.runs import RunError

from .messages import (
    Confusion,
    CsvInfo,
    Curve,
    Error,
    Exported,
    FprimeHistogram,
    Frame,
    FrameLayer,
    GradCheckResult,
    GradCheckScalingResult,
    Grid,
    Hello,
    HistoryIncrement,
    Hyper,
    Inspected,
    JobProgress,
    Message,
    Metrics,
    NeuronCurve,
    Norms,
    Notice,
    Phase,
    PhaseAt,
    Pong,
    Quantized,
    RewindRange,
    Room,
    ScalingPoint,
    ServerMessage,
    State,
    StopReason,
    Topology,
    TopologyLayer,
    server_adapter,
)

__all__ = [
    "PROTOCOL_VERSION",
    "ClientMessage",
    "CommandError",
    "Configure",
    "Confusion",
    "Copy",
    "CsvInfo",
    "CsvInspect",
    "Curve",
    "Error",
    "Export",
    "Exported",
    "Focus",
    "FprimeHistogram",
    "Frame",
    "FrameLayer",
    "GradCheck",
    "GradCheckResult",
    "GradCheckScaling",
    "GradCheckScalingResult",
    "Grid",
    "Hello",
    "HistoryIncrement",
    "Hyper",
    "Import",
    "Inspect",
    "Inspected",
    "JobProgress",
    "Message",
    "Metrics",
    "NeuronCurve",
    "Norms",
    "Notice",
    "Options",
    "Pause",
    "Phase",
    "PhaseAt",
    "Ping",
    "Play",
    "Pong",
    "Quantized",
    "Reset",
    "RewindRange",
    "Room",
    "RoomClose",
    "RoomJoin",
    "RoomLeave",
    "RoomOpen",
    "ScalingPoint",
    "Seek",
    "ServerMessage",
    "SetParam",
    "SetTraining",
    "State",
    "Step",
    "StopReason",
    "Topology",
    "TopologyLayer",
    "Until",
    "client_adapter",
    "error_of",
    "invalid_message",
    "schemas",
    "server_adapter",
]

PROTOCOL_VERSION = 2  # 2: binary frames (options frames), hello pid; 1 still works

StepUnit = Literal["phase", "forward", "backward", "update", "step", "epoch"]


# ---------------------------------------------------------------- client -> server


class Configure(Message):
    """Rebuild network and data from a config (see ``docs/config.md``); missing keys default."""

    type: Literal["configure"]
    config: Config = Field(default_factory=Config)


class Reset(Message):
    """Re-initialize the weights with the seed and clear the history."""

    type: Literal["reset"]


class SetTraining(Message):
    """Change hyper-parameters of the ``training`` section live, keeping the weights."""

    type: Literal["set"]
    training: TrainingPatch


class Step(Message):
    """Advance by ``count`` units: one phase, the rest of the forward or backward pass,
    the update, a full step or an epoch."""

    type: Literal["step"]
    unit: StepUnit = "phase"
    count: int = Field(default=1, ge=1, le=1000)


class Until(Message):
    """When playing stops by itself: the train loss at or below ``loss``, and/or the step
    count reaching ``steps``."""

    loss: float | None = Field(default=None, ge=0, le=1e6, allow_inf_nan=False)
    steps: int | None = Field(default=None, ge=1, le=100_000_000)


class Play(Message):
    """Train continuously. ``speed``: steps per second, or null for as fast as possible.
    ``fps``: frames per second the client wants at most. ``until``: a stop condition."""

    type: Literal["play"]
    speed: float | None = Field(default=None, gt=0, le=1_000_000, allow_inf_nan=False)
    fps: int = Field(default=30, ge=1, le=60)
    until: Until | None = None


class Pause(Message):
    """Stop playing; the step in progress is finished first."""

    type: Literal["pause"]


class Focus(Message):
    """Which example of the batch the frames' per-neuron numbers show."""

    type: Literal["focus"]
    example: int = Field(ge=0, le=100_000)


class Inspect(Message):
    """Ask for the incoming weights of one neuron (for layers too large to stream whole)."""

    type: Literal["inspect"]
    layer: int = Field(ge=1, le=1000)
    neuron: int = Field(ge=0, le=100_000)


class GradCheck(Message):
    """Compare backprop's gradient with central differences on the current batch."""

    type: Literal["gradcheck"]
    max_examples: int = Field(default=32, ge=1, le=1024)


class GradCheckScaling(Message):
    """Time backprop against finite differences for networks of several sizes."""

    type: Literal["gradcheck_scaling"]


class CsvInspect(Message):
    """An uploaded CSV file: check it, keep it in the session by its hash, describe it.
    The file comes as ``data`` (its bytes, base64: the server detects the encoding) or
    as ``text`` (already decoded by the client), one of the two."""

    type: Literal["csv_inspect"]
    name: str = Field(default="data.csv", max_length=200)
    text: str | None = None
    data: str | None = None

    @model_validator(mode="after")
    def _one_of(self) -> CsvInspect:
        if (self.text is None) == (self.data is None):
            raise ValueError("send the file as data (base64 of its bytes) or as text")
        return self


class Seek(Message):
    """Show a recent step again (``step``), or the live end (``null``)."""

    type: Literal["seek"]
    step: int | None = Field(ge=0, le=10**12)


class SetParam(Message):
    """Set one weight ``W[i, j]`` (``index`` ``[i, j]``: neuron ``i`` of layer ``layer``,
    unit ``j`` of the layer before) or bias ``b[i]`` (``index`` ``[i]``; β with
    BatchNorm) between two steps; answers ``frame`` and ``grid``. In the middle of a
    step: ``error`` ``mid_step``."""

    type: Literal["set_param"]
    layer: int = Field(ge=1, le=1000)
    param: Literal["W", "b"]
    index: list[Annotated[int, Field(ge=0, le=100_000)]] = Field(min_length=1, max_length=2)
    value: float = Field(allow_inf_nan=False)


class Export(Message):
    """Ask for the whole run (config, weights, history) as one JSON object."""

    type: Literal["export"]


class Import(Message):
    """Restore a run produced by ``export`` or ``bpviz train``."""

    type: Literal["import"]
    run: dict[str, Any]


class Options(Message):
    """Session options: ``grids`` false stops decision-boundary grids (for views that
    draw none, like the lab); ``exact`` true sends every number of a ``frame`` exactly
    (17 digits) instead of 6 significant ones (a hand-computed exercise); ``frames``
    ``"binary"`` sends frames and grids as binary messages (``docs/protocol.md``, Binary
    frames), ``"json"`` as JSON text. A message sets the options it names (one that
    names none sets them all to their defaults)."""

    type: Literal["options"]
    grids: bool = True
    exact: bool = False
    frames: Literal["json", "binary"] = "json"


class Ping(Message):
    """Round-trip probe; answered by ``pong`` with the same ``id``."""

    type: Literal["ping"]
    id: int | str | None = None


class RoomOpen(Message):
    """Open a classroom room on this session's run: answers ``room`` (role ``owner``)."""

    type: Literal["room_open"]


class RoomJoin(Message):
    """Follow room ``code`` (what a person typed: case, spaces and dashes do not matter):
    answers ``room`` (role ``follower``), then the owner's ``topology``, ``frame``, ``grid``."""

    type: Literal["room_join"]
    code: str = Field(max_length=64)


class RoomLeave(Message):
    """Stop following: back to this session's own run (or a fresh one)."""

    type: Literal["room_leave"]


class RoomClose(Message):
    """End the room this session owns: every follower gets ``room`` with ``closed``."""

    type: Literal["room_close"]


class Copy(Message):
    """A follower takes the owner's run as its own, from its exact current state."""

    type: Literal["copy"]


ClientMessage = Annotated[
    Configure
    | Reset
    | SetTraining
    | Step
    | Play
    | Pause
    | Focus
    | Inspect
    | GradCheck
    | GradCheckScaling
    | CsvInspect
    | Seek
    | SetParam
    | Export
    | Import
    | Options
    | Ping
    | RoomOpen
    | RoomJoin
    | RoomLeave
    | RoomClose
    | Copy,
    Field(discriminator="type"),
]
client_adapter: TypeAdapter[ClientMessage] = TypeAdapter(ClientMessage)
MESSAGE_TYPES = ", ".join(client_adapter.json_schema()["discriminator"]["mapping"])


def invalid_message(exc: ValidationError) -> Error:
    """The ``error`` that answers a message which does not parse (nothing was done);
    ``field`` names the wrong field, ``null`` when the message as a whole is wrong. A
    config (``configure``) or training change (``set``) that does not validate is
    ``invalid_config``, every problem in ``params.errors`` with the config's own paths
    (``network.hidden.0.units``, ``training.learning_rate``)."""
    errors = exc.errors()
    for tag, key, prefix, model in (
        ("configure", "config", "", Config),
        ("set", "training", "training", TrainingConfig),
    ):
        ours = [e for e in errors if tuple(e["loc"][:2]) == (tag, key) and len(e["loc"]) > 2]
        if ours and len(ours) == len(errors):
            problem = ConfigError(field_errors(exc, prefix, model, skip=2))
            out = error_of(problem)
            assert out is not None
            return out
    err = errors[0]
    loc = [str(p) for p in err["loc"]]
    code, field = "bad_message", None
    if err["type"] in ("json_invalid", "json_type"):
        code, message = "bad_json", f"not valid JSON: {err['msg']}"
    elif err["type"] in ("union_tag_invalid", "union_tag_not_found"):
        message = f"unknown or missing message type; expected one of: {MESSAGE_TYPES}"
        field = "type"
    elif not loc:
        message = 'a message must be a JSON object with a "type"'
    else:
        # Drop the discriminator tag pydantic puts first (e.g. "step").
        field = ".".join(loc[1:]) if len(loc) > 1 else loc[0]
        message = f"{field}: {err['msg']}" if field else err["msg"]
    return Error(type="error", code=code, message=message, field=field)


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
        where = {}
        if exc.row is not None or exc.column is not None:
            where = {"row": exc.row, "column": exc.column}
        return _error(exc.code, exc.message, field, params=exc.params, **where)
    if isinstance(exc, RunError):
        params = {**exc.params, "problems": [p.to_dict() for p in exc.problems]}
        return _error("invalid_run", str(exc), exc.field, params=params)
    if isinstance(exc, CommandError | ParamError):
        return _error(exc.code, exc.message, exc.field, params=exc.params)
    return None


def schemas() -> dict[str, Any]:
    """JSON Schemas of both directions."""
    return {
        "protocol": PROTOCOL_VERSION,
        "client": client_adapter.json_schema(),
        "server": server_adapter.json_schema(),
    }
