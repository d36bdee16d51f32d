"""The messages that show an experiment: pure functions of the experiment and the view.

``topology``, ``frame``, ``grid`` and ``inspected`` read an :class:`Experiment` through
its queries and what the client looks at (:class:`View`: the focused example, the
options, the step shown after a rewind) and return the protocol's models, built with
``model_construct`` (see ``bpviz.server.messages``): trusted values, NumPy arrays
included, that ``encode.dumps`` rounds and writes in one pass. They read live engine
buffers, so they run on the worker pool under the session's lock, like training.

The two pieces of state a stream of frames needs — which history points the client
already has, and when the metrics were last computed — are :class:`HistoryFeed` and
:class:`MetricsFeed`; the caller passes what they give to :func:`frame`.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, cast

import numpy as np

from bpviz.core.experiment import config as core_config
from bpviz.core.experiment.experiment import Experiment
from bpviz.core.experiment.runs import current_config

from .messages import (
    Curve,
    FprimeHistogram,
    Frame,
    FrameLayer,
    Grid,
    Hyper,
    Inspected,
    NeuronCurve,
    Norms,
    Phase,
    PhaseAt,
    PhaseKind,
    Quantized,
    Topology,
    TopologyLayer,
)

LARGE_LAYER = 2048  # weights; bigger matrices are not streamed whole (see `inspected`)
# Most history points a frame carries when it resends the whole history: the default
# network's frame then stays near 12 KB of JSON (at 150 it reached 17 KB, past 16 KB).
RESET_POINTS = 100
METRICS_INTERVAL = 0.25  # seconds between metrics refreshes while playing
CURVE_POINTS = 200  # points of a fitted curve (1-D data)
HIST_EDGES = np.linspace(0.0, 1.0, 21)  # f′(z) histogram bins


@dataclass
class View:
    """What one client looks at; frames are built from an experiment and this.

    Attributes:
        focus: the example of the batch whose per-neuron numbers frames show.
        grids: whether decision-boundary grids are wanted (the ``options`` message).
        viewing: the past step shown after a ``seek`` (``None``: the live end).
        playing: training continuously: frames carry weights, not gradients.
        steps_per_second: the measured training rate while playing.
        exact: frames carry every number exactly, not to 6 digits (``options``).
        binary: frames and grids go as binary messages (``options`` ``frames``).
    """

    focus: int = 0
    grids: bool = True
    viewing: int | None = None
    playing: bool = False
    steps_per_second: float | None = None
    exact: bool = False
    binary: bool = False


# ---------------------------------------------------------------- topology


def topology(exp: Experiment, rewind: dict[str, int | None]) -> Topology:
    """The network and data of ``exp``: sent after every configure, reset and import."""
    config = current_config(exp)
    skips = set(exp.residual_layers)
    n = len(exp.layers)
    layers = [
        TopologyLayer(
            index=i,
            n_in=layer.n_in,
            units=layer.n_out,
            activation=layer.activation.name,
            output=layer.is_output,
            batchnorm=i < n and config.network.batchnorm,  # hidden layers only
            residual=i in skips,
        )
        for i, layer in enumerate(exp.layers, start=1)
    ]
    return Topology.model_construct(
        type="topology",
        config=core_config.to_dict(config),
        layers=layers,
        phases=[Phase(kind=cast(PhaseKind, kind), layer=layer) for kind, layer in exp.phases()],
        data=exp.data_summary(),
        n_params=exp.n_params,
        rewind=rewind,
    )


# ---------------------------------------------------------------- frame


def frame(
    exp: Experiment,
    view: View,
    history: dict[str, Any] | None,
    metrics: dict[str, Any] | None,
    rewind: dict[str, int | None],
) -> Frame:
    """The state of ``exp`` after a phase or a step, as ``view`` shows it.

    ``history``: the points since the last frame (:meth:`HistoryFeed.next`); ``metrics``:
    :meth:`MetricsFeed.get`; ``rewind``: the range of revisitable steps.
    """
    trace = exp.trace
    phases = exp.phases()
    cursor = exp.cursor
    last: int | None = cursor - 1 if cursor > 0 else None
    if last is None and trace is not None and trace.complete:
        last = len(phases) - 1
    batch = trace.batch if trace is not None else None
    n_batch = 0 if batch is None else len(batch)
    ex = min(view.focus, n_batch - 1) if n_batch else 0
    out_delta = trace.output_delta if trace is not None else None
    layers = [
        _layer(i, layer, None if trace is None else trace.layers[i - 1], out_delta, ex, view)
        for i, layer in enumerate(exp.layers, start=1)
    ]
    x = y = None
    if trace is not None and trace.x is not None and trace.y is not None and n_batch:
        x, y = trace.x[ex], trace.y[ex]
    return Frame.model_construct(
        type="frame",
        step=exp.steps_done,
        epoch=exp.epochs,
        cursor=_phase_at(phases, cursor),
        last_phase=None if last is None else _phase_at(phases, last),
        example=ex,
        batch=[] if batch is None else batch,
        x=x,
        y=y,
        layers=layers,
        loss=None if trace is None else trace.loss,
        grad_norm=None if trace is None else trace.grad_norm,
        clipped=False if trace is None else bool(trace.clipped),
        diverged=bool(exp.diverged),
        playing=view.playing,
        steps_per_second=view.steps_per_second if view.playing else None,
        history=history,
        metrics=metrics,
        rewind=rewind,
        viewing=view.viewing,
        hyper=hyper(exp),
    )


def _phase_at(phases: Sequence[tuple[str, int | None]], index: int) -> PhaseAt:
    kind, layer = phases[index]
    return PhaseAt(index=index, kind=cast(PhaseKind, kind), layer=layer)


def _row(arr: np.ndarray | None, ex: int) -> np.ndarray | None:
    """The focused example's row of a per-example array ``(B, n)``."""
    return None if arr is None else arr[ex]


