"""The websocket protocol: one pydantic model per message, a ``type`` discriminator.

The client → server messages are here, the server → client ones in
``bpviz.server.messages`` (importable from here too). ``docs/protocol.md`` is the prose;
the JSON Schema served at ``/api/schema`` is derived from these models, and a test
parses every example in the document with them.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, TypeAdapter, ValidationError

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
    Message,
    Metrics,
    NeuronCurve,
    Norms,
    Phase,
    PhaseAt,
    Pong,
    Quantized,
    RewindRange,
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
    "Configure",
    "Confusion",
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
    "Message",
    "Metrics",
    "NeuronCurve",
    "Norms",
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
    "ScalingPoint",
    "Seek",
    "ServerMessage",
    "SetTraining",
    "State",
    "Step",
    "StopReason",
    "Topology",
    "TopologyLayer",
    "Until",
    "client_adapter",
    "invalid_message",
    "schemas",
    "server_adapter",
]

PROTOCOL_VERSION = 1

StepUnit = Literal["phase", "forward", "backward", "update", "step", "epoch"]


# ---------------------------------------------------------------- client -> server


class Configure(Message):
    """Rebuild network and data from a config (see ``docs/config.md``); missing keys default."""

    type: Literal["configure"]
    config: dict[str, Any] = Field(default_factory=dict)


class Reset(Message):
    """Re-initialize the weights with the seed and clear the history."""

    type: Literal["reset"]


class SetTraining(Message):
    """Change hyper-parameters of the ``training`` section live, keeping the weights."""

    type: Literal["set"]
    training: dict[str, Any]


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
    """An uploaded CSV file: check it, keep it in the session by its hash, describe it."""

    type: Literal["csv_inspect"]
    name: str = Field(default="data.csv", max_length=200)
    text: str


class Seek(Message):
    """Show a recent step again (``step``), or the live end (``null``)."""

    type: Literal["seek"]
    step: int | None = Field(ge=0, le=10**12)


class Export(Message):
    """Ask for the whole run (config, weights, history) as one JSON object."""

    type: Literal["export"]


class Import(Message):
    """Restore a run produced by ``export`` or ``bpviz train``."""

    type: Literal["import"]
    run: dict[str, Any]


class Options(Message):
    """Session options: ``grids`` false stops decision-boundary grids (for views that
    draw none, like the lab)."""

    type: Literal["options"]
    grids: bool = True


class Ping(Message):
    """Round-trip probe; answered by ``pong`` with the same ``id``."""

    type: Literal["ping"]
    id: int | str | None = None


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
    | Export
    | Import
    | Options
    | Ping,
    Field(discriminator="type"),
]
client_adapter: TypeAdapter[ClientMessage] = TypeAdapter(ClientMessage)
MESSAGE_TYPES = ", ".join(client_adapter.json_schema()["discriminator"]["mapping"])


def invalid_message(exc: ValidationError) -> Error:
    """The ``error`` that answers a message which does not parse (nothing was done);
    ``field`` names the wrong field, ``null`` when the message as a whole is wrong."""
    err = exc.errors()[0]
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


def schemas() -> dict[str, Any]:
    """JSON Schemas of both directions."""
    return {
        "protocol": PROTOCOL_VERSION,
        "client": client_adapter.json_schema(),
        "server": server_adapter.json_schema(),
    }
