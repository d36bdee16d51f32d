"""Data sets: the built-in teaching sets and the user's own CSV.

Everything a network sees comes out of here as a :class:`Dataset`: train and
test arrays with the batch axis first (``X`` is ``(n, n_features)``, ``Y`` is
``(n, n_outputs)``), the names of the features and classes, and the affine
scaling between the units the network sees and the original units, so the page
can show a value as "area = 120 m²" rather than "x₁ = 0.41".

The 2-D sets follow TensorFlow Playground's ``dataset.ts`` (same shapes, same
coordinates of about ±6, same meaning of ``noise`` in 0–0.5), so a teacher who
knows the Playground sees the same pictures. Every random draw comes from
``numpy.random.default_rng(seed)``; nothing touches global random state.

``load_csv`` turns an uploaded CSV into a ``Dataset`` or raises
:class:`DataError` with a stable ``code``, the 1-based spreadsheet row (the
header is row 1) and the column name, so the page can point at the bad cell in
either language.
"""

from __future__ import annotations

import csv
import gzip
import io
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, cast

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "DATASETS",
    "DataError",
    "Dataset",
    "DatasetInfo",
    "inspect_csv",
    "load_csv",
    "load_digits",
    "make_dataset",
    "registry_info",
]

Task = Literal["binary", "multiclass", "regression"]
FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
Domain = tuple[tuple[float, float], ...]

#: Loss that fits each task (names of ``bpviz.core.engine.losses.LOSSES``).
DEFAULT_LOSS: dict[str, str] = {"binary": "bce", "multiclass": "softmax_ce", "regression": "mse"}

#: Limits of ``make_dataset``'s arguments (the config module enforces its own, tighter ones).
MIN_SAMPLES = 4
MAX_SAMPLES = 100_000
MAX_NOISE = 1.0
MAX_TEST_FRACTION = 0.9

#: A target with at most this many distinct integer values (or text labels) is a class label.
MAX_CLASSES = 20
#: A CSV needs at least this many data rows.
MIN_ROWS = 4

_DIGITS_PATH = Path(__file__).resolve().parent / "digits.csv.gz"
_ROUND = 4  # decimals of the numbers in to_dict()


# --------------------------------------------------------------------------------------
# The Dataset record
# --------------------------------------------------------------------------------------


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
    extra: dict[str, Any] = field(default_factory=dict)

    # ---- sizes ------------------------------------------------------------------------

    @property
    def n_features(self) -> int:
        """Number of inputs ``d`` (the width of layer 0)."""
        return int(self.X_train.shape[1])

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
    def is_classification(self) -> bool:
        """True for binary and multiclass tasks."""
        return self.task != "regression"

    @property
    def default_loss(self) -> str:
        """``"bce"`` (binary), ``"softmax_ce"`` (multiclass) or ``"mse"`` (regression)."""
        return DEFAULT_LOSS[self.task]

    # ---- units ------------------------------------------------------------------------

    def features_to_original(self, X: FloatArray) -> FloatArray:
        """Map network-space inputs ``(n, d)`` back to original units ``(n, d)``."""
        return np.asarray(X, dtype=np.float64) * self.feature_std + self.feature_mean

    def features_to_network(self, X_orig: FloatArray) -> FloatArray:
        """Map original-unit inputs ``(n, d)`` to the network's space ``(n, d)``."""
        return (np.asarray(X_orig, dtype=np.float64) - self.feature_mean) / self.feature_std

    def targets_to_original(self, Y: FloatArray) -> FloatArray:
        """Map network-space regression outputs ``(n, k)`` to original units ``(n, k)``.

        Classification outputs (probabilities) are returned unchanged.
        """
        Y = np.asarray(Y, dtype=np.float64)
        if self.target_mean is None or self.target_std is None:
            return Y
        return Y * self.target_std + self.target_mean

    # ---- views for the page ------------------------------------------------------------

    def summary(self) -> str:
        """One English line: ``"circle: binary, 2 features -> 1 output, 280 train / 120 test"``."""
        outputs = "output" if self.n_outputs == 1 else "outputs"
        features = "feature" if self.n_features == 1 else "features"
        return (
            f"{self.name}: {self.task}, {self.n_features} {features} -> "
            f"{self.n_outputs} {outputs}, {self.n_train} train / {self.n_test} test"
        )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready description: names, sizes, scaling and, for ≤ 2 features, the points.

        ``train``/``test`` (only when ``n_features <= 2``) are
        ``{"X": [[x1, x2], ...], "y": [...]}`` in network space, rounded to 4
        decimals; ``y`` is the class index (classification) or the target value
        (regression, network space).
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
        if self.n_features <= 2:
            out["train"] = self._points(self.X_train, self.Y_train, self.labels_train)
            out["test"] = self._points(self.X_test, self.Y_test, self.labels_test)
        return out

    @staticmethod
    def _points(X: FloatArray, Y: FloatArray, labels: IntArray | None) -> dict[str, Any]:
        y: list[Any] = labels.tolist() if labels is not None else _rounded(Y[:, 0])
        return {"X": _rounded(X), "y": y}


def _rounded(a: NDArray[Any]) -> Any:
    return np.round(np.asarray(a, dtype=np.float64), _ROUND).tolist()


