"""Input features of 2-D data: TF Playground's x₁, x₂, x₁², x₂², x₁x₂, sin x₁, sin x₂.

A config's ``data.features`` (names of the registry's ``FEATURES``) turns the two inputs
of a point into the network's inputs, one column per feature in the registry's order.
The same map is applied to the training and test sets and to every point of the
decision-boundary grid (:meth:`~.dataset.Dataset.inputs_of`), so the picture is the
network's output over the plane of the original two inputs. The default, ``x1, x2``,
is the inputs as they are (no copy, no change).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from numpy.typing import NDArray

from ..engine.registry import DEFAULT_FEATURES, FEATURES

__all__ = ["FEATURE_MAPS", "feature_names", "is_identity", "transform"]

FloatArray = NDArray[np.float64]
_Map = Callable[[FloatArray, FloatArray], FloatArray]

FEATURE_MAPS: dict[str, tuple[_Map, str]] = {
    "x1": (lambda x1, x2: x1, "{0}"),
    "x2": (lambda x1, x2: x2, "{1}"),
    "x1sq": (lambda x1, x2: x1 * x1, "{0}²"),
    "x2sq": (lambda x1, x2: x2 * x2, "{1}²"),
    "x1x2": (lambda x1, x2: x1 * x2, "{0}·{1}"),
    "sin_x1": (lambda x1, x2: np.sin(x1), "sin({0})"),
    "sin_x2": (lambda x1, x2: np.sin(x2), "sin({1})"),
}
"""Each feature of the registry's ``FEATURES``: its map of the two input columns
``(n,)``, ``(n,)`` → ``(n,)``, and the template of its name from the inputs' names."""


def is_identity(features: Sequence[str]) -> bool:
    """Whether ``features`` are the default ``x1, x2``: the inputs as they are."""
    return tuple(features) == DEFAULT_FEATURES


def transform(X: FloatArray, features: Sequence[str]) -> FloatArray:
    """The network's inputs ``(n, len(features))`` of 2-D points ``X`` ``(n, 2)``, one
    column per feature in the order given; ``X`` itself for the default features."""
    if is_identity(features):
        return X
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"features need 2-D points (n, 2), got {X.shape}")
    x1 = np.ascontiguousarray(X[:, 0], dtype=np.float64)
    x2 = np.ascontiguousarray(X[:, 1], dtype=np.float64)
    return np.column_stack([FEATURE_MAPS[name][0](x1, x2) for name in features])


def feature_names(features: Sequence[str], inputs: Sequence[str]) -> tuple[str, ...]:
    """The name of each feature: the registry's label (x₁², sin(x₂) …) for inputs named
    ``x1``, ``x2``, else the inputs' own names in the template (``area (m²)·rooms``)."""
    if tuple(inputs) == ("x1", "x2"):
        return tuple(FEATURES[name] for name in features)
    return tuple(FEATURE_MAPS[name][1].format(*inputs) for name in features)
