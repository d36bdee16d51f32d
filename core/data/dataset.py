"""The data-set record: train and test arrays ready for the network, and what the page shows.

Everything a network sees comes out of :mod:`.builtin` or :mod:`.csv` as a
:class:`Dataset`, built by :func:`assemble`: batch axis first (``X`` is
``(n, n_features)``, ``Y`` is ``(n, n_outputs)``), the names of the features and
classes, and the affine scaling between the units the network sees and the original
units (``x_net = (x_orig - feature_mean) / feature_std``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..engine.registry import LOSSES, Task
from .features import feature_names, is_identity, transform

__all__ = [
    "DEFAULT_LOSS",
    "Dataset",
    "Domain",
    "FloatArray",
    "IntArray",
    "Task",
    "assemble",
    "mean_std",
    "n_test",
]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
Domain = tuple[tuple[float, float], ...]

#: The loss that fits each task (the registry's losses by the task they imply).
DEFAULT_LOSS: dict[str, str] = {info.task: name for name, info in LOSSES.items()}

ROUND = 4  # decimals of the numbers in to_dict() and of the domain


@dataclass(eq=False)
class Dataset:
    """A train/test split ready for the network, plus what the page needs to show it.

    Arrays (batch axis first; ``d = n_features``, ``k = n_outputs``):

    - ``X_train`` ``(n_train, d)``, ``X_test`` ``(n_test, d)``: float64 inputs in the
      space the network sees, ``x_net = (x_orig - feature_mean) / feature_std``.
    - ``Y_train`` ``(n_train, k)``, ``Y_test`` ``(n_test, k)``: float64 targets. Binary:
      one 0/1 column (1 = ``class_names[1]``); multiclass: one-hot with ``k`` classes;
      regression: the target column, ``y_net = (y_orig - target_mean) / target_std``.
    - ``labels_train`` ``(n_train,)``, ``labels_test`` ``(n_test,)``: int64 class
      indices into ``class_names``; ``None`` for regression.
    - ``feature_mean``, ``feature_std`` ``(d,)``; ``target_mean``, ``target_std``
      ``(k,)`` for regression, ``None`` otherwise.

    ``class_names`` holds the class names (classification) or the target names
    (regression). ``input_shape`` is the image shape of a feature vector (``(8, 8)``
    for digits), else ``None``. ``domain`` is, for one or two features, the padded
    range of each feature in network space, ``((xmin, xmax),)`` or
    ``((xmin, xmax), (ymin, ymax))``, for a decision-boundary or prediction grid;
    ``None`` for more features.

    With input features (:meth:`with_features`, 2-D data only) the network's inputs are
    the ``features`` (names of the registry's ``FEATURES``) of the two original inputs:
    ``X_*`` hold the features, ``inputs_train``/``inputs_test`` ``(n, 2)`` the points
    they came from (the page draws those), ``input_names`` their names, and
    ``domain`` stays the plane of the two inputs (:meth:`inputs_of` maps a grid of it).
    """

    name: str
    task: Task
    X_train: FloatArray
    Y_train: FloatArray
    X_test: FloatArray
    Y_test: FloatArray
    labels_train: IntArray | None
    labels_test: IntArray | None
    feature_names: tuple[str, ...]
    class_names: tuple[str, ...]
    feature_mean: FloatArray
    feature_std: FloatArray
    target_mean: FloatArray | None = None
    target_std: FloatArray | None = None
    input_shape: tuple[int, ...] | None = None
    domain: Domain | None = None
    description: str = ""
    features: tuple[str, ...] = ()
    inputs_train: FloatArray | None = None
    inputs_test: FloatArray | None = None
    input_names: tuple[str, ...] = ()

    @property
    def n_features(self) -> int:
        """Number of inputs ``d`` (the width of layer 0)."""
        return int(self.X_train.shape[1])

    @property
    def n_inputs(self) -> int:
        """Number of inputs of a point before the features (``n_features`` without them)."""
        return self.n_features if self.inputs_train is None else int(self.inputs_train.shape[1])

    def inputs_of(self, points: FloatArray) -> FloatArray:
        """The network's inputs ``(n, n_features)`` for points ``(n, n_inputs)`` of the
        data's input space (a decision-boundary grid): the features of each, or the
        points themselves without features."""
        return points if not self.features else transform(points, self.features)

    def with_features(self, features: tuple[str, ...]) -> Dataset:
        """This 2-D data set with the network's inputs made of ``features`` (see the
        class); itself for the default ``x1, x2``. Raises ``ValueError`` unless it has
        exactly 2 inputs (and no features yet)."""
        if is_identity(features):
            return self
        if self.features or self.n_features != 2:
            raise ValueError(f"input features need 2-D data; {self.name} has {self.n_inputs}")
        return replace(
            self,
            X_train=np.ascontiguousarray(transform(self.X_train, features)),
            X_test=np.ascontiguousarray(transform(self.X_test, features)),
            feature_names=feature_names(features, self.feature_names),
            features=tuple(features),
            inputs_train=self.X_train,
            inputs_test=self.X_test,
            input_names=self.feature_names,
        )

    @property
    def n_outputs(self) -> int:
        """Number of outputs ``k`` (1 for binary and single-target regression)."""
        return int(self.Y_train.shape[1])

    @property
    def n_train(self) -> int:
        """Number of training examples."""
        return int(self.X_train.shape[0])

    @property
    def n_test(self) -> int:
        """Number of test examples (0 when ``test_fraction`` was 0)."""
        return int(self.X_test.shape[0])

    @property
    def n_classes(self) -> int:
        """Number of classes; 0 for regression."""
        return 0 if self.task == "regression" else len(self.class_names)

    @property
    def default_loss(self) -> str:
        """``"bce"`` (binary), ``"softmax_ce"`` (multiclass) or ``"mse"`` (regression)."""
        return DEFAULT_LOSS[self.task]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready description: names, sizes, scaling and, for ≤ 2 inputs, the points.

        ``train``/``test`` (only when ``n_inputs <= 2``) are
        ``{"X": [[x1, x2], ...], "y": [...]}`` in network space (the two inputs, not
        their features), rounded to 4 decimals; ``y`` is the class index
        (classification) or the target value (regression, network space). With input
        features, ``features`` names them (``feature_names`` are their labels),
        ``n_inputs`` is 2 and ``input_names`` the two inputs' names; without,
        ``features`` is empty and ``n_inputs`` equals ``n_features``.
        """
        out: dict[str, Any] = {
            "name": self.name,
            "task": self.task,
            "description": self.description,
            "n_train": self.n_train,
            "n_test": self.n_test,
            "n_features": self.n_features,
            "n_outputs": self.n_outputs,
            "n_classes": self.n_classes,
            "feature_names": list(self.feature_names),
            "class_names": list(self.class_names),
            "default_loss": self.default_loss,
            "input_shape": None if self.input_shape is None else list(self.input_shape),
            "domain": None if self.domain is None else [list(r) for r in self.domain],
            "scaling": {
                "feature_mean": _rounded(self.feature_mean),
                "feature_std": _rounded(self.feature_std),
                "target_mean": None if self.target_mean is None else _rounded(self.target_mean),
                "target_std": None if self.target_std is None else _rounded(self.target_std),
            },
        }
        out["n_inputs"] = self.n_inputs
        out["features"] = list(self.features)
        out["input_names"] = list(self.input_names or self.feature_names)
        if self.n_inputs <= 2:
            X_train = self.X_train if self.inputs_train is None else self.inputs_train
            X_test = self.X_test if self.inputs_test is None else self.inputs_test
            out["train"] = _points(X_train, self.Y_train, self.labels_train)
            out["test"] = _points(X_test, self.Y_test, self.labels_test)
        return out