# --------------------------------------------------------------------------------------
# The registry of built-in sets
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DatasetInfo:
    """What the page lists about a built-in set, in English and Simplified Chinese."""

    name: str
    task: Task
    n_features: int
    n_outputs: int
    title_en: str
    title_zh: str
    description_en: str
    description_zh: str
    noise_en: str
    noise_zh: str

    @property
    def default_loss(self) -> str:
        """The loss that fits ``task``."""
        return DEFAULT_LOSS[self.task]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, including ``default_loss``."""
        return {
            "name": self.name,
            "task": self.task,
            "n_features": self.n_features,
            "n_outputs": self.n_outputs,
            "default_loss": self.default_loss,
            "title": {"en": self.title_en, "zh": self.title_zh},
            "description": {"en": self.description_en, "zh": self.description_zh},
            "noise": {"en": self.noise_en, "zh": self.noise_zh},
        }


def _info(
    name: str, task: Task, d: int, k: int, en: tuple[str, str, str], zh: tuple[str, str, str]
) -> DatasetInfo:
    """(title, description, noise) in English and Chinese."""
    return DatasetInfo(name, task, d, k, en[0], zh[0], en[1], zh[1], en[2], zh[2])


_INFOS = [
    _info(
        "circle",
        "binary",
        2,
        1,
        en=(
            "Circle",
            "Points inside a disc (class 1) against points on a ring around it (class 0).",
            "Jitters the point used for the label by up to ±5·noise: points near the gap may "
            "get the other class.",
        ),
        zh=(
            "圆形",
            "圆盘内的点（类别 1）与外圈环上的点（类别 0）。",
            "给决定类别的点加上至多 ±5·噪声 的抖动：靠近间隙的点可能被标成另一类。",
        ),
    ),
    _info(
        "xor",
        "binary",
        2,
        1,
        en=(
            "XOR",
            "Class 1 where x₁ and x₂ have the same sign, class 0 where they differ: no "
            "single line separates them, so a hidden layer is needed.",
            "Jitters the point used for the label by up to ±5·noise; at 0 the quadrants are exact.",
        ),
        zh=(
            "异或",
            "x₁ 与 x₂ 同号为类别 1，异号为类别 0：一条直线分不开，必须有隐藏层。",
            "给决定类别的点加上至多 ±5·噪声 的抖动；噪声为 0 时按象限严格分开。",
        ),
    ),
    _info(
        "gauss",
        "binary",
        2,
        1,
        en=(
            "Gaussian clusters",
            "Two Gaussian clouds centred at (2, 2) (class 1) and (−2, −2) (class 0).",
            "Widens the clouds: variance grows from 0.5 (noise 0) to 4 (noise 0.5), so they "
            "overlap.",
        ),
        zh=(
            "高斯簇",
            "分别以 (2, 2)（类别 1）和 (−2, −2)（类别 0）为中心的两团高斯点云。",
            "让点云变宽：方差从 0.5（噪声 0）增大到 4（噪声 0.5），两团点开始重叠。",
        ),
    ),
    _info(
        "spiral",
        "binary",
        2,
        1,
        en=(
            "Spiral",
            "Two interleaved spirals, one per class: the hardest of the 2-D sets.",
            "Moves each point by up to ±noise in x₁ and x₂.",
        ),
        zh=(
            "螺旋",
            "两条交错的螺旋线，各为一类：二维数据集中最难的一个。",
            "把每个点在 x₁、x₂ 方向各移动至多 ±噪声。",
        ),
    ),
    _info(
        "moons",
        "binary",
        2,
        1,
        en=(
            "Moons",
            "Two interleaving half moons, one per class.",
            "Adds Gaussian noise of standard deviation 4·noise (noise in the units of the "
            "unit-radius moons).",
        ),
        zh=(
            "双月",
            "两个相互嵌套的半月形，各为一类。",
            "加上标准差为 4·噪声 的高斯噪声（噪声以半径为 1 的月形为单位）。",
        ),
    ),
    _info(
        "plane",
        "regression",
        2,
        1,
        en=(
            "Plane",
            "Regression of the plane y = (x₁ + x₂) / 10.",
            "Evaluates the plane at a point jittered by up to ±6·noise.",
        ),
        zh=(
            "平面",
            "回归一个平面：y = (x₁ + x₂) / 10。",
            "在抖动了至多 ±6·噪声 的点上计算平面的值。",
        ),
    ),
    _info(
        "multigauss",
        "regression",
        2,
        1,
        en=(
            "Multi-Gaussian",
            "Regression of six positive and negative Gaussian bumps.",
            "Evaluates the bumps at a point jittered by up to ±6·noise.",
        ),
        zh=(
            "多高斯",
            "回归六个正负相间的高斯“鼓包”。",
            "在抖动了至多 ±6·噪声 的点上计算鼓包的值。",
        ),
    ),
    _info(
        "square",
        "regression",
        1,
        1,
        en=(
            "y = x²",
            "Fit y = x² on x in [−1, 1]: a 1-2-1 ReLU network bends a line twice.",
            "Adds Gaussian noise of standard deviation noise to y.",
        ),
        zh=(
            "y = x²",
            "在 x ∈ [−1, 1] 上拟合 y = x²：1-2-1 的 ReLU 网络把直线折两次。",
            "给 y 加上标准差为噪声的高斯噪声。",
        ),
    ),
    _info(
        "house",
        "regression",
        2,
        1,
        en=(
            "House price",
            "Price (thousands) from area (m², 40–200) and number of rooms (1–6); the network "
            "sees standardized values.",
            "Adds Gaussian noise of standard deviation 100·noise thousand to the price.",
        ),
        zh=(
            "房价",
            "由面积（40–200 平方米）和房间数（1–6）预测房价（千元）；网络看到的是标准化后的值。",
            "给房价加上标准差为 100·噪声（千元）的高斯噪声。",
        ),
    ),
    _info(
        "digits",
        "multiclass",
        64,
        10,
        en=(
            "8×8 digits",
            "1,797 handwritten digits of 8×8 pixels (the UCI optdigits test set), 10 "
            "classes; a small stand-in for MNIST.",
            "Adds Gaussian noise of standard deviation noise to every pixel (pixels in [0, 1]).",
        ),
        zh=(
            "8×8 手写数字",
            "1797 张 8×8 像素的手写数字（UCI optdigits 测试集），10 类；可看作小号的 MNIST。",
            "给每个像素加上标准差为噪声的高斯噪声（像素取值在 [0, 1]）。",
        ),
    ),
]

#: The built-in sets by name, in the order the page lists them.
DATASETS: dict[str, DatasetInfo] = {info.name: info for info in _INFOS}


def registry_info() -> list[dict[str, Any]]:
    """The built-in sets for the page, in display order: ``[DatasetInfo.to_dict(), ...]``."""
    return [info.to_dict() for info in DATASETS.values()]


# --------------------------------------------------------------------------------------
# Generators (original units). Each returns X (n, d) and the raw target:
# int labels (n,) for classification, float values (n,) for regression.
# --------------------------------------------------------------------------------------

_TF_BOX: Domain = ((-6.0, 6.0), (-6.0, 6.0))


def _halves(n: int) -> tuple[int, int]:
    return n // 2, n - n // 2


def _gen_circle(n: int, noise: float, rng: np.random.Generator) -> tuple[FloatArray, IntArray]:
    radius = 5.0
    n_in, n_out = _halves(n)
    r = np.concatenate(
        [rng.uniform(0.0, radius * 0.5, n_in), rng.uniform(radius * 0.7, radius, n_out)]
    )
    angle = rng.uniform(0.0, 2.0 * math.pi, n)
    X = np.column_stack([r * np.sin(angle), r * np.cos(angle)])
    jitter = rng.uniform(-radius, radius, (n, 2)) * noise
    labels = (np.linalg.norm(X + jitter, axis=1) < radius * 0.5).astype(np.int64)
    return X, labels


def _gen_xor(n: int, noise: float, rng: np.random.Generator) -> tuple[FloatArray, IntArray]:
    X = rng.uniform(-5.0, 5.0, (n, 2))
    X += np.where(X > 0, 0.3, -0.3)  # keep a gap around the axes, as the Playground does
    jitter = rng.uniform(-5.0, 5.0, (n, 2)) * noise
    P = X + jitter
    labels = (P[:, 0] * P[:, 1] >= 0).astype(np.int64)
    return X, labels


def _gen_gauss(n: int, noise: float, rng: np.random.Generator) -> tuple[FloatArray, IntArray]:
    variance = 0.5 + noise * (4.0 - 0.5) / 0.5
    n_pos, n_neg = _halves(n)
    std = math.sqrt(variance)
    X = np.concatenate([rng.normal(2.0, std, (n_pos, 2)), rng.normal(-2.0, std, (n_neg, 2))])
    labels = np.concatenate([np.ones(n_pos, np.int64), np.zeros(n_neg, np.int64)])
    return X, labels


def _gen_spiral(n: int, noise: float, rng: np.random.Generator) -> tuple[FloatArray, IntArray]:
    parts = []
    for count, delta, label in ((n // 2, 0.0, 1), (n - n // 2, math.pi, 0)):
        i = np.arange(count) / max(count, 1)
        r = i * 5.0
        t = 1.75 * i * 2.0 * math.pi + delta
        xy = np.column_stack([r * np.sin(t), r * np.cos(t)])
        xy += rng.uniform(-1.0, 1.0, (count, 2)) * noise
        parts.append((xy, np.full(count, label, np.int64)))
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


def _gen_moons(n: int, noise: float, rng: np.random.Generator) -> tuple[FloatArray, IntArray]:
    n_up, n_down = _halves(n)
    t_up = rng.uniform(0.0, math.pi, n_up)
    t_down = rng.uniform(0.0, math.pi, n_down)
    up = np.column_stack([np.cos(t_up), np.sin(t_up)])
    down = np.column_stack([1.0 - np.cos(t_down), 0.5 - np.sin(t_down)])
    X = np.concatenate([up, down])
    X += rng.normal(0.0, 1.0, X.shape) * noise
    X = (X - np.array([0.5, 0.25])) * 4.0  # centre, and scale to the Playground's ±6
    labels = np.concatenate([np.zeros(n_up, np.int64), np.ones(n_down, np.int64)])
    return X, labels


def _gen_plane(n: int, noise: float, rng: np.random.Generator) -> tuple[FloatArray, FloatArray]:
    X = rng.uniform(-6.0, 6.0, (n, 2))
    P = X + rng.uniform(-6.0, 6.0, (n, 2)) * noise
    return X, (P[:, 0] + P[:, 1]) / 10.0


def _gen_multigauss(
    n: int, noise: float, rng: np.random.Generator
) -> tuple[FloatArray, FloatArray]:
    bumps = np.array(
        [[-4, 2.5, 1], [0, 2.5, -1], [4, 2.5, 1], [-4, -2.5, -1], [0, -2.5, 1], [4, -2.5, -1]],
        dtype=np.float64,
    )
    X = rng.uniform(-6.0, 6.0, (n, 2))
    P = X + rng.uniform(-6.0, 6.0, (n, 2)) * noise
    dist = np.linalg.norm(P[:, None, :] - bumps[None, :, :2], axis=2)  # (n, 6)
    values = bumps[None, :, 2] * np.clip(1.0 - dist / 2.0, 0.0, 1.0)  # (n, 6)
    pick = np.argmax(np.abs(values), axis=1)
    return X, values[np.arange(n), pick]


def _gen_square(n: int, noise: float, rng: np.random.Generator) -> tuple[FloatArray, FloatArray]:
    x = rng.uniform(-1.0, 1.0, n)
    y = x**2 + rng.normal(0.0, 1.0, n) * noise
    return x[:, None], y


def _gen_house(n: int, noise: float, rng: np.random.Generator) -> tuple[FloatArray, FloatArray]:
    area = rng.uniform(40.0, 200.0, n)
    rooms = np.clip(np.round(area / 35.0 + rng.normal(0.0, 0.6, n)), 1, 6)
    price = 30.0 + 2.5 * area + 15.0 * rooms + rng.normal(0.0, 1.0, n) * 100.0 * noise
    return np.column_stack([area, rooms]), np.maximum(price, 20.0)


_Generator = Callable[[int, float, np.random.Generator], tuple[FloatArray, NDArray[Any]]]


@dataclass(frozen=True)
class _Spec:
    generate: _Generator
    feature_names: tuple[str, ...]
    class_names: tuple[str, ...]
    standardize: bool = False  # standardize features and target with the train statistics
    box: Domain | None = _TF_BOX  # region the domain always covers (original units)


_SPECS: dict[str, _Spec] = {
    "circle": _Spec(_gen_circle, ("x1", "x2"), ("outside", "inside")),
    "xor": _Spec(_gen_xor, ("x1", "x2"), ("different sign", "same sign")),
    "gauss": _Spec(_gen_gauss, ("x1", "x2"), ("cluster (-2, -2)", "cluster (2, 2)")),
    "spiral": _Spec(_gen_spiral, ("x1", "x2"), ("spiral B", "spiral A")),
    "moons": _Spec(_gen_moons, ("x1", "x2"), ("upper moon", "lower moon")),
    "plane": _Spec(_gen_plane, ("x1", "x2"), ("y",)),
    "multigauss": _Spec(_gen_multigauss, ("x1", "x2"), ("y",)),
    "square": _Spec(_gen_square, ("x",), ("y",), box=((-1.0, 1.0),)),
    "house": _Spec(_gen_house, ("area (m²)", "rooms"), ("price (k)",), True, None),
}


# --------------------------------------------------------------------------------------
# Digits
# --------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _read_digits() -> tuple[FloatArray, IntArray]:
    with gzip.open(_DIGITS_PATH, "rt", encoding="ascii") as fh:
        table = np.loadtxt(fh, delimiter=",", dtype=np.float64, ndmin=2)
    pixels = np.ascontiguousarray(table[:, :64])
    labels = table[:, 64].astype(np.int64)
    pixels.flags.writeable = False
    labels.flags.writeable = False
    return pixels, labels


def load_digits() -> tuple[FloatArray, IntArray]:
    """All 1,797 digits: pixels ``(1797, 64)`` in 0..16 (row-major 8×8) and labels ``(1797,)``.

    Returns fresh copies; the file is read once per process.
    """
    pixels, labels = _read_digits()
    return pixels.copy(), labels.copy()


def _stratified_take(labels: IntArray, n: int, rng: np.random.Generator) -> IntArray:
    """Indices of ``n`` examples, as even across the classes as the data allows, shuffled."""
    order = rng.permutation(labels.shape[0])
    shuffled = labels[order]
    rank = np.empty_like(order)  # position of each example within its class, in shuffled order
    for c in np.unique(shuffled):
        members = np.flatnonzero(shuffled == c)
        rank[members] = np.arange(members.shape[0])
    picked = order[np.argsort(rank, kind="stable")[:n]]
    return picked[rng.permutation(n)]


def _make_digits(samples: int, noise: float, test_fraction: float, seed: int) -> Dataset:
    rng = np.random.default_rng(seed)
    pixels, labels = _read_digits()
    n = min(samples, labels.shape[0])
    idx = _stratified_take(labels, n, rng)
    X = pixels[idx] / 16.0
    if noise > 0:
        X = np.clip(X + rng.normal(0.0, noise, X.shape), 0.0, 1.0)
    y = labels[idx]
    n_test = _n_test(n, test_fraction)
    names = tuple(f"px_{r}_{c}" for r in range(8) for c in range(8))
    return _assemble(
        "digits",
        "multiclass",
        X[n_test:],
        X[:n_test],
        y[n_test:],
        y[:n_test],
        None,
        None,
        feature_names=names,
        class_names=tuple(str(c) for c in range(10)),
        feature_mean=np.zeros(64),
        feature_std=np.full(64, 16.0),
        input_shape=(8, 8),
        description=DATASETS["digits"].description_en,
        extra={"samples": samples, "noise": noise, "test_fraction": test_fraction, "seed": seed},
    )


# --------------------------------------------------------------------------------------
# make_dataset
# --------------------------------------------------------------------------------------


def make_dataset(
    name: str,
    samples: int = 400,
    noise: float = 0.1,
    test_fraction: float = 0.3,
    seed: int = 1,
) -> Dataset:
    """Generate a built-in data set, split into train and test.

    Args:
        name: a key of :data:`DATASETS`.
        samples: total number of examples (train + test), ``MIN_SAMPLES..MAX_SAMPLES``;
            for ``"digits"`` it caps a class-balanced subset of the 1,797 digits.
        noise: 0..1 (TF Playground's slider is 0–0.5); its meaning per set is in
            ``DATASETS[name].noise_en``.
        test_fraction: share of the examples held out for testing, 0..0.9.
        seed: seeds ``numpy.random.default_rng``; same arguments give identical arrays.

    Returns:
        A :class:`Dataset`; shapes ``X_train (n_train, d)``, ``Y_train (n_train, k)``.

    Raises:
        ValueError: unknown name or an argument out of range.
    """
    if name not in DATASETS:
        raise ValueError(f"Unknown data set {name!r}; choose one of {', '.join(DATASETS)}.")
    _check_args(samples, noise, test_fraction, seed)
    if name == "digits":
        return _make_digits(samples, noise, test_fraction, seed)

    spec = _SPECS[name]
    info = DATASETS[name]
    rng = np.random.default_rng(seed)
    X, target = spec.generate(samples, noise, rng)
    order = rng.permutation(samples)
    X, target = X[order], target[order]
    n_test = _n_test(samples, test_fraction)
    X_tr, X_te, t_tr, t_te = X[n_test:], X[:n_test], target[n_test:], target[:n_test]

    d = X.shape[1]
    if spec.standardize:
        f_mean, f_std = _mean_std(X_tr)
    else:
        f_mean, f_std = np.zeros(d), np.ones(d)
    extra = {"samples": samples, "noise": noise, "test_fraction": test_fraction, "seed": seed}
    common: dict[str, Any] = {
        "feature_names": spec.feature_names,
        "class_names": spec.class_names,
        "feature_mean": f_mean,
        "feature_std": f_std,
        "box": spec.box,
        "description": info.description_en,
        "extra": extra,
    }
    if info.task == "regression":
        y_tr = t_tr.astype(np.float64)[:, None]
        y_te = t_te.astype(np.float64)[:, None]
        if spec.standardize:
            t_mean, t_std = _mean_std(y_tr)
        else:
            t_mean, t_std = np.zeros(1), np.ones(1)
        return _assemble(
            name,
            "regression",
            (X_tr - f_mean) / f_std,
            (X_te - f_mean) / f_std,
            (y_tr - t_mean) / t_std,
            (y_te - t_mean) / t_std,
            t_mean,
            t_std,
            **common,
        )
    return _assemble(
        name,
        info.task,
        (X_tr - f_mean) / f_std,
        (X_te - f_mean) / f_std,
        t_tr.astype(np.int64),
        t_te.astype(np.int64),
        None,
        None,
        **common,
    )


def _check_args(samples: int, noise: float, test_fraction: float, seed: int) -> None:
    if isinstance(samples, bool) or not isinstance(samples, int | np.integer):
        raise ValueError(f"samples must be an integer, got {samples!r}.")
    if not MIN_SAMPLES <= samples <= MAX_SAMPLES:
        raise ValueError(f"samples must be between {MIN_SAMPLES} and {MAX_SAMPLES}, got {samples}.")
    if not (isinstance(noise, int | float) and 0.0 <= noise <= MAX_NOISE):
        raise ValueError(f"noise must be a number between 0 and {MAX_NOISE}, got {noise!r}.")
    if not (isinstance(test_fraction, int | float) and 0.0 <= test_fraction <= MAX_TEST_FRACTION):
        raise ValueError(
            f"test_fraction must be between 0 and {MAX_TEST_FRACTION}, got {test_fraction!r}."
        )
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}.")


def _n_test(n: int, test_fraction: float) -> int:
    """Test-set size: ``round(n * test_fraction)``, leaving at least one training example."""
    return min(round(n * test_fraction), n - 1)


def _mean_std(A: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Column mean and std of ``A`` ``(n, d)``; a constant column gets std 1."""
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
        ranges.append((round(lo - pad, _ROUND), round(hi + pad, _ROUND)))
    return tuple(ranges)


def _assemble(
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
    extra: dict[str, Any] | None = None,
) -> Dataset:
    """Build the Dataset from network-space X and targets (int labels or ``(n, 1)`` values)."""
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
        extra=dict(extra or {}),
    )


