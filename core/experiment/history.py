"""A bounded, decimated training history for the loss and gradient charts.

Every step is *offered* to the history (:meth:`History.tick`); a step is kept when the
offer count is a multiple of ``stride``. When ``max_points`` are stored, every other
point is dropped and ``stride`` doubles, so the history always spans the whole run with
at most ``max_points`` evenly spaced points. Each kept point gets a sequence number
``seq``; clients stream with :meth:`History.since` and reload everything when the
``generation`` (bumped by every decimation or clear) changed.

A point holds only what was measured at its step: the batch loss and the gradient norms
that every step computes, and the train/test losses and scores when an evaluation was
made at that step (:class:`EvalBudget` decides when); otherwise those are missing
(``None`` on the wire), never a copy of an older value.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from itertools import pairwise
from typing import Any

import numpy as np
import numpy.typing as npt

from ..data.errors import plural

__all__ = ["EvalBudget", "History"]

_SCALARS = ("step", "train_loss", "test_loss", "train_acc", "test_acc", "batch_loss")
_LISTS = ("grad_norm", "delta_norm")
_NUM = ("seq", *_SCALARS)  # columns of the numeric table, in order
_INT = ("seq", "step")
MAX_STRIDE = 2**40  # far past any run: a stride doubles when the points fill up


def _clean(x: float | None) -> float | None:
    return None if x is None or not math.isfinite(x) else float(x)


_NAN = math.nan


def _num(x: float | None) -> float:
    """A value as stored: a missing or non-finite number is NaN."""
    return _NAN if x is None or not math.isfinite(x) else x


def _values(col: npt.NDArray[np.float64], integer: bool) -> list[Any]:
    """Stored values (a column, or rows of columns) as JSON-ready lists: NaN (a missing
    value) → ``None``; without a Python loop over the values (a snapshot writes up to
    ``max_points`` of each)."""
    if integer:
        return col.astype(np.int64).tolist()  # type: ignore[no-any-return]
    missing = np.isnan(col)
    if not missing.any():
        return col.tolist()  # type: ignore[no-any-return]
    values = col.astype(object)
    values[missing] = None
    return values.tolist()  # type: ignore[no-any-return]


class EvalBudget:
    """When the history may evaluate the train and test sets: a token bucket.

    ``share`` × the time since the last call accrues (capped at 20 evaluations' worth);
    an evaluation spends its own duration. Playing at full speed, evaluations so take
    about ``share / (1 + share)`` of the time; the time they take does not accrue. The
    first evaluation after :meth:`reset` is always allowed; ``share`` ``None`` allows
    every one.
    """

    def __init__(self, now: float = 0.0) -> None:
        self.reset(now)

    def reset(self, now: float) -> None:
        """Forget the past evaluations (the next one is allowed)."""
        self.cost = 0.0  # seconds the last evaluation took
        self.tokens = 0.0  # seconds of evaluation allowed now
        self.clock = now
        self.fresh = True

    def allows(self, share: float | None, now: float) -> bool:
        """Whether an evaluation may start at ``now`` (seconds)."""
        if share is None:
            return True
        self.tokens = min(self.tokens + share * (now - self.clock), 20.0 * self.cost)
        self.clock = now
        return self.fresh or self.tokens >= self.cost

    def spent(self, start: float, end: float) -> None:
        """An evaluation ran from ``start`` to ``end``."""
        self.cost = end - start
        self.tokens = max(0.0, self.tokens - self.cost)
        self.clock = end
        self.fresh = False


class History:
    """Columns ``step``, ``train_loss``, ``test_loss``, ``train_acc``, ``test_acc``,
    ``batch_loss`` and, per point, per-layer lists ``grad_norm`` (``‖dW⁽ˡ⁾‖``) and
    ``delta_norm`` (``‖mean δ⁽ˡ⁾‖``).

    ``batch_loss`` is the mean data loss of the step's mini-batch, before its update
    (the trace's ``loss``); ``train_*``/``test_*`` come from an evaluation of the whole
    sets (at most ``Experiment.eval_max`` examples each) after the step, or are missing
    when none was made at that step. A step can have two points: one recorded when it
    ran, without an evaluation, then one with only the evaluation (see
    ``Experiment.record_now``).

    The points live in two preallocated arrays (``(max_points, 7)`` numbers and
    ``(max_points, 2, L)`` per-layer norms, NaN for a missing value): one allocation per
    session instead of thousands of small Python objects, so memory stays flat while
    playing and goes back to the system when the session ends.

    Args:
        max_points: at most this many points are kept (at least 2).
    """

    def __init__(self, max_points: int = 2000) -> None:
        self.max_points = max(2, int(max_points))
        self.generation = -1
        self.clear()

    def clear(self) -> None:
        """Forget everything (stride back to 1, generation bumped)."""
        self._num: npt.NDArray[np.float64] = np.full((self.max_points, len(_NUM)), np.nan)
        self._layers: npt.NDArray[np.float64] = np.full((self.max_points, 2, 0), np.nan)
        self._n = 0
        self.stride = 1
        self._offered = 0
        self._seq = 0
        self.generation += 1

    def __len__(self) -> int:
        return self._n

    @property
    def last_seq(self) -> int:
        """Sequence number of the newest point (0 when empty)."""
        return self._seq

    @property
    def columns(self) -> dict[str, list[Any]]:
        """All points as lists, by column (a copy; ``None`` for a missing value)."""
        return self._points(0)

    def last(self, name: str) -> float | None:
        """The newest value measured in a scalar column (``None`` when there is none):
        e.g. the latest evaluated ``train_loss``, though newer points may lack one."""
        col = self._num[: self._n, _NUM.index(name)]
        present = np.flatnonzero(col == col)
        return float(col[present[-1]]) if present.size else None

    @property
    def newest_step(self) -> int | None:
        """The step of the newest point (``None`` when empty)."""
        return int(self._num[self._n - 1, 1]) if self._n else None

    @property
    def newest_evaluated(self) -> bool:
        """True when the newest point holds an evaluation (a ``train_loss``)."""
        v = self._num[self._n - 1, 2] if self._n else np.nan
        return bool(v == v)

    def _points(self, start: int) -> dict[str, list[Any]]:
        n = self._n
        out = {k: _values(self._num[start:n, i], k in _INT) for i, k in enumerate(_NUM)}
        for j, k in enumerate(_LISTS):
            out[k] = _values(self._layers[start:n, j, :], False)
        return out

    def tick(self) -> bool:
        """Offer one step; True when this step should be recorded with :meth:`record`."""
        keep = self._offered % self.stride == 0
        self._offered += 1
        return keep

    def _layer_row(self, values: Sequence[float | None] | None, j: int) -> None:
        row = self._layers[self._n, j]
        if not values:
            row[:] = np.nan
            return
        width = self._layers.shape[2]
        if len(values) > width:  # first record, or a network that grew: widen
            grown = np.full((self.max_points, 2, len(values)), np.nan)
            grown[:, :, :width] = self._layers
            self._layers = grown
            row = self._layers[self._n, j]
        row[len(values) :] = np.nan
        row[: len(values)] = [_NAN if v is None or not math.isfinite(v) else v for v in values]

    def record(
        self,
        step: int,
        train_loss: float | None,
        test_loss: float | None = None,
        train_acc: float | None = None,
        test_acc: float | None = None,
        grad_norm: Sequence[float | None] | None = None,
        delta_norm: Sequence[float | None] | None = None,
        batch_loss: float | None = None,
    ) -> int:
        """Append one point (non-finite numbers stored as missing); returns its ``seq``."""
        if self._n >= self.max_points:
            self._decimate()
        self._seq += 1
        self._num[self._n] = (
            self._seq,
            int(step),
            _num(train_loss),
            _num(test_loss),
            _num(train_acc),
            _num(test_acc),
            _num(batch_loss),
        )
        self._layer_row(grad_norm, 0)
        self._layer_row(delta_norm, 1)
        self._n += 1
        return self._seq

    def _keep(self, index: npt.NDArray[np.intp]) -> None:
        k = len(index)
        self._num[:k] = self._num[index]
        self._layers[:k] = self._layers[index]
        self._num[k:] = np.nan
        self._layers[k:] = np.nan
        self._n = k

    def _decimate(self) -> None:
        self._keep(np.arange(0, self._n, 2))
        self.stride *= 2
        self.generation += 1

    def since(self, seq: int = 0, generation: int | None = None) -> dict[str, Any]:
        """Points newer than ``seq``; everything (``reset: True``) if ``generation`` changed.

        Returns:
            ``{"generation", "reset", "last_seq", "stride", "points": {column: [...]}}``.
        """
        reset = generation is not None and generation != self.generation
        start = 0
        if not reset:
            seqs = self._num[: self._n, 0]
            start = int(np.searchsorted(seqs, seq, side="right"))
        return {
            "generation": self.generation,
            "reset": reset,
            "last_seq": self._seq,
            "stride": self.stride,
            "points": self._points(start),
        }

    def rewind(self, step: int, steps_back: int) -> None:
        """Go back in time: drop the points after ``step`` and un-offer the ``steps_back``
        steps that are undone, so training on from ``step`` keeps the same points as a run
        that never went further. Bumps ``generation`` (clients reload)."""
        keep = int(np.count_nonzero(self._num[: self._n, 1] <= step))
        self._keep(np.arange(keep))
        self._offered = max(0, self._offered - max(0, int(steps_back)))
        self.generation += 1

    def load(self, data: dict[str, Any], offered: int, layers: int | None = None) -> None:
        """Restore the points of :meth:`to_dict` (``offered``: steps offered so far, i.e.
        the steps done; ``layers``: the network's, one value each in ``grad_norm`` and
        ``delta_norm``); a column it lacks (``batch_loss`` in older run files) is
        missing at every point. Raises ``ValueError`` on ragged or malformed columns and
        on points no run could have recorded (steps below 0 or out of order); points past
        ``offered`` are left out."""
        points = data.get("points", {})
        stride = data.get("stride", 1)
        if not isinstance(points, dict) or type(stride) is not int or stride < 1:
            raise ValueError("history: points must be an object and stride a positive integer")
        if stride > MAX_STRIDE:  # it doubles each time the points fill up
            raise ValueError(f"history: stride must be at most {MAX_STRIDE:,}")
        n = len(points.get("step", []))
        if n > self.max_points:
            raise ValueError(f"history: at most {self.max_points} points")
        cols: dict[str, list[Any]] = {}
        for k in (*_SCALARS, *_LISTS):
            col = points.get(k, [None] * n if k != "step" else [])
            if not isinstance(col, list) or len(col) != n:
                raise ValueError(f"history: column {k} must be a list of {plural(n, 'value')}")
            cols[k] = list(col)

        def num(v: Any) -> bool:
            return v is None or (isinstance(v, int | float) and not isinstance(v, bool))

        if not all(isinstance(v, int) and not isinstance(v, bool) for v in cols["step"]):
            raise ValueError("history: steps must be integers")
        steps = cols["step"]
        if any(v < 0 for v in steps) or any(a > b for a, b in pairwise(steps)):
            raise ValueError("history: steps must rise from 0")
        # Points past the steps done are a later stretch of the run (exported while an
        # earlier step was viewed): they are not this run's, and are left out.
        n = sum(v <= offered for v in steps)
        cols = {k: col[:n] for k, col in cols.items()}
        for k in _SCALARS:
            if not all(num(v) for v in cols[k]):
                raise ValueError(f"history: {k} must hold numbers or null")
            cols[k] = [_clean(v) if k != "step" else v for v in cols[k]]
        for k in _LISTS:
            if not all(isinstance(v, list) and all(num(x) for x in v) for v in cols[k]):
                raise ValueError(f"history: {k} must hold lists of numbers")
            if layers is not None and any(v and len(v) != layers for v in cols[k]):
                raise ValueError(f"history: {k} must hold one value per layer ({layers})")
        self.clear()
        for i, row in enumerate(zip(*(cols[k] for k in (*_SCALARS, *_LISTS)), strict=True)):
            step, train_loss, test_loss, train_acc, test_acc, batch_loss, grad, delta = row
            self.record(step, train_loss, test_loss, train_acc, test_acc, grad, delta, batch_loss)
            assert self._seq == i + 1
        self.stride = stride
        self._offered = max(0, int(offered))

    def to_dict(self) -> dict[str, Any]:
        """All points, JSON-ready."""
        return self.since(0, None) | {"reset": True}
