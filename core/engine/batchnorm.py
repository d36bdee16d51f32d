"""BatchNorm of a dense layer's pre-activation: a part a :class:`~.layers.Dense` composes.

Forward, for a batch of ``B`` examples (the page's notation per example)::

    z     = a_prev @ W.T                  (no bias: β takes its place)
    μ, σ² = mean and variance of z over the batch (divided by B)
    ẑ     = (z − μ) / √(σ² + ε),  ε = 1e-5
    z_bn  = γ ⊙ ẑ + β                     (the input of the layer's f)

Backward, with ``δ = ∂ℓ/∂z_bn`` per example (the layer's ``delta``)::

    dβ = mean δ,   dγ = mean (δ ⊙ ẑ)
    δ_z = ∂ℓ/∂z = γ/√(σ²+ε) ⊙ (δ − dβ − ẑ ⊙ dγ)      (the compact BatchNorm backward)

BatchNorm makes the dense bias redundant (any shift of ``z`` is subtracted again with
``μ``, so ``∂L/∂b`` would be exactly 0): the layer has no bias and β takes its place —
the layer's ``b`` *is* β, its ``db`` is ``dβ``. ``γ`` starts at 1 and β at 0.

Training mode normalizes with the batch's ``μ, σ²`` and updates the running averages
(:data:`BN_MOMENTUM` 0.9): ``running_mean ← 0.9 running_mean + 0.1 μ``,
``running_var ← 0.9 running_var + 0.1 σ² B/(B−1)`` (the unbiased variance, as PyTorch;
not updated when ``B = 1``). They start at 0 and 1. Inference normalizes with the
running averages instead. With a batch of one example ``ẑ = 0``: the layer outputs
``f(β)`` and no gradient reaches ``W`` (BatchNorm needs a batch).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .activations import FloatArray

__all__ = ["BN_EPS", "BN_MOMENTUM", "BatchNorm", "BatchNormBuffers"]

BN_EPS = 1e-5
"""``ε`` in BatchNorm's ``ẑ = (z − μ) / √(σ² + ε)``."""

BN_MOMENTUM = 0.9
"""Weight of the old value in BatchNorm's running averages (Keras' ``momentum=0.9``,
PyTorch's ``momentum=0.1``): ``running ← 0.9 · running + 0.1 · batch statistic``."""


class BatchNormBuffers:
    """BatchNorm's work arrays for one batch size (part of the layer's buffers)."""

    __slots__ = ("delta_z", "delta_z_T", "inv_std", "mean", "scale", "tmp", "var", "z_bn", "z_hat")

    def __init__(self, B: int, n: int, dtype: Any) -> None:
        self.mean = np.empty(n, dtype)
        self.var = np.empty(n, dtype)
        self.inv_std = np.empty(n, dtype)
        self.scale = np.empty(n, dtype)
        self.z_hat = np.empty((B, n), dtype)
        self.z_bn = np.empty((B, n), dtype)
        self.tmp = np.empty((B, n), dtype)
        self.delta_z = np.empty((B, n), dtype)
        self.delta_z_T = self.delta_z.T


class BatchNorm:
    """The normalization of one layer: its ``γ`` and running averages, forward and backward.

    Attributes:
        gamma, dgamma, dgamma_update: ``γ`` ``(n,)``, its gradient and applied change
            (views into the network's flat vectors, bound by the layer).
        running_mean, running_var: ``(n,)`` running averages (state, not parameters).
        eps, momentum: :data:`BN_EPS`, :data:`BN_MOMENTUM`.
    """

    def __init__(self, n: int, dtype: Any) -> None:
        self.eps = BN_EPS
        self.momentum = BN_MOMENTUM
        self.gamma: FloatArray = np.ones(n, dtype)
        self.dgamma: FloatArray = np.zeros(n, dtype)
        self.dgamma_update: FloatArray = np.zeros(n, dtype)
        self.running_mean: FloatArray = np.zeros(n, dtype)
        self.running_var: FloatArray = np.ones(n, dtype)

    def forward(
        self, z: FloatArray, beta: FloatArray, buf: BatchNormBuffers, u: FloatArray, train: bool
    ) -> FloatArray:
        """``z_bn = γ ⊙ (z − μ)/√(σ² + ε) + β`` ``(B, n)`` into ``buf.z_bn``.

        Args:
            z: ``(B, n)``; beta: ``β`` ``(n,)``; u: ``(B,)`` filled with ``1/B`` (means).
            train: batch statistics and a running-average update; ``False`` normalizes
                with the running averages (left alone).
        """
        mean, var, inv_std, z_hat, z_bn = buf.mean, buf.var, buf.inv_std, buf.z_hat, buf.z_bn
        if train:
            u.dot(z, mean)  # μ = mean over the batch
            np.subtract(z, mean, out=z_hat)
            np.multiply(z_hat, z_hat, out=buf.tmp)
            u.dot(buf.tmp, var)  # σ² = mean (z − μ)², divided by B
            m = self.momentum
            self.running_mean *= m
            self.running_mean += (1.0 - m) * mean
            B = z.shape[0]
            if B > 1:
                self.running_var *= m
                self.running_var += (1.0 - m) * (B / (B - 1)) * var
        else:
            np.copyto(mean, self.running_mean)
            np.copyto(var, self.running_var)
            np.subtract(z, mean, out=z_hat)
        np.add(var, self.eps, out=inv_std)
        np.sqrt(inv_std, out=inv_std)
        np.reciprocal(inv_std, out=inv_std)
        np.multiply(z_hat, inv_std, out=z_hat)
        np.multiply(z_hat, self.gamma, out=z_bn)
        np.add(z_bn, beta, out=z_bn)
        return z_bn

    def backward(
        self, delta: FloatArray, dbeta: FloatArray, buf: BatchNormBuffers, u: FloatArray
    ) -> FloatArray:
        """``dγ`` into ``self.dgamma`` and ``δ_z = ∂ℓ/∂z`` ``(B, n)`` into ``buf.delta_z``.

        Args:
            delta: ``δ = ∂ℓ/∂z_bn`` ``(B, n)``; dbeta: ``dβ = mean δ`` ``(n,)``, already
                computed; u: ``(B,)`` filled with ``1/B``.
        """
        z_hat, tmp, delta_z = buf.z_hat, buf.tmp, buf.delta_z
        np.multiply(delta, z_hat, out=tmp)
        u.dot(tmp, self.dgamma)  # dγ = mean (δ ⊙ ẑ)
        np.multiply(z_hat, self.dgamma, out=delta_z)  # δ_z = γ/√(σ²+ε) ⊙ (δ − dβ − ẑ ⊙ dγ)
        np.add(delta_z, dbeta, out=delta_z)
        np.subtract(delta, delta_z, out=delta_z)
        np.multiply(self.gamma, buf.inv_std, out=buf.scale)
        np.multiply(delta_z, buf.scale, out=delta_z)
        return delta_z

    def infer(self, z: FloatArray, beta: FloatArray) -> None:
        """Normalize ``z`` ``(N, n)`` in place with the running averages: ``γ ẑ + β``."""
        z -= self.running_mean
        z *= self.gamma / np.sqrt(self.running_var + self.eps)
        z += beta