def _layer(
    index: int, layer: Any, lt: Any, out_delta: np.ndarray | None, ex: int, view: View
) -> FrameLayer:
    """Layer ``index``: the focused example's numbers from its trace ``lt`` (``None``
    before the first step), its weights, and — not while playing, when frames stay
    small — its gradients. Matrices of large layers are left out (``inspect`` them)."""
    large = layer.W.size > LARGE_LAYER
    W = None if large else layer.W
    if lt is None:
        return FrameLayer(
            index=index, z=None, a=None, fprime=None, delta=None, mask=None, W=W, b=layer.b,
            dW=None, db=None, dW_update=None, db_update=None, grad_a=None, delta_z=None,
            z_bn=None, fprime_hist=None, dead_fraction=None, large=large,
            norms=Norms(delta=None, dW=None, dW_over_W=None),
        )  # fmt: skip
    grads = not view.playing
    matrices = grads and not large
    delta = lt.delta if lt.delta is not None else (out_delta if layer.is_output else None)
    out = FrameLayer(
        index=index,
        z=_row(lt.z, ex),
        a=_row(lt.a, ex),
        fprime=_row(lt.fprime, ex),
        delta=_row(delta, ex),
        mask=_row(lt.mask, ex),
        W=W,
        b=layer.b,
        dW=lt.dW if matrices else None,
        db=lt.db if grads else None,
        dW_update=lt.dW_update if matrices else None,
        db_update=lt.db_update if grads else None,
        grad_a=_row(lt.grad_a, ex),
        delta_z=_row(lt.delta_z, ex),
        z_bn=_row(lt.z_bn, ex),
        fprime_hist=fprime_histogram(lt),
        dead_fraction=None if lt.fprime is None else lt.dead_fraction,
        large=large,
        norms=Norms(delta=lt.delta_mean_norm, dW=lt.dW_norm, dW_over_W=lt.dW_ratio),
    )
    if lt.W_updated is not None and grads:  # edited by hand since the step
        if matrices:
            out["W_updated"] = lt.W_updated
        if lt.b_updated is not None:
            out["b_updated"] = lt.b_updated
    return out


def fprime_histogram(lt: Any) -> FprimeHistogram | None:
    """The batch's f′(z) histogram: 20 bins over [0, 1] and what falls outside."""
    counts = None if lt is None else lt.fprime_counts()
    if counts is None:
        return None
    hist, below, above = counts
    return FprimeHistogram(edges=HIST_EDGES, counts=hist, below=below, above=above)


