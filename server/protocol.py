"""The websocket protocol: one pydantic model per message, a ``type`` discriminator.

The client → server messages are here, the server → client ones in
``bpviz.server.messages`` (importable from here too); a message that does not parse is
answered by :func:`invalid_message`, a command refused by what it would do by
``bpviz.server.errors`` (:func:`error_of`, :class:`CommandError`, importable from here
too). ``docs/protocol.md`` is the prose; the JSON Schema served at ``/api/schema`` is
derived from these models, and a test parses every example in the document with them.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, StrictInt, StrictStr, TypeAdapter, ValidationError, model_validator

from bpviz.core.experiment.config import Config, ConfigError, TrainingConfig, TrainingPatch
from bpviz.core.experiment.errors import field_errors
from bpviz.core.experiment.fields import Flag, Float, Int

from .errors import CommandError, error_of
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
    count: Int = Field(default=1, ge=1, le=1000)


class Until(Message):
    """When playing stops by itself: the train loss at or below ``loss``, and/or the step
    count reaching ``steps``."""

    loss: Float | None = Field(default=None, ge=0, le=1e6)
    steps: Int | None = Field(default=None, ge=1, le=100_000_000)


class Play(Message):
    """Train continuously. ``speed``: steps per second, or null for as fast as possible.
    ``fps``: frames per second the client wants at most. ``until``: a stop condition."""

    type: Literal["play"]
    speed: Float | None = Field(default=None, gt=0, le=1_000_000)
    fps: Int = Field(default=30, ge=1, le=60)
    until: Until | None = None


class Pause(Message):
    """Stop playing; the step in progress is finished first."""

    type: Literal["pause"]


class Focus(Message):
    """Which example of the batch the frames' per-neuron numbers show."""

    type: Literal["focus"]
    example: Int = Field(ge=0, le=100_000)


class Inspect(Message):
    """Ask for the incoming weights of one neuron (for layers too large to stream whole)."""

    type: Literal["inspect"]
    layer: Int = Field(ge=1, le=1000)
    neuron: Int = Field(ge=0, le=100_000)


class GradCheck(Message):
    """Compare backprop's gradient with central differences on the current batch."""

    type: Literal["gradcheck"]
    max_examples: Int = Field(default=32, ge=1, le=1024)


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
    step: Int | None = Field(ge=0, le=10**12)


class SetParam(Message):
    """Set one weight ``W[i, j]`` (``index`` ``[i, j]``: neuron ``i`` of layer ``layer``,
    unit ``j`` of the layer before) or bias ``b[i]`` (``index`` ``[i]``; β with
    BatchNorm) between two steps; answers ``frame`` and ``grid``. In the middle of a
    step: ``error`` ``mid_step``."""

    type: Literal["set_param"]
    # Any whole number: one that names no layer or no entry (0, -1, 10**30) is the
    # engine's `bad_param` naming the field, as docs/protocol.md says, not a bad message.
    layer: Int
    param: Literal["W", "b"]
    index: list[Int] = Field(min_length=1, max_length=2)
    value: Float


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
    grids: Flag = True
    exact: Flag = False
    frames: Literal["json", "binary"] = "json"


class Ping(Message):
    """Round-trip probe; answered by ``pong`` with the same ``id``."""

    type: Literal["ping"]
    # strict: the same id back (lax, `true` came back as 1 and "7" could come back as 7)
    id: StrictInt | StrictStr | None = None


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


_UNION_MEMBERS = frozenset({"int", "str", "float", "bool", "none", "list", "dict"})


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
        if ours:  # the message itself is wrong too (a key too many): that is what to mend
            errors = [e for e in errors if e not in ours]
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
        # Drop the discriminator tag pydantic puts first (e.g. "step"), and the names of a
        # union's members it puts after a field ("id.int", "x.function-after[…]").
        parts = [p for p in loc[1:] if p not in _UNION_MEMBERS and "[" not in p]
        field = ".".join(parts) if len(loc) > 1 else None  # only the tag: the message
        message = f"{field}: {err['msg']}" if field else err["msg"]
    return Error(type="error", code=code, message=message, field=field)


def schemas() -> dict[str, Any]:
    """JSON Schemas of both directions."""
    return {
        "protocol": PROTOCOL_VERSION,
        "client": client_adapter.json_schema(),
        "server": server_adapter.json_schema(),
    }
