"""Weight initialization schemes.

Every scheme draws in float64 from the given seeded ``numpy.random.Generator`` and then
casts, so a float32 network starts from the same numbers rounded. Weights are
``(n_out, n_in)``; biases ``(n_out,)`` are zero except for ``naive`` and ``nielsen``,
which draw them from N(0, 1):

- ``naive`` is the first recipe of Nielsen's *Neural Networks and Deep Learning*
  (``large_weight_initializer``): N(0, 1) weights and biases, the classic example of an
  init that saturates sigmoid units.
- ``nielsen`` is the book's ``default_weight_initializer`` (network2.py, used for the
  vanishing-gradient measurements of chapter 5): ``W ~ N(0, 1)/√n_in``, ``b ~ N(0, 1)``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

from . import registry
from .activations import FloatArray

__all__ = ["INITIALIZERS", "RANDOM_BIAS", "init_weights"]

RANDOM_BIAS = frozenset({"naive", "nielsen"})
"""Schemes that draw the biases from N(0, 1) (the others start them at 0)."""

_Draw = Callable[[int, int, np.random.Generator], npt.NDArray[np.float64]]


def _naive(n_in: int, n_out: int, rng: np.random.Generator) -> npt.NDArray[np.float64]:
    return rng.standard_normal((n_out, n_in))


def _nielsen(n_in: int, n_out: int, rng: np.random.Generator) -> npt.NDArray[np.float64]:
    return rng.standard_normal((n_out, n_in)) / math.sqrt(n_in)


def _uniform(n_in: int, n_out: int, rng: np.random.Generator) -> npt.NDArray[np.float64]:
    return rng.uniform(-0.5, 0.5, (n_out, n_in))


def _xavier_normal(n_in: int, n_out: int, rng: np.random.Generator) -> npt.NDArray[np.float64]:
    return rng.normal(0.0, math.sqrt(2.0 / (n_in + n_out)), (n_out, n_in))


def _xavier_uniform(n_in: int, n_out: int, rng: np.random.Generator) -> npt.NDArray[np.float64]:
    limit = math.sqrt(6.0 / (n_in + n_out))
    return rng.uniform(-limit, limit, (n_out, n_in))


def _he_normal(n_in: int, n_out: int, rng: np.random.Generator) -> npt.NDArray[np.float64]:
    return rng.normal(0.0, math.sqrt(2.0 / n_in), (n_out, n_in))


def _he_uniform(n_in: int, n_out: int, rng: np.random.Generator) -> npt.NDArray[np.float64]:
    limit = math.sqrt(6.0 / n_in)
    return rng.uniform(-limit, limit, (n_out, n_in))


_DRAWS: dict[str, _Draw] = {
    "naive": _naive,
    "uniform": _uniform,
    "xavier_normal": _xavier_normal,
    "xavier_uniform": _xavier_uniform,
    "he_normal": _he_normal,
    "he_uniform": _he_uniform,
    "nielsen": _nielsen,
}

INITIALIZERS: dict[str, _Draw] = {name: _DRAWS[name] for name in registry.INITS}
"""Weight-drawing functions ``(n_in, n_out, rng) -> W (n_out, n_in)`` by scheme name, in
the order of ``registry.INITS``."""


def init_weights(
    scheme: str,
    n_in: int,
    n_out: int,
    rng: np.random.Generator,
    dtype: npt.DTypeLike = np.float64,
) -> tuple[FloatArray, FloatArray]:
    """Draw the parameters of one dense layer.

    Args:
        scheme: a key of :data:`INITIALIZERS`.
        n_in: fan-in (units of the layer before).
        n_out: fan-out (units of this layer).
        rng: seeded generator; weights are drawn first, then (``naive``, ``nielsen``)
            biases.
        dtype: float64 (default) or float32.

    Returns:
        ``(W, b)`` with ``W`` of shape ``(n_out, n_in)`` and ``b`` of shape ``(n_out,)``,
        both C-contiguous of ``dtype``.
    """
    if scheme not in INITIALIZERS:
        raise KeyError(f"unknown initializer {scheme!r}")
    W = INITIALIZERS[scheme](n_in, n_out, rng)
    b: npt.NDArray[Any]
    b = rng.standard_normal(n_out) if scheme in RANDOM_BIAS else np.zeros(n_out)
    return np.ascontiguousarray(W, dtype=dtype), np.ascontiguousarray(b, dtype=dtype)