def _points(X: FloatArray, Y: FloatArray, labels: IntArray | None) -> dict[str, Any]:
    y: list[Any] = labels.tolist() if labels is not None else _rounded(Y[:, 0])
    return {"X": _rounded(X), "y": y}


def _rounded(a: NDArray[Any]) -> Any:
    return np.round(np.asarray(a, dtype=np.float64), ROUND).tolist()


# --------------------------------------------------------------------------------------
# Helpers shared by the built-in sets and the CSV loader
# --------------------------------------------------------------------------------------


def n_test(n: int, test_fraction: float) -> int:
    """Test-set size: ``round(n * test_fraction)``, leaving at least one training example."""
    return min(round(n * test_fraction), n - 1)


def mean_std(A: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Column mean and std of ``A`` ``(n, d)``, each ``(d,)``; a constant column gets std 1."""
    mean = A.mean(axis=0)
    std = A.std(axis=0)
    std = np.where(std > 1e-12 * np.maximum(np.abs(mean), 1.0), std, 1.0)
    return mean.astype(np.float64), std.astype(np.float64)


def _domain(X: FloatArray, box: Domain | None) -> Domain | None:
    """Padded range of each of ≤ 2 columns of ``X`` ``(n, d)``, covering ``box`` too."""
    d = X.shape[1]
    if d > 2:
        return None
    ranges = []
    for j in range(d):
        lo = float(X[:, j].min()) if X.shape[0] else 0.0
        hi = float(X[:, j].max()) if X.shape[0] else 0.0
        if box is not None:
            lo, hi = min(lo, box[j][0]), max(hi, box[j][1])
        pad = 0.05 * (hi - lo) if hi > lo else 1.0
        ranges.append((round(lo - pad, ROUND), round(hi + pad, ROUND)))
    return tuple(ranges)


def assemble(
    name: str,
    task: Task,
    X_train: FloatArray,
    X_test: FloatArray,
    t_train: NDArray[Any],
    t_test: NDArray[Any],
    target_mean: FloatArray | None,
    target_std: FloatArray | None,
    *,
    feature_names: tuple[str, ...],
    class_names: tuple[str, ...],
    feature_mean: FloatArray,
    feature_std: FloatArray,
    box: Domain | None = None,
    input_shape: tuple[int, ...] | None = None,
    description: str = "",
) -> Dataset:
    """Build the Dataset from network-space ``X_*`` ``(n, d)`` and targets: int labels
    ``(n,)`` for classification, values ``(n, 1)`` for regression. ``box`` (original
    units) is a region the domain always covers."""
    labels_train: IntArray | None = None
    labels_test: IntArray | None = None
    if task == "regression":
        Y_train = np.asarray(t_train, dtype=np.float64)
        Y_test = np.asarray(t_test, dtype=np.float64)
    else:
        labels_train = np.asarray(t_train, dtype=np.int64)
        labels_test = np.asarray(t_test, dtype=np.int64)
        if task == "binary":
            Y_train = labels_train.astype(np.float64)[:, None]
            Y_test = labels_test.astype(np.float64)[:, None]
        else:
            eye = np.eye(len(class_names), dtype=np.float64)
            Y_train, Y_test = eye[labels_train], eye[labels_test]
    net_box: Domain | None = None
    if box is not None:
        net_box = tuple(
            ((lo - m) / s, (hi - m) / s)
            for (lo, hi), m, s in zip(box, feature_mean.tolist(), feature_std.tolist(), strict=True)
        )
    X_all = np.concatenate([X_train, X_test])
    return Dataset(
        name=name,
        task=task,
        X_train=np.ascontiguousarray(X_train, dtype=np.float64),
        Y_train=np.ascontiguousarray(Y_train),
        X_test=np.ascontiguousarray(X_test, dtype=np.float64),
        Y_test=np.ascontiguousarray(Y_test),
        labels_train=labels_train,
        labels_test=labels_test,
        feature_names=feature_names,
        class_names=class_names,
        feature_mean=np.asarray(feature_mean, dtype=np.float64),
        feature_std=np.asarray(feature_std, dtype=np.float64),
        target_mean=target_mean,
        target_std=target_std,
        input_shape=input_shape,
        domain=_domain(X_all, net_box),
        description=description,
    )
