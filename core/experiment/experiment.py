"""An experiment: one data set, one network, its stepper and its history.

The server only talks to an :class:`Experiment`. ``build.build`` makes one from a
validated :class:`~.config.Config` and the data set it names; the training settings in
force are its ``config.training``, the one place they live (:meth:`Experiment.set_training`
replaces them and hands the engine the values it reads).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from ..data.dataset import Dataset
from ..engine.activations import FloatArray
from ..engine.edits import set_param
from ..engine.metrics import accuracy, confusion_matrix, r2_score, task_of
from ..engine.network import Network, NetworkSpec
from ..engine.stepper import Phase, Stepper, Trace
from .config import Config, TrainingConfig
from .gradcheck import GradCheckRun
from .history import EvalBudget, History

__all__ = ["Evaluation", "Experiment"]


@dataclass(frozen=True)
class Evaluation:
    """Losses and scores on the train and test sets (``None`` where not applicable).

    ``train_loss`` and ``test_loss`` are data losses (the loss function alone, mean over
    the examples). ``penalty`` is the L1/L2 term of the weights at that step,
    ``λ₁ Σ|W| + ½ λ₂ Σ W²`` (0 when both are off); ``total_loss`` = ``train_loss`` +
    ``penalty`` is what training minimizes, and ``data_loss`` names ``train_loss`` again
    beside them. ``*_acc`` for classification, ``*_r2`` for regression; test numbers are
    ``None`` when there is no test set.
    """

    step: int
    train_loss: float
    test_loss: float | None
    train_acc: float | None
    test_acc: float | None
    train_r2: float | None
    test_r2: float | None
    penalty: float = 0.0

    @property
    def data_loss(self) -> float:
        """The training set's data loss (= ``train_loss``)."""
        return self.train_loss

    @property
    def total_loss(self) -> float:
        """``train_loss + penalty``: the training objective."""
        return self.train_loss + self.penalty

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict: the fields plus ``data_loss`` and ``total_loss``."""
        return self.__dict__ | {"data_loss": self.data_loss, "total_loss": self.total_loss}


def _subset(X: FloatArray, Y: FloatArray, max_n: int) -> tuple[FloatArray, FloatArray]:
    n = X.shape[0]
    if n <= max_n:
        return X, Y
    stride = -(-n // max_n)
    return X[::stride], Y[::stride]


class Experiment:
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
        dt = self.network.dtype
        self._eval_train = _subset(np.asarray(X_train, dt), np.asarray(Y_train, dt), self.eval_max)
        X_test = np.asarray(dataset.X_test, dt)
        Y_test = np.asarray(dataset.Y_test, dt)
        self._eval_test = _subset(X_test, Y_test, self.eval_max) if X_test.shape[0] > 0 else None

    @property
    def training(self) -> TrainingConfig:
        """The training settings in force: ``config.training``."""
        return self.config.training

    @classmethod
    def from_config(cls, config: Config, dataset: Dataset | None = None) -> Experiment:
        """Transition: ``build.build(config)``, or ``config`` on the given ``dataset``."""
        from .build import build

        # transition: callers move to build.build
        return cls(config, dataset) if dataset is not None else build(config)

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
        X, Y = self._eval_train
        tr_loss, tr_acc, tr_r2 = self._scores(X, Y)
        te_loss = te_acc = te_r2 = None
        if self._eval_test is not None:
            te_loss, te_acc, te_r2 = self._scores(*self._eval_test)
        t = self.training
        penalty = self.network.penalty(float(t.l1), float(t.l2))
        return Evaluation(
            self.stepper.steps_done, tr_loss, te_loss, tr_acc, te_acc, tr_r2, te_r2, penalty
        )

    def _scores(self, X: FloatArray, Y: FloatArray) -> tuple[float, float | None, float | None]:
        net = self.network
        z, a = net.output_z(X)
        with np.errstate(all="ignore"):
            loss = net.loss.value(a, Y, z)
            if self.task == "regression":
                return loss, None, r2_score(a, Y)
            return loss, accuracy(a, Y), None

    def metrics(self) -> dict[str, Any]:
        """:meth:`evaluate` plus, for classification, the confusion matrix of the test set
        (the training set when there is none): ``{"train_loss", "test_loss", "train_acc",
        "test_acc", "train_r2", "test_r2", "confusion": {"labels", "matrix"} | None}``,
        ``matrix[true][predicted]`` counts; the losses with the L1/L2 penalty:
        ``"data_loss"`` (= ``train_loss``), ``"penalty"`` and ``"total_loss"`` (their
        sum) for the training set after the step, and ``"batch_data_loss"``,
        ``"batch_penalty"``, ``"batch_total_loss"`` for the last step's mini-batch before
        its update (the trace's ``loss``, ``penalty``, ``objective``; ``None`` before a
        loss phase)."""
        out = self.evaluate().to_dict()
        out.pop("step", None)
        trace = self.stepper.trace
        batch = (None,) * 3 if trace is None else (trace.loss, trace.penalty, trace.objective)
        for key, value in zip(("data_loss", "penalty", "total_loss"), batch, strict=True):
            out[f"batch_{key}"] = None if value is None else float(value)
        confusion = None
        if self.task != "regression":
            X, Y = self._eval_test if self._eval_test is not None else self._eval_train
            with np.errstate(all="ignore"):
                cm = confusion_matrix(self.network.predict(X), Y)
            names = self.dataset.class_names
            k = cm.shape[0]
            labels = [str(n) for n in names] if names and len(names) == k else list(range(k))
            confusion = {"labels": labels, "matrix": cm.tolist()}
        out["confusion"] = confusion
        return out

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

    def predict(self, X: npt.ArrayLike) -> FloatArray:
        """Network output ``(N, n_out)`` for ``X (N, n_in)`` (inference)."""
        return self.network.predict(X)

    def phases(self) -> list[Phase]:
        """The phases of one step."""
        return self.stepper.phases()

    @property
    def cursor(self) -> int:
        """Index of the next phase."""
        return self.stepper.cursor

    @property
    def diverged(self) -> bool:
        """True once training hit a non-finite value (until :meth:`reset`)."""
        return self.stepper.diverged

    @property
    def trace(self) -> Trace | None:
        """The current/last step's trace (buffers; ``snapshot()`` to keep)."""
        return self.stepper.trace

    @property
    def steps_done(self) -> int:
        """Completed steps since the last reset."""
        return self.stepper.steps_done

    # ------------------------------------------------------------ queries (read-only)
    # What the server builds its messages from: it asks the experiment, never its
    # stepper, network, history or data set directly. Nothing here changes the run.

    @property
    def epochs(self) -> float:
        """Passes over the training set so far, e.g. ``2.25`` (``0.0`` before any step)."""
        return self.stepper.epochs

    def steps_to_epoch_end(self, epochs: int = 1) -> int:
        """Full steps that ``epochs`` calls of :meth:`epoch` would run (a step in progress
        counts as one)."""
        return self.stepper.steps_to_epoch_end(epochs)

    @property
    def n_params(self) -> int:
        """Total number of scalar parameters ``P``."""
        return self.network.n_params

    @property
    def layers(self) -> list[Any]:
        """The weight layers, ``layers[l-1]`` is layer ``l`` (``1..L``): to read, never to
        write — ``W`` (n_out, n_in), ``b`` (n_out,), ``n_in``, ``n_out``, ``activation.name``,
        ``is_output`` (live arrays: copy what must outlive the next step)."""
        return self.network.layers

    @property
    def residual_layers(self) -> tuple[int, ...]:
        """Numbers of the layers with an identity skip."""
        return self.network.skip_layers

    def last_recorded(self, column: str) -> float | None:
        """The history's newest value of a scalar column (``"train_loss"`` …), as the
        loss chart shows it; ``None`` when there is none."""
        return self.history.last(column)

    def history_since(self, seq: int, generation: int | None) -> dict[str, Any]:
        """History points newer than ``seq`` (see :meth:`History.since`)."""
        return self.history.since(seq, generation)

    def _data(self) -> Any:
        # The data set record (``DatasetLike`` names only the arrays training needs).
        return self.dataset

    def data_summary(self) -> dict[str, Any]:
        """The data set described for the page (names, sizes, scaling, and the points for
        one or two features): ``Dataset.to_dict()``."""
        out: dict[str, Any] = self._data().to_dict()
        return out

    @property
    def n_features(self) -> int:
        """Inputs per example (the network's: with input features, their count)."""
        return int(self.dataset.X_train.shape[1])

    @property
    def n_inputs(self) -> int:
        """Inputs of a point before the input features (``n_features`` without them)."""
        return int(self._data().n_inputs)

    def input_grid(self, resolution: int) -> tuple[list[FloatArray], FloatArray] | None:
        """The data's input domain sampled for a decision boundary (2 inputs) or a fitted
        curve (1 input): ``(axes, X)``, one axis ``(resolution,)`` per input and the
        network's inputs ``X`` of the points, ``(resolution, n_features)`` or
        ``(resolution², n_features)`` with the first input varying fastest (rows of the
        grid from the lowest second input up); with input features, ``X`` holds the
        features of each point. ``None`` for more inputs or no domain."""
        domain = self._data().domain
        if domain is None or self.n_inputs not in (1, 2):
            return None
        axes = [np.linspace(lo, hi, resolution) for lo, hi in domain]
        if len(axes) == 1:
            return axes, axes[0][:, None]
        gx, gy = np.meshgrid(axes[0], axes[1])
        return axes, self._data().inputs_of(np.column_stack([gx.ravel(), gy.ravel()]))

    def set_param(self, layer: int, param: str, index: Sequence[int], value: float) -> float:
        """Set one weight ``W[i, j]`` or bias ``b[i]`` of layer ``layer`` at a step boundary;
        returns the value stored (:func:`~bpviz.core.engine.edits.set_param`; raises its
        ``ParamError``). The rewind buffer must checkpoint right after (``Rewind.record``)."""
        return set_param(self.stepper, layer, param, index, value)

    def activations(self, X: npt.ArrayLike) -> list[FloatArray]:
        """Every layer's activations for ``X (N, n_in)``, inference: ``[a⁽⁰⁾=X, a⁽¹⁾, …,
        a⁽ᴸ⁾]`` (no dropout, BatchNorm with its running averages)."""
        return self.network.forward_all(X)

    def gradient_check(
        self, n_examples: int, budget_s: float = 2.0, slice_s: float = 0.04
    ) -> GradCheckRun:
        """Backprop's gradient against central differences on the first ``n_examples``
        training examples (one batch; fewer when one finite difference would take more
        than ``slice_s``), with the current L1/L2 penalties, within ``budget_s`` seconds:
        a :class:`~.gradcheck.GradCheckRun` to run in slices (its ``result()`` is
        ``GradCheckResult.to_dict()``). The network is not changed."""
        ds, t = self.dataset, self.training
        return GradCheckRun(
            self.network,
            ds.X_train[:n_examples],
            ds.Y_train[:n_examples],
            l1=float(t.l1),
            l2=float(t.l2),
            budget_s=budget_s,
            slice_s=slice_s,
        )

    def cost_scaling(
        self, n_examples: int, budget_s: float, sizes: tuple[int, ...] | None = None
    ) -> list[dict[str, Any]]:
        """Backprop against finite differences for networks of several sizes like this one
        (see :func:`~bpviz.core.engine.gradcheck.cost_scaling`; ``sizes``: its default
        ``SCALING_SIZES``), on the first ``n_examples`` training examples."""
        from ..engine.gradcheck import SCALING_SIZES, cost_scaling

        ds = self.dataset
        return cost_scaling(
            self.network.spec,
            ds.X_train[:n_examples],
            ds.Y_train[:n_examples],
            sizes=SCALING_SIZES if sizes is None else sizes,
            budget_s=budget_s,
        )

    @property
    def n_train(self) -> int:
        """Training examples."""
        return int(self.dataset.X_train.shape[0])
