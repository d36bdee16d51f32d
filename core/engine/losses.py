"""Losses, each one small object with its value and its output error side by side.

The loss of a batch is the mean over its ``B`` examples of the per-example loss. The
output error ``δ⁽ᴸ⁾ = ∂ℓ/∂z⁽ᴸ⁾`` is per example (not divided by ``B``), shape ``(B, n_out)``.
Each loss implies its output activation (``mse`` → linear, ``bce`` → sigmoid,
``softmax_ce`` → softmax); with those pairs ``δ⁽ᴸ⁾`` simplifies to ``ŷ − y``.
"""

from __future__ import annotations

import numpy as np

from .activations import OUTPUT_ACTIVATIONS, Activation, FloatArray

__all__ = ["LOSSES", "Loss"]


class Loss:
    """Base class of a loss.

    Attributes:
        name: key in :data:`LOSSES`.
        output_activation: name of the activation the output layer uses with this loss.
        formula: LaTeX of the per-example loss.
        delta_formula: LaTeX of the output error ``δ⁽ᴸ⁾``.
    """

    name: str = ""
    output_activation: str = ""
    formula: str = ""
    delta_formula: str = ""

    @property
    def activation(self) -> Activation:
        """The output activation object."""
        return OUTPUT_ACTIVATIONS[self.output_activation]

    def value(self, yhat: FloatArray, y: FloatArray, z: FloatArray | None = None) -> float:
        """Mean over the batch of the per-example loss.

        Args:
            yhat: predictions ``a⁽ᴸ⁾``, ``(B, n_out)``.
            y: targets, ``(B, n_out)``.
            z: output pre-activations ``z⁽ᴸ⁾``, ``(B, n_out)``; when given, the
                cross-entropies are computed from these logits (stable for any ``z``).
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
        return f"Loss({self.name!r})"


class MSE(Loss):
    """``ℓ = ½ Σ_k (ŷ_k − y_k)²`` with a linear output."""

    name = "mse"
    output_activation = "linear"
    formula = r"L=\tfrac12\sum_k(\hat y_k-y_k)^2"
    delta_formula = r"\delta^{(L)}=(\hat y-y)\odot f'(z^{(L)})=\hat y-y"

    def value(self, yhat: FloatArray, y: FloatArray, z: FloatArray | None = None) -> float:
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
        if act.name != "linear":  # general chain rule; the implied output is linear
            out *= act.der(z, yhat)
        return out


class BCE(Loss):
    """Binary cross-entropy with a sigmoid output, from the logits ``z``."""

    name = "bce"
    output_activation = "sigmoid"
    formula = r"L=-\sum_k\left[y_k\ln\hat y_k+(1-y_k)\ln(1-\hat y_k)\right]"
    delta_formula = r"\delta^{(L)}=\hat y-y"
    clip = 1e-12

    def value(self, yhat: FloatArray, y: FloatArray, z: FloatArray | None = None) -> float:
        """Mean over the ``B`` rows of ``Σ_k −[y ln ŷ + (1−y) ln(1−ŷ)]``, inputs ``(B, n_out)``.

        From logits: ``ℓ = ln(1 + e^z) − y z`` (``logaddexp``, exact for any ``z``).
        Without ``z`` the probabilities are clipped to ``[1e-12, 1 − 1e-12]``.
        """
        n = int(yhat.shape[0])
        if z is not None:
            total = float(np.add.reduce(np.logaddexp(0.0, z), axis=None)) - float(np.vdot(z, y))
            return total / n
        p = np.clip(yhat, self.clip, 1.0 - self.clip)
        total = -float(np.vdot(y, np.log(p))) - float(np.vdot(1.0 - y, np.log1p(-p)))
        return total / n

    def per_example(self, yhat: FloatArray, y: FloatArray, z: FloatArray) -> FloatArray:
        """``Σ_k ln(1 + e^{z_k}) − y_k z_k`` per row, ``(B,)``."""
        r: FloatArray = (np.logaddexp(0.0, z) - y * z).sum(axis=1)
        return r


class SoftmaxCE(Loss):
    """Softmax cross-entropy for one-hot (or probability) targets, from the logits ``z``."""

    name = "softmax_ce"
    output_activation = "softmax"
    formula = r"L=-\sum_k y_k\ln\hat y_k,\ \hat y=\mathrm{softmax}(z)"
    delta_formula = r"\delta^{(L)}=\hat y-y"
    clip = 1e-300

    def value(self, yhat: FloatArray, y: FloatArray, z: FloatArray | None = None) -> float:
        """Mean over the ``B`` rows of ``−Σ_k y_k ln ŷ_k``; inputs ``(B, K)``.

        From logits: ``ℓ = (Σ_k y_k) logsumexp(z) − y·z`` with a max-shifted log-sum-exp.
        """
        n = int(yhat.shape[0])
        if z is not None:
            m = z.max(axis=1, keepdims=True)
            shifted = np.subtract(z, m)
            np.exp(shifted, out=shifted)
            lse = np.log(shifted.sum(axis=1)) + m[:, 0]
            total = float(np.dot(y.sum(axis=1), lse)) - float(np.vdot(y, z))
            return total / n
        p = np.maximum(yhat, self.clip)
        return -float(np.vdot(y, np.log(p))) / n

    def per_example(self, yhat: FloatArray, y: FloatArray, z: FloatArray) -> FloatArray:
        """``(Σ_k y_k) logsumexp(z) − Σ_k y_k z_k`` per row, ``(B,)``."""
        m = z.max(axis=1, keepdims=True)
        lse = np.log(np.exp(z - m).sum(axis=1)) + m[:, 0]
        r: FloatArray = y.sum(axis=1) * lse - (y * z).sum(axis=1)
        return r


LOSSES: dict[str, Loss] = {loss.name: loss for loss in (MSE(), BCE(), SoftmaxCE())}
"""Losses by name."""
