"""The order of the training examples: one seeded shuffle per epoch, batches in turn.

Each batch is gathered into preallocated buffers (one pair per batch size), so a step
allocates nothing for its inputs; the buffers are overwritten by the next batch.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

from .activations import FloatArray

__all__ = ["Batches"]


class Batches:
    """Shuffled passes over a training set, drawn ``batch_size`` examples at a time.

    Args:
        X: inputs ``(N, n_in)``; Y: targets ``(N, n_out)`` (copied to ``dtype``).
        dtype: the network's float dtype.
        batch_size: examples per batch, clamped to ``[1, N]`` (the last batch of an
            epoch may be smaller).
        rng: seeded generator of the per-epoch order.

    Attributes:
        X, Y: the training set in ``dtype``; n: its size ``N``.
        epoch: 1-based number of the pass the last batch came from (0 before any).
        perm: this pass's order ``(N,)`` (a new array each pass, never changed in place).
        pos: examples of this pass already drawn.
    """

    def __init__(
        self,
        X: npt.ArrayLike,
        Y: npt.ArrayLike,
        dtype: np.dtype[Any],
        batch_size: int,
        rng: np.random.Generator,
    ) -> None:
        self.dtype = dtype
        self.rng = rng
        self.set_data(X, Y)
        self.batch_size = 1
        self.set_batch_size(batch_size)
        self.restart()

    def set_data(self, X: npt.ArrayLike, Y: npt.ArrayLike) -> None:
        """Replace the training set (``(N, n_in)``, ``(N, n_out)``); takes effect next epoch."""
        X_ = np.ascontiguousarray(X, dtype=self.dtype)
        Y_ = np.ascontiguousarray(Y, dtype=self.dtype)
        if X_.ndim != 2 or Y_.ndim != 2 or X_.shape[0] != Y_.shape[0] or X_.shape[0] == 0:
            raise ValueError("X_train (N, n_in) and Y_train (N, n_out) must have N >= 1 rows")
        self.X = X_
        self.Y = Y_
        self.n = int(X_.shape[0])
        self.pos = self.n
        self._buffers: dict[int, tuple[FloatArray, FloatArray]] = {}

    def set_batch_size(self, batch_size: int) -> None:
        """Examples per batch, clamped to ``[1, N]``; applies from the next batch."""
        self.batch_size = max(1, min(int(batch_size), self.n))

    def restart(self) -> None:
        """Forget the order: the next batch starts epoch 1 with a fresh shuffle."""
        self.epoch = 0
        self.perm: npt.NDArray[np.intp] = np.arange(0)
        self.pos = self.n

    def next(self) -> tuple[npt.NDArray[np.intp], FloatArray, FloatArray]:
        """The next batch: ``(indices (B,), x (B, n_in), y (B, n_out))``; a new epoch (and
        shuffle) starts when the last one is used up. ``x`` and ``y`` are buffers."""
        n = self.n
        if self.pos >= n:
            self.perm = self.rng.permutation(n)
            self.pos = 0
            self.epoch += 1
        idx = self.perm[self.pos : self.pos + self.batch_size]
        B = idx.shape[0]
        self.pos += B
        bufs = self._buffers.get(B)
        if bufs is None:
            if len(self._buffers) >= 4:
                self._buffers.clear()
            bufs = (
                np.empty((B, self.X.shape[1]), self.dtype),
                np.empty((B, self.Y.shape[1]), self.dtype),
            )
            self._buffers[B] = bufs
        x, y = bufs
        # mode="clip": the indices come from a permutation, always in range; the default
        # mode="raise" gathers into a temporary first and copies (twice the work).
        self.X.take(idx, axis=0, out=x, mode="clip")
        self.Y.take(idx, axis=0, out=y, mode="clip")
        return idx, x, y

    @property
    def progress(self) -> float:
        """Fraction of the current epoch's examples already drawn."""
        return min(self.pos, self.n) / self.n

    def batches_to_epoch_end(self, epochs: int, midstep: bool) -> int:
        """Batches that ending ``epochs`` passes in a row takes from here; ``midstep``: a
        batch already drawn is still in use and counts as one."""
        per_epoch = -(-self.n // self.batch_size)
        left = self.n - self.pos
        if midstep:
            # finishing the step in progress; if it ends the pass, that counts as one epoch
            rest = -(-left // self.batch_size) if left > 0 else 0
            return 1 + rest + (epochs - 1) * per_epoch
        first = -(-left // self.batch_size) if left > 0 else per_epoch
        return first + (epochs - 1) * per_epoch

    def get_state(self) -> dict[str, Any]:
        """``{"current_epoch", "perm", "pos", "order_rng"}`` (``perm`` shared, not copied)."""
        return {
            "current_epoch": self.epoch,
            "perm": self.perm,
            "pos": self.pos,
            "order_rng": self.rng.bit_generator.state,
        }

    @staticmethod
    def check_state(state: Mapping[str, Any], n: int) -> tuple[npt.NDArray[np.intp], int]:
        """Validated ``(perm, pos)`` of a state for a set of ``n`` examples; ``ValueError``."""
        perm = np.asarray(state["perm"], dtype=np.intp)
        pos = int(state["pos"])
        if perm.ndim != 1 or (perm.size and perm.size != n):
            raise ValueError("perm must be a permutation of the training set")
        if perm.size and not np.array_equal(np.sort(perm), np.arange(n)):
            raise ValueError("perm must be a permutation of the training set")
        if not (0 <= pos <= n):
            raise ValueError("pos out of range")
        return perm, pos

    def set_state(self, state: Mapping[str, Any], perm: npt.NDArray[np.intp], pos: int) -> None:
        """Load :meth:`get_state` (``perm``, ``pos`` from :meth:`check_state`)."""
        self.rng.bit_generator.state = state["order_rng"]
        self.perm = perm if perm.size else np.arange(0)
        self.pos = pos if perm.size else self.n
        self.epoch = int(state["current_epoch"])
