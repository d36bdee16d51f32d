"""Why backprop is cheap: the naive chain-rule expansion against reusing δ, counted exactly.

For layer sizes ``[n0, n1, …, nL]`` (``n0`` inputs, ``nL`` outputs, ``L`` weight layers;
one example, dense layers). With ``P_l = ∏_{m=l+1}^{L} n_m`` (``P_L = 1``):

- ``paths = ∏_{l=0}^{L} n_l``: input-to-output paths (one neuron chosen per layer).
- ``paths_per_weight[l−1] = P_l``: paths from a weight of layer ``l`` to the outputs, the
  terms the naive expansion of its ``∂L/∂w`` sums (``paths_per_weight[0]`` for a
  first-layer weight). Each term multiplies ``2(L−l)+3`` factors:
  ``∂L/∂a_out · f′ · (w · f′)^(L−l) · a_in``.
- ``naive_terms = Σ_l n_{l−1} n_l P_l``; ``naive_mults = Σ_l n_{l−1} n_l P_l (2(L−l)+2)``.
- ``backprop_mults = Σ_{l=1}^{L} n_l  +  Σ_{l=2}^{L} n_{l−1} n_l  +  Σ_{l=1}^{L} n_{l−1} n_l``:
  ``δ⁽ᴸ⁾ = ∂L/∂a ⊙ f′`` and each ``⊙ f′`` (``n_l`` per layer), ``δ⁽ˡ⁻¹⁾ = W⁽ˡ⁾ᵀ δ⁽ˡ⁾``
  (``n_{l−1} n_l`` for ``l ≥ 2``) and ``∂L/∂W⁽ˡ⁾ = δ⁽ˡ⁾ a⁽ˡ⁻¹⁾ᵀ`` (``n_{l−1} n_l``);
  ``∂L/∂b = δ`` costs nothing. Linear in the number of weights.
- ``weights = Σ n_{l−1} n_l``, ``params = Σ (n_{l−1} + 1) n_l``, ``forward_mults = weights``
  and ``finite_difference_mults = 2 · params · forward_mults`` (two forward passes per
  parameter for central differences: quadratic).

Counts are exact Python ints; :meth:`PathCounts.to_dict` writes those that can exceed
``2^53`` (JavaScript's exact integers) as decimal strings beside their ``log10``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .errors import GraphError

__all__ = ["MAX_LAYERS", "MAX_WIDTH", "PathCounts", "count_paths"]

MAX_LAYERS = 256
"""Most weight layers (``len(sizes) − 1``)."""

MAX_WIDTH = 100_000
"""Widest layer."""


def _big(x: int) -> dict[str, Any]:
    return {"exact": str(x), "log10": math.log10(x) if x > 0 else None}


@dataclass(frozen=True)
class PathCounts:
    """The counts of :func:`count_paths` (see the module docstring for the formulas)."""

    sizes: tuple[int, ...]
    paths: int
    paths_per_weight: tuple[int, ...]
    naive_terms: int
    naive_mults: int
    backprop_mults: int
    weights: int
    params: int
    forward_mults: int
    finite_difference_mults: int

    @property
    def paths_log10(self) -> float:
        """``log10(paths)`` for display."""
        return math.log10(self.paths)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: exponential counts as ``{"exact": "…", "log10": …}``, the rest as ints."""
        return {
            "sizes": list(self.sizes),
            "paths": _big(self.paths),
            "paths_per_weight": [_big(p) for p in self.paths_per_weight],
            "naive_terms": _big(self.naive_terms),
            "naive_mults": _big(self.naive_mults),
            "backprop_mults": self.backprop_mults,
            "weights": self.weights,
            "params": self.params,
            "forward_mults": self.forward_mults,
            "finite_difference_mults": _big(self.finite_difference_mults),
        }


def count_paths(sizes: Sequence[int]) -> PathCounts:
    """Count paths and multiplications for a dense network with layer ``sizes``.

    Args:
        sizes: ``[n0, n1, …, nL]``, 2 to ``MAX_LAYERS + 1`` whole numbers in
            ``[1, MAX_WIDTH]``.

    Raises:
        GraphError: ``bad_sizes``.
    """
    ok = 2 <= len(sizes) <= MAX_LAYERS + 1 and all(
        isinstance(n, int) and not isinstance(n, bool) and 1 <= n <= MAX_WIDTH for n in sizes
    )
    if not ok:
        raise GraphError(
            "bad_sizes",
            f"sizes must be 2 to {MAX_LAYERS + 1} whole numbers from 1 to {MAX_WIDTH}",
            {"max_layers": MAX_LAYERS, "max_width": MAX_WIDTH},
        )
    n = [int(x) for x in sizes]
    L = len(n) - 1
    suffix = [1] * (L + 1)  # suffix[k] = P_k = ∏_{m>k} n_m, for k = 0..L
    for k in range(L - 1, -1, -1):
        suffix[k] = suffix[k + 1] * n[k + 1]
    layers = range(1, L + 1)
    fan = {k: n[k - 1] * n[k] for k in layers}  # weights of layer k
    per_weight = tuple(suffix[k] for k in layers)
    naive_terms = sum(fan[k] * suffix[k] for k in layers)
    naive_mults = sum(fan[k] * suffix[k] * (2 * (L - k) + 2) for k in layers)
    weights = sum(fan.values())
    params = weights + sum(n[1:])
    backprop = sum(n[1:]) + (weights - fan[1]) + weights
    return PathCounts(
        sizes=tuple(n),
        paths=n[0] * suffix[0],
        paths_per_weight=per_weight,
        naive_terms=naive_terms,
        naive_mults=naive_mults,
        backprop_mults=backprop,
        weights=weights,
        params=params,
        forward_mults=weights,
        finite_difference_mults=2 * params * weights,
    )
