"""Activation functions, each one small object with its value and derivative side by side.

Like TF Playground's ``output``/``der`` pairs and micrograd's local derivatives, an
:class:`Activation` keeps ``f(z)`` next to ``f'(z)`` so the chain rule reads in one place.
All functions work elementwise on arrays of any shape (the engine passes ``(B, n)``);
``softmax`` is the exception: it normalises each row and is used only as an output.

Every function accepts ``out=`` so the engine can write into preallocated buffers.
Callers that may see huge ``z`` should wrap calls in ``np.errstate`` (the stepper does);
the formulas themselves never produce a wrong value from an overflow (e.g. the sigmoid of
``z = -1000`` is ``1 / (1 + inf) = 0``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from . import registry

FloatArray = npt.NDArray[np.floating[Any]]

__all__ = [
    "ACTIVATIONS",
    "OUTPUT_ACTIVATIONS",
    "Activation",
    "FloatArray",
    "Softmax",
    "get_activation",
]


_EXP_FLOOR = {True: -708.0, False: -87.0}  # float64 / float32: e^{-z} stays finite


class _Consts:
    """The scalar constants of the formulas, as 0-d arrays of one float dtype.

    A ufunc call with a Python float pays for converting it on every call (about a
    third of the cost of a small call); a 0-d array of the array's own dtype gives the
    same numbers (a Python float is cast to that dtype first) without that cost.
    """

    __slots__ = ("exp_floor", "one", "zero")

    def __init__(self, dtype: np.dtype[Any]) -> None:
        floating = dtype.kind == "f"

        def c(x: float) -> Any:
            return np.array(x, dtype) if floating else x

        self.one = c(1.0)
        self.zero = c(0.0)
        self.exp_floor = c(_EXP_FLOOR[dtype.itemsize >= 8])


_CONSTS: dict[np.dtype[Any], _Consts] = {}


def _k(z: FloatArray) -> _Consts:
    """The constants for the dtype of ``z`` (built once per dtype)."""
    dt = z.dtype
    k = _CONSTS.get(dt)
    if k is None:
        k = _CONSTS[dt] = _Consts(dt)
    return k


_ZEROS: dict[tuple[tuple[int, ...], np.dtype[Any]], FloatArray] = {}


def _zeros_like(z: FloatArray) -> FloatArray:
    """A cached read-only array of zeros shaped like ``z``.

    ``np.maximum(z, zeros)`` gives the same numbers as ``np.maximum(z, 0.0)`` (signed
    zeros and NaN included) but runs NumPy's vectorized loop: several times faster on
    large float32 arrays, where the scalar operand falls back to a slow strided loop.
    """
    key = (z.shape, z.dtype)
    zeros = _ZEROS.get(key)
    if zeros is None:
        if len(_ZEROS) >= 32:
            _ZEROS.clear()
        zeros = np.zeros(z.shape, z.dtype)
        zeros.flags.writeable = False
        _ZEROS[key] = zeros
    return zeros


def _buf(z: FloatArray, out: FloatArray | None) -> FloatArray:
    return np.empty_like(z) if out is None else out


def _row_max(z: FloatArray) -> FloatArray:
    """``z.max(axis=-1, keepdims=True)``, the same numbers (NaN included).

    A few classes (``(B, K)``, ``K ≤ 16``): ``np.maximum`` over the columns, a third of
    the time of NumPy's reduction along a short last axis.
    """
    K = z.shape[-1]
    if z.ndim != 2 or not 2 <= K <= 16:
        full: FloatArray = z.max(axis=-1, keepdims=True)
        return full
    m = np.empty((z.shape[0], 1), z.dtype)
    col = m[:, 0]
    np.maximum(z[:, 0], z[:, 1], out=col)
    for k in range(2, K):
        np.maximum(col, z[:, k], out=col)
    return m


class Activation:
    """Base class: an activation ``f`` and its derivative ``f'``.

    Attributes:
        name: key in :data:`ACTIVATIONS` (a name of ``registry.ACTIVATIONS``), or
            ``"softmax"`` (an output activation only).
        elementwise: False only for softmax (its ``der`` is the Jacobian diagonal).
        der_max: the largest value ``f'`` can take (sigmoid ``0.25``, SiLU ``1.0998``,
            most others ``1``); a unit whose ``|f'(z)| < 1e-3 · der_max`` for every example
            of a batch counts as dead/saturated (``LayerTrace.dead_fraction``).
    """

    name: str = ""
    elementwise: bool = True
    der_max: float = 1.0

    def f(self, z: FloatArray, out: FloatArray | None = None) -> FloatArray:
        """Value ``a = f(z)``; ``z`` and the result are ``(B, n)`` (any shape for elementwise)."""
        raise NotImplementedError

    def der(self, z: FloatArray, a: FloatArray, out: FloatArray | None = None) -> FloatArray:
        """Derivative ``f'(z)``, same shape as ``z``; ``a = f(z)`` may be reused."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"Activation({self.name!r})"