def hyper(exp: Experiment) -> dict[str, Any]:
    """The hyper-parameters of the step the trace holds (a step shown after a rewind
    shows its own); before any step, the current training settings, in the same shape."""
    used = None if exp.trace is None else exp.trace.hyper
    if used is not None:
        out: dict[str, Any] = used.to_dict()
        return out
    training = exp.training
    return {name: getattr(training, name) for name in Hyper.__annotations__}


# ---------------------------------------------------------------- grid


def grid(exp: Experiment, resolution: int, thumb_resolution: int) -> Grid | None:
    """The network's output over the input domain and one thumbnail per hidden neuron:
    2-D data as ``resolution``² values (thumbnails ``thumb_resolution``²) quantized to
    bytes, 1-D data as curves of ``CURVE_POINTS``; ``None`` for other data."""
    n_features = exp.n_inputs  # the plane of the inputs (with input features too)
    sampled = exp.input_grid(resolution if n_features == 2 else CURVE_POINTS)
    if sampled is None:
        return None
    axes, X = sampled
    domain = [[float(axis[0]), float(axis[-1])] for axis in axes]
    acts = exp.activations(X)
    if n_features == 2:
        thumbs = exp.input_grid(thumb_resolution)
        assert thumbs is not None
        hidden = exp.activations(thumbs[1])[1:-1]
        return Grid.model_construct(
            type="grid",
            step=exp.steps_done,
            kind="2d",
            domain=domain,
            resolution=resolution,
            output=quantize(acts[-1][:, 0]),
            neurons=[[quantize(a[:, j]) for j in range(a.shape[1])] for a in hidden],
        )
    return Grid.model_construct(
        type="grid",
        step=exp.steps_done,
        kind="1d",
        domain=domain,
        resolution=CURVE_POINTS,
        output=Curve(x=X[:, 0], y=acts[-1][:, 0]),
        neurons=[[NeuronCurve(y=a[:, j]) for j in range(a.shape[1])] for a in acts[1:-1]],
    )


def quantize(values: np.ndarray) -> Quantized:
    """Bytes over [min, max], base64: 1 byte per value instead of ~9 in JSON."""
    finite = np.isfinite(values)
    if not finite.any():
        return Quantized(min=None, max=None, data="")
    lo = float(values[finite].min())
    hi = float(values[finite].max())
    span = hi - lo if hi > lo else 1.0
    q = np.clip(np.nan_to_num((values - lo) / span * 255.0 + 0.5, nan=0.0), 0, 255)
    data = base64.b64encode(q.astype(np.uint8).tobytes()).decode()
    return Quantized(min=lo, max=hi, data=data)


# ---------------------------------------------------------------- inspect


def inspected(exp: Experiment, focus: int, layer: int, neuron: int) -> Inspected | None:
    """One neuron's incoming weights with their gradient and update, the focused
    example's ``a_prev``, and what the chain rule needs for its δ (the next layer's
    weights out of it, their update, and δ); ``None`` when there is no such neuron.

    The weights are today's: once the step's update has run, the step itself used
    ``W − dW_update`` and ``W_next − W_next_update`` (``W_updated``, ``W_next_updated``
    in place of today's where a weight was edited by hand since). ``step``, ``cursor`` and
    ``example`` say which frame the answer belongs to (the frame's ``step``,
    ``cursor.index`` and ``example``)."""
    layers = exp.layers
    if not 1 <= layer <= len(layers) or not 0 <= neuron < layers[layer - 1].n_out:
        return None
    trace = exp.trace
    lt = trace.layers[layer - 1] if trace is not None else None
    n_batch = 0 if trace is None or trace.batch is None else len(trace.batch)
    ex = min(focus, n_batch - 1) if n_batch else 0
    a_prev = None
    if lt is not None and lt.a_prev is not None:
        a_prev = lt.a_prev[min(focus, lt.a_prev.shape[0] - 1)]
    w_next = delta_next = w_next_update = w_next_updated = None
    if layer < len(layers):
        w_next = layers[layer].W[:, neuron]
        nxt = trace.layers[layer] if trace is not None else None
        if nxt is not None and nxt.delta is not None:
            delta_next = nxt.delta[min(focus, nxt.delta.shape[0] - 1)]
        if nxt is not None and nxt.dW_update is not None:
            w_next_update = nxt.dW_update[:, neuron]
        if nxt is not None and nxt.W_updated is not None:
            w_next_updated = nxt.W_updated[:, neuron]
    return Inspected.model_construct(
        type="inspect",
        layer=layer,
        neuron=neuron,
        step=exp.steps_done,
        cursor=exp.cursor,
        example=ex,
        W=layers[layer - 1].W[neuron],
        dW=None if lt is None or lt.dW is None else lt.dW[neuron],
        dW_update=None if lt is None or lt.dW_update is None else lt.dW_update[neuron],
        a_prev=a_prev,
        W_next=w_next,
        W_next_update=w_next_update,
        W_updated=None if lt is None or lt.W_updated is None else lt.W_updated[neuron],
        W_next_updated=w_next_updated,
        delta_next=delta_next,
    )


