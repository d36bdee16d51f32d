"""Losses, each one small object with its value and its output error side by side.

The loss of a batch is the mean over its ``B`` examples of the per-example loss. The
output error ``δ⁽ᴸ⁾ = ∂ℓ/∂z⁽ᴸ⁾`` is per example (not divided by ``B``), shape ``(B, n_out)``.
Each loss implies its task and a default output activation (``registry.LOSSES``:
``mse`` → linear, regression; ``bce`` → sigmoid, binary; ``softmax_ce`` → softmax,
multiclass); with those pairs ``δ⁽ᴸ⁾`` simplifies to ``ŷ − y``. MSE also allows a
sigmoid or tanh output (the textbook exercise: sigmoid everywhere, ``½Σ(ŷ − y)²``), whose
output error is the general chain rule ``δ⁽ᴸ⁾ = (ŷ − y) ⊙ f′(z⁽ᴸ⁾)``: :func:`make_loss`.
"""

from __future__ import annotations

import numpy as np

from . import registry
from .activations import OUTPUT_ACTIVATIONS, Activation, FloatArray, Softmax

__all__ = ["LOSSES", "Loss", "make_loss"]


class Loss:
    """Base class of a loss.

    Args:
        output_activation: one of ``info.output_activations`` (``None``: the first, the
            loss's own).

    Attributes:
        name: key in :data:`LOSSES` (a name of ``registry.LOSSES``).
        info: its :class:`~.registry.LossInfo` (task, output activations allowed).
        output_activation: name of the activation the output layer uses with this loss.
        activation: that activation object.
    """

    name: str = ""

    def __init__(self, output_activation: str | None = None) -> None:
        self.info = registry.LOSSES[self.name]
        name = self.info.output_activation if output_activation is None else output_activation
        if name not in self.info.output_activations:
            allowed = ", ".join(self.info.output_activations)
            raise ValueError(f"loss {self.name!r} allows the output activations {allowed}")
        self.output_activation = name
        self.activation: Activation = OUTPUT_ACTIVATIONS[name]

    def value(self, yhat: FloatArray, y: FloatArray, z: FloatArray) -> float:
        """Mean over the batch of the per-example loss.

        Args:
            yhat: predictions ``a⁽ᴸ⁾``, ``(B, n_out)``.
            y: targets, ``(B, n_out)``.
            z: output pre-activations ``z⁽ᴸ⁾``, ``(B, n_out)``; the cross-entropies are
                computed from these logits (stable for any ``z``).
        """
        raise NotImplementedError

    def per_example(self, yhat: FloatArray, y: FloatArray, z: FloatArray) -> FloatArray:
        """Per-example loss ``(B,)`` in the dtype of the inputs ``(B, n_out)`` (from logits ``z``).

        Used where precision matters more than speed (the gradient check runs it in
        extended precision); :meth:`value` is the fast path.
        """
        raise NotImplementedError

    def output_delta(
        self, z: FloatArray, yhat: FloatArray, y: FloatArray, out: FloatArray | None = None
    ) -> FloatArray:
        """Output error ``δ⁽ᴸ⁾ = ∂ℓ/∂z⁽ᴸ⁾`` per example, ``(B, n_out)``."""
        out = np.empty_like(yhat) if out is None else out
        np.subtract(yhat, y, out=out)
        return out

    def __repr__(self) -> str:
        if self.output_activation == self.info.output_activation:
            return f"Loss({self.name!r})"
        return f"Loss({self.name!r}, {self.output_activation!r})"


class MSE(Loss):
    """``ℓ = ½ Σ_k (ŷ_k − y_k)²``; a linear output by default, or a sigmoid or tanh one."""

    name = "mse"

    def value(self, yhat: FloatArray, y: FloatArray, z: FloatArray) -> float:
        """``½ Σ (ŷ − y)²`` summed over outputs, averaged over the ``B`` rows of ``(B, n_out)``."""
        d = np.subtract(yhat, y).ravel()
        return 0.5 * float(d.dot(d)) / int(yhat.shape[0])

    def per_example(self, yhat: FloatArray, y: FloatArray, z: FloatArray) -> FloatArray:
        """``½ Σ_k (ŷ_k − y_k)²`` per row, ``(B,)``."""
        d = yhat - y
        r: FloatArray = 0.5 * (d * d).sum(axis=1)
        return r

    def output_delta(
        self, z: FloatArray, yhat: FloatArray, y: FloatArray, out: FloatArray | None = None
    ) -> FloatArray:
        """``(ŷ − y) ⊙ f'(z)``, ``(B, n_out)``; ``f' = 1`` for the linear output."""
        out = np.empty_like(yhat) if out is None else out
        np.subtract(yhat, y, out)
        act = self.activation
        if act.name != "linear":  # the general chain rule: a sigmoid or tanh output
            out *= act.der(z, yhat)
        return out