# --------------------------------------------------------------------------------------
# CSV
# --------------------------------------------------------------------------------------


class DataError(ValueError):
    """A CSV (or other user data) the loader refuses, with where and why.

    Attributes:
        message: English sentence naming the row and/or column.
        code: stable identifier the page translates, e.g. ``"ragged_row"``.
        row: 1-based row as a spreadsheet shows it (the header is row 1), or None.
        column: column name, or None.
        column_index: 1-based column position, or None.
    """

    def __init__(
        self,
        message: str,
        code: str = "invalid_data",
        row: int | None = None,
        column: str | None = None,
        column_index: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.row = row
        self.column = column
        self.column_index = column_index

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready ``{"code", "message", "row", "column", "column_index"}``."""
        return {
            "code": self.code,
            "message": self.message,
            "row": self.row,
            "column": self.column,
            "column_index": self.column_index,
        }


#: Every ``DataError.code`` this module raises, for the page's translations.
DATA_ERROR_CODES = (
    "not_utf8",  # bytes that are not UTF-8 text
    "too_large",  # more than max_bytes
    "empty",  # nothing but blank lines
    "bad_csv",  # the csv module could not parse it (e.g. an unclosed quote)
    "no_header",  # the first row holds numbers, not column names
    "empty_column_name",
    "duplicate_column",
    "too_many_columns",
    "no_rows",  # a header and nothing else
    "too_many_rows",
    "too_few_rows",
    "ragged_row",  # a row with more or fewer fields than the header
    "unknown_target",
    "no_features",  # only the target column
    "bad_task",  # task not one of auto/binary/multiclass/regression/classification
    "empty_cell",
    "missing_value",  # NA, NaN, null, ...
    "not_finite",  # inf, 1e999, ...
    "not_numeric",  # text in a numeric column
    "one_class",  # the target has a single class
    "not_binary",  # task "binary" but not exactly two classes
    "too_many_classes",
    "constant_target",  # regression target with one value
)

_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_MISSING = {"na", "n/a", "nan", "null", "none", "nil", "?", "-", "#n/a"}
_INFINITE = {"inf", "+inf", "-inf", "infinity", "+infinity", "-infinity"}
_TASKS = ("auto", "binary", "multiclass", "regression", "classification")


@dataclass
class _Table:
    header: list[str]
    rows: list[list[str]]  # stripped cells, all of header length
    row_numbers: list[int]  # spreadsheet row of each entry of rows


def _decode(text: str | bytes, max_bytes: int) -> str:
    if isinstance(text, bytes | bytearray):
        raw = bytes(text)
        if len(raw) > max_bytes:
            raise DataError(
                f"The file is {len(raw):,} bytes; the limit is {max_bytes:,} bytes.", "too_large"
            )
        try:
            return raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            row = raw[: exc.start].count(b"\n") + 1
            raise DataError(
                f"The file is not UTF-8 text (row {row}, byte {exc.start + 1}). "
                "Save it as “CSV UTF-8” and upload it again.",
                "not_utf8",
                row=row,
            ) from None
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > max_bytes:
        raise DataError(
            f"The file is {size:,} bytes; the limit is {max_bytes:,} bytes.", "too_large"
        )
    return text.removeprefix("\ufeff")


def _read_table(text: str | bytes, max_bytes: int, max_rows: int, max_cols: int) -> _Table:
    """Parse, and check everything that does not depend on the target: encoding, size,
    header, ragged rows."""
    content = _decode(text, max_bytes)
    if not content.strip():
        raise DataError("The file is empty.", "empty")
    header: list[str] | None = None
    header_row = 1
    rows: list[list[str]] = []
    numbers: list[int] = []
    reader = csv.reader(io.StringIO(content, newline=""), strict=True)
    row_no = 0
    try:
        for record in reader:
            row_no += 1
            cells = [c.strip() for c in record]
            if not any(cells):
                continue  # blank line (or a row of empty cells): skipped, still counted
            if header is None:
                header, header_row = _check_header(cells, row_no, max_cols), row_no
                continue
            if len(cells) != len(header):
                raise DataError(
                    f"Row {row_no} has {len(cells)} fields, but the header has {len(header)}.",
                    "ragged_row",
                    row=row_no,
                )
            if len(rows) >= max_rows:
                raise DataError(
                    f"The file has more than {max_rows:,} data rows (row {row_no} is past the "
                    "limit).",
                    "too_many_rows",
                    row=row_no,
                )
            rows.append(cells)
            numbers.append(row_no)
    except csv.Error as exc:
        row = max(row_no + 1, 1)
        raise DataError(f"Row {row} could not be read as CSV: {exc}.", "bad_csv", row=row) from None
    if header is None:  # pragma: no cover - content.strip() was non-empty
        raise DataError("The file is empty.", "empty")
    if not rows:
        raise DataError(
            f"The file has a header row (row {header_row}) but no data rows.",
            "no_rows",
            row=header_row + 1,
        )
    return _Table(header, rows, numbers)


def _check_header(cells: list[str], row_no: int, max_cols: int) -> list[str]:
    if len(cells) > max_cols:
        raise DataError(
            f"The file has {len(cells)} columns; the limit is {max_cols}.",
            "too_many_columns",
            row=row_no,
        )
    if all(_NUMBER.fullmatch(c) for c in cells):
        raise DataError(
            f"Row {row_no} holds numbers, not column names: the first row must be a header "
            "naming each column.",
            "no_header",
            row=row_no,
        )
    seen: dict[str, int] = {}
    for j, name in enumerate(cells, start=1):
        if not name:
            raise DataError(
                f"Column {j} of the header (row {row_no}) has no name.",
                "empty_column_name",
                row=row_no,
                column_index=j,
            )
        if name in seen:
            raise DataError(
                f"Column name “{name}” appears twice in the header (columns {seen[name]} and {j}).",
                "duplicate_column",
                row=row_no,
                column=name,
                column_index=j,
            )
        seen[name] = j
    return cells


def _cell_problem(cell: str) -> str | None:
    """The error code of a cell that is not a finite number, or None if it is one."""
    if cell == "":
        return "empty_cell"
    low = cell.lower()
    if low in _MISSING:
        return "missing_value"
    if low in _INFINITE:
        return "not_finite"
    if not _NUMBER.fullmatch(cell):
        return "not_numeric"
    if not math.isfinite(float(cell)):
        return "not_finite"
    return None


def _cell_error(code: str, cell: str, row: int, column: str, j: int) -> DataError:
    where = f"row {row}, column “{column}”"
    messages = {
        "empty_cell": f"The cell at {where} is empty; every cell needs a value.",
        "missing_value": f"The cell at {where} is a missing value (“{cell}”); "
        "fill it in or remove the row.",
        "not_finite": f"The cell at {where} is not a finite number (“{cell}”).",
        "not_numeric": f"The cell at {where} is not a number (“{_clip(cell)}”); "
        "feature columns must be numeric (use a dot as the decimal separator).",
    }
    return DataError(messages[code], code, row=row, column=column, column_index=j)


def _clip(s: str, n: int = 40) -> str:
    return s if len(s) <= n else s[: n - 1] + "…"


def _is_integer_valued(values: FloatArray) -> bool:
    return bool(np.all(np.abs(values) < 2**53) and np.all(values == np.round(values)))


def _detect_task(cells: Sequence[str]) -> Task:
    """The ``task="auto"`` rule for a target column's cells.

    Text labels → classification. Numbers → classification when they are all
    integers with at most two distinct values, or at most ``MAX_CLASSES`` with at
    least two rows per value on average (so five rows of five different integer
    prices stay a regression); otherwise regression. Classification with ≤ 2 classes is binary.
    """
    present = [c for c in cells if _cell_problem(c) not in ("empty_cell", "missing_value")]
    if any(_cell_problem(c) == "not_numeric" for c in present):
        distinct = len(set(present))
        return "binary" if distinct <= 2 else "multiclass"
    values = np.array([float(c) for c in present if _cell_problem(c) is None], dtype=np.float64)
    n_distinct = np.unique(values).shape[0]
    few = n_distinct <= 2 or n_distinct <= min(MAX_CLASSES, values.shape[0] / 2)
    if few and _is_integer_valued(values):
        return "binary" if n_distinct <= 2 else "multiclass"
    return "regression"


def inspect_csv(
    text: str | bytes,
    max_bytes: int = 1_048_576,
    max_rows: int = 10_000,
    max_cols: int = 64,
) -> dict[str, Any]:
    """Look at a CSV before loading it, to fill the page's target/task pickers.

    Returns ``{"columns": [names], "n_rows": int, "numeric_columns": [names whose
    cells are all finite numbers], "suggested_target": last column,
    "suggested_task": "binary" | "multiclass" | "regression", "preview": first 5
    data rows as strings}``.

    Raises:
        DataError: for problems of the file as a whole (encoding, size, header,
            ragged rows); cell-level problems are left to :func:`load_csv`.
    """
    table = _read_table(text, max_bytes, max_rows, max_cols)
    columns = table.header
    numeric = [
        name
        for j, name in enumerate(columns)
        if all(_cell_problem(row[j]) is None for row in table.rows)
    ]
    return {
        "columns": list(columns),
        "n_rows": len(table.rows),
        "numeric_columns": numeric,
        "suggested_target": columns[-1],
        "suggested_task": _detect_task([row[-1] for row in table.rows]),
        "preview": [list(row) for row in table.rows[:5]],
    }


def load_csv(
    text: str | bytes,
    target: str | None = None,
    task: str = "auto",
    test_fraction: float = 0.3,
    seed: int = 1,
    max_bytes: int = 1_048_576,
    max_rows: int = 10_000,
    max_cols: int = 64,
    name: str = "csv",
) -> Dataset:
    """Turn an uploaded CSV into a :class:`Dataset`.

    The first non-blank row is the header. ``target`` names the column to predict
    (default: the last column); every other column is a numeric feature. ``task``
    is ``"auto"`` (text labels, or at most ``MAX_CLASSES`` distinct integers that
    repeat, make a classification — binary for two classes — else regression), ``"binary"``,
    ``"multiclass"``, ``"classification"`` (binary or multiclass by class count) or
    ``"regression"``. Classes are sorted (numerically, or as text); for a binary
    task the second one is the positive class (``Y = 1``).

    The rows are shuffled with ``seed`` and split by ``test_fraction``; features
    (and a regression target) are standardized with the training rows' mean and
    std, kept in the Dataset so values can be shown in original units. Blank lines
    are skipped; a UTF-8 BOM, CRLF line ends and quoted fields are fine.

    Returns:
        A Dataset with ``X_train (n_train, n_columns - 1)``.

    Raises:
        DataError: with ``code``, ``row`` (1-based, header = row 1) and ``column``;
            see :data:`DATA_ERROR_CODES`.
    """
    if task not in _TASKS:
        raise DataError(
            f"Unknown task “{task}”; use one of {', '.join(_TASKS)}.", "bad_task", column=target
        )
    table = _read_table(text, max_bytes, max_rows, max_cols)
    header, rows, row_numbers = table.header, table.rows, table.row_numbers
    if len(rows) < MIN_ROWS:
        raise DataError(
            f"The file has {len(rows)} data row{'s' if len(rows) != 1 else ''}; "
            f"at least {MIN_ROWS} are needed.",
            "too_few_rows",
            row=row_numbers[-1],
        )
    target_name = header[-1] if target is None else target.strip()
    if target_name not in header:
        raise DataError(
            f"There is no column named “{target_name}”; the columns are {', '.join(header)}.",
            "unknown_target",
            column=target_name,
        )
    t_col = header.index(target_name)
    if len(header) < 2:
        raise DataError(
            f"The file has only the target column “{target_name}”; at least one feature "
            "column is needed.",
            "no_features",
            column=target_name,
            column_index=t_col + 1,
        )
    f_cols = [j for j in range(len(header)) if j != t_col]

    # Cell checks in reading order, so the first bad cell is the one reported.
    target_cells = [row[t_col] for row in rows]
    chosen: Task
    if task == "auto":
        chosen = _detect_task(target_cells)
    elif task == "classification":
        chosen = "binary" if len(set(target_cells)) <= 2 else "multiclass"
    else:
        chosen = cast(Task, task)
    X = np.empty((len(rows), len(f_cols)), dtype=np.float64)
    for i, (row, row_no) in enumerate(zip(rows, row_numbers, strict=True)):
        for j, cell in enumerate(row):
            problem = _cell_problem(cell)
            if j == t_col:
                if problem in ("empty_cell", "missing_value", "not_finite") or (
                    chosen == "regression" and problem is not None
                ):
                    raise _cell_error(problem, cell, row_no, header[j], j + 1)
                continue
            if problem is not None:
                raise _cell_error(problem, cell, row_no, header[j], j + 1)
        X[i] = [float(row[j]) for j in f_cols]

    order = np.random.default_rng(seed).permutation(len(rows))
    n_test = _n_test(len(rows), test_fraction)
    test_idx, train_idx = order[:n_test], order[n_test:]
    X_tr, X_te = X[train_idx], X[test_idx]
    f_mean, f_std = _mean_std(X_tr)
    common: dict[str, Any] = {
        "feature_names": tuple(header[j] for j in f_cols),
        "feature_mean": f_mean,
        "feature_std": f_std,
        "description": f"Uploaded CSV: {len(rows)} rows, target “{target_name}”.",
        "extra": {"target": target_name, "test_fraction": test_fraction, "seed": seed},
    }
    X_tr_net, X_te_net = (X_tr - f_mean) / f_std, (X_te - f_mean) / f_std

    if chosen == "regression":
        y = np.array([float(c) for c in target_cells], dtype=np.float64)[:, None]
        if np.ptp(y) == 0:
            raise DataError(
                f"The target column “{target_name}” has the same value in every row; "
                "there is nothing to learn.",
                "constant_target",
                column=target_name,
                column_index=t_col + 1,
            )
        y_tr, y_te = y[train_idx], y[test_idx]
        t_mean, t_std = _mean_std(y_tr)
        return _assemble(
            name,
            "regression",
            X_tr_net,
            X_te_net,
            (y_tr - t_mean) / t_std,
            (y_te - t_mean) / t_std,
            t_mean,
            t_std,
            class_names=(target_name,),
            **common,
        )

    class_names, labels = _classes(target_cells)
    n_classes = len(class_names)
    if n_classes < 2:
        raise DataError(
            f"The target column “{target_name}” has only one class (“{class_names[0]}”); "
            "classification needs at least two.",
            "one_class",
            column=target_name,
            column_index=t_col + 1,
        )
    if n_classes > MAX_CLASSES:
        raise DataError(
            f"The target column “{target_name}” has {n_classes} classes; the limit is "
            f"{MAX_CLASSES}. For a numeric target choose the task “regression”.",
            "too_many_classes",
            column=target_name,
            column_index=t_col + 1,
        )
    if chosen == "binary" and n_classes != 2:
        raise DataError(
            f"The task is binary, but the target column “{target_name}” has {n_classes} "
            "classes; choose “multiclass”.",
            "not_binary",
            column=target_name,
            column_index=t_col + 1,
        )
    return _assemble(
        name,
        chosen,
        X_tr_net,
        X_te_net,
        labels[train_idx],
        labels[test_idx],
        None,
        None,
        class_names=class_names,
        **common,
    )


def _classes(cells: Sequence[str]) -> tuple[tuple[str, ...], IntArray]:
    """Sorted class names and each cell's class index ``(n,)``.

    Numeric labels sort by value (``"2" < "10"``) and are named without a trailing
    ``.0``; any text label makes all labels text, sorted as strings.
    """
    if all(_cell_problem(c) is None for c in cells):
        values = np.array([float(c) for c in cells], dtype=np.float64)
        distinct, labels = np.unique(values, return_inverse=True)
        names = tuple(str(int(v)) if v == round(v) else f"{v:g}" for v in distinct.tolist())
        return names, labels.astype(np.int64)
    text_names = sorted(set(cells))
    index = {c: i for i, c in enumerate(text_names)}
    return tuple(text_names), np.array([index[c] for c in cells], dtype=np.int64)