# ---------------------------------------------------------------- the state of a stream


class HistoryFeed:
    """Which history points the client has: each frame carries only the new ones."""

    def __init__(self) -> None:
        self.generation: int | None = None
        self.seq = 0

    def restart(self) -> None:
        """The next frame carries the whole history (a new experiment or client)."""
        self.generation = None

    def next(self, exp: Experiment) -> dict[str, Any] | None:
        """The points added since the last call (``None``: none), or the whole history
        (``reset``: after :meth:`restart`, a decimation, a rewind), evenly thinned to
        ``RESET_POINTS`` with the newest kept so that no frame grows past a few KB."""
        if self.generation is None:
            inc = exp.history_since(0, None) | {"reset": True}
        else:
            inc = exp.history_since(self.seq, self.generation)
            if not inc["reset"] and inc["last_seq"] == self.seq:
                return None
        self.generation = inc["generation"]
        self.seq = inc["last_seq"]
        points = inc["points"]
        points.pop("seq", None)
        if inc["reset"]:
            points = thinned(points, len(points["step"]))
        return {"reset": inc["reset"], "stride": inc["stride"], **points}


def thinned(points: dict[str, list[Any]], n: int) -> dict[str, list[Any]]:
    """The first ``n`` points of the history's columns, evenly thinned to at most
    :data:`RESET_POINTS` (the first and the newest kept)."""
    if n <= RESET_POINTS:
        return {k: v[:n] for k, v in points.items()}
    keep = np.unique(np.linspace(0, n - 1, RESET_POINTS).round().astype(int))
    return {k: [v[i] for i in keep] for k, v in points.items()}


class MetricsFeed:
    """Train/test loss, accuracy or R², confusion matrix: fresh for every frame, but at
    most every :attr:`interval` seconds while playing (the last ones in between;
    ``METRICS_INTERVAL``, longer when many sessions play: ``player.metrics_interval``).

    :meth:`refresh` computes them ahead of the frame that takes them (:meth:`get`), so
    that a frame too costly for one slice of work can be built in two."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.last: dict[str, Any] | None = None
        self.pending: dict[str, Any] | None = None
        self.time = 0.0
        self.interval = METRICS_INTERVAL

    def clear(self) -> None:
        """The next frame computes them (the experiment or the step shown changed)."""
        self.last = self.pending = None

    def due(self, playing: bool) -> bool:
        """Whether the next frame needs them computed (none computed ahead)."""
        if self.pending is not None:
            return False
        return self.last is None or not playing or self.clock() - self.time >= self.interval

    def refresh(self, exp: Experiment, playing: bool) -> None:
        """Compute them for the next frame, if due."""
        if self.due(playing):
            self.pending = exp.metrics()
            self.time = self.clock()

    def get(self, exp: Experiment, playing: bool) -> dict[str, Any]:
        """The metrics the next frame carries."""
        self.refresh(exp, playing)
        if self.pending is not None:
            self.last, self.pending = self.pending, None
        assert self.last is not None
        return self.last
