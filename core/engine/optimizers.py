"""Optimizers: SGD, momentum, RMSprop, Adam and AdamW — the change each applies.

An optimizer turns a gradient ``g = ∂L/∂W`` into the change ``ΔW`` it applies
(``W ← W + ΔW``); the engine records ``ΔW`` as ``dW_update``. Hyper-parameters live in
one mutable :class:`Hyper` object and may change between steps (the state — velocities,
moment estimates, the step count — is kept); switching to another optimizer type starts
from a fresh state (:func:`make_optimizer`).

Parameters are addressed by an integer *slot* (the engine numbers W and b of every
layer), and each slot's state arrays are allocated on first use.

Update rules (``η`` learning rate, ``s`` the clipping scale, ``g ← s g``):

- sgd:      ``ΔW = −η g``
- momentum: ``v ← μ v − η g``; ``ΔW = v``
- rmsprop:  ``r ← ρ r + (1−ρ) g²``; ``ΔW = −η g / (√r + ε)``
- adam:     ``m ← β₁m + (1−β₁)g``, ``v ← β₂v + (1−β₂)g²``, ``m̂ = m/(1−β₁ᵗ)``,
  ``v̂ = v/(1−β₂ᵗ)``; ``ΔW = −η m̂ / (√v̂ + ε)``
- adamw:    adam plus decoupled decay ``ΔW −= η λ W`` on weights (not on biases).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from . import registry
from .activations import FloatArray

__all__ = ["OPTIMIZERS", "Hyper", "Optimizer", "make_optimizer"]


@dataclass
class Hyper:
    """Optimizer hyper-parameters (all optimizers read the ones they use)."""

    learning_rate: float = 0.03
    momentum: float = 0.9
    rho: float = 0.9
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8
    weight_decay: float = 0.0

    def values(self) -> tuple[float, float, float, float, float, float, float]:
        """The fields in order: ``(learning_rate, momentum, rho, beta1, beta2, eps,
        weight_decay)``."""
        return (
            self.learning_rate,
            self.momentum,
            self.rho,
            self.beta1,
            self.beta2,
            self.eps,
            self.weight_decay,
        )

    def update_from(self, other: object) -> None:
        """Copy every field of this class found as an attribute on ``other``."""
        for f in fields(self):
            if hasattr(other, f.name):
                setattr(self, f.name, float(getattr(other, f.name)))


class Optimizer:
    """Base optimizer: plain SGD."""

    name = "sgd"
    n_state = 0

    def __init__(self, hyper: Hyper | None = None) -> None:
        self.hyper = hyper if hyper is not None else Hyper()
        self.t = 0
        self._state: dict[int, list[FloatArray]] = {}

    def reset(self) -> None:
        """Forget all state (velocities, moments, step count)."""
        self.t = 0
        self._state.clear()

    def begin_step(self) -> None:
        """Advance the step count ``t`` (once per training step, before the updates)."""
        self.t += 1

    def get_state(self) -> dict[str, Any]:
        """Copies of the state: ``{"name", "t", "slots": {slot: [arrays]}}``, each slot's
        ``n_state`` arrays shaped like its parameter (velocity; or m, v for Adam)."""
        return {
            "name": self.name,
            "t": self.t,
            "slots": {k: [a.copy() for a in st[1:]] for k, st in self._state.items()},
        }

    def set_state(self, state: Mapping[str, Any]) -> None:
        """Load what :meth:`get_state` returned (same optimizer type); arrays are copied.

        Raises ``ValueError`` on another optimizer's state or a wrong number of arrays.
        """
        if state.get("name") != self.name:
            raise ValueError(f"optimizer state of {state.get('name')!r}, not {self.name!r}")
        slots: dict[int, list[FloatArray]] = {}
        for k, arrays in dict(state.get("slots", {})).items():
            if len(arrays) != self.n_state:
                raise ValueError(f"slot {k}: expected {self.n_state} state arrays")
            arrs = [np.array(a, copy=True) for a in arrays]
            slots[int(k)] = [np.zeros_like(arrs[0]) if arrs else np.zeros(0), *arrs]
        self.t = int(state.get("t", 0))
        self._state = slots

    def _slot(self, slot: int, p: FloatArray) -> list[FloatArray]:
        st = self._state.get(slot)
        if st is None or st[0].shape != p.shape or st[0].dtype != p.dtype:
            # one scratch buffer + n_state state arrays
            st = [np.zeros_like(p) for _ in range(self.n_state + 1)]
            self._state[slot] = st
        return st

    def compute(
        self,
        slot: int,
        p: FloatArray,
        g: FloatArray,
        out: FloatArray,
        scale: float = 1.0,
        decay: FloatArray | bool = True,
    ) -> FloatArray:
        """Write the change ``ΔW`` for parameter ``p`` into ``out`` without applying it.

        Args:
            slot: stable integer naming this parameter (for its state).
            p: parameter, any shape (``(n_out, n_in)`` or ``(n_out,)``).
            g: its gradient, same shape.
            out: buffer for ``ΔW``, same shape.
            scale: factor applied to ``g`` first (gradient clipping).
            decay: where decoupled weight decay applies: a bool for the whole array, or a
                0/1 mask shaped like ``p`` (the network's ``decay_mask``: weights 1, biases 0).
        """
        np.multiply(g, -self.hyper.learning_rate * scale, out)
        return out

    def linear_factor(self, scale: float = 1.0) -> float | None:
        """``c`` when the next :meth:`compute` is exactly ``ΔW = c · g`` (plain SGD:
        ``c = −η s``, the same float it multiplies by), else ``None``."""
        if type(self).compute is not Optimizer.compute:
            return None
        return -self.hyper.learning_rate * scale


class SGD(Optimizer):
    pass


class Momentum(Optimizer):
    name = "momentum"
    n_state = 1

    def compute(
        self,
        slot: int,
        p: FloatArray,
        g: FloatArray,
        out: FloatArray,
        scale: float = 1.0,
        decay: FloatArray | bool = True,
    ) -> FloatArray:
        """``v ← μ v − η s g``; ``ΔW = v`` (shapes as ``p``)."""
        _, v = self._slot(slot, p)
        v *= self.hyper.momentum
        np.multiply(g, -self.hyper.learning_rate * scale, out=out)
        v += out
        np.copyto(out, v)
        return out


class RMSprop(Optimizer):
    name = "rmsprop"
    n_state = 1

    def compute(
        self,
        slot: int,
        p: FloatArray,
        g: FloatArray,
        out: FloatArray,
        scale: float = 1.0,
        decay: FloatArray | bool = True,
    ) -> FloatArray:
        """``r ← ρ r + (1−ρ)(s g)²``; ``ΔW = −η s g / (√r + ε)``."""
        h = self.hyper
        tmp, r = self._slot(slot, p)
        np.multiply(g, g, out=tmp)
        tmp *= (1.0 - h.rho) * scale * scale
        r *= h.rho
        r += tmp
        np.sqrt(r, out=tmp)
        tmp += h.eps
        np.divide(g, tmp, out=out)
        out *= -h.learning_rate * scale
        return out


class Adam(Optimizer):
    name = "adam"
    n_state = 2
    decoupled = False

    def compute(
        self,
        slot: int,
        p: FloatArray,
        g: FloatArray,
        out: FloatArray,
        scale: float = 1.0,
        decay: FloatArray | bool = True,
    ) -> FloatArray:
        """Adam moments from ``s g``; ``ΔW = −η m̂ / (√v̂ + ε)`` (bias-corrected, ``t ≥ 1``)."""
        h = self.hyper
        tmp, m, v = self._slot(slot, p)
        t = max(self.t, 1)
        m *= h.beta1
        np.multiply(g, (1.0 - h.beta1) * scale, out=tmp)
        m += tmp
        v *= h.beta2
        np.multiply(g, g, out=tmp)
        tmp *= (1.0 - h.beta2) * scale * scale
        v += tmp
        bc1 = 1.0 - h.beta1**t
        bc2 = 1.0 - h.beta2**t
        np.sqrt(v, out=tmp)
        tmp *= 1.0 / math.sqrt(bc2)
        tmp += h.eps
        np.divide(m, tmp, out=out)
        out *= -h.learning_rate / bc1
        if self.decoupled and h.weight_decay != 0.0:
            if isinstance(decay, np.ndarray):
                np.multiply(p, decay, out=tmp)
                tmp *= h.learning_rate * h.weight_decay
                out -= tmp
            elif decay:
                np.multiply(p, h.learning_rate * h.weight_decay, out=tmp)
                out -= tmp
        return out


class AdamW(Adam):
    name = "adamw"
    decoupled = True


_BY_NAME: dict[str, type[Optimizer]] = {
    cls.name: cls for cls in (SGD, Momentum, RMSprop, Adam, AdamW)
}

OPTIMIZERS: dict[str, type[Optimizer]] = {name: _BY_NAME[name] for name in registry.OPTIMIZERS}
"""Optimizer classes by name, in the order of ``registry.OPTIMIZERS``."""


def make_optimizer(name: str, hyper: Hyper | None = None) -> Optimizer:
    """A fresh optimizer (empty state) of type ``name`` sharing the given ``hyper``."""
    if name not in OPTIMIZERS:
        raise KeyError(f"unknown optimizer {name!r}")
    return OPTIMIZERS[name](hyper)
