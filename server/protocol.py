"""The websocket protocol: one pydantic model per message, a ``type`` discriminator.

``docs/protocol.md`` is the prose; the JSON Schema served at ``/api/schema`` is derived
from these models, and a test parses every example in the document with them.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

PROTOCOL_VERSION = 1

StepUnit = Literal["phase", "forward", "backward", "update", "step", "epoch"]


class _Message(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=False)


# ---------------------------------------------------------------- client -> server


class Configure(_Message):
    """Rebuild network and data from a config (see ``docs/config.md``); missing keys default."""

    type: Literal["configure"]
    config: dict[str, Any] = Field(default_factory=dict)


class Reset(_Message):
    """Re-initialize the weights with the seed and clear the history."""

    type: Literal["reset"]


class SetTraining(_Message):
    """Change hyper-parameters of the ``training`` section live, keeping the weights."""

    type: Literal["set"]
    training: dict[str, Any]


class Step(_Message):
    """Advance by ``count`` units: one phase, the rest of the forward or backward pass,
    the update, a full step or an epoch."""

    type: Literal["step"]
    unit: StepUnit = "phase"
    count: int = Field(default=1, ge=1, le=1000)


class Until(_Message):
    """When playing stops by itself: the train loss at or below ``loss``, and/or the step
    count reaching ``steps``."""

    loss: float | None = Field(default=None, ge=0, le=1e6, allow_inf_nan=False)
    steps: int | None = Field(default=None, ge=1, le=100_000_000)


class Play(_Message):
    """Train continuously. ``speed``: steps per second, or null for as fast as possible.
    ``fps``: frames per second the client wants at most. ``until``: a stop condition."""

    type: Literal["play"]
    speed: float | None = Field(default=None, gt=0, le=1_000_000, allow_inf_nan=False)
    fps: int = Field(default=30, ge=1, le=60)
    until: Until | None = None


class Pause(_Message):
    """Stop playing; the step in progress is finished first."""

    type: Literal["pause"]


class Focus(_Message):
    """Which example of the batch the frames' per-neuron numbers show."""

    type: Literal["focus"]
    example: int = Field(ge=0, le=100_000)


class Inspect(_Message):
    """Ask for the incoming weights of one neuron (for layers too large to stream whole)."""

    type: Literal["inspect"]
    layer: int = Field(ge=1, le=1000)
    neuron: int = Field(ge=0, le=100_000)


class GradCheck(_Message):
    """Compare backprop's gradient with central differences on the current batch."""

    type: Literal["gradcheck"]
    max_examples: int = Field(default=32, ge=1, le=1024)


class GradCheckScaling(_Message):
    """Time backprop against finite differences for networks of several sizes."""

    type: Literal["gradcheck_scaling"]


class CsvInspect(_Message):
    """An uploaded CSV file: check it, keep it in the session by its hash, describe it."""

    type: Literal["csv_inspect"]
    name: str = Field(default="data.csv", max_length=200)
    text: str


class Seek(_Message):
    """Show a recent step again (``step``), or the live end (``null``)."""

    type: Literal["seek"]
    step: int | None = Field(ge=0, le=10**12)


class Export(_Message):
    """Ask for the whole run (config, weights, history) as one JSON object."""

    type: Literal["export"]


class Import(_Message):
    """Restore a run produced by ``export`` or ``bpviz train``."""

    type: Literal["import"]
    run: dict[str, Any]


class Options(_Message):
    """Session options: ``grids`` false stops decision-boundary grids (for views that
    draw none, like the lab)."""

    type: Literal["options"]
    grids: bool = True


class Ping(_Message):
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


# ---------------------------------------------------------------- server -> client


class Hello(_Message):
    type: Literal["hello"]
    protocol: int
    server: str
    limits: dict[str, Any]
    session: str


class Topology(_Message):
    """Sent after every configure, reset and import: what the network and data are."""

    type: Literal["topology"]
    config: dict[str, Any]
    layers: list[dict[str, Any]]
    phases: list[dict[str, Any]]
    data: dict[str, Any]
    n_params: int
    rewind: dict[str, int | None] | None = None


class Frame(_Message):
    """The state after a phase or step: cursor, per-layer numbers, loss, history increment."""

    type: Literal["frame"]
    step: int
    epoch: float
    cursor: dict[str, Any]
    last_phase: dict[str, Any] | None
    example: int
    batch: list[int]
    x: list[float | None] | None
    y: list[float | None] | None
    layers: list[dict[str, Any]]
    loss: float | None
    grad_norm: float | None
    clipped: bool
    diverged: bool
    playing: bool
    steps_per_second: float | None
    history: dict[str, Any] | None
    metrics: dict[str, Any] | None = None
    rewind: dict[str, int | None] | None = None
    viewing: int | None = None


class Grid(_Message):
    """Decision boundary / fitted curve: network output over the input domain,
    and one thumbnail per hidden neuron, quantized to bytes (base64)."""

    type: Literal["grid"]
    step: int
    kind: Literal["2d", "1d"]
    domain: list[list[float]]
    resolution: int
    output: dict[str, Any]
    neurons: list[list[dict[str, Any]]]


class GradCheckResult(_Message):
    type: Literal["gradcheck"]
    result: dict[str, Any]


class GradCheckScalingResult(_Message):
    type: Literal["gradcheck_scaling"]
    points: list[dict[str, Any]]


class CsvInfo(_Message):
    """An uploaded CSV was accepted: its hash (for ``data.csv``) and what it holds."""

    type: Literal["csv_info"]
    hash: str
    name: str
    columns: list[str]
    n_rows: int
    numeric_columns: list[str]
    suggested_target: str
    suggested_task: Literal["binary", "multiclass", "regression"]
    preview: list[list[str]]
    limits: dict[str, int]


class Exported(_Message):
    type: Literal["export"]
    run: dict[str, Any]


class State(_Message):
    type: Literal["state"]
    playing: bool
    diverged: bool
    speed: float | None
    stopped: Literal["loss", "steps"] | None = None


class Inspected(_Message):
    type: Literal["inspect"]
    layer: int
    neuron: int
    W: list[float | None]
    dW: list[float | None] | None
    dW_update: list[float | None] | None
    a_prev: list[float | None] | None
    W_next: list[float | None] | None = None
    delta_next: list[float | None] | None = None


class Pong(_Message):
    type: Literal["pong"]
    id: int | str | None


class Error(_Message):
    """Something the client sent could not be done; nothing was changed."""

    type: Literal["error"]
    code: str
    message: str
    field: str | None = None
    row: int | None = None
    column: str | None = None


ServerMessage = Annotated[
    Hello
    | Topology
    | Frame
    | Grid
    | GradCheckResult
    | GradCheckScalingResult
    | CsvInfo
    | Exported
    | State
    | Inspected
    | Pong
    | Error,
    Field(discriminator="type"),
]
server_adapter: TypeAdapter[ServerMessage] = TypeAdapter(ServerMessage)


def schemas() -> dict[str, Any]:
    """JSON Schemas of both directions."""
    return {
        "protocol": PROTOCOL_VERSION,
        "client": client_adapter.json_schema(),
        "server": server_adapter.json_schema(),
    }
