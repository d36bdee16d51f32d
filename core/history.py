"""A bounded, decimated training history for the loss and gradient charts.

Every step is *offered* to the history (:meth:`History.tick`); a step is kept when the
offer count is a multiple of ``stride``. When ``max_points`` are stored, every other
point is dropped and ``stride`` doubles, so the history always spans the whole run with
at most ``max_points`` evenly spaced points. Each kept point gets a sequence number
``seq``; clients stream with :meth:`History.since` and reload everything when the
``generation`` (bumped by every decimation or clear) changed.
"""

from __future__ import annotations

import math
from typing import Any

__all__ = ["History"]

_SCALARS = ("step", "train_loss", "test_loss", "train_acc", "test_acc")
_LISTS = ("grad_norm", "delta_norm")


def _clean(x: float | None) -> float | None:
    return None if x is None or not math.isfinite(x) else float(x)


class History:
    """Columns ``step``, ``train_loss``, ``test_loss``, ``train_acc``, ``test_acc`` and, per
    point, per-layer lists ``grad_norm`` (``‖dW⁽ˡ⁾‖``) and ``delta_norm`` (``‖mean δ⁽ˡ⁾‖``).

    Args:
        max_points: at most this many points are kept (at least 2).
    """

    def __init__(self, max_points: int = 2000) -> None:
        self.max_points = max(2, int(max_points))
        self.clear()

    def clear(self) -> None:
        """Forget everything (stride back to 1, generation bumped)."""
        self.columns: dict[str, list[Any]] = {k: [] for k in (*_SCALARS, *_LISTS, "seq")}
        self.stride = 1
        self._offered = 0
        self._seq = 0
        self.generation = getattr(self, "generation", -1) + 1

    def __len__(self) -> int:
        return len(self.columns["step"])

    @property
    def last_seq(self) -> int:
        """Sequence number of the newest point (0 when empty)."""
        return self._seq

    def tick(self) -> bool:
        """Offer one step; True when this step should be recorded with :meth:`record`."""
        keep = self._offered % self.stride == 0
        self._offered += 1
        return keep

    def record(
        self,
        step: int,
        train_loss: float | None,
        test_loss: float | None = None,
        train_acc: float | None = None,
        test_acc: float | None = None,
        grad_norm: list[float] | None = None,
        delta_norm: list[float] | None = None,
    ) -> int:
        """Append one point (non-finite numbers stored as ``None``); returns its ``seq``."""
        if len(self) >= self.max_points:
            self._decimate()
        c = self.columns
        self._seq += 1
        c["seq"].append(self._seq)
        c["step"].append(int(step))
        c["train_loss"].append(_clean(train_loss))
        c["test_loss"].append(_clean(test_loss))
        c["train_acc"].append(_clean(train_acc))
        c["test_acc"].append(_clean(test_acc))
        c["grad_norm"].append([_clean(x) for x in grad_norm] if grad_norm else [])
        c["delta_norm"].append([_clean(x) for x in delta_norm] if delta_norm else [])
        return self._seq

    def _decimate(self) -> None:
        for k, col in self.columns.items():
            self.columns[k] = col[::2]
        self.stride *= 2
        self.generation += 1

    def since(self, seq: int = 0, generation: int | None = None) -> dict[str, Any]:
        """Points newer than ``seq``; everything (``reset: True``) if ``generation`` changed.

        Returns:
            ``{"generation", "reset", "last_seq", "stride", "points": {column: [...]}}``.
        """
        reset = generation is not None and generation != self.generation
        seqs = self.columns["seq"]
        start = 0
        if not reset:
            start = len(seqs)
            while start > 0 and seqs[start - 1] > seq:
                start -= 1
        return {
            "generation": self.generation,
            "reset": reset,
            "last_seq": self._seq,
            "stride": self.stride,
            "points": {k: v[start:] for k, v in self.columns.items()},
        }

    def rewind(self, step: int, steps_back: int) -> None:
        """Go back in time: drop the points after ``step`` and un-offer the ``steps_back``
        steps that are undone, so training on from ``step`` keeps the same points as a run
        that never went further. Bumps ``generation`` (clients reload)."""
        keep = sum(1 for s in self.columns["step"] if s <= step)
        for k, col in self.columns.items():
            self.columns[k] = col[:keep]
        self._offered = max(0, self._offered - max(0, int(steps_back)))
        self.generation += 1

    def load(self, data: dict[str, Any], offered: int) -> None:
        """Restore the points of :meth:`to_dict` (``offered``: steps offered so far, i.e.
        the steps done). Raises ``ValueError`` on ragged or malformed columns."""
        points = data.get("points", {})
        stride = data.get("stride", 1)
        if not isinstance(points, dict) or not isinstance(stride, int) or stride < 1:
            raise ValueError("history: points must be an object and stride a positive integer")
        n = len(points.get("step", []))
        if n > self.max_points:
            raise ValueError(f"history: at most {self.max_points} points")
        cols: dict[str, list[Any]] = {}
        for k in (*_SCALARS, *_LISTS):
            col = points.get(k, [None] * n if k != "step" else [])
            if not isinstance(col, list) or len(col) != n:
                raise ValueError(f"history: column {k} must be a list of {n} values")
            cols[k] = list(col)

        def num(v: Any) -> bool:
            return v is None or (isinstance(v, int | float) and not isinstance(v, bool))

        if not all(isinstance(v, int) and not isinstance(v, bool) for v in cols["step"]):
            raise ValueError("history: steps must be integers")
        for k in _SCALARS:
            if not all(num(v) for v in cols[k]):
                raise ValueError(f"history: {k} must hold numbers or null")
            cols[k] = [_clean(v) if k != "step" else v for v in cols[k]]
        for k in _LISTS:
            if not all(isinstance(v, list) and all(num(x) for x in v) for v in cols[k]):
                raise ValueError(f"history: {k} must hold lists of numbers")
        self.clear()
        cols["seq"] = list(range(1, n + 1))
        self.columns = cols
        self.stride = stride
        self._seq = n
        self._offered = max(0, int(offered))

    def to_dict(self) -> dict[str, Any]:
        """All points, JSON-ready."""
        return self.since(0, None) | {"reset": True}
