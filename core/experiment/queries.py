"""What the server reads from an experiment: read-only queries, nothing changes the run.

:class:`Queries` is the half of :class:`~.experiment.Experiment` the server builds its
messages from (the experiment's step counters, its layers, its history, its data set,
the decision-boundary grid, the gradient check…): it asks the experiment, never its
stepper, network, history or data set directly. The other half (building, stepping,
recording the history, the training settings) is in ``experiment.py``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from ..data.dataset import Dataset
from ..engine.activations import FloatArray
from ..engine.edits import set_param
from ..engine.gradcheck import SCALING_SIZES, cost_scaling
from ..engine.network import Network
from ..engine.stepper import Phase, Stepper, Trace
from .config import Config, TrainingConfig
from .gradcheck import GradCheckRun
from .history import History

__all__ = ["Queries"]


class Queries:
    """The read-only queries of an experiment (see the module doc); the subclass sets
    the attributes below."""

    config: Config
    dataset: Dataset
    network: Network
    stepper: Stepper
    history: History

    @property
    def training(self) -> TrainingConfig:
        """The training settings in force: ``config.training``."""
        return self.config.training

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
        """True once training hit a non-finite value (until ``reset``)."""
        return self.stepper.diverged

    @property
    def trace(self) -> Trace | None:
        """The current/last step's trace (buffers; ``snapshot()`` to keep)."""
        return self.stepper.trace

    @property
    def steps_done(self) -> int:
        """Completed steps since the last reset."""
        return self.stepper.steps_done

    @property
    def epochs(self) -> float:
        """Passes over the training set so far, e.g. ``2.25`` (``0.0`` before any step)."""
        return self.stepper.epochs

    def steps_to_epoch_end(self, epochs: int = 1) -> int:
        """Full steps that ``epochs`` calls of ``epoch`` would run (a step in progress
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

    @property
    def n_train(self) -> int:
        """Training examples."""
        return int(self.dataset.X_train.shape[0])

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
        ``ParamError``). The rewind buffer must checkpoint right after (``Rewind.record``).
        (The one query that writes: an edit the page makes by hand.)"""
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
        ds = self.dataset
        return cost_scaling(
            self.network.spec,
            ds.X_train[:n_examples],
            ds.Y_train[:n_examples],
            sizes=SCALING_SIZES if sizes is None else sizes,
            budget_s=budget_s,
        )
