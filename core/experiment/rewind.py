"""Rewind: revisit recent steps exactly, and branch from them.

Keeping every step's full state (weights, optimizer moments, the trace) would cost
~100 KB per step for a 2,000-parameter network. Training is deterministic, so the
buffer keeps *checkpoints* — the exact state at some step boundaries
(:meth:`Stepper.get_state`: weights, optimizer state, batch order and position, RNG
states, with the training settings in force) — and recomputes any step between two
checkpoints by replaying from the one before it. The replayed step has its full trace
(z, a, δ, dW, …), and its numbers are exactly those of the original run.

Checkpoints are taken every ``interval`` steps (1 when stepping by hand; more while
playing fast, so the buffer spans the recent past), bounded by ``max_bytes`` and
``max_count``; the oldest go first. A change of the training settings records a
checkpoint, so a replay never crosses one. (A setting changed in the middle of a step
run phase by phase: that one step replays with the settings it began with.) So does a
weight edited by hand between two steps (``Experiment.set_param``, refused in the
middle of a step): the checkpoint of that step holds the edited weights, a replay
starts from it or ends on it (showing the step, then taking its weights), and the
numbers after an edit replay exactly.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from ..engine.edits import keep_updated
from ..engine.stepper import Stepper
from .config import TrainingConfig
from .experiment import Experiment

__all__ = ["Checkpoint", "Rewind"]

MIN_SPAN = 500  # steps the buffer should span (fewer when a checkpoint is very large)
MAX_REPLAY = 64  # longest gap between checkpoints, in steps (bounds the cost of a seek)
# Steps beyond which old checkpoints are dropped: the buffer still spans MIN_SPAN steps
# (the oldest kept is at most one interval, ≤ MAX_REPLAY, short of MAX_SPAN back)
MAX_SPAN = MIN_SPAN + 2 * MAX_REPLAY
FAST_INTERVAL = 32  # steps between checkpoints while playing fast (at least)
OVERHEAD = 600  # bytes of Python objects per checkpoint besides its arrays

Layout = tuple[tuple[str, Any, int, tuple[int, ...]], ...]


@dataclass(slots=True)
class Checkpoint:
    """The exact state after ``step`` and the training settings used from there on.

    Compact, since a session keeps hundreds: the float arrays of the state (weights,
    optimizer moments, BatchNorm statistics) are one ``blob`` described by ``layout``;
    the layout, the batch order and RNG states that did not change are shared with
    the checkpoint before.
    """

    step: int
    blob: npt.NDArray[Any]
    layout: Layout
    meta: tuple[Any, ...]  # (steps_done, current_epoch, pos, optimizer name, t, diverged)
    perm: npt.NDArray[np.intp]
    order_rng: dict[str, Any]
    dropout_rng: dict[str, Any]
    n_bn: int
    training: TrainingConfig
    nbytes: int
    # its snapshot entry (``runs.export_checkpoints``), kept once written when small: a
    # checkpoint never changes, and a playing session's snapshot writes the same ones again
    exported: dict[str, Any] | None = None

    def params(self) -> npt.NDArray[Any]:
        """The parameters ``(P,)`` this checkpoint holds (a view of its blob)."""
        n = int(np.prod(self.layout[0][3]))
        return self.blob[:n]

    def state(self) -> dict[str, Any]:
        """The :meth:`Stepper.get_state` this checkpoint holds (arrays are copies)."""
        steps_done, epoch, pos, opt_name, t, diverged = self.meta
        slots: dict[int, list[Any]] = {}
        bn: list[dict[str, Any] | None] = [None] * self.n_bn
        params: Any = None
        off = 0
        for kind, key, index, shape in self.layout:
            n = int(np.prod(shape)) if shape else 1
            arr = self.blob[off : off + n].reshape(shape).copy()
            off += n
            if kind == "params":
                params = arr
            elif kind == "opt":
                slots.setdefault(int(key), []).append(arr)
            else:
                entry = bn[index]
                if entry is None:
                    entry = bn[index] = {}
                entry[str(key)] = arr
        return {
            "steps_done": steps_done,
            "current_epoch": epoch,
            "perm": self.perm,
            "pos": pos,
            "order_rng": self.order_rng,
            "dropout_rng": self.dropout_rng,
            "params": params,
            "bn": bn,
            "optimizer": {"name": opt_name, "t": t, "slots": slots},
            "diverged": diverged,
        }


def _compact(
    step: int, state: dict[str, Any], training: TrainingConfig, prev: Checkpoint | None
) -> Checkpoint:
    arrays: list[npt.NDArray[Any]] = [state["params"].reshape(-1)]
    layout: list[tuple[str, Any, int, tuple[int, ...]]] = [
        ("params", None, 0, tuple(state["params"].shape))
    ]
    for slot, slot_arrays in state["optimizer"]["slots"].items():
        for a in slot_arrays:
            arrays.append(a.reshape(-1))
            layout.append(("opt", slot, 0, tuple(a.shape)))
    for i, entry in enumerate(state["bn"]):
        if entry is not None:
            for key, a in entry.items():
                arr = np.asarray(a)
                arrays.append(arr.reshape(-1))
                layout.append(("bn", key, i, tuple(arr.shape)))
    blob = np.concatenate(arrays) if len(arrays) > 1 else arrays[0].copy()
    lay: Layout = tuple(layout)
    order_rng, dropout_rng = state["order_rng"], state["dropout_rng"]
    perm = state["perm"]
    nbytes = OVERHEAD + int(blob.nbytes)
    if prev is not None:
        lay = prev.layout if prev.layout == lay else lay
        order_rng = prev.order_rng if prev.order_rng == order_rng else order_rng
        dropout_rng = prev.dropout_rng if prev.dropout_rng == dropout_rng else dropout_rng
    if prev is None or prev.perm is not perm:
        nbytes += int(perm.nbytes)
    opt = state["optimizer"]
    meta = (
        state["steps_done"],
        state["current_epoch"],
        state["pos"],
        opt["name"],
        opt["t"],
        state["diverged"],
    )
    return Checkpoint(
        step,
        blob,
        lay,
        meta,
        perm,
        order_rng,
        dropout_rng,
        len(state["bn"]),
        training,
        nbytes,
    )


class Rewind:
    """Checkpoints of one experiment's recent steps.

    Args:
        max_bytes: memory cap of all checkpoints (the batch order, shared between
            checkpoints of one epoch, is counted once per epoch).
        max_count: most checkpoints kept.
    """

    def __init__(self, max_bytes: int = 8 * 1024 * 1024, max_count: int = 600) -> None:
        self.max_bytes = int(max_bytes)
        self.max_count = int(max_count)
        self.checkpoints: deque[Checkpoint] = deque()
        self.nbytes = 0
        self.fast = False  # playing fast: checkpoint sparsely
        self.next_step = 0  # record at the first boundary at or after this step

    def clear(self) -> None:
        """Forget every checkpoint (after a reset, configure or import)."""
        self.checkpoints.clear()
        self.nbytes = 0
        self.next_step = 0

    # ------------------------------------------------------------------ recording
    def interval(self) -> int:
        """Steps between checkpoints: enough that ``max_count`` or ``max_bytes`` spans
        :data:`MIN_SPAN` steps (10 at least while playing fast), at most :data:`MAX_REPLAY`."""
        per = self.checkpoints[-1].nbytes if self.checkpoints else OVERHEAD
        capacity = max(1, min(self.max_count, self.max_bytes // max(per, 1)))
        k = -(-MIN_SPAN // capacity)
        if self.fast:
            k = max(k, FAST_INTERVAL)
        return max(1, min(k, MAX_REPLAY))

    def maybe_record(self, exp: Experiment) -> None:
        """Record a checkpoint if one is due (cheap when not)."""
        if exp.stepper.steps_done >= self.next_step:
            self.record(exp)

    def record(self, exp: Experiment) -> None:
        """Checkpoint the experiment now, if it is at a step boundary and not diverged
        (a checkpoint of the same step is replaced: the settings may have changed)."""
        st = exp.stepper
        if st.cursor != 0 or st.diverged:
            return
        step = st.steps_done
        while self.checkpoints and self.checkpoints[-1].step >= step:
            self.nbytes -= self.checkpoints.pop().nbytes
        prev = self.checkpoints[-1] if self.checkpoints else None
        cp = _compact(step, st.get_state(), exp.training, prev)
        self.checkpoints.append(cp)
        self.nbytes += cp.nbytes
        while len(self.checkpoints) > 1 and (
            self.nbytes > self.max_bytes
            or len(self.checkpoints) > self.max_count
            # no need to reach further back than MAX_SPAN steps (playing fast, the
            # checkpoints are sparse: without this the buffer spans tens of thousands)
            or self.checkpoints[1].step <= step - MAX_SPAN
        ):
            self.nbytes -= self.checkpoints.popleft().nbytes
        self.next_step = step + self.interval()

    # ------------------------------------------------------------------ reading
    @property
    def first(self) -> int | None:
        """The earliest step that can be shown with its trace (step 0 has none)."""
        if not self.checkpoints:
            return None
        s = self.checkpoints[0].step
        return s if s == 0 or len(self.checkpoints) == 1 else s + 1

    @property
    def last(self) -> int | None:
        """The latest step checkpointed."""
        return self.checkpoints[-1].step if self.checkpoints else None

    def info(self, live_step: int | None = None) -> dict[str, int | None]:
        """``{"first", "last", "count"}``: the steps that can be revisited (``live_step``,
        the live end, always can: it is checkpointed before the first seek away)."""
        first, last = self.first, self.last
        if last is not None and live_step is not None:
            last = max(last, live_step)
        count = 0 if first is None or last is None else last - first + 1
        return {"first": first, "last": last, "count": count}

    def recent(self, before: int, max_bytes: int) -> list[Checkpoint]:
        """The newest checkpoints of steps before ``before``, oldest first, as many as
        ``max_bytes`` holds (their arrays and batch orders) but the newest always: what a
        run's snapshot keeps so that a restored run shows its last step with its trace
        (replayed from the newest, :meth:`resume`), and those before it."""
        out: list[Checkpoint] = []
        size = 0
        for cp in reversed(self.checkpoints):
            if cp.step >= before:
                continue
            size += cp.nbytes + int(cp.perm.nbytes)
            if out and size > max_bytes:
                break
            out.append(cp)
        out.reverse()
        return out

    def forget_exports(self, keep: list[Checkpoint]) -> None:
        """Every checkpoint but those of ``keep`` (a snapshot's, :meth:`recent`) lets go of
        its snapshot entry (``Checkpoint.exported``), so that the entries never cost more
        than one snapshot's checkpoints: stepping by hand, every checkpoint passes through
        a snapshot's window."""
        kept = {id(cp) for cp in keep}
        for cp in self.checkpoints:
            if cp.exported is not None and id(cp) not in kept:
                cp.exported = None

    def resume(self, exp: Experiment, earlier: list[tuple[dict[str, Any], TrainingConfig]]) -> bool:
        """A run just restored (the buffer holds its one checkpoint, :meth:`record`):
        put back ``earlier`` checkpoints (``(state, training)`` of steps before it, oldest
        first, as :meth:`recent` gave them) and show the run's step with its trace again,
        replayed from the newest of them. True when it did: the replay ended exactly on
        the run's state (every array and RNG state compared). Otherwise the run is left
        exactly as it was restored, without a trace, and the buffer holds it alone.
        """
        if len(self.checkpoints) != 1 or not earlier:
            return False
        live = self.checkpoints[0]
        kept: list[Checkpoint] = []
        for state, training in earlier:
            step = int(state["steps_done"])
            if step >= live.step or (kept and step <= kept[-1].step):
                return False
            prev = kept[-1] if kept else None
            if prev is not None and prev.training == training:
                training = prev.training  # shared, as one run's checkpoints share it
            if prev is not None and np.array_equal(prev.perm, state["perm"]):
                state = {**state, "perm": prev.perm}  # one epoch's order, held once
            kept.append(_compact(step, state, training, prev))
        if kept[-1].training == live.training:
            live.training = kept[-1].training
        self.checkpoints = deque([*kept, live])
        self.nbytes = sum(cp.nbytes for cp in self.checkpoints)
        try:
            self.show(exp, live.step)
            same = _same_state(exp.get_state(), live.state())
        except ValueError:  # a checkpoint that does not fit this run
            same = False
        if not same:
            self.checkpoints = deque([live])
            self.nbytes = live.nbytes
            exp.set_state(live.state(), live.training)
        while len(self.checkpoints) > 1 and (
            self.nbytes > self.max_bytes or len(self.checkpoints) > self.max_count
        ):
            self.nbytes -= self.checkpoints.popleft().nbytes
        self.next_step = live.step + self.interval()
        return same

    # ------------------------------------------------------------------ moving
    def nearest(self, step: int) -> int | None:
        """The step :meth:`show` would show for ``step``: clamped to the range."""
        first, last = self.first, self.last
        if first is None or last is None:
            return None
        return max(first, min(int(step), last))

    def show(self, exp: Experiment, step: int) -> int:
        """Put ``exp`` in the exact state after ``step`` (clamped to the range), with the
        trace of that step: restore the checkpoint before it and replay. Returns the step.

        The history is not touched (see :meth:`branch`).
        """
        target = self.nearest(step)
        if target is None:
            raise ValueError("nothing to rewind to")
        base = self.checkpoints[0]
        for cp in self.checkpoints:
            if cp.step < target or cp.step == target == base.step:
                base = cp
            else:
                break
        if base.step > target:  # pragma: no cover - nearest() clamps
            raise ValueError("step before the buffer")
        exp.set_state(base.state(), base.training)
        st = exp.stepper
        while st.steps_done < target and not st.diverged:
            st.step()
        at = self.checkpoints[-1] if self.checkpoints[-1].step == target else None
        if at is None:
            at = next((cp for cp in self.checkpoints if cp.step == target), None)
        if at is not None and at is not base:
            # weights edited after this step (set_param): the step's trace is the
            # replay's, the weights from here on the checkpoint's; the trace keeps the
            # edited layers' weights as the update left them
            edited = at.params()
            if not np.array_equal(exp.network.params, edited, equal_nan=True):
                _keep_edited(st, edited)
                np.copyto(exp.network.params, edited)
        if at is not None and at is not base and at.training is not base.training:
            # the settings were changed after this step: take them (and the optimizer
            # state they left, fresh when the optimizer type changed)
            exp.set_training(at.training)
            st.optimizer.set_state(at.state()["optimizer"])
        return target

    def branch(self, exp: Experiment, step: int, live_step: int) -> None:
        """Training goes on from ``step`` (where ``exp`` is now): drop the later
        checkpoints and the history after it."""
        while self.checkpoints and self.checkpoints[-1].step > step:
            self.nbytes -= self.checkpoints.pop().nbytes
        exp.history.rewind(step, live_step - step)
        self.record(exp)


def _keep_edited(st: Stepper, edited: npt.NDArray[Any]) -> None:
    """Before the network's weights become ``edited`` (a checkpoint's, flat, laid out
    layer by layer like ``params``): the trace keeps each layer that differs as the
    update left it (:func:`~bpviz.core.engine.edits.keep_updated`)."""
    params = st.network.params
    start = 0
    for i, layer in enumerate(st.network.layers, start=1):
        end = start + sum(a.size for a in layer.param_arrays())
        if not np.array_equal(params[start:end], edited[start:end], equal_nan=True):
            keep_updated(st, i)
        start = end


def _same_state(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Whether two :meth:`Stepper.get_state` are the same, bit for bit."""
    if any(a[k] != b[k] for k in ("steps_done", "current_epoch", "pos", "diverged")):
        return False
    if a["order_rng"] != b["order_rng"] or a["dropout_rng"] != b["dropout_rng"]:
        return False
    if not np.array_equal(a["perm"], b["perm"]) or not _same(a["params"], b["params"]):
        return False
    oa, ob = a["optimizer"], b["optimizer"]
    if oa["name"] != ob["name"] or oa["t"] != ob["t"] or oa["slots"].keys() != ob["slots"].keys():
        return False
    for k, arrays in oa["slots"].items():
        other = ob["slots"][k]
        if len(arrays) != len(other) or not all(map(_same, arrays, other)):
            return False
    if len(a["bn"]) != len(b["bn"]):
        return False
    for ea, eb in zip(a["bn"], b["bn"], strict=True):
        if (ea is None) != (eb is None):
            return False
        if ea is not None and (ea.keys() != eb.keys() or not all(_same(ea[k], eb[k]) for k in ea)):
            return False
    return True


def _same(a: Any, b: Any) -> bool:
    """Two arrays with the same shape and the same bits (a NaN equals itself)."""
    x, y = np.asarray(a), np.asarray(b)
    return x.shape == y.shape and x.tobytes() == y.astype(x.dtype).tobytes()