class Sigmoid(Activation):
    name = "sigmoid"
    der_max = 0.25

    def f(self, z: FloatArray, out: FloatArray | None = None) -> FloatArray:
        """Sigmoid of ``z`` (any shape), ``1/(1+e^{-z})``.

        Stable: the formula has no cancellation, and ``z`` is first raised to
        ``-(ln(max float) - 1)`` (−708 in float64, −87 in float32) so ``e^{-z}`` cannot
        overflow; below that bound the sigmoid is under 1e-300 (float32: 1e-38) anyway.
        """
        out = _buf(z, out)
        k = _k(z)
        np.maximum(z, k.exp_floor, out=out)
        np.negative(out, out)
        np.exp(out, out)
        np.add(out, k.one, out)
        np.reciprocal(out, out)
        return out

    def der(self, z: FloatArray, a: FloatArray, out: FloatArray | None = None) -> FloatArray:
        """``σ'(z) = a (1 − a)``, same shape as ``z``."""
        if out is None:
            out = np.empty_like(z)
        np.subtract(_k(a).one, a, out)
        np.multiply(out, a, out)
        return out


class Tanh(Activation):
    name = "tanh"

    def f(self, z: FloatArray, out: FloatArray | None = None) -> FloatArray:
        """``tanh(z)``, same shape as ``z``."""
        return np.tanh(z, _buf(z, out))

    def der(self, z: FloatArray, a: FloatArray, out: FloatArray | None = None) -> FloatArray:
        """``1 − a²``, same shape as ``z``."""
        if out is None:
            out = np.empty_like(z)
        np.multiply(a, a, out)
        np.subtract(_k(out).one, out, out)
        return out


class ReLU(Activation):
    name = "relu"

    def f(self, z: FloatArray, out: FloatArray | None = None) -> FloatArray:
        """``max(0, z)``, same shape as ``z``."""
        out = _buf(z, out)
        np.maximum(z, _zeros_like(z), out=out)
        return out

    def der(self, z: FloatArray, a: FloatArray, out: FloatArray | None = None) -> FloatArray:
        """``1`` where ``z > 0`` else ``0`` (the derivative at 0 is taken as 0)."""
        out = _buf(z, out)
        np.greater(z, _k(z).zero, out)
        return out


class LeakyReLU(Activation):
    name = "leaky_relu"
    slope = 0.01

    def f(self, z: FloatArray, out: FloatArray | None = None) -> FloatArray:
        """``z`` for ``z > 0`` else ``0.01 z``, same shape as ``z``."""
        out = _buf(z, out)
        np.multiply(z, self.slope, out=out)
        np.maximum(z, out, out=out)
        return out

    def der(self, z: FloatArray, a: FloatArray, out: FloatArray | None = None) -> FloatArray:
        """``1`` where ``z > 0`` else ``0.01``."""
        out = _buf(z, out)
        np.greater(z, 0.0, out=out)
        out *= 1.0 - self.slope
        out += self.slope
        return out


class ELU(Activation):
    name = "elu"
    alpha = 1.0

    def f(self, z: FloatArray, out: FloatArray | None = None) -> FloatArray:
        """ELU with ``alpha = 1``, same shape as ``z`` (``expm1`` of ``min(z, 0)``: no overflow)."""
        out = _buf(z, out)
        np.minimum(z, 0.0, out=out)
        np.expm1(out, out=out)
        if self.alpha != 1.0:
            out *= self.alpha
        np.copyto(out, z, where=z > 0)
        return out

    def der(self, z: FloatArray, a: FloatArray, out: FloatArray | None = None) -> FloatArray:
        """``1`` for ``z > 0`` else ``a + alpha`` (``= alpha e^z``)."""
        out = _buf(z, out)
        np.add(a, self.alpha, out=out)
        np.copyto(out, 1.0, where=z > 0)
        return out


class Softplus(Activation):
    name = "softplus"

    def f(self, z: FloatArray, out: FloatArray | None = None) -> FloatArray:
        """``ln(1 + e^z)`` computed as ``logaddexp(0, z)`` (stable for any ``z``)."""
        return np.logaddexp(0.0, z, out=_buf(z, out))

    def der(self, z: FloatArray, a: FloatArray, out: FloatArray | None = None) -> FloatArray:
        """``σ(z)``, same shape as ``z``."""
        return _SIGMOID.f(z, out)