class BCE(Loss):
    """Binary cross-entropy ``Σ_k −[y ln ŷ + (1−y) ln(1−ŷ)]`` with a sigmoid output."""

    name = "bce"

    def value(self, yhat: FloatArray, y: FloatArray, z: FloatArray) -> float:
        """Mean over the ``B`` rows of the per-example loss, inputs ``(B, n_out)``.

        From logits: ``ℓ = Σ_k ln(1 + e^{z_k}) − y_k z_k`` (``logaddexp``, exact for any ``z``).
        """
        total = float(np.add.reduce(np.logaddexp(0.0, z), axis=None)) - float(np.vdot(z, y))
        return total / int(yhat.shape[0])

    def per_example(self, yhat: FloatArray, y: FloatArray, z: FloatArray) -> FloatArray:
        """``Σ_k ln(1 + e^{z_k}) − y_k z_k`` per row, ``(B,)``."""
        r: FloatArray = (np.logaddexp(0.0, z) - y * z).sum(axis=1)
        return r


class SoftmaxCE(Loss):
    """Softmax cross-entropy ``−Σ_k y_k ln ŷ_k`` for one-hot (or probability) targets."""

    name = "softmax_ce"

    def value(self, yhat: FloatArray, y: FloatArray, z: FloatArray) -> float:
        """Mean over the ``B`` rows of ``−Σ_k y_k ln ŷ_k``; inputs ``(B, K)``.

        From logits: ``ℓ = (Σ_k y_k) logsumexp(z) − y·z`` with a max-shifted log-sum-exp
        (its row max and sum taken from the softmax when ``yhat`` is its output of ``z``).
        """
        stats = _SOFTMAX.row_stats(yhat, z)  # what the forward already computed
        if stats is None:
            m = z.max(axis=1, keepdims=True)
            shifted = np.subtract(z, m)
            np.exp(shifted, out=shifted)
            lse = np.log(shifted.sum(axis=1)) + m[:, 0]
        else:
            m, s = stats
            lse = np.log(s[:, 0]) + m[:, 0]
        total = float(np.dot(y.sum(axis=1), lse)) - float(np.vdot(y, z))
        return total / int(yhat.shape[0])

    def per_example(self, yhat: FloatArray, y: FloatArray, z: FloatArray) -> FloatArray:
        """``(Σ_k y_k) logsumexp(z) − Σ_k y_k z_k`` per row, ``(B,)``."""
        m = z.max(axis=1, keepdims=True)
        lse = np.log(np.exp(z - m).sum(axis=1)) + m[:, 0]
        r: FloatArray = y.sum(axis=1) * lse - (y * z).sum(axis=1)
        return r


def _softmax() -> Softmax:
    act = OUTPUT_ACTIVATIONS["softmax"]
    assert isinstance(act, Softmax)
    return act


_SOFTMAX = _softmax()

_BY_NAME: dict[str, Loss] = {loss.name: loss for loss in (MSE(), BCE(), SoftmaxCE())}

LOSSES: dict[str, Loss] = {name: _BY_NAME[name] for name in registry.LOSSES}
"""Losses by name, in the order of ``registry.LOSSES``, each with its own output activation."""


def make_loss(name: str, output_activation: str | None = None) -> Loss:
    """The loss ``name`` with ``output_activation`` (``None`` or the loss's own: the shared
    object of :data:`LOSSES`). Raises ``KeyError`` for an unknown loss and ``ValueError``
    for an output activation it does not allow (``registry.LOSSES[name].output_activations``)."""
    loss = LOSSES[name]
    if output_activation is None or output_activation == loss.output_activation:
        return loss
    return type(loss)(output_activation)
