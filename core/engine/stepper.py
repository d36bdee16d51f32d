"""Phase-level stepping: one training step as forward 1..L, loss, backward L..1, update.

The phases are the first-class API: :meth:`Stepper.step_phase` runs the next one, and
``run_forward`` / ``run_backward`` / ``run_update`` / ``step`` / ``epoch`` are built from
the same phase functions (a whole ``step()`` calls them in a row inside one
``np.errstate``, so it computes exactly the same numbers as stepping phase by phase).

Every phase writes into the step's :class:`Trace`. The arrays in a trace are the engine's
preallocated buffers and are overwritten by the next step; call :meth:`Trace.snapshot`
to keep one.

Divergence: when the loss, the gradient norm or the update is not finite, the step stops
before touching the weights (they keep their last finite values), ``diverged`` becomes
true and every later phase is a no-op until :meth:`Stepper.reset`. Nothing raises.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

from .activations import FloatArray
from .network import LayerTrace, Network, _json_float
from .optimizers import Hyper, Optimizer, make_optimizer

__all__ = ["Phase", "Stepper", "Trace"]

Phase = tuple[str, int | None]
"""``(kind, layer)``: ``("forward", l)``, ``("loss", None)``, ``("backward", l)``,
``("update", None)``."""


class Trace:
    """Everything one step computed, filled phase by phase.

    Attributes:
        step: number of this step (1 for the first step after a reset).
        epoch: 1-based pass over the training set this batch belongs to.
        batch: indices into the training set ``(B,)``.
        x: inputs ``a⁽⁰⁾`` ``(B, n_in)``; y: targets ``(B, n_out)``.
        layers: one :class:`~bpviz.core.engine.network.LayerTrace` per layer (``layers[l-1]``).
        loss: mean data loss of the batch; penalty: L1/L2 term; objective: their sum.
        output_delta: ``δ⁽ᴸ⁾`` ``(B, n_out)`` from the loss phase.
        grad_norm: global gradient norm ``sqrt(Σ ‖dW‖² + ‖db‖²)`` before clipping.
        clip_scale: factor applied to the gradients (1.0 when not clipped).
        clipped: whether clipping changed the gradients.
        phases_done: how many phases of this step have run.
        complete: the update was applied.
        diverged: this step hit a non-finite value; diverged_reason says where.
    """

    step: int = 0
    epoch: int = 0
    batch: npt.NDArray[np.intp] | None = None
    x: FloatArray | None = None
    y: FloatArray | None = None
    loss: float | None = None
    penalty: float | None = None
    objective: float | None = None
    output_delta: FloatArray | None = None
    grad_norm: float | None = None
    clip_scale: float = 1.0
    clipped: bool = False
    phases_done: int = 0
    complete: bool = False
    diverged: bool = False
    diverged_reason: str | None = None

    def __init__(self, layers: list[LayerTrace]) -> None:
        self.layers = layers

    def snapshot(self) -> Trace:
        """A deep copy owning its arrays (safe to keep after later steps)."""
        new = Trace([rec.snapshot() for rec in self.layers])
        new.__dict__.update(
            {k: v for k, v in self.__dict__.items() if k not in ("layers", "x", "y", "batch")}
        )
        new.x = None if self.x is None else self.x.copy()
        new.y = None if self.y is None else self.y.copy()
        new.batch = None if self.batch is None else self.batch.copy()
        if self.output_delta is not None:
            new.output_delta = new.layers[-1].delta
        return new

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (arrays as lists, non-finite floats as ``None``)."""
        return {
            "step": self.step,
            "epoch": self.epoch,
            "batch": None if self.batch is None else self.batch.tolist(),
            "x": None if self.x is None else self.x.tolist(),
            "y": None if self.y is None else self.y.tolist(),
            "loss": _json_float(self.loss),
            "penalty": _json_float(self.penalty),
            "objective": _json_float(self.objective),
            "grad_norm": _json_float(self.grad_norm),
            "clip_scale": _json_float(self.clip_scale),
            "clipped": self.clipped,
            "phases_done": self.phases_done,
            "complete": self.complete,
            "diverged": self.diverged,
            "diverged_reason": self.diverged_reason,
            "layers": [rec.to_dict() for rec in self.layers],
        }