class SiLU(Activation):
    name = "silu"
    # f' peaks at z ≈ 2.3994 (1.09984) and dips to −0.09984 at z ≈ −2.3994: the only
    # activation here whose derivative leaves [0, 1].
    der_max = 1.0998393201285284

    def f(self, z: FloatArray, out: FloatArray | None = None) -> FloatArray:
        """``z σ(z)`` (swish), same shape as ``z``."""
        out = _SIGMOID.f(z, out)
        out *= z
        return out

    def der(self, z: FloatArray, a: FloatArray, out: FloatArray | None = None) -> FloatArray:
        """``σ(z) (1 + z (1 − σ(z)))`` = ``a + σ(z)(1 − a)``, same shape as ``z``."""
        out = _SIGMOID.f(z, out)
        s = out.copy()
        np.subtract(1.0, a, out=out)
        out *= s
        out += a
        return out


class Linear(Activation):
    name = "linear"

    def f(self, z: FloatArray, out: FloatArray | None = None) -> FloatArray:
        """Identity (copies ``z`` into ``out``)."""
        out = _buf(z, out)
        out[...] = z
        return out

    def der(self, z: FloatArray, a: FloatArray, out: FloatArray | None = None) -> FloatArray:
        """Ones, same shape as ``z``."""
        out = _buf(z, out)
        out.fill(1.0)
        return out


class Softmax(Activation):
    """Row-wise softmax, an output activation.

    It remembers the row statistics of its last call into a given ``out`` buffer
    (:meth:`row_stats`), which the softmax cross-entropy would otherwise compute again
    from the same logits: the engine's loss phase reads them for the output layer's
    buffers. A tuple swapped in whole, so a concurrent call for another network is
    simply not a match.
    """

    name = "softmax"
    elementwise = False
    der_max = 0.25  # of the diagonal a_k (1 − a_k)

    def __init__(self) -> None:
        self._last: tuple[FloatArray, FloatArray, FloatArray, FloatArray] | None = None

    def f(self, z: FloatArray, out: FloatArray | None = None) -> FloatArray:
        """Row-wise softmax of ``z`` ``(B, K)`` → ``(B, K)``, shifted by the row max (stable)."""
        keep = out is not None
        out = _buf(z, out)
        m = _row_max(z)
        np.subtract(z, m, out=out)
        np.exp(out, out=out)
        s = out.sum(axis=-1, keepdims=True)
        out /= s
        self._last = (out, z, m, s) if keep else None
        return out

    def row_stats(self, a: FloatArray, z: FloatArray) -> tuple[FloatArray, FloatArray] | None:
        """``(max_k z, Σ_k e^{z_k − max})``, both ``(B, 1)``, if the last call wrote ``a``
        from ``z`` (these very buffers), else ``None``."""
        last = self._last
        if last is None or last[0] is not a or last[1] is not z:
            return None
        return last[2], last[3]

    def der(self, z: FloatArray, a: FloatArray, out: FloatArray | None = None) -> FloatArray:
        """Diagonal of the Jacobian, ``a_k (1 − a_k)``, ``(B, K)``.

        The full Jacobian is not elementwise; the engine never needs it because the
        softmax cross-entropy output error simplifies to ``ŷ − y``. The diagonal is what
        the page shows as ``f'(z)`` of an output neuron.
        """
        return _SIGMOID.der(z, a, out)


_SIGMOID = Sigmoid()

_BY_NAME: dict[str, Activation] = {
    act.name: act
    for act in (
        _SIGMOID,
        Tanh(),
        ReLU(),
        LeakyReLU(),
        ELU(),
        Softplus(),
        SiLU(),
        Linear(),
        Softmax(),
    )
}

ACTIVATIONS: dict[str, Activation] = {name: _BY_NAME[name] for name in registry.ACTIVATIONS}
"""Activations usable on any layer, by name, in the order of ``registry.ACTIVATIONS``."""

OUTPUT_ACTIVATIONS: dict[str, Activation] = {
    name: _BY_NAME[name] for info in registry.LOSSES.values() for name in info.output_activations
}
"""Activations that a loss may imply for the output layer (``registry.LOSSES``)."""


def get_activation(name: str) -> Activation:
    """Look up an activation (hidden or output) by name; raises ``KeyError`` if unknown."""
    if name in ACTIVATIONS:
        return ACTIVATIONS[name]
    return OUTPUT_ACTIVATIONS[name]
