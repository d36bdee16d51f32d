"""Phase-level stepping: one training step as forward 1..L, loss, backward L..1, update.

The phases are the first-class API: :meth:`Stepper.step_phase` runs the next one, and
``run_forward`` / ``run_backward`` / ``run_update`` / ``step`` / ``epoch`` are built from
the same phase functions (a whole ``step()`` calls them in a row inside one
``np.errstate``, so it computes exactly the same numbers as stepping phase by phase).

Every phase writes into the step's :class:`~.trace.Trace`. The arrays in a trace are
the engine's preallocated buffers and are overwritten by the next step; call
:meth:`Trace.snapshot` to keep one.

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
from .batches import Batches
from .network import Network
from .optimizers import Hyper, Optimizer, make_optimizer
from .state import load_state, take_state
from .trace import StepHyper, Trace
from .update import Update

__all__ = ["Phase", "Stepper", "Trace"]

Phase = tuple[str, int | None]
"""``(kind, layer)``: ``("forward", l)``, ``("loss", None)``, ``("backward", l)``,
``("update", None)``."""


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
        self.optimizer = (
            make_optimizer(optimizer, hyper) if isinstance(optimizer, str) else optimizer
        )
        self._l1 = 0.0
        self._l2 = 0.0
        self.set_penalties(l1, l2)
        self.clip_norm = float(clip_norm)
        rng = rng if rng is not None else np.random.default_rng(0)
        self.batches = Batches(X_train, Y_train, network.dtype, batch_size, rng)
        self._apply = Update(network)
        if (
            self.batches.X.shape[1] != network.spec.n_in
            or self.batches.Y.shape[1] != network.spec.n_out
        ):
            raise ValueError("data shape does not match the network")
        L = network.n_layers
        fwd: list[Phase] = [("forward", i) for i in range(1, L + 1)]
        bwd: list[Phase] = [("backward", i) for i in range(L, 0, -1)]
        self._phases = [*fwd, ("loss", None), *bwd, ("update", None)]
        self._init_state()

    # ----------------------------------------------------------------- set-up
    def _init_state(self) -> None:
        self._clear_step()
        self._diverged = False
        self.steps_done = 0
        self.batches.restart()

    def _clear_step(self) -> None:
        """No step in progress, no trace; the layers record nothing."""
        for layer in self.network.layers:
            layer.rec = None
        self._cursor = 0
        self._trace: Trace | None = None
        self._a: FloatArray | None = None
        self._g: FloatArray | None = None
        self._start: dict[str, Any] | None = None  # state before a step run phase by phase
        self._apply.expire()

    def set_batch_size(self, batch_size: int) -> None:
        """Examples per step, clamped to ``[1, N]``; applies from the next step."""
        self.batches.set_batch_size(batch_size)

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
    def batch_size(self) -> int:
        """Examples per step (the last batch of an epoch may be smaller)."""
        return self.batches.batch_size

    @property
    def hyper(self) -> Hyper:
        """The live hyper-parameters (edit fields between steps; state is kept)."""
        return self.optimizer.hyper

    def step_hyper(self, batch_size: int) -> StepHyper:
        """The settings in force now, as the record a trace keeps (``batch_size`` given)."""
        opt = self.optimizer
        return StepHyper(
            opt.name, *opt.hyper.values(), self._l1, self._l2, self.clip_norm, batch_size
        )

    def reset(self, rng: np.random.Generator | None = None) -> None:
        """Forget progress: cursor 0, no trace, not diverged, fresh optimizer state and order.

        The network's weights are not touched (call ``network.reset()`` for that).
        """
        if rng is not None:
            self.batches.rng = rng
        self.optimizer.reset()
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
        return self.batches.progress

    def steps_to_epoch_end(self, epochs: int = 1) -> int:
        """Full steps that :meth:`epoch` would run ``epochs`` times in a row (with the
        current batch size); a step in progress counts as one."""
        return self.batches.batches_to_epoch_end(epochs, self._cursor != 0)

    @property
    def epochs(self) -> float:
        """Passes over the training set so far, e.g. ``2.25`` (``0.0`` before the first step)."""
        epoch = self.batches.epoch
        return 0.0 if epoch == 0 else epoch - 1 + self.batches.progress

    def get_state(self) -> dict[str, Any]:
        """The exact training state at the last step boundary, as copies (its keys:
        :mod:`.state`). In the middle of a step (after :meth:`step_phase`) it is the state
        before that step began: loading it and running one step gives exactly the numbers
        of finishing the step.
        """
        if self._cursor != 0 and self._start is not None:
            return self._start
        return take_state(self)

    def set_state(self, state: Mapping[str, Any]) -> None:
        """Load what :meth:`get_state` returned; the cursor is at a step boundary, with no
        trace. The optimizer type must be the one the state came from (set it first).

        Raises ``ValueError`` on shapes that do not fit this network or data.
        """
        load_state(self, state)
        self.steps_done = int(state["steps_done"])
        self._diverged = bool(state.get("diverged", False))
        self._clear_step()

    # ---------------------------------------------------------------- phases
    def _begin_step(self) -> None:
        self._apply.expire()
        batches = self.batches
        idx, x, y = batches.next()
        B = idx.shape[0]
        recs = []
        for layer in self.network.layers:
            layer.prepare(B)
            recs.append(layer.new_record())
        trace = Trace(recs)
        trace.step = self.steps_done + 1
        trace.epoch = batches.epoch
        trace.batch = idx
        trace.x = x
        trace.y = y
        trace.hyper = self.step_hyper(batches.batch_size)
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
        penalty = net.penalty(self._l1, self._l2)
        trace.loss = loss
        trace.penalty = penalty
        trace.objective = loss + penalty
        if not math.isfinite(trace.objective):
            return self._diverge(trace, "loss")
        self._g = net.loss.output_delta(rec.z, rec.a, trace.y, out.delta_buffer)
        trace.output_delta = self._g
        return True

    def _backward(self, i: int) -> None:
        assert self._g is not None
        self._g = self.network.layers[i].backward(self._g)

    def _update(self, trace: Trace) -> bool:
        hyper = trace.hyper
        assert hyper is not None
        trace.hyper = self.step_hyper(hyper.batch_size)  # what this update applies
        reason = self._apply.run(trace, self.optimizer, self.clip_norm)
        if reason is not None:
            return self._diverge(trace, reason)
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
            self._start = take_state(self)
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
        batches = self.batches
        if self._cursor != 0:
            self._run_to(0)
            if batches.pos >= batches.n:
                return self.steps_done - before
        while not self._diverged:
            self._run_to(0)
            if batches.pos >= batches.n:
                break
        return self.steps_done - before