class Stepper:
    """Runs training steps on a network phase by phase, recording a :class:`Trace`.

    Args:
        network: the network to train (its weights are updated in place).
        X_train: inputs ``(N, n_in)``; Y_train: targets ``(N, n_out)``.
        batch_size: examples per step (1 = one example; the last batch of an epoch
            may be smaller).
        rng: seeded generator for the per-epoch shuffled order.
        optimizer: an :class:`Optimizer` or its name.
        l1, l2: penalty weights added to ``dW``.
        clip_norm: clip gradients to this global norm (0 = off).
        hyper: hyper-parameters when ``optimizer`` is a name.
    """

    def __init__(
        self,
        network: Network,
        X_train: npt.ArrayLike,
        Y_train: npt.ArrayLike,
        batch_size: int = 10,
        rng: np.random.Generator | None = None,
        optimizer: Optimizer | str = "sgd",
        l1: float = 0.0,
        l2: float = 0.0,
        clip_norm: float = 0.0,
        hyper: Hyper | None = None,
    ) -> None:
        self.network = network
        self.rng = rng if rng is not None else np.random.default_rng(0)
        self.optimizer = (
            make_optimizer(optimizer, hyper) if isinstance(optimizer, str) else optimizer
        )
        self._l1 = 0.0
        self._l2 = 0.0
        self.set_penalties(l1, l2)
        self.clip_norm = float(clip_norm)
        self.set_data(X_train, Y_train)
        self.batch_size = 1
        self.set_batch_size(batch_size)
        self._init_state()

    # ----------------------------------------------------------------- set-up
    def _init_state(self) -> None:
        self._cursor = 0
        self._trace: Trace | None = None
        self._diverged = False
        self.steps_done = 0
        self.current_epoch = 0
        self._perm: npt.NDArray[np.intp] = np.arange(0)
        self._pos = self.n_train  # forces a fresh shuffled order at the first step
        self._phases = self._make_phases()
        self._a: FloatArray | None = None
        self._g: FloatArray | None = None
        self._batch_cache: dict[int, tuple[FloatArray, FloatArray]] = {}
        self._safe_bound = float(np.finfo(self.network.dtype).max) * 1e-3
        self._start: dict[str, Any] | None = None  # state before a step run phase by phase

    def _make_phases(self) -> list[Phase]:
        L = self.network.n_layers
        fwd: list[Phase] = [("forward", i) for i in range(1, L + 1)]
        bwd: list[Phase] = [("backward", i) for i in range(L, 0, -1)]
        return [*fwd, ("loss", None), *bwd, ("update", None)]

    def set_data(self, X_train: npt.ArrayLike, Y_train: npt.ArrayLike) -> None:
        """Replace the training set (``(N, n_in)``, ``(N, n_out)``); takes effect next epoch."""
        dt = self.network.dtype
        X = np.ascontiguousarray(X_train, dtype=dt)
        Y = np.ascontiguousarray(Y_train, dtype=dt)
        if X.ndim != 2 or Y.ndim != 2 or X.shape[0] != Y.shape[0] or X.shape[0] == 0:
            raise ValueError("X_train (N, n_in) and Y_train (N, n_out) must have N >= 1 rows")
        if X.shape[1] != self.network.spec.n_in or Y.shape[1] != self.network.spec.n_out:
            raise ValueError("data shape does not match the network")
        self.X_train = X
        self.Y_train = Y
        self.n_train = int(X.shape[0])
        self._pos = self.n_train

    def set_batch_size(self, batch_size: int) -> None:
        """Examples per step, clamped to ``[1, N]``; applies from the next step."""
        self.batch_size = max(1, min(int(batch_size), self.n_train))

    def set_optimizer(self, name: str) -> None:
        """Switch optimizer type (fresh state) keeping the hyper-parameters; same name: no-op."""
        if name != self.optimizer.name:
            self.optimizer = make_optimizer(name, self.optimizer.hyper)

    def set_penalties(self, l1: float, l2: float) -> None:
        """L1/L2 penalty weights (added to ``dW`` from the next backward phase)."""
        self._l1 = float(l1)
        self._l2 = float(l2)
        self.network.set_penalties(self._l1, self._l2)

    @property
    def l1(self) -> float:
        """L1 penalty weight."""
        return self._l1

    @property
    def l2(self) -> float:
        """L2 penalty weight."""
        return self._l2

    @property
    def hyper(self) -> Hyper:
        """The live hyper-parameters (edit fields between steps; state is kept)."""
        return self.optimizer.hyper

    def reset(self, rng: np.random.Generator | None = None) -> None:
        """Forget progress: cursor 0, no trace, not diverged, fresh optimizer state and order.

        The network's weights are not touched (call ``network.reset()`` for that).
        """
        if rng is not None:
            self.rng = rng
        self.optimizer.reset()
        for layer in self.network.layers:
            layer.rec = None
        self._init_state()

    # ------------------------------------------------------------------ state
    def phases(self) -> list[Phase]:
        """The phases of one step, in order: forward 1..L, loss, backward L..1, update."""
        return list(self._phases)

    @property
    def cursor(self) -> int:
        """Index in :meth:`phases` of the next phase to run (0 = a new step starts)."""
        return self._cursor

    @property
    def next_phase(self) -> Phase:
        """The phase :meth:`step_phase` would run next."""
        return self._phases[self._cursor]

    @property
    def trace(self) -> Trace | None:
        """The trace of the current (or last) step; ``None`` before the first step."""
        return self._trace

    @property
    def diverged(self) -> bool:
        """True once a non-finite loss/gradient/update was met (until :meth:`reset`)."""
        return self._diverged

    @property
    def epoch_progress(self) -> float:
        """Fraction of the current epoch's examples already drawn."""
        return min(self._pos, self.n_train) / int(self.n_train)

    def steps_to_epoch_end(self, epochs: int = 1) -> int:
        """Full steps that :meth:`epoch` would run ``epochs`` times in a row (with the
        current batch size); a step in progress counts as one."""
        per_epoch = -(-self.n_train // self.batch_size)
        left = self.n_train - self._pos
        if self._cursor != 0:
            # finishing the step in progress; if it ends the pass, that counts as one epoch
            rest = -(-left // self.batch_size) if left > 0 else 0
            return 1 + rest + (epochs - 1) * per_epoch
        first = -(-left // self.batch_size) if left > 0 else per_epoch
        return first + (epochs - 1) * per_epoch

    @property
    def epochs(self) -> float:
        """Passes over the training set so far, e.g. ``2.25`` (``0.0`` before the first step)."""
        if self.current_epoch == 0:
            return 0.0
        return self.current_epoch - 1 + self.epoch_progress

    def get_state(self) -> dict[str, Any]:
        """The exact training state at the last step boundary, as copies.

        ``{"steps_done", "current_epoch", "perm" (the epoch's order, ``(N,)``; shared,
        never changed in place), "pos", "order_rng", "dropout_rng" (bit-generator states),
        "params" ``(P,)``, "bn" (:meth:`Network.get_bn_state`), "optimizer"
        (:meth:`Optimizer.get_state`), "diverged"}``. In the middle of a step (after
        :meth:`step_phase`) it is the state before that step began: loading it and
        running one step gives exactly the numbers of finishing the step.
        """
        if self._cursor != 0 and self._start is not None:
            return self._start
        return self._boundary_state()

    def _boundary_state(self) -> dict[str, Any]:
        net = self.network
        return {
            "steps_done": self.steps_done,
            "current_epoch": self.current_epoch,
            "perm": self._perm,
            "pos": self._pos,
            "order_rng": self.rng.bit_generator.state,
            "dropout_rng": net.rng.bit_generator.state,
            "params": net.params.copy(),
            "bn": net.get_bn_state(),
            "optimizer": self.optimizer.get_state(),
            "diverged": self._diverged,
        }

    def set_state(self, state: Mapping[str, Any]) -> None:
        """Load what :meth:`get_state` returned; the cursor is at a step boundary, with no
        trace. The optimizer type must be the one the state came from (set it first).

        Raises ``ValueError`` on shapes that do not fit this network or data.
        """
        net = self.network
        params = np.asarray(state["params"], dtype=net.dtype)
        if params.shape != net.params.shape:
            raise ValueError(f"params: expected {net.params.shape}, got {params.shape}")
        perm = np.asarray(state["perm"], dtype=np.intp)
        pos = int(state["pos"])
        if perm.ndim != 1 or (perm.size and perm.size != self.n_train):
            raise ValueError("perm must be a permutation of the training set")
        if perm.size and not np.array_equal(np.sort(perm), np.arange(self.n_train)):
            raise ValueError("perm must be a permutation of the training set")
        if not (0 <= pos <= self.n_train):
            raise ValueError("pos out of range")
        if not np.isfinite(params).all():
            raise ValueError("params must be finite")
        self.optimizer.set_state(state["optimizer"])
        net.set_bn_state(state["bn"])
        self.rng.bit_generator.state = state["order_rng"]
        net.rng.bit_generator.state = state["dropout_rng"]
        np.copyto(net.params, params)
        for layer in net.layers:
            layer.rec = None
        self._perm = perm if perm.size else np.arange(0)
        self._pos = pos if perm.size else self.n_train
        self.steps_done = int(state["steps_done"])
        self.current_epoch = int(state["current_epoch"])
        self._diverged = bool(state.get("diverged", False))
        self._cursor = 0
        self._trace = None
        self._a = self._g = None
        self._start = None

    # ---------------------------------------------------------------- phases
    def _begin_step(self) -> None:
        n = self.n_train
        if self._pos >= n:
            self._perm = self.rng.permutation(n)
            self._pos = 0
            self.current_epoch += 1
        idx = self._perm[self._pos : self._pos + self.batch_size]
        self._pos += idx.shape[0]
        B = idx.shape[0]
        bufs = self._batch_cache.get(B)
        if bufs is None:
            if len(self._batch_cache) >= 4:
                self._batch_cache.clear()
            dt = self.network.dtype
            bufs = (
                np.empty((B, self.X_train.shape[1]), dt),
                np.empty((B, self.Y_train.shape[1]), dt),
            )
            self._batch_cache[B] = bufs
        x, y = bufs
        # mode="clip": the indices come from a permutation, always in range; the default
        # mode="raise" gathers into a temporary first and copies (twice the work).
        self.X_train.take(idx, axis=0, out=x, mode="clip")
        self.Y_train.take(idx, axis=0, out=y, mode="clip")
        layers = self.network.layers
        recs = []
        for layer in layers:
            layer.prepare(B)
            rec = LayerTrace(layer.index, layer.activation.name)
            layer.rec = rec
            recs.append(rec)
        trace = Trace(recs)
        trace.step = self.steps_done + 1
        trace.epoch = self.current_epoch
        trace.batch = idx
        trace.x = x
        trace.y = y
        self._trace = trace
        self._a = x
        self._g = None

    def _forward(self, i: int) -> None:
        assert self._a is not None
        self._a = self.network.layers[i].forward(self._a, True)

    def _loss(self, trace: Trace) -> bool:
        net = self.network
        out = net.layers[-1]
        rec = trace.layers[-1]
        assert rec.z is not None and rec.a is not None and trace.y is not None
        loss = net.loss.value(rec.a, trace.y, rec.z)
        penalty = net.penalty(self.l1, self.l2)
        trace.loss = loss
        trace.penalty = penalty
        trace.objective = loss + penalty
        if not math.isfinite(trace.objective):
            return self._diverge(trace, "loss")
        self._g = net.loss.output_delta(rec.z, rec.a, trace.y, out=out.delta_buffer)
        trace.output_delta = self._g
        return True

    def _backward(self, i: int) -> None:
        layer = self.network.layers[i]
        assert self._g is not None
        self._g = layer.backward(self._g)

    def _update(self, trace: Trace) -> bool:
        net = self.network
        grads = net.grads
        gnorm = math.sqrt(grads.dot(grads))
        trace.grad_norm = gnorm
        if not math.isfinite(gnorm):
            return self._diverge(trace, "gradient")
        scale = 1.0
        if 0.0 < self.clip_norm < gnorm:
            scale = self.clip_norm / gnorm
        trace.clip_scale = scale
        trace.clipped = scale != 1.0
        opt = self.optimizer
        opt.begin_step()
        upd = net.updates
        opt.compute(0, net.params, grads, upd, scale, net.decay_mask)
        # The finiteness check of ΔW is a pass over all parameters; skip it when the
        # optimizer proves a finite bound on |ΔW| far below the largest float.
        bound = opt.update_bound(gnorm, scale)
        if not (bound < self._safe_bound) and not math.isfinite(upd.dot(upd)):
            return self._diverge(trace, "update")
        np.add(net.params, upd, net.params)
        for layer in net.layers:
            layer.record_update()
        trace.complete = True
        self.steps_done += 1
        return True

    def _diverge(self, trace: Trace, reason: str) -> bool:
        trace.diverged = True
        trace.diverged_reason = reason
        self._diverged = True
        return False

    def _run_phase(self) -> Phase:
        """Run the phase at the cursor (inside an errstate), advance the cursor."""
        c = self._cursor
        phase = self._phases[c]
        L = self.network.n_layers
        if c == 0:
            self._start = self._boundary_state()
            self._begin_step()
        trace = self._trace
        assert trace is not None
        if c < L:
            self._forward(c)
        elif c == L:
            if not self._loss(trace):
                trace.phases_done = c + 1
                return phase
        elif c <= 2 * L:
            self._backward(2 * L - c)
        elif not self._update(trace):
            trace.phases_done = c + 1
            return phase
        trace.phases_done = c + 1
        self._cursor = 0 if c + 1 == len(self._phases) else c + 1
        return phase

    # ---------------------------------------------------------------- public
    def step_phase(self) -> Phase | None:
        """Run the next phase; returns it, or ``None`` (no-op) once diverged."""
        if self._diverged:
            return None
        with np.errstate(all="ignore"):
            return self._run_phase()

    def _run_to(self, target: int) -> None:
        """Run phases until the cursor equals ``target`` (wrapping through a new step)."""
        if self._diverged:
            return
        n = len(self._phases)
        with np.errstate(all="ignore"):
            if target == 0 and self._cursor == 0:
                self._run_step()  # a whole step: the same phases without the dispatch
                return
            if self._cursor > target:
                while True:  # finish the current step
                    self._run_phase()
                    if self._diverged or self._cursor == 0:
                        break
            while self._cursor < target and self._cursor < n and not self._diverged:
                self._run_phase()

    def _run_step(self) -> None:
        """Run all phases of one step in a row (the caller holds the ``np.errstate``).

        Calls the same phase functions as :meth:`_run_phase` in the same order and leaves
        the same state (cursor, ``phases_done``, divergence), so it computes exactly the
        numbers of stepping phase by phase; it only skips the per-phase dispatch.
        """
        self._start = None
        self._begin_step()
        trace = self._trace
        assert trace is not None
        layers = self.network.layers
        L = len(layers)
        a = self._a
        assert a is not None
        for layer in layers:
            a = layer.forward(a, True)
        self._a = a
        if not self._loss(trace):
            trace.phases_done = L + 1
            self._cursor = L
            return
        g = self._g
        for layer in reversed(layers):
            assert g is not None
            g = layer.backward(g)
        self._g = g
        if not self._update(trace):
            trace.phases_done = 2 * L + 2
            self._cursor = 2 * L + 1
            return
        trace.phases_done = 2 * L + 2
        self._cursor = 0

    def run_forward(self) -> None:
        """Run the remaining forward phases of this step (or finish it and run the next's)."""
        self._run_to(self.network.n_layers)

    def run_backward(self) -> None:
        """Run up to and including backward layer 1 (loss and backward phases)."""
        self._run_to(2 * self.network.n_layers + 1)

    def run_update(self) -> None:
        """Run through the update (same as :meth:`step`)."""
        self._run_to(0)

    def step(self) -> None:
        """Finish the current step if one is midway, else run one whole step."""
        self._run_to(0)

    def run_steps(self, n: int) -> int:
        """Run ``n`` whole steps (the first one finishes a step midway); returns steps applied."""
        before = self.steps_done
        for _ in range(max(0, int(n))):
            if self._diverged:
                break
            self._run_to(0)
        return self.steps_done - before

    def epoch(self) -> int:
        """Run steps until the current pass over the training set ends; returns steps run.

        Finishes a step midway first; when the last pass just ended, runs a whole new one.
        """
        before = self.steps_done
        if self._cursor != 0:
            self._run_to(0)
            if self._pos >= self.n_train:
                return self.steps_done - before
        while not self._diverged:
            self._run_to(0)
            if self._pos >= self.n_train:
                break
        return self.steps_done - before
