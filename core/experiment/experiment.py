"""An experiment: one data set, one network, its stepper and its history.

The server only talks to an :class:`Experiment`. ``build.build`` makes one from a
validated :class:`~.config.Config` and the data set it names; the training settings in
force are its ``config.training``, the one place they live (:meth:`Experiment.set_training`
replaces them and hands the engine the values it reads).

This module builds, steps and records the history; the read-only queries the server
builds its messages from are :class:`~.queries.Queries` (its base class), and scoring
is :class:`~.evaluation.Evaluator`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np

from ..data.dataset import Dataset
from ..engine.metrics import task_of
from ..engine.network import Network, NetworkSpec
from ..engine.stepper import Phase, Stepper
from .config import Config, TrainingConfig
from .evaluation import Evaluation, Evaluator
from .history import EvalBudget, History
from .queries import Queries

__all__ = ["Evaluation", "Experiment"]


class Experiment(Queries):
    """Owns the data set, the network, the stepper and the history.

    Attributes:
        config: the config it was built from, with the training settings in force
            (:meth:`set_training` replaces ``config.training``; :attr:`training` reads it).
        dataset: the data set; network: the :class:`Network`; stepper: its :class:`Stepper`.
        history: the decimated :class:`History`.
        eval_max: evaluate on at most this many examples per set (an even stride).
        eval_budget: share of the elapsed time that the history's train/test evaluations
            may take (``None``: evaluate at every kept point; see :class:`EvalBudget`).
            Every kept history point records the step's batch loss and gradient norms;
            its train/test losses and scores come from a fresh :meth:`evaluate` when
            the budget allows, else they are missing (never carried forward). The first
            point after a reset is always evaluated, stepping by hand (slower than the
            budget) evaluates every point, and :meth:`record_now` ends a command on a
            measured point.
        clock: the time source of the budget (seconds; tests may replace it).
    """

    eval_max = 1000
    eval_budget: float | None = 0.1
    clock: Callable[[], float] = staticmethod(time.perf_counter)

    def __init__(self, config: Config, dataset: Dataset) -> None:
        """The experiment of ``config`` on ``dataset`` (what ``config.data`` names: see
        ``build.build``, the one path from a config to an experiment)."""
        self.config = config
        self.dataset = dataset
        X_train = np.asarray(dataset.X_train)
        Y_train = np.asarray(dataset.Y_train)
        net_cfg = config.network
        spec = NetworkSpec(
            n_in=int(X_train.shape[1]),
            hidden=tuple((h.units, h.activation) for h in net_cfg.hidden),
            n_out=int(Y_train.shape[1]),
            loss=net_cfg.loss,
            init=net_cfg.init,
            seed=config.seed,
            dropout=net_cfg.dropout,
            dtype=net_cfg.dtype,
            batchnorm=net_cfg.batchnorm,
            residual=net_cfg.residual,
            output_activation=net_cfg.output,
        )
        self.task = task_of(spec.loss)
        self.network = Network(spec)
        self._give_weights()
        self.stepper = Stepper(self.network, X_train, Y_train, rng=self._order_rng())
        self.history = History()
        self._reset_eval_budget()
        self.set_training(config.training)
        self._evaluator = Evaluator(self.network, dataset, self.task, self.eval_max)

    def _order_rng(self) -> np.random.Generator:
        return np.random.default_rng([self.config.seed, 2])

    def _give_weights(self) -> None:
        """The config's given initial weights (``network.weights``), if any, over the init."""
        given = self.config.network.weights
        if given:
            self.network.set_weights([(layer.W, layer.b) for layer in given])

    # ------------------------------------------------------------ controls
    def reset(self) -> None:
        """Re-initialize the weights from the seed (or the given ones), restart the order,
        clear the history."""
        self.network.reset()
        self._give_weights()
        self.stepper.reset(self._order_rng())
        self.set_training(self.training)
        self.history.clear()
        self._reset_eval_budget()

    def set_training(self, training: TrainingConfig) -> None:
        """Apply training settings live: optimizer type (fresh state only if it changed),
        hyper-parameters (state kept), batch size (from the next step), L1/L2, clipping.
        They become ``config.training``; the engine gets the values it reads."""
        self.config = self.config.model_copy(update={"training": training})
        st = self.stepper
        st.set_optimizer(training.optimizer)
        h = st.hyper
        h.learning_rate, h.momentum, h.rho = training.learning_rate, training.momentum, training.rho
        h.beta1, h.beta2, h.eps = training.beta1, training.beta2, training.eps
        h.weight_decay = training.weight_decay
        st.set_batch_size(training.batch_size)
        st.set_penalties(training.l1, training.l2)
        st.clip_norm = training.clip_norm

    # ------------------------------------------------------------ stepping
    def _after(self, steps_before: int) -> None:
        for _ in range(self.stepper.steps_done - steps_before):
            if self.history.tick():
                self._record()

    def _reset_eval_budget(self) -> None:
        self._budget = EvalBudget(self.clock())

    def _timed_evaluate(self) -> Evaluation:
        start = self.clock()
        ev = self.evaluate()
        self._budget.spent(start, self.clock())
        return ev

    def _history_eval(self) -> Evaluation | None:
        """A fresh :meth:`evaluate` if the time budget allows (:class:`EvalBudget` with
        share ``eval_budget``), else ``None``: the point gets no train/test values."""
        if not self._budget.allows(self.eval_budget, self.clock()):
            return None
        return self._timed_evaluate()

    def _record(self, ev: Evaluation | None = None, step_values: bool = True) -> None:
        """Append the current step to the history: its batch loss and gradient norms
        (unless ``step_values`` is False) and the evaluation ``ev`` (by default, one
        if the budget allows)."""
        if ev is None and step_values:
            ev = self._history_eval()
        trace = self.stepper.trace if step_values else None
        self.history.record(
            self.stepper.steps_done,
            None if ev is None else ev.train_loss,
            None if ev is None else ev.test_loss,
            None if ev is None else ev.train_acc,
            None if ev is None else ev.test_acc,
            None if trace is None else [r.dW_norm for r in trace.layers],
            None if trace is None else [r.delta_mean_norm for r in trace.layers],
            None if trace is None else trace.loss,
        )

    def record_now(self) -> Evaluation | None:
        """End a command (a burst of steps, an epoch, a pause) on a measured point: the
        newest history point becomes the current step with a fresh evaluation, so the
        loss chart, and a status line reading it, end on the numbers :meth:`metrics`
        gives now. A step already recorded with an evaluation is left as it is; one
        recorded without (the budget skipped it) is followed by a point holding only
        the evaluation; one the stride skipped is recorded whole. Nothing happens
        before the first step or in the middle of a step. Returns the evaluation made.
        """
        st, h = self.stepper, self.history
        step = st.steps_done
        if step == 0 or st.cursor != 0 or (h.newest_step == step and h.newest_evaluated):
            return None
        ev = self._timed_evaluate()
        self._record(ev, step_values=h.newest_step != step)
        return ev

    def step_phase(self) -> Phase | None:
        """Run the next phase (see :meth:`Stepper.step_phase`)."""
        before = self.stepper.steps_done
        phase = self.stepper.step_phase()
        self._after(before)
        return phase

    def run_forward(self) -> None:
        """Run the forward phases of the current/next step."""
        before = self.stepper.steps_done
        self.stepper.run_forward()
        self._after(before)

    def run_backward(self) -> None:
        """Run through the backward phases (loss included)."""
        before = self.stepper.steps_done
        self.stepper.run_backward()
        self._after(before)

    def run_update(self) -> None:
        """Run through the update (finishes the step)."""
        self.step()

    def step(self) -> None:
        """Finish the current step, or run one whole step."""
        before = self.stepper.steps_done
        self.stepper.step()
        self._after(before)

    def run_steps(self, n: int) -> int:
        """Run ``n`` steps (stops early on divergence), ending on a measured history point
        (:meth:`record_now`); returns steps applied."""
        done = self._steps(n)
        self.record_now()
        return done

    def _steps(self, n: int) -> int:
        done = 0
        for _ in range(max(0, int(n))):
            if self.stepper.diverged:
                break
            before = self.stepper.steps_done
            self.stepper.step()
            self._after(before)
            done += self.stepper.steps_done - before
        return done

    def epoch(self) -> int:
        """Run until the current pass over the training set ends, ending on a measured
        history point (:meth:`record_now`); returns steps applied."""
        done = 0
        st = self.stepper
        if st.cursor != 0:
            done += self._steps(1)
            if st.epoch_progress >= 1.0:
                self.record_now()
                return done
        while not st.diverged:
            done += self._steps(1)
            if st.epoch_progress >= 1.0:
                break
        self.record_now()
        return done

    # ------------------------------------------------------------ reading
    def evaluate(self) -> Evaluation:
        """Train/test data loss and accuracy (or R²) on at most ``eval_max`` examples per
        set, and the L1/L2 penalty of the weights (see :class:`Evaluation`)."""
        t = self.training
        return self._evaluator.evaluate(self.stepper.steps_done, t.l1, t.l2)

    def metrics(self) -> dict[str, Any]:
        """:meth:`evaluate` plus, for classification, the confusion matrix of the test set
        (the training set when there is none): ``{"train_loss", "test_loss", "train_acc",
        "test_acc", "train_r2", "test_r2", "confusion": {"labels", "matrix"} | None}``,
        ``matrix[true][predicted]`` counts; the losses with the L1/L2 penalty:
        ``"data_loss"`` (= ``train_loss``), ``"penalty"`` and ``"total_loss"`` (their
        sum) for the training set after the step, and ``"batch_data_loss"``,
        ``"batch_penalty"``, ``"batch_total_loss"`` for the last step's mini-batch before
        its update (the trace's ``loss``, ``penalty``, ``objective``; ``None`` before a
        loss phase): :meth:`Evaluator.metrics`."""
        return self._evaluator.metrics(self.evaluate(), self.stepper.trace)

    def get_state(self) -> dict[str, Any]:
        """The exact training state (see :meth:`Stepper.get_state`); with the training
        settings, :meth:`set_state` brings any experiment of the same config back to it."""
        return self.stepper.get_state()

    def set_state(self, state: dict[str, Any], training: TrainingConfig | None = None) -> None:
        """Load a :meth:`get_state` (optionally with the training settings it ran with:
        optimizer type, hyper-parameters, batch size...). The history is not touched."""
        if training is not None:
            self.set_training(training)
        opt = state["optimizer"]["name"]
        if opt != self.stepper.optimizer.name:
            self.stepper.set_optimizer(opt)
        self.stepper.set_state(state)
