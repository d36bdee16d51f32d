"""The parts of the server → client messages: ``TypedDict``s, and the wire's vector types.

A message (``messages.py``) is a pydantic model; its parts (a frame's layers, a phase,
the norms…) are ``TypedDict``s: plain dicts at run time — a frame has dozens of them and
is built 60 times a second — whose keys mypy checks where they are built, validated
like models (``part``: unknown keys refused).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal, NotRequired, TypeAlias, get_type_hints

import numpy as np
from pydantic import ConfigDict, with_config
from typing_extensions import TypedDict  # pydantic needs this one before Python 3.12

from bpviz.core.engine.trace import StepHyper

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
    # only after a hand edit since the step: the weights as its update left them
    W_updated: NotRequired[Matrix]
    b_updated: NotRequired[Vector]
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


@part
class ScalingPoint(TypedDict):
    """Times of one backprop pass and of finite differences for one network size."""

    n_params: int
    time_backprop_s: float | None
    time_numeric_s: float | None
    n_timed: int


@part
class JobProgress(TypedDict):
    """A long command running in the background (``gradcheck``, ``gradcheck_scaling``,
    ``export``): ``done`` of ``total`` (``null`` while not known)."""

    kind: str
    done: int
    total: int | None
