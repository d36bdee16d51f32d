"""The server → client messages: one pydantic model per message, a ``type`` discriminator.

A message is a model; its parts (a frame's layers, a phase, the norms…) are
``TypedDict``s: plain dicts at run time — a frame has dozens of them and is built
60 times a second — whose keys mypy checks where they are built, validated like
models. The server builds its hot messages (frame, grid, topology, inspect) with
``model_construct``: trusted values, NumPy arrays included, that ``encode.dumps``
rounds and writes as lists in one pass; the dicts the experiment gives (metrics,
history points, hyper-parameters, rewind range, data set) go in as they are. The types
say what reaches the client: the JSON Schema served at ``/api/schema`` comes from them,
and the tests validate every message they receive with them. ``docs/protocol.md`` is
the prose.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal, NotRequired, TypeAlias, get_type_hints

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, with_config
from typing_extensions import TypedDict  # pydantic needs this one before Python 3.12

from bpviz.core.engine.trace import StepHyper


class Message(BaseModel):
    """A websocket message, either direction: unknown fields are refused."""

    model_config = ConfigDict(extra="forbid", strict=False)


part = with_config(ConfigDict(extra="forbid"))
"""A part of a message: a ``TypedDict`` (a plain dict at run time, its keys checked by
mypy where it is built), validated like a model, unknown keys refused."""


# A vector on the wire: a list of numbers with 6 significant digits, ``null`` for a
# non-finite value. The server fills it with a NumPy array, which ``encode.dumps`` writes
# as that list: the type checker is told so.
if TYPE_CHECKING:
    Vector: TypeAlias = list[float | None] | np.ndarray
else:
    Vector = list[float | None]
Matrix: TypeAlias = list[Vector]
PhaseKind = Literal["forward", "loss", "backward", "update"]
StopReason = Literal["loss", "steps"]


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


@part
class Phase(TypedDict):
    """One phase of a step: ``forward`` or ``backward`` of a layer, ``loss``, ``update``."""

    kind: PhaseKind
    layer: int | None


@part
class PhaseAt(TypedDict):
    """A phase and its ``index`` in ``topology.phases``."""

    index: int
    kind: PhaseKind
    layer: int | None


@part
class RewindRange(TypedDict):
    """The steps that can be revisited (``last`` is the live end); see Rewind."""

    first: int | None
    last: int | None
    count: int


@part
class TopologyLayer(TypedDict):
    """Weight layer ``index`` (1..L): its shape, activation and options."""

    index: int
    n_in: int
    units: int
    activation: str
    output: bool
    batchnorm: bool
    residual: bool


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


@part
class Norms(TypedDict):
    """‖mean δ over the batch‖, ‖dW‖ and ‖dW‖/‖W‖ of a layer."""

    delta: float | None
    dW: float | None
    dW_over_W: float | None


@part
class FprimeHistogram(TypedDict):
    """The batch's f′(z) in 20 bins over [0, 1], and the counts below and above."""

    edges: Vector
    counts: list[int]
    below: int
    above: int


@part
class FrameLayer(TypedDict):
    """One layer in a frame: the focused example's numbers, the weights, the gradients."""

    index: int
    z: Vector | None
    a: Vector | None
    fprime: Vector | None
    delta: Vector | None
    mask: Vector | None
    W: Matrix | None
    b: Vector
    dW: Matrix | None
    db: Vector | None
    dW_update: Matrix | None
    db_update: Vector | None
    grad_a: NotRequired[Vector | None]
    delta_z: NotRequired[Vector | None]
    z_bn: NotRequired[Vector | None]
    fprime_hist: NotRequired[FprimeHistogram | None]
    dead_fraction: NotRequired[float | None]
    large: bool
    norms: Norms


@part
class HistoryIncrement(TypedDict):
    """History points since the last frame (all of them, thinned, when ``reset``)."""

    reset: bool
    stride: int
    step: list[int]
    train_loss: Vector
    test_loss: Vector
    train_acc: Vector
    test_acc: Vector
    batch_loss: NotRequired[Vector]  # the loss of the point's own batch
    grad_norm: list[Vector]
    delta_norm: list[Vector]


@part
class Confusion(TypedDict):
    """``matrix[true][predicted]`` counts, rows and columns in the order of ``labels``."""

    labels: list[str | int]
    matrix: list[list[int]]


@part
class Metrics(TypedDict):
    """Loss and accuracy (classification) or R² (regression) on the train and test sets."""

    train_loss: float | None
    test_loss: float | None
    train_acc: float | None
    test_acc: float | None
    train_r2: float | None
    test_r2: float | None
    # the losses with the L1/L2 penalty, on the training set and on the last batch
    penalty: NotRequired[float | None]
    data_loss: NotRequired[float | None]
    total_loss: NotRequired[float | None]
    batch_data_loss: NotRequired[float | None]
    batch_penalty: NotRequired[float | None]
    batch_total_loss: NotRequired[float | None]
    confusion: Confusion | None


# The hyper-parameters the frame's step used: the engine's ``StepHyper`` fields, listed
# once there (``StepHyper.to_dict()`` is what the frame carries).
if TYPE_CHECKING:
    Hyper: TypeAlias = dict[str, str | float]
else:
    Hyper = part(TypedDict("Hyper", get_type_hints(StepHyper)))
    Hyper.__doc__ = (
        "The hyper-parameters the frame's step used (before any step: the current ones)."
    )


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


@part
class Quantized(TypedDict):
    """Values as bytes over [min, max], base64: ``value = min + (max − min) · byte / 255``
    (``min``/``max`` null when no value is finite)."""

    min: float | None
    max: float | None
    data: str


@part
class Curve(TypedDict):
    """A curve over the 1-D input domain."""

    x: Vector
    y: Vector


@part
class NeuronCurve(TypedDict):
    """A hidden neuron's activation over the same ``x`` as the output curve."""

    y: Vector


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


@part
class ScalingPoint(TypedDict):
    """Times of one backprop pass and of finite differences for one network size."""

    n_params: int
    time_backprop_s: float | None
    time_numeric_s: float | None
    n_timed: int


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


@part
class JobProgress(TypedDict):
    """A long command running in the background (``gradcheck``, ``gradcheck_scaling``,
    ``export``): ``done`` of ``total`` (``null`` while not known)."""

    kind: str
    done: int
    total: int | None


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
    W: Vector
    dW: Vector | None
    dW_update: Vector | None
    a_prev: Vector | None
    W_next: Vector | None = None
    delta_next: Vector | None = None


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
