"""The server → client messages: one pydantic model per message, a ``type`` discriminator.

A message is a model; its parts (a frame's layers, a phase, the norms…) are
``TypedDict``s (``message_parts.py``, importable from here too). The server builds its
hot messages (frame, grid, topology, inspect) with ``model_construct``: trusted values,
NumPy arrays included, that ``encode.dumps`` rounds and writes as lists in one pass;
the dicts the experiment gives (metrics, history points, hyper-parameters, rewind
range, data set) go in as they are. The types say what reaches the client: the JSON
Schema served at ``/api/schema`` comes from them, and the tests validate every message
they receive with them. ``docs/protocol.md`` is the prose.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from .message_parts import (
    Confusion,
    Curve,
    FprimeHistogram,
    FrameLayer,
    HistoryIncrement,
    Hyper,
    JobProgress,
    Matrix,
    Metrics,
    NeuronCurve,
    Norms,
    Phase,
    PhaseAt,
    PhaseKind,
    Quantized,
    RewindRange,
    ScalingPoint,
    StopReason,
    TopologyLayer,
    Vector,
)

__all__ = [  # the parts too: importable from here
    "Confusion",
    "CsvInfo",
    "Curve",
    "Error",
    "Exported",
    "FprimeHistogram",
    "Frame",
    "FrameLayer",
    "GradCheckResult",
    "GradCheckScalingResult",
    "Grid",
    "Hello",
    "HistoryIncrement",
    "Hyper",
    "Inspected",
    "JobProgress",
    "Matrix",
    "Message",
    "Metrics",
    "NeuronCurve",
    "Norms",
    "Notice",
    "Phase",
    "PhaseAt",
    "PhaseKind",
    "Pong",
    "Quantized",
    "RewindRange",
    "Room",
    "ScalingPoint",
    "ServerMessage",
    "State",
    "StopReason",
    "Topology",
    "TopologyLayer",
    "Vector",
    "server_adapter",
]


class Message(BaseModel):
    """A websocket message, either direction: unknown fields are refused."""

    model_config = ConfigDict(extra="forbid", strict=False)


class Hello(Message):
    """The first message of a session: protocol version, server, session id and limits
    (the config's, ``docs/config.md``, and the server's)."""

    type: Literal["hello"]
    protocol: int
    server: str
    session: str
    limits: dict[str, Any]
    # Runs that survive (server/resume.py): reconnect with ``/ws?resume=TOKEN``.
    resume_token: str | None = None
    resumed: bool = False
    # The server process this session lives in (``bpviz serve --workers N`` runs several).
    pid: int | None = None


class Topology(Message):
    """Sent after every configure, reset and import: what the network and data are.
    ``config`` is the whole config (``docs/config.md``); ``data`` describes the data set."""

    type: Literal["topology"]
    config: dict[str, Any]
    layers: list[TopologyLayer]
    phases: list[Phase]
    data: dict[str, Any]
    n_params: int
    rewind: RewindRange


class Frame(Message):
    """The state after a phase or step: cursor, per-layer numbers, loss, history increment."""

    type: Literal["frame"]
    step: int
    epoch: float
    cursor: PhaseAt
    last_phase: PhaseAt | None
    example: int
    batch: list[int]
    x: Vector | None
    y: Vector | None
    layers: list[FrameLayer]
    loss: float | None
    grad_norm: float | None
    clipped: bool
    diverged: bool
    playing: bool
    steps_per_second: float | None
    history: HistoryIncrement | None
    metrics: Metrics | None
    rewind: RewindRange
    viewing: int | None
    hyper: Hyper


class Grid(Message):
    """Decision boundary / fitted curve: network output over the input domain,
    and one thumbnail per hidden neuron (``neurons[layer-1][neuron]``)."""

    type: Literal["grid"]
    step: int
    kind: Literal["2d", "1d"]
    domain: list[list[float]]
    resolution: int
    output: Quantized | Curve
    neurons: list[list[Quantized]] | list[list[NeuronCurve]]


class GradCheckResult(Message):
    """Analytic against finite-difference gradient (``GradCheckResult`` of the engine)."""

    type: Literal["gradcheck"]
    result: dict[str, Any]


class GradCheckScalingResult(Message):
    type: Literal["gradcheck_scaling"]
    points: list[ScalingPoint]


class CsvInfo(Message):
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
    # the encoding the file's bytes were read in (``null`` for a file sent as text), and
    # per column its kind: numeric, mostly_numeric (with its bad cells) or text
    encoding: str | None = None
    column_kinds: list[dict[str, Any]] | None = None


class Exported(Message):
    """The whole run (the run file: config, weights, history, metrics, exact state)."""

    type: Literal["export"]
    run: dict[str, Any]


class State(Message):
    """Playing or not, diverged or not; ``stopped`` says which ``until`` condition ended
    playing; ``job`` the progress of a long command, ``cancelled`` the kind of the one a
    new command (or a disconnect) cancelled."""

    type: Literal["state"]
    playing: bool
    diverged: bool
    speed: float | None
    stopped: StopReason | None = None
    job: JobProgress | None = None
    cancelled: str | None = None


class Inspected(Message):
    """One neuron's incoming weights, their gradient and update, and what the chain rule
    needs for its δ."""

    type: Literal["inspect"]
    layer: int
    neuron: int
    step: int  # the frame this answer belongs to: its step, cursor.index and example
    cursor: int
    example: int
    W: Vector
    dW: Vector | None
    dW_update: Vector | None
    a_prev: Vector | None
    W_next: Vector | None = None
    delta_next: Vector | None = None
    W_next_update: Vector | None = None
    W_updated: Vector | None = None  # edited by hand since the step: as its update left them
    W_next_updated: Vector | None = None


class Pong(Message):
    type: Literal["pong"]
    id: int | str | None


class Error(Message):
    """Something the client sent could not be done; nothing was changed."""

    type: Literal["error"]
    code: str
    message: str
    field: str | None = None
    row: int | None = None
    column: str | None = None
    # what the message was made of, for the page to word it (docs/protocol.md, Errors)
    params: dict[str, Any] | None = None


class Room(Message):
    """This session's classroom room (server/rooms.py): opened (``role`` owner), joined
    (follower), the live follower count, and its end (``closed`` with a ``reason``)."""

    type: Literal["room"]
    code: str
    role: Literal["owner", "follower"]
    followers: int = 0
    closed: bool = False
    reason: str | None = None
    available: bool = True


class Notice(Message):
    """Something the client should know that is not an answer to a command (e.g. a
    ``resume`` token that was unknown: a fresh session started)."""

    type: Literal["notice"]
    code: str
    message: str


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
    | Error
    | Room
    | Notice,
    Field(discriminator="type"),
]
server_adapter: TypeAdapter[ServerMessage] = TypeAdapter(ServerMessage)
