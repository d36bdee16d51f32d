"""The update phase: global gradient norm, clipping, the optimizer's ``ΔW``, ``W += ΔW``.

All parameters live in one flat vector, so the phase is a handful of NumPy calls over
the whole network whatever its depth. For plain SGD (``ΔW = −η s g``, most of the
steps a class runs) ``W += ΔW`` goes through a small scratch buffer chunk by chunk and
``ΔW`` itself is written out only when someone reads it (:class:`~.trace.PendingUpdates`):
the same numbers, one pass over the parameters fewer.

Divergence: a non-finite gradient norm (or ``ΔW``) stops the phase before the weights
change; :meth:`Update.run` returns the reason.
"""

from __future__ import annotations

import math

import numpy as np

from .activations import FloatArray
from .network import Network
from .optimizers import Optimizer
from .trace import PendingUpdates, Trace

__all__ = ["CHUNK", "Update"]

CHUNK = 32768
"""Elements per chunk of the in-place SGD update (128 KB in float32: stays in L2)."""


class Update:
    """The update phase of one network.

    Args:
        network: whose ``params`` are updated from its ``grads``.
    """

    def __init__(self, network: Network) -> None:
        self.network = network
        self.safe_bound = float(np.finfo(network.dtype).max) * 1e-3
        self._params: FloatArray | None = None
        self._chunks: list[tuple[FloatArray, FloatArray, FloatArray]] = []
        self.pending: PendingUpdates | None = None

    def _chunked(self) -> list[tuple[FloatArray, FloatArray, FloatArray]]:
        """``(grads, params, scratch)`` views per chunk (rebuilt with the flat vectors)."""
        net = self.network
        if self._params is not net.params:
            P = net.params.shape[0]
            scratch = np.empty(min(P, CHUNK), net.dtype)
            self._chunks = [
                (net.grads[i : i + CHUNK], net.params[i : i + CHUNK], scratch[: min(CHUNK, P - i)])
                for i in range(0, P, CHUNK)
            ]
            self._params = net.params
        return self._chunks

    def expire(self) -> None:
        """A new step begins: the last step's unwritten ``ΔW`` is never written."""
        if self.pending is not None:
            self.pending.expire()
            self.pending = None

    def run(self, trace: Trace, optimizer: Optimizer, clip_norm: float) -> str | None:
        """Apply one update from the network's gradients; records ``grad_norm``,
        ``clip_scale``, ``clipped`` on ``trace`` and ``ΔW`` on every layer's record.

        Returns:
            ``None`` when applied, else why not: ``"gradient"`` (non-finite norm) or
            ``"update"`` (non-finite ``ΔW``); the weights are then untouched.
        """
        net = self.network
        grads = net.grads
        gnorm = math.sqrt(grads.dot(grads))
        trace.grad_norm = gnorm
        if not math.isfinite(gnorm):
            return "gradient"
        scale = 1.0
        if 0.0 < clip_norm < gnorm:
            scale = clip_norm / gnorm
        trace.clip_scale = scale
        trace.clipped = scale != 1.0
        optimizer.begin_step()
        upd = net.updates
        factor = optimizer.linear_factor(scale)
        pending = None
        # ΔW = factor · g: |ΔW| ≤ |factor| ‖g‖. Far below the largest float, ΔW is finite
        # and needs no check (a pass over all of it); else it is written out and checked.
        if factor is not None and abs(factor) * gnorm < self.safe_bound:
            multiply, add = np.multiply, np.add
            for g, p, tmp in self._chunked():
                multiply(g, factor, tmp)  # the ΔW of compute(), chunk by chunk
                add(p, tmp, p)
            pending = self.pending = PendingUpdates(grads, upd, factor)
        else:
            optimizer.compute(0, net.params, grads, upd, scale, net.decay_mask)
            if not math.isfinite(upd.dot(upd)):
                return "update"
            np.add(net.params, upd, net.params)
        for layer in net.layers:
            layer.record_update(pending)
        return None
